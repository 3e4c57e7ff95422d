// Accessible names for inputs that Dash components render without a way to name them: a
// slider's thumb and number box, the upload's hidden file input, a dropdown's search box.
// The layout wraps each such component in an element with data-a11y-label (ui/layout.py,
// `_named`); this copies that name onto every focusable input inside it, now and whenever
// React re-renders them. It also un-hides the element Dash 4's dropdowns focus (below).
(function () {
  var TARGETS = "input, [role='slider'], [role='combobox'], [role='button'], button";
  function nameWrapped(root) {
    var wrappers = root.querySelectorAll("[data-a11y-label]");
    for (var i = 0; i < wrappers.length; i++) {
      var label = wrappers[i].getAttribute("data-a11y-label");
      var inputs = wrappers[i].querySelectorAll(TARGETS);
      for (var j = 0; j < inputs.length; j++) {
        var input = inputs[j];
        // An input inside a <label> (a dropdown's options) is named by it already.
        var labelled = input.closest("label") || input.getAttribute("aria-labelledby");
        if (!labelled && !input.getAttribute("aria-label")) {
          var kind = input.type === "number" ? " (number)" : input.type === "search" ? " search" : "";
          input.setAttribute("aria-label", label + kind);
        }
      }
    }
  }
  // Dash 4's dropdown takes keyboard focus on an input it hides from screen readers
  // (aria-hidden on a focusable element): a keyboard user would land on nothing. Un-hide it
  // and, where the page did not name it, name it by its section's heading and current value.
  function fixDropdowns(root) {
    var targets = root.querySelectorAll(".dash-dropdown-focus-target");
    for (var i = 0; i < targets.length; i++) {
      var target = targets[i];
      target.removeAttribute("aria-hidden");
      if (target.getAttribute("aria-label") || target.getAttribute("aria-labelledby")) {
        continue;
      }
      var button = target.parentElement && target.parentElement.querySelector("button");
      var section = target.closest("[aria-labelledby]");
      var ids = [section && section.getAttribute("aria-labelledby"),
                 button && button.getAttribute("aria-labelledby")].filter(Boolean).join(" ");
      if (ids) { target.setAttribute("aria-labelledby", ids); }
    }
  }
  // A slider or upload the page did not wrap (a feature's) is named after its component's id
  // ("explain-opacity" → "explain opacity"): better than no name at all.
  function nameSliders(root) {
    var inputs = root.querySelectorAll(".dash-slider-container [role='slider'], " +
                                       ".dash-slider-container input, input[type='file']");
    for (var i = 0; i < inputs.length; i++) {
      var input = inputs[i];
      var container = input.closest(".dash-slider-container") || input.closest("[id]");
      if (input.getAttribute("aria-label") || !container || !container.id) { continue; }
      var kind = input.tagName === "INPUT" ? " (number)" : "";
      input.setAttribute("aria-label", container.id.replace(/[-_]+/g, " ") + kind);
    }
  }
  // Last resort for what a feature section left unnamed: an input by its name attribute or
  // id, a progress bar by its component's id ("health-progress" → "health progress").
  function words(text) { return text.replace(/^(input|select|text)-/, "").replace(/[-_]+/g, " "); }
  function nameStragglers(root) {
    var inputs = root.querySelectorAll("input:not([type='hidden']), [role='progressbar']");
    for (var i = 0; i < inputs.length; i++) {
      var el = inputs[i];
      if (el.getAttribute("aria-label") || el.getAttribute("aria-labelledby")) { continue; }
      if ((el.labels && el.labels.length) || el.closest("label")) { continue; }
      var owner = el.id ? el : el.closest("[id]");
      var text = el.getAttribute("name") || (owner && words(owner.id));
      if (text) { el.setAttribute("aria-label", text); }
    }
  }
  // dash-bootstrap-components' tabs (the detail pane) render every tab link with the same id
  // ("…-tab-null"), aria-controls naming no panel, no aria-selected, and tabindex -1 on all of
  // them (none reachable by Tab). Each link gets its panel's names, its state, and a place in
  // the Tab order.
  function fixTabs(root) {
    var lists = root.querySelectorAll("[role='tablist']");
    for (var l = 0; l < lists.length; l++) {
      var links = lists[l].querySelectorAll(".nav-link[role='tab']");
      var content = lists[l].nextElementSibling;
      var panes = content ? content.querySelectorAll(":scope > [role='tabpanel']") : [];
      for (var i = 0; i < links.length; i++) {
        var link = links[i];
        var pane = panes[i];
        if (pane && pane.getAttribute("aria-labelledby")) {
          if (link.id !== pane.getAttribute("aria-labelledby")) {
            link.id = pane.getAttribute("aria-labelledby");
          }
          if (link.getAttribute("aria-controls") !== pane.id) {
            link.setAttribute("aria-controls", pane.id);
          }
        }
        var selected = link.classList.contains("active") ? "true" : "false";
        if (link.getAttribute("aria-selected") !== selected) {
          link.setAttribute("aria-selected", selected);
        }
        if (link.getAttribute("tabindex") !== "0") { link.setAttribute("tabindex", "0"); }
      }
    }
  }
  function nameAll() {
    fixTabs(document);
    nameWrapped(document);
    fixDropdowns(document);
    nameSliders(document);
    nameStragglers(document);
  }
  var pending = false;
  var observer = new MutationObserver(function () {
    if (pending) { return; }
    pending = true;  // once per frame, however many nodes React touched
    requestAnimationFrame(function () {
      pending = false;
      nameAll();
    });
  });
  function watch() {
    if (!document.body) { setTimeout(watch, 50); return; }
    nameAll();
    observer.observe(document.body, { childList: true, subtree: true });
  }
  watch();
})();
