"""The detail pane beside the grid: one tab per feature that declares one, opened on demand.

The activation grid stays in the centre; whatever a user asks about a layer opens in this pane
(a right-hand column on wide screens, a drawer along the bottom on narrow ones, see
``assets/layerviz.css``), as tabs declared by the feature sections (``TAB`` in
:mod:`layerviz.ui.features`). A tab's body is built and mounted the first time it is shown
(Compare also when a shared link names a pattern B), so its callbacks (and their requests)
wait until then: Dash runs no callback whose outputs are not in the page. A picked layer
(``ids.SELECTED_LAYER_STORE``: a grid panel, a graph node, a statistics row, a divergence
point) turns the pane to the Inspector, outlines its panel in the grid and moves keyboard
focus into the pane without scrolling the page.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx, dcc, html, no_update

from layerviz.ui import ids
from layerviz.ui.blocks import icon_tag
from layerviz.ui.common import current_run
from layerviz.ui.features import TABS, tab_body_id, tab_id, tab_key
from layerviz.ui.wiring import PATTERN_IN, SELECTED_IN
from layerviz.ui.workbench import Workbench

__all__ = ["detail_pane", "every_tab", "register", "selection_text", "tab_bodies"]

#: The tab a picked layer opens.
INSPECTOR_TAB = tab_id("inspector")
#: What the pane says while nothing is picked.
NOTHING_PICKED = "No layer picked: click a panel of the grid, a node or a table row."


def detail_pane(workbench: Workbench) -> html.Aside:
    """The pane: the picked layer's line, then one tab per feature, each body empty until
    first opened (a one-line hint in its place) unless the feature is ``EAGER``."""
    tabs = [
        dbc.Tab(
            html.Div(
                feature.tab(workbench) if _eager(feature) else _OPENING,
                id=tab_body_id(tab_key(feature)),
                className="pt-2 px-1",
            ),
            label=feature.TAB[0],
            tab_id=tab_id(tab_key(feature)),
        )
        for feature in TABS
    ]
    opened = [tab_key(f) for f in TABS if _eager(f)]
    selection = html.Div(
        [icon_tag("crosshair"), html.Span(NOTHING_PICKED, id=ids.SELECTION_TEXT)],
        className="selection-line small px-2 py-1",
        role="status",
        **{"aria-live": "polite"},
    )
    return html.Aside(
        [
            html.H2("Details", className="visually-hidden", id="heading-details"),
            selection,
            dbc.Tabs(tabs, id=ids.DETAIL_TABS, active_tab=INSPECTOR_TAB, class_name="px-1"),
            dcc.Store(id=ids.TABS_OPENED, data=opened),
            dcc.Store(id=ids.TABS_WANTED),
        ],
        id=ids.DETAIL_PANE,
        className="detail-pane",
        tabIndex=-1,  # focus lands here when a click opens a layer (not in the Tab order)
        **{"aria-labelledby": "heading-details"},
    )


_OPENING = html.Small("opening…", className="text-body-secondary")


def _eager(feature) -> bool:
    """Whether the feature's tab is built with the page (``EAGER = True``)."""
    return getattr(feature, "EAGER", False) is True


def tab_bodies(workbench: Workbench, opening: list[str], opened: list[str]) -> list:
    """Each tab body's children: the feature's ``tab(workbench)`` for a tab in ``opening``
    that is not yet in ``opened``, ``no_update`` for the others."""
    out = []
    for feature in TABS:
        key = tab_key(feature)
        out.append(feature.tab(workbench) if key in opening and key not in opened else no_update)
    return out


def every_tab(workbench: Workbench) -> list:
    """The bodies of the tabs not built with the page, for checking callbacks against."""
    return [part for f in TABS if not _eager(f) for part in f.tab(workbench)]


def selection_text(workbench: Workbench, selected: Any, store_data: Any) -> str:
    """``"conv2 · Conv2D · 16×16×32"`` for the picked layer, or ``NOTHING_PICKED``."""
    if not isinstance(selected, dict) or not isinstance(selected.get("layer"), str):
        return NOTHING_PICKED
    recipe, run = current_run(workbench, store_data)
    if selected.get("model") != recipe.model:
        return NOTHING_PICKED
    for act in run.extraction.activations:
        if act.name == selected["layer"]:
            return f"{act.name} · {act.class_name} · {'×'.join(map(str, act.shape))}"
    return NOTHING_PICKED


