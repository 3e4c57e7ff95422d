"""Dashboard feature: the model's graph (``architecture-graph``), to click through.

A node per layer with its class and output shape, edges as the graph runs, nested models as
groups a click collapses into one node (and a second click opens again). A graph over 40
layers opens with its repeated blocks (``block_3_*``: ``layerviz.analysis.blocks``) folded, at
zoom 1; a search box selects a layer by name and opens its block (``architecture_folds``).
Nodes are coloured by a statistic of the current pattern's activations (mean or fraction of
zeros) or, while the compare section is on with a pattern B, by each layer's divergence
between A and B (cosine or relative L2, from the compare section's own cache of comparisons);
layers the size limit hides from the grid are greyed. A click on a layer node selects that
layer (``ids.SELECTED_LAYER_STORE``) and the panel under the graph shows its maps.

The server places the nodes (``layerviz.analysis.architecture.layered_positions``: rows in the
order the graph runs, branches side by side) and the page only draws them, so ResNet50's 177
layers show at once; dash-cytoscape's script is served by the app itself, never a CDN.
"""

from __future__ import annotations

import math
from typing import Any

import dash_cytoscape as cyto
from dash import Input, Output, State, ctx, dcc, html, no_update
from plotly.colors import sample_colorscale

from layerviz.analysis.architecture import (
    DIVERGENCES,
    STATISTICS,
    ArchGroup,
    Architecture,
    ArchNode,
    architecture,
    colour_positions,
    divergence_values,
    layered_positions,
    reduced_layer_values,
)
from layerviz.analysis.blocks import BLOCK_CLASS, MAX_NODES, stand_ins, with_blocks
from layerviz.analysis.compare import Comparison
from layerviz.draw.figures import activation_grid, empty_figure
from layerviz.draw.grid import grid_pages
from layerviz.draw.selection import VisibleLayer
from layerviz.errors import LayervizError
from layerviz.ui import ids
from layerviz.ui.blocks import hint, named
from layerviz.ui.common import current_reduced, error_text, grid_settings
from layerviz.ui.features.architecture_folds import (
    fold_store,
    folded_groups,
    layer_names,
    searched,
)
from layerviz.ui.features.compare_state import CompareView, compare_view
from layerviz.ui.recipe import recipe_from_store
from layerviz.ui.wiring import (
    COMPARED,
    COMPARED_IN,
    PATTERN,
    PATTERN_IN,
    SELECT,
    SELECTED,
    SELECTED_IN,
)
from layerviz.ui.workbench import Workbench

__all__ = [
    "TAB",
    "controls",
    "elements",
    "graph_elements",
    "layer_panel",
    "panels",
    "readable",
    "register",
    "statistic_options",
    "tab",
    "tapped",
    "view_layout",
]

STATISTIC_LABELS = {
    "mean": "mean activation",
    "zeros": "fraction of zeros",
    "cosine": "divergence (cosine)",
    "relative_l2": "divergence (relative L2)",
}
COLORSCALE = "Viridis"
#: Positions come with the elements (``layered_positions``): the browser lays out nothing.
LAYOUT = {"name": "preset", "fit": True, "padding": 12, "animate": False}

STYLESHEET = [
    {
        "selector": "node",
        "style": {
            "label": "data(label)",
            "text-wrap": "wrap",
            "text-valign": "center",
            # 11 CSS px at zoom 1 (GRAPH_HEIGHT_PX).
            "font-size": 11,
            "text-max-width": 108,
            "width": 112,
            "height": 40,
            "shape": "round-rectangle",
            "background-color": "data(color)",
            "color": "data(text)",
            "border-width": 1,
            "border-color": "#666",
        },
    },
    {
        "selector": ".group",
        "style": {
            "background-color": "#f3f6fa",
            "background-opacity": 0.6,
            "border-style": "dashed",
            "text-valign": "top",
            "color": "#333",
            "font-size": 11,
        },
    },
    # A folded block or model is one box: its name in the middle, like a layer's.
    {
        "selector": ".collapsed",
        "style": {"border-style": "double", "border-width": 3, "text-valign": "center"},
    },
    # Hidden by the size limit: grey, but the label stays readable.
    {
        "selector": ".hidden",
        "style": {"background-color": "#e9ecef", "color": "#666", "border-style": "dashed"},
    },
    {"selector": ":selected", "style": {"border-width": 3, "border-color": "#d63384"}},
    {
        "selector": "edge",
        "style": {
            "width": 1,
            "curve-style": "bezier",
            "target-arrow-shape": "triangle",
            "arrow-scale": 0.6,
            "line-color": "#999",
            "target-arrow-color": "#999",
        },
    },
]


