// The picked layer's outline on the activation grid (layerviz/ui/workspace.py sets the layer).
// A box laid over the grid, not a Plotly shape: it follows every redraw (plotly_afterplot) and
// resize without asking Plotly to draw again. The grid's image traces carry their layer's name
// in meta.layer (layerviz/draw/tile_figures.py).
(function () {
  window.layerviz = window.layerviz || {};
  var picked = null;
  var hooked = null;

  function graph() { return document.querySelector("#activation-graph .js-plotly-plot"); }

  function axisOf(layout, ref, letter) {
    return layout[letter + "axis" + (ref && ref.length > 1 ? ref.slice(1) : "")];
  }

  function place() {
    var gd = graph();
    if (!gd) { return; }
    if (hooked !== gd && gd.on) { gd.on("plotly_afterplot", place); hooked = gd; }
    var holder = document.getElementById("activation-graph");
    var box = holder.querySelector(".grid-outline");
    if (!box) {
      box = document.createElement("div");
      box.className = "grid-outline";
      box.setAttribute("aria-hidden", "true");
      holder.appendChild(box);
    }
    var traces = gd.data || [];
    var index = -1;
    for (var i = 0; picked && i < traces.length; i++) {
      if (traces[i].meta && traces[i].meta.layer === picked) { index = i; break; }
    }
    var layout = gd._fullLayout;
    if (index < 0 || !layout) {
      box.style.display = "none";
      holder.removeAttribute("data-outlined-layer");
      return;
    }
    var xa = axisOf(layout, traces[index].xaxis, "x");
    var ya = axisOf(layout, traces[index].yaxis, "y");
    if (!xa || !ya) { return; }
    var g = gd.getBoundingClientRect();
    var h = holder.getBoundingClientRect();
    var pad = 3;
    box.style.left = (g.left - h.left + xa._offset - pad) + "px";
    box.style.top = (g.top - h.top + ya._offset - pad) + "px";
    box.style.width = (xa._length + 2 * pad) + "px";
    box.style.height = (ya._length + 2 * pad) + "px";
    box.style.display = "block";
    holder.setAttribute("data-outlined-layer", picked);
  }

  window.layerviz.outlineLayer = function (name) {
    picked = name || null;
    place();
  };
  window.addEventListener("resize", function () { place(); });
  // The grid's first figure arrives after this script runs: hook it when it appears.
  var watch = new MutationObserver(function () { if (graph() && hooked !== graph()) { place(); } });
  document.addEventListener("DOMContentLoaded", function () {
    watch.observe(document.body, { childList: true, subtree: true });
  });
})();
