"""The inspector's selected channel, laid over the input: its controls and callbacks.

A click on a channel of ``channel-graph`` selects it (the top-ranked one until then); the
``channel-prev`` / ``channel-next`` buttons step through the ranking, turning the inspector's
page at its edges, and a turn of the page selects its first channel unless the page shows the
selected one; ← / → do the same while the inspector's region has keyboard focus
(``assets/channel-keys.js`` clicks the buttons, so every step runs through the callback here).
``channel-overlay`` draws the selected channel over the input, ``overlay-opacity`` fading it.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx, dcc, html, no_update

from layerviz.draw.figures import empty_figure
from layerviz.ui import ids
from layerviz.ui.blocks import opacity_slider
from layerviz.ui.common import error_text
from layerviz.ui.features.compare_state import active_b
from layerviz.ui.features.inspector.overlay_view import (
    DEFAULT_OPACITY,
    layer_ranking,
    overlay_view,
    select,
)
from layerviz.ui.features.inspector.views import CHANGE
from layerviz.ui.wiring import (
    CHANNEL_VIEW,
    COMPARED,
    COMPARED_IN,
    PATTERN,
    PATTERN_IN,
    SELECTED,
    SELECTED_IN,
)
from layerviz.ui.workbench import Workbench

__all__ = ["click_action", "keyed_region", "overlay_block", "register_overlay"]

GRAPH_CONFIG = {"displaylogo": False}
REGION_NAME = (
    "Channels of the inspected layer: the left and right arrow keys select the previous and "
    "the next channel in rank order"
)


def keyed_region(children: list) -> html.Div:
    """``children`` in the focusable, named region in which ← / → step through channels."""
    return html.Div(
        children,
        id=ids.CHANNEL_KEYS,
        tabIndex=0,
        role="group",
        **{"aria-label": REGION_NAME},
    )


def overlay_block() -> html.Div:
    """The step buttons, the selected channel's name, the opacity slider and the overlay."""
    buttons = html.Div(
        [
            _step_button(ids.CHANNEL_PREV, "previous channel", "chevron-left", "←"),
            _step_button(ids.CHANNEL_NEXT, "next channel", "chevron-right", "→"),
        ],
        className="d-flex gap-2 flex-wrap mb-2",
    )
    caption = html.Div(
        id=ids.OVERLAY_CAPTION, className="small mb-2", role="status", **{"aria-live": "polite"}
    )
    opacity = opacity_slider(ids.OVERLAY_OPACITY, DEFAULT_OPACITY, "overlay opacity")
    controls = [
        buttons,
        caption,
        html.Small("overlay opacity", className="text-body-secondary d-block"),
        opacity,
    ]
    graph = dcc.Graph(
        id=ids.CHANNEL_OVERLAY,
        figure=empty_figure("click a panel of the grid, then a channel"),
        config=GRAPH_CONFIG,
    )
    return html.Div(
        [
            dbc.Row([dbc.Col(controls, md=4), dbc.Col(graph, md=8)], className="g-2 mt-1"),
            dcc.Store(id=ids.SELECTED_CHANNEL_STORE),
        ]
    )


def _step_button(id_: str, text: str, icon: str, key: str) -> html.Button:
    return html.Button(
        [html.I(className=f"bi bi-{icon} me-1", **{"aria-hidden": "true"}), text],
        id=id_,
        n_clicks=0,
        type="button",
        title=f"{text} in rank order (the {key} key)",
        className="btn btn-sm btn-outline-secondary",
    )


def click_action(triggered: Any, click: Any) -> Any:
    """What a request asks of the selection: ``"previous"``, ``"next"``, ``("click", curve)``
    for a click on ``channel-graph``, ``"page"`` for a turn of the inspector's page, or None."""
    if triggered == ids.CHANNEL_PREV:
        return "previous"
    if triggered == ids.CHANNEL_NEXT:
        return "next"
    if triggered == ids.CHANNEL_PAGE:
        return "page"
    try:
        return "click", click["points"][0]["curveNumber"]
    except (TypeError, KeyError, IndexError):  # no click, or not one that Plotly sends
        return None


def register_overlay(app, workbench: Workbench) -> None:
    """Attach the selection's and the overlay's callbacks to ``app``."""

    @app.callback(
        Output(ids.SELECTED_CHANNEL_STORE, "data"),
        Output(ids.CHANNEL_PAGE, "active_page", allow_duplicate=True),
        Input(ids.CHANNEL_GRAPH, "clickData"),
        Input(ids.CHANNEL_PREV, "n_clicks"),
        Input(ids.CHANNEL_NEXT, "n_clicks"),
        # A turned page: the selection follows it (never a channel no longer shown).
        Input(ids.CHANNEL_PAGE, "active_page"),
        PATTERN,
        SELECTED,
        *CHANNEL_VIEW[:2],  # the page is an Input above
        State(ids.SELECTED_CHANNEL_STORE, "data"),
        *COMPARED,
        prevent_initial_call=True,
    )
    def _select(click, _prev, _next, page, store_data, selected, by, k, stored, on, b_data):
        action = click_action(ctx.triggered_id, click)
        if action is None or not store_data:
            return no_update, no_update
        try:
            ranking = layer_ranking(workbench, store_data, selected, by, active_b(on, b_data))
            result = select(ranking, stored, action, k, page) if ranking else None
        except Exception as exc:  # a stale or crafted request: nothing to select
            error_text(exc)
            return no_update, no_update
        if result is None:
            return no_update, no_update
        store, shown = result
        return (store if store != stored else no_update), (shown if shown != page else no_update)

    @app.callback(
        Output(ids.CHANNEL_OVERLAY, "figure"),
        Output(ids.OVERLAY_CAPTION, "children"),
        Input(ids.SELECTED_CHANNEL_STORE, "data"),
        PATTERN_IN,
        SELECTED_IN,
        Input(ids.CHANNEL_SORT, "value"),
        Input(ids.OVERLAY_OPACITY, "value"),
        *COMPARED_IN,
        prevent_initial_call=True,
    )
    def _overlay(stored, store_data, selected, by, opacity, on, b_data):
        if not store_data:
            return no_update, no_update
        if by != CHANGE and ctx.triggered_id in (ids.COMPARE_SWITCH, ids.COMPARE_STORE):
            return no_update, no_update  # another B changes only the order by change
        try:
            ranking = layer_ranking(workbench, store_data, selected, by, active_b(on, b_data))
            return overlay_view(ranking, stored, opacity)
        except Exception as exc:
            text = error_text(exc)
            return empty_figure(text), text