TAB = ("Architecture", "diagram-3")


def controls(workbench: Workbench) -> list:
    return []


def panels(workbench: Workbench) -> list:
    return []


def tab(workbench: Workbench) -> list:
    """The Architecture tab: statistic picker, graph, selected layer's maps."""

    statistic = dcc.Dropdown(
        id=ids.ARCHITECTURE_STATISTIC,
        options=_options(STATISTICS),
        value="mean",
        clearable=False,
        style={"width": "14rem"},
    )
    graph = cyto.Cytoscape(
        id=ids.ARCHITECTURE_GRAPH,
        elements=[],
        layout=LAYOUT,
        stylesheet=STYLESHEET,
        style={"width": "100%", "height": f"{GRAPH_HEIGHT_PX}px"},
        minZoom=0.05,
        maxZoom=1.5,
        boxSelectionEnabled=False,
        autoungrabify=True,
    )
    options = html.Div(
        [
            hint("colour by"),
            named(statistic, "colour the graph by"),
            hint("click a layer to inspect it; click a block or group to open or fold it"),
        ],
        className="d-flex align-items-center flex-wrap gap-2 mb-1",
    )
    search = html.Div(
        [
            named(
                dcc.Input(
                    id=ids.ARCHITECTURE_SEARCH,
                    type="search",
                    list=ids.ARCHITECTURE_SEARCH_LIST,
                    placeholder="a layer's name, then Enter",
                    debounce=True,
                    className="form-control form-control-sm",
                    style={"width": "18rem"},
                ),
                "find a layer by name",
            ),
            html.Datalist(id=ids.ARCHITECTURE_SEARCH_LIST, children=[]),
            html.Span(id=ids.ARCHITECTURE_SEARCH_INFO, className="small text-danger"),
        ],
        className="d-flex align-items-center flex-wrap gap-2 mb-1",
    )
    layer = dcc.Graph(
        id=ids.ARCHITECTURE_LAYER_GRAPH,
        figure=empty_figure("click a layer to see its maps here and in the Inspector"),
        config={"displaylogo": False},
    )
    return [
        options,
        search,
        _legend(),
        graph,
        dcc.Store(id=ids.ARCHITECTURE_COLLAPSED, data=None),
        html.Div(id=ids.ARCHITECTURE_LAYER_INFO, className="small px-2"),
        layer,
    ]


def _legend() -> html.Div:
    """What the colours, the dashed grey nodes and the double-bordered (folded) ones mean."""
    ramp = f"linear-gradient(to right, {', '.join(sample_colorscale(COLORSCALE, 5))})"
    swatch = {"display": "inline-block", "width": "5rem", "height": ".7rem", "background": ramp}
    hidden = {
        "display": "inline-block",
        "width": "1.4rem",
        "height": ".7rem",
        "background": "#e9ecef",
        "border": "1px dashed #666",
    }
    folded = {**hidden, "background": "#e9ecef", "border": "3px double #666"}
    return html.Div(
        [
            html.Span("low", className="me-1"),
            html.Span(style=swatch, className="align-middle", **{"aria-hidden": "true"}),
            html.Span("high (the statistic chosen)", className="ms-1 me-3"),
            html.Span(style=hidden, className="align-middle me-1", **{"aria-hidden": "true"}),
            html.Span("hidden by the size limit", className="me-3"),
            html.Span(style=folded, className="align-middle me-1", **{"aria-hidden": "true"}),
            html.Span("a folded block: click to open"),
        ],
        className="small text-body-secondary mb-1",
    )


