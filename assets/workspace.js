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

// The inspector's tiles fill the pane's width (issue 20): the server lays them out for the
// width measured here. Measured as a layer is picked (layerviz/ui/features/inspector/
// callbacks.py asks inspectorWidth), and again when the pane changes width by more than a
// little while channels are shown (a resize, the control panel folding).
(function () {
  window.layerviz = window.layerviz || {};
  var STORE = "store-inspector-width";
  var inset = 40;  // the pane's width less the tiles' room, as last measured
  var sent = null;

  function measure() {
    var pane = document.getElementById("detail-pane");
    var graph = document.getElementById("channel-graph");
    if (!pane) { return null; }
    var room = graph && graph.parentElement;
    if (room && room.offsetParent !== null && room.clientWidth > 0) {
      inset = pane.clientWidth - room.clientWidth;
    }
    var width = pane.clientWidth - inset;
    // Leave the pane's scroll bar room when it has none yet: the tiles will make one.
    if (pane.scrollHeight <= pane.clientHeight) { width -= 16; }
    width = Math.floor(width / 8) * 8;
    return width >= 200 ? width : null;
  }

  window.layerviz.inspectorWidth = function () {
    var width = measure();
    if (width) { sent = width; }
    return width;
  };

  function shown() {
    var gd = document.querySelector("#channel-graph .js-plotly-plot");
    return !!(gd && gd.data && gd.data.some(function (t) { return t.type === "heatmap"; }));
  }

  var timer = null;
  function resized() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var width = measure();
      var setProps = window.dash_clientside && window.dash_clientside.set_props;
      if (!width || !setProps || !shown() || (sent && Math.abs(width - sent) < 24)) { return; }
      sent = width;
      setProps(STORE, { data: width });
    }, 250);
  }

  function watch() {
    var pane = document.getElementById("detail-pane");
    if (!pane || !window.ResizeObserver) { return false; }
    new ResizeObserver(resized).observe(pane);
    return true;
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (watch()) { return; }
    var wait = new MutationObserver(function () { if (watch()) { wait.disconnect(); } });
    wait.observe(document.body, { childList: true, subtree: true });
  });
})();
