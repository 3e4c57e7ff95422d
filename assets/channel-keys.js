// ← / → step through the layer inspector's channels while its region (#region-channel-keys,
// a focusable group named for screen readers) has keyboard focus. A key only clicks the
// visible "previous channel" / "next channel" button: what a step does (rank order, turning
// the page, the overlay) stays in the Python callback those buttons run
// (layerviz/ui/features/inspector/overlay.py).
(function () {
  var REGION = "region-channel-keys";
  var BUTTONS = { ArrowLeft: "channel-prev", ArrowRight: "channel-next" };
  // Controls inside the region that use the arrow keys themselves keep them.
  var OWN_ARROWS = "input, textarea, select, [role='slider'], [role='combobox'], " +
                   "[role='listbox'], .dash-slider-container";
  document.addEventListener("keydown", function (event) {
    var id = BUTTONS[event.key];
    if (!id || event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey ||
        event.shiftKey) {
      return;
    }
    var target = event.target;
    if (!target || !target.closest || !target.closest("#" + REGION)) { return; }
    if (target.closest(OWN_ARROWS)) { return; }
    var button = document.getElementById(id);
    if (!button || button.disabled) { return; }
    event.preventDefault();  // the arrows would otherwise scroll the wide channel grid
    button.click();
  });
})();