def elements(
    graph: Architecture,
    values: dict[str, float],
    hidden: set[str],
    collapsed: set[str],
    selected: str | None = None,
    low: float | None = None,
) -> list[dict]:
    """The cytoscape elements: groups, nodes coloured by ``values`` and placed in rows, edges.

    Args:
        graph: the model's architecture.
        values: a number per node id (the statistic), scaled to the colour scale's range.
        hidden: node ids the size limit hides from the grid: drawn greyed.
        collapsed: group ids drawn as one node, their insides left out.
        selected: the node id to draw selected.
        low: the bottom of the colour range (0 for a divergence); ``None``: the smallest value.
    """
    stand_in = stand_ins(graph, collapsed)
    edges = list(
        dict.fromkeys(
            (stand_in[a], stand_in[b])
            for a, b in graph.edges
            if stand_in[a] != stand_in[b] or a == b
        )
    )
    # Model order, a folded group standing where its first layer was.
    leaves = list(dict.fromkeys(stand_in[n.id] for n in graph.nodes))
    positions = layered_positions(leaves, edges)
    colours = _colours(values, low)
    out = [
        _group_element(g, g.id in collapsed, _size(graph, g.id))
        for g in graph.groups
        if stand_in[g.id] == g.id
    ]
    for node in graph.nodes:
        if stand_in[node.id] == node.id:
            colour = colours.get(node.id, ("#ffffff", "#222"))
            item = _node_element(node, colour, values.get(node.id), node.id in hidden)
            item["selected"] = node.id == selected
            out.append(item)
    for item in out:
        if item["data"]["id"] in positions:
            x, y = positions[item["data"]["id"]]
            item["position"] = {"x": x, "y": y}
    out.extend({"data": {"source": a, "target": b}} for a, b in edges)
    return out


def _size(graph: Architecture, group: str) -> int:
    """How many layers a group holds directly."""
    return sum(n.group == group for n in graph.nodes)


def _group_element(group: ArchGroup, folded: bool, size: int = 0) -> dict:
    kind = f"{size} layers" if group.class_name == BLOCK_CLASS else group.class_name
    data = {"id": group.id, "label": f"{group.name} ({kind})", "kind": "group"}
    if group.group is not None:
        data["parent"] = group.group
    if folded:
        data.update(color="#e9ecef", text="#222")
    return {"data": data, "classes": "group collapsed" if folded else "group"}


def _node_element(node: ArchNode, colour: tuple[str, str], value, hidden: bool) -> dict:
    shape = "?" if node.shape is None else "×".join(str(d) for d in node.shape) or "scalar"
    data = {
        "id": node.id,
        "label": f"{node.name}\n{node.class_name} {shape}",
        "kind": "layer",
        "color": colour[0],
        "text": colour[1],
    }
    if node.group is not None:
        data["parent"] = node.group
    if value is not None and math.isfinite(value):  # JSON has no inf
        data["value"] = value
    return {"data": data, "classes": "hidden" if hidden else ""}


def _colours(values: dict[str, float], low: float | None = None) -> dict[str, tuple[str, str]]:
    """Fill and text colour per node: the value's place on the scale (``colour_positions``)."""
    positions = colour_positions(values, low)
    if not positions:
        return {}
    fills = sample_colorscale(COLORSCALE, list(positions.values()))
    return {
        n: (f, "#fff" if s < 0.6 else "#000")
        for (n, s), f in zip(positions.items(), fills, strict=True)
    }


class _Graphs:
    """Each model's architecture, read once and kept on its entry (it dies with it)."""

    def __init__(self, workbench: Workbench):
        self.workbench = workbench

    def of(self, model: str) -> Architecture:
        return self.workbench.model_cache(model, "architecture", lambda e: readable(e.model))


def readable(model) -> Architecture:
    """A model's graph, its repeated blocks made groups when it has over ``MAX_NODES`` layers
    (a smaller graph is drawn as it is)."""
    graph = architecture(model)
    return with_blocks(graph) if len(graph.nodes) > MAX_NODES else graph


