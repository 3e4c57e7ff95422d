// A click on a slider's mark sets exactly the marked value (issue 20). Dash 4's slider draws
// each mark where its thumb would sit (inset by half a thumb towards the ends) but maps a
// click on the track linearly, so a click on mark "15" of the 0-128 size limit landed a few
// steps off it. Marks take no pointer events (the slider's root gets the click), so a press
// inside a mark's box is recognised here, before the slider sees it, and the mark's value is
// set as the slider's own value (callbacks then run as for any move of the thumb).
(function () {
  function markAt(root, x, y) {
    var marks = root.querySelectorAll(".dash-slider-mark");
    for (var i = 0; i < marks.length; i++) {
      var r = marks[i].getBoundingClientRect();
      if (x >= r.left - 2 && x <= r.right + 2 && y >= r.top - 2 && y <= r.bottom + 2) {
        return marks[i];
      }
    }
    return null;
  }

  document.addEventListener("pointerdown", function (event) {
    var target = event.target;
    var root = target && target.closest && target.closest(".dash-slider-root");
    if (!root || target.closest("[role=slider]")) { return; }  // the thumb drags as ever
    var mark = markAt(root, event.clientX, event.clientY);
    var slider = mark && root.closest(".dash-slider-container");
    var setProps = window.dash_clientside && window.dash_clientside.set_props;
    if (!slider || !slider.id || !setProps) { return; }
    var text = mark.textContent.trim();
    var value = Number(text);
    if (text === "" || !isFinite(value)) { return; }
    event.stopPropagation();
    event.preventDefault();
    setProps(slider.id, { value: value });
  }, true);
})();
