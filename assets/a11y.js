// Accessible names for inputs that Dash components render without a way to name them: a
// slider's thumb and number box, the upload's hidden file input, a dropdown's search box.
// The layout wraps each such component in an element with data-a11y-label (ui/layout.py,
// `_named`); this copies that name onto every focusable input inside it, now and whenever
// React re-renders them. It also un-hides the element Dash 4's dropdown focuses (below).
(function () {
  var TARGETS = "input, [role='slider'], [role='combobox'], [role='button'], button";
  function name(root) {
    var wrappers = root.querySelectorAll ? root.querySelectorAll("[data-a11y-label]") : [];
    for (var i = 0; i < wrappers.length; i++) {
      var label = wrappers[i].getAttribute("data-a11y-label");
      var inputs = wrappers[i].querySelectorAll(TARGETS);
      for (var j = 0; j < inputs.length; j++) {
        var input = inputs[j];
        // Dash 4's dropdown takes keyboard focus on an input it hides from screen readers
        // (aria-hidden on a focusable element): a keyboard user would land on nothing.
        if (input.classList.contains("dash-dropdown-focus-target")) {
          input.removeAttribute("aria-hidden");
        }
        // An input inside a <label> (a dropdown's options) is named by it already.
        var labelled = input.closest("label") || input.getAttribute("aria-labelledby");
        if (!labelled && !input.getAttribute("aria-label")) {
          var kind = input.type === "number" ? " (number)" : input.type === "search" ? " search" : "";
          input.setAttribute("aria-label", label + kind);
        }
      }
    }
  }
  // Watch the control panel only: the whole document would also record every node Plotly
  // adds while it draws a grid, for nothing.
  var pending = false;
  var observer = new MutationObserver(function () {
    if (pending) { return; }
    pending = true;  // once per frame, however many nodes React touched
    requestAnimationFrame(function () { pending = false; name(document); });
  });
  function watch() {
    var panel = document.querySelector(".control-panel");
    if (!panel) { setTimeout(watch, 100); return; }
    name(document);
    observer.observe(panel, { childList: true, subtree: true });
  }
  watch();
})();