def register(app, workbench: Workbench) -> None:
    """The feature's callbacks: thin wrappers over ``graph_elements``, ``statistic_options``,
    ``tapped`` and ``layer_panel``."""
    graphs = _Graphs(workbench)
    view = compare_view(workbench)  # the compare section's: its comparisons are cached there

    @app.callback(
        Output(ids.ARCHITECTURE_GRAPH, "elements"),
        Output(ids.ARCHITECTURE_GRAPH, "layout"),
        PATTERN_IN,
        Input(ids.ARCHITECTURE_STATISTIC, "value"),
        Input(ids.SIZE_LIMIT, "value"),
        Input(ids.ARCHITECTURE_COLLAPSED, "data"),
        Input(ids.COMPARE_STORE, "data"),
        COMPARED[0],  # the switch (None while the Compare tab is not built)
        SELECTED,
    )
    def draw(data, statistic, limit, collapsed, b_data, on, selected):
        if ctx.triggered_id == ids.COMPARE_STORE and statistic not in DIVERGENCES:
            return no_update, no_update  # a new B changes no colour of a pattern's statistic
        b_data = b_data if on is True else None
        try:
            items = graph_elements(
                graphs, data, statistic, limit, collapsed, selected, b_data=b_data, view=view
            )
        except Exception as exc:  # an empty graph: the shared page reports a bad pattern
            error_text(exc)  # which logs anything unexpected
            return [], LAYOUT
        return items, view_layout(items)

    @app.callback(
        Output(ids.ARCHITECTURE_STATISTIC, "options"),
        Output(ids.ARCHITECTURE_STATISTIC, "value"),
        *COMPARED_IN,
        State(ids.ARCHITECTURE_STATISTIC, "value"),
    )
    def offer(on, b_data, current):
        options, value = statistic_options(on, b_data, current)
        return options, no_update if value == current else value

    @app.callback(
        SELECT,
        Output(ids.ARCHITECTURE_COLLAPSED, "data", allow_duplicate=True),
        Input(ids.ARCHITECTURE_GRAPH, "tapNodeData"),
        State(ids.ARCHITECTURE_COLLAPSED, "data"),
        PATTERN,
        prevent_initial_call=True,
    )
    def tap(node, collapsed, data):
        model = data.get("model") if isinstance(data, dict) else None
        graph = graphs.of(model) if isinstance(model, str) else None
        selected, folded = tapped(node, collapsed, data, graph)
        return (
            no_update if selected is None else selected,
            no_update if folded is None else folded,
        )

    @app.callback(
        SELECT,
        Output(ids.ARCHITECTURE_COLLAPSED, "data", allow_duplicate=True),
        Output(ids.ARCHITECTURE_SEARCH_INFO, "children"),
        Input(ids.ARCHITECTURE_SEARCH, "n_submit"),
        State(ids.ARCHITECTURE_SEARCH, "value"),
        State(ids.ARCHITECTURE_COLLAPSED, "data"),
        PATTERN,
        prevent_initial_call=True,
    )
    def search(_, text, collapsed, data):
        try:
            graph = graphs.of(recipe_from_store(data).model)
        except LayervizError as exc:
            return no_update, no_update, error_text(exc)
        selected, folded, message = searched(text, graph, collapsed, data)
        return (
            no_update if selected is None else selected,
            no_update if folded is None else folded,
            message,
        )

    @app.callback(Output(ids.ARCHITECTURE_SEARCH_LIST, "children"), PATTERN_IN)
    def offer_names(data):
        try:
            graph = graphs.of(recipe_from_store(data).model)
        except LayervizError:
            return []
        return [html.Option(value=name) for name in layer_names(graph)]

    @app.callback(
        Output(ids.ARCHITECTURE_LAYER_INFO, "children"),
        Output(ids.ARCHITECTURE_LAYER_GRAPH, "figure"),
        SELECTED_IN,
        PATTERN_IN,
    )
    def show_layer(selected, data):
        try:
            return layer_panel(workbench, selected, data)
        except Exception as exc:
            return error_text(exc), empty_figure(error_text(exc))


def view_layout(items: list[dict]) -> dict:
    """The layout that shows ``items`` with labels at 11 CSS px: fitted to the graph's box when
    it fits at zoom 1, else at zoom 1 from its top-left corner, or with the selected node a
    third of the way down, the rest reached by dragging (a folded MobileNetV2 is 30 rows,
    1,624 px: fitted, its labels would be 4 px)."""
    xs = [e["position"]["x"] for e in items if "position" in e]
    ys = [e["position"]["y"] for e in items if "position" in e]
    if not ys or max(ys) - min(ys) + _NODE_BOX[1] + 2 * LAYOUT["padding"] <= GRAPH_HEIGHT_PX:
        return LAYOUT
    # An open group's box reaches a further 10 px out (cytoscape's compound padding).
    left = _NODE_BOX[0] / 2 + LAYOUT["padding"] + 10 - min(xs)
    top = _NODE_BOX[1] / 2 + LAYOUT["padding"] + 10 - min(ys)
    chosen = [e["position"]["y"] for e in items if e.get("selected") and "position" in e]
    if chosen:
        top = min(top, GRAPH_HEIGHT_PX / 3 - chosen[0])
    return {**LAYOUT, "fit": False, "zoom": 1, "pan": {"x": left, "y": top}}


#: A layer's box (``STYLESHEET``'s node width and height), in CSS px at zoom 1.
_NODE_BOX = (112, 40)

#: The graph's height: a chain of 11 layers (rows 56 px apart) fits at zoom 1, where the
#: labels are ``font-size`` (11) CSS px; a taller graph zooms out to fit. (Sizing the
#: container to each graph's rows left cytoscape's canvas at its first size: clicks missed.)
GRAPH_HEIGHT_PX = 660