def _opening(active: Any, selected: Any, wanted: Any = None) -> list[str]:
    """The tabs to mount now: the one shown, the Inspector once a layer is picked, and those
    wanted without being shown (``ids.TABS_WANTED``); only keys of tabs the pane has."""
    keys = []
    if isinstance(active, str) and active.startswith("tab-"):
        keys.append(active[len("tab-") :])
    if ctx.triggered_id == ids.SELECTED_LAYER_STORE and isinstance(selected, dict):
        keys.append("inspector")
    if ctx.triggered_id == ids.TABS_WANTED and isinstance(wanted, list):
        keys.extend(wanted)
    known = {tab_key(f) for f in TABS}
    return [k for k in keys if isinstance(k, str) and k in known]


#: A picked layer: the Inspector tab, its panel outlined in the grid (``assets/workspace.js``
#: keeps the outline on the panel as the grid redraws), keyboard focus in the pane, and the
#: page left where it was.
_PICKED_JS = """function (selected) {
    const nu = window.dash_clientside.no_update;
    if (!selected || !selected.layer) { return nu; }
    window.layerviz.outlineLayer(selected.layer);
    const pane = document.getElementById('PANE');
    if (pane) { pane.focus({preventScroll: true}); }
    return 'TAB';
}""".replace("PANE", ids.DETAIL_PANE).replace("TAB", INSPECTOR_TAB)

#: A click on a prediction bar explains that class: the Explain tab.
_EXPLAIN_JS = """function (click) {
    return click ? 'TAB' : window.dash_clientside.no_update;
}""".replace("TAB", tab_id("explain"))

#: A shared link that names a pattern B builds the Compare tab (not shown): its controls take
#: the link's B (``inspector.links``), and compare mode is on as the link says.
_WANTED_JS = """function (target) {
    return (target && target.b) ? ['compare'] : window.dash_clientside.no_update;
}"""

#: The left panel folds away (and back); the grid takes its width. On a wide screen it starts
#: open, on a narrow one (the pane a drawer) folded, over the grid when opened.
_TOGGLE_JS = """function (clicks) {
    const narrow = window.matchMedia('(max-width: 991.98px)').matches;
    const toggled = (clicks || 0) % 2 === 1;
    const open = narrow ? toggled : !toggled;
    return ['controls-panel' + (toggled ? ' toggled' : ''), open ? 'true' : 'false'];
}"""


def register(app, workbench: Workbench) -> None:
    """The pane's callbacks: mount tabs on first view, name the picked layer, turn to it."""

    bodies = [Output(tab_body_id(tab_key(f)), "children") for f in TABS]
    shown = Input(ids.DETAIL_TABS, "active_tab")
    opened_now = (Output(ids.TABS_OPENED, "data"), State(ids.TABS_OPENED, "data"))

    wanted = Input(ids.TABS_WANTED, "data")

    @app.callback(
        *bodies, opened_now[0], shown, SELECTED_IN, wanted, opened_now[1],
        prevent_initial_call=True,
    )  # fmt: skip
    def _mount(active, selected, wanted, opened):
        opened = [k for k in opened if isinstance(k, str)] if isinstance(opened, list) else []
        opening = [k for k in _opening(active, selected, wanted) if k not in opened]
        if not opening:
            return *([no_update] * len(TABS)), no_update
        return *tab_bodies(workbench, opening, opened), opened + opening

    @app.callback(
        Output(ids.SELECTION_TEXT, "children"),
        SELECTED_IN,
        PATTERN_IN,
        prevent_initial_call=True,
    )
    def _selection(selected, store_data):
        try:
            return selection_text(workbench, selected, store_data)
        except Exception:  # a pattern that no longer runs: the page's alert says why
            return NOTHING_PICKED

    app.clientside_callback(
        _PICKED_JS,
        Output(ids.DETAIL_TABS, "active_tab"),
        SELECTED_IN,
        prevent_initial_call=True,
    )
    app.clientside_callback(
        _EXPLAIN_JS,
        Output(ids.DETAIL_TABS, "active_tab", allow_duplicate=True),
        Input(ids.PREDICTION_GRAPH, "clickData"),
        prevent_initial_call=True,
    )
    # In the browser, so that a page opened without a link asks the server nothing for it.
    app.clientside_callback(
        _WANTED_JS,
        Output(ids.TABS_WANTED, "data"),
        Input(ids.URL_TARGET, "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        _TOGGLE_JS,
        Output(ids.CONTROLS_PANEL, "className"),
        Output(ids.CONTROLS_TOGGLE, "aria-expanded"),
        Input(ids.CONTROLS_TOGGLE, "n_clicks"),
        prevent_initial_call=True,
    )
