"""The inspector's callbacks: thin wrappers over ``views``; the health run's are in ``health``."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, ctx, dcc, no_update

from layerviz.draw.figures import empty_figure
from layerviz.ui import ids
from layerviz.ui.common import error_text
from layerviz.ui.features.compare_state import active_b
from layerviz.ui.features.inspector import views
from layerviz.ui.features.inspector.health import register_health
from layerviz.ui.features.inspector.links import register_links
from layerviz.ui.features.inspector.looks_for_ui import register_looks_for
from layerviz.ui.features.inspector.overlay import register_overlay
from layerviz.ui.recipe import recipe_from_store
from layerviz.ui.wiring import (
    CHANNEL_VIEW_IN,
    COMPARED_IN,
    PATTERN,
    PATTERN_IN,
    SELECT,
    SELECTED_IN,
)
from layerviz.ui.workbench import Workbench

__all__ = ["register", "table_pick"]


def register(app, workbench: Workbench) -> None:
    """Attach the inspector's callbacks to ``app``."""
    _register_inspector(app, workbench)
    _register_statistics(app, workbench)
    register_health(app, workbench)
    register_links(app, workbench)
    register_overlay(app, workbench)
    register_looks_for(app, workbench)


#: The inspector's width as a layer is picked, measured before the inspector is drawn (Dash
#: waits for it: the inspector reads what this writes); ``assets/workspace.js`` measures.
_WIDTH_JS = """function (selected, known) {
    const width = window.layerviz && window.layerviz.inspectorWidth
        ? window.layerviz.inspectorWidth() : null;
    return width && width !== known ? width : window.dash_clientside.no_update;
}"""


def _register_inspector(app, workbench: Workbench) -> None:
    app.clientside_callback(
        _WIDTH_JS,
        Output(ids.INSPECTOR_WIDTH, "data"),
        SELECTED_IN,
        State(ids.INSPECTOR_WIDTH, "data"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(ids.INSPECTOR_TITLE, "children"),
        Output(ids.CHANNEL_GRAPH, "figure"),
        Output(ids.INSPECTOR_SUMMARY, "children"),
        Output(ids.CHANNEL_PAGE, "max_value"),
        Output(ids.CHANNEL_PAGE, "active_page"),
        PATTERN_IN,
        SELECTED_IN,
        *CHANNEL_VIEW_IN,
        Input(ids.NORM_MODE, "value"),
        Input(ids.HEALTH_STORE, "data"),
        *COMPARED_IN,
        Input(ids.SELECTED_CHANNEL_STORE, "data"),
        Input(ids.INSPECTOR_WIDTH, "data"),
        prevent_initial_call=True,
    )
    def _inspect(store_data, selected, by, k, page, norm, health, compare_on, b_data, chosen, px):
        if not store_data:
            return (no_update,) * 5
        # Another layer, sort or k starts at the best channels; colours, health and the
        # selected channel keep the page (a step that turns it sends the page too).
        keep = (
            ids.CHANNEL_PAGE,
            ids.NORM_MODE,
            ids.HEALTH_STORE,
            ids.SELECTED_CHANNEL_STORE,
            ids.INSPECTOR_WIDTH,
        )
        asked = page
        if ctx.triggered_id not in keep:
            page = 1
        if by != views.CHANGE and ctx.triggered_id in (ids.COMPARE_SWITCH, ids.COMPARE_STORE):
            return (no_update,) * 5  # another B changes only the order by change
        b = active_b(compare_on, b_data)
        try:
            view = views.inspector_view(
                workbench, store_data, selected, by, k, page, norm, health, b, chosen, px
            )
        except Exception as exc:
            return "", empty_figure(error_text(exc)), "", 1, 1
        # The page only when it changes: a turn moves the channel selection (overlay.py).
        turned = view.page if view.page != asked else no_update
        return view.title, view.figure, view.summary, view.n_pages, turned


def _register_statistics(app, workbench: Workbench) -> None:
    @app.callback(
        Output(ids.STATS_TABLE, "rowData"),
        PATTERN_IN,
        Input(ids.HEALTH_STORE, "data"),
        # No prevent_initial_call: the table is built when its tab first opens, and fills then.
    )
    def _rows(store_data, health):
        try:
            return views.stats_rows(workbench, store_data, health) if store_data else no_update
        except Exception as exc:
            error_text(exc)
            return []

    @app.callback(
        SELECT,
        Input(ids.STATS_TABLE, "selectedRows"),
        PATTERN,
        prevent_initial_call=True,
    )
    def _pick(rows, store_data):
        return table_pick(rows, store_data) or no_update

    @app.callback(
        Output(ids.STATS_HISTOGRAM, "figure"),
        SELECTED_IN,
        PATTERN_IN,
    )
    def _histogram(selected, store_data):
        try:
            return views.histogram(workbench, store_data, selected)
        except Exception as exc:
            return empty_figure(error_text(exc))

    @app.callback(
        Output(ids.STATS_FILE, "data"),
        Input(ids.STATS_DOWNLOAD, "n_clicks"),
        PATTERN,
        prevent_initial_call=True,
    )
    def _download(_clicks, store_data):
        try:
            name, text = views.stats_csv(workbench, store_data)
        except Exception as exc:
            error_text(exc)
            return no_update
        return dcc.send_string(text, name)


def table_pick(rows: Any, store_data: Any) -> dict | None:
    """``{"model", "layer"}`` of the row a user selected in the table, or None."""
    try:
        name = rows[0]["name"]
        model = recipe_from_store(store_data).model
    except Exception:  # nothing selected, or a malformed message: nothing to pick
        return None
    return {"model": model, "layer": name} if isinstance(name, str) else None