def graph_elements(
    graphs: _Graphs,
    data,
    statistic,
    limit,
    collapsed,
    selected,
    b_data=None,
    view: CompareView | None = None,
) -> list[dict]:
    """``architecture-graph``'s elements for the current pattern and settings (browser values
    checked here).

    Args:
        graphs, data, statistic, limit, collapsed, selected: the architectures and the
            browser's values (pattern store, statistic, size limit, folded groups, selected
            layer).
        b_data: pattern B's store form while compare mode is on, else None; a divergence
            statistic without it colours by the mean.
        view: the compare section's ``CompareView``, whose cached comparison gives the
            divergences.

    Raises:
        LayervizError: the pattern store names no model or pattern that can be run.
    """
    recipe, run = current_reduced(graphs.workbench, data)
    graph = graphs.of(recipe.model)
    activations = run.activations
    shown = grid_pages(activations, grid_settings(1, 1, limit)).layers
    hidden = {a.name for a in activations} - {layer.name for layer in shown}
    folded = set(folded_groups(collapsed, recipe.model, graph))
    chosen = selected.get("layer") if isinstance(selected, dict) else None
    if statistic in DIVERGENCES and view is not None and b_data:
        comparison = _comparison(view, data, b_data)
        values = divergence_values(comparison.layers, statistic) if comparison else {}
        return elements(graph, values, hidden, folded, chosen, low=0.0)
    statistic = statistic if statistic in STATISTICS else "mean"
    values = reduced_layer_values(run.reduced.layers, statistic)
    return elements(graph, values, hidden, folded, chosen)


def _comparison(view: CompareView, a_store, b_data) -> Comparison | None:
    """A compared with B (from the compare section's cache); None when B cannot be made: the
    compare section says why, the graph stays drawn, its nodes neutral."""
    try:
        return view.comparison(a_store, b_data)[1]
    except LayervizError:
        return None


def statistic_options(on: Any, b_data: Any, current: Any) -> tuple[list[dict], str]:
    """The statistics the picker offers and the one it shows: the divergences too while
    compare mode is on with a pattern B; a choice no longer offered falls back to the mean.

    Returns:
        ``(dropdown options, value)``.
    """
    offered = STATISTICS + DIVERGENCES if on is True and bool(b_data) else STATISTICS
    value = current if isinstance(current, str) and current in offered else "mean"
    return _options(offered), value


def _options(statistics) -> list[dict]:
    return [{"label": STATISTIC_LABELS[s], "value": s} for s in statistics]


def tapped(
    node, collapsed, data, graph: Architecture | None = None
) -> tuple[dict | None, dict | None]:
    """What a tap on a node changes: ``(selected layer, fold store)``, None for no change.

    A layer selects itself; a group folds, or opens when it was folded (a block folded by
    default opens on its first tap).

    Args:
        node, collapsed, data: the tapped node's data, the fold store, the pattern store.
        graph: the model's architecture (for its default folds); ``None``: no default.
    """
    if not isinstance(node, dict) or not isinstance(node.get("id"), str):
        return None, None
    name = node["id"]
    model = data.get("model") if isinstance(data, dict) else None
    if node.get("kind") == "group":
        folded = folded_groups(collapsed, model, graph)
        changed = [g for g in folded if g != name] if name in folded else [*folded, name]
        return None, fold_store(model, changed)
    return {"model": model, "layer": name}, None


def layer_panel(workbench: Workbench, selected, data):
    """The selected layer's line of facts and its maps, for the current pattern."""
    recipe = recipe_from_store(data)
    name = selected.get("layer") if isinstance(selected, dict) else None
    if not isinstance(name, str) or selected.get("model") != recipe.model:
        return (
            "Click a layer in the graph (or a panel of the grid) to see its maps here.",
            empty_figure("no layer selected"),
        )
    drawable = {n for _, n, _ in workbench.entry(recipe.model).extractor.layers}
    act = workbench.layers(recipe, [name])[0] if name in drawable else None  # on demand
    if act is None:
        return f"{name}: an input, or an output that cannot be drawn as maps.", empty_figure(
            f"{name} has no maps to draw"
        )
    shape = "×".join(str(d) for d in act.shape)
    info = f"layer {act.index}: {act.name} · {act.class_name} · output {shape}"
    return info, activation_grid([VisibleLayer(act)], (1, 1), height_per_row=360)
