"""The inspector's components: its controls (left column) and its cards (results column)."""

from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from layerviz.draw.channel_pages import DEFAULT_K
from layerviz.draw.figures import empty_figure
from layerviz.ui import ids
from layerviz.ui.blocks import card, pager, section
from layerviz.ui.features.inspector.health import health_controls
from layerviz.ui.features.inspector.links import BOOT
from layerviz.ui.features.inspector.overlay import keyed_region, overlay_block
from layerviz.ui.features.inspector.views import MAX_K, SORTS

__all__ = ["controls", "panels"]

GRAPH_CONFIG = {"displaylogo": False}
K_MARKS = (1, 8, 16, 32, 48, 64)
#: The statistics table's columns: (field, header, width).
STATS_COLUMNS = (
    ("index", "#", 70),
    ("name", "layer", 200),
    ("class_name", "class", 150),
    ("shape", "shape", 110),
    ("min", "min", 100),
    ("max", "max", 100),
    ("mean", "mean", 100),
    ("std", "std", 100),
    ("zero_fraction", "zeros %", 95),
    ("nan_count", "NaN", 75),
    ("inf_count", "Inf", 75),
    ("n_channels", "channels", 100),
    ("n_dead", "dead (this pattern)", 150),
    ("health_dead", "dead (health)", 130),
    ("health_saturated", "saturated (health)", 150),
)
_NUMBER_FORMAT = {"function": "params.value == null ? '' : d3.format('.4~g')(params.value)"}


def controls(workbench) -> list:
    """The inspector's and the health run's controls."""

    sort = dcc.Dropdown(
        id=ids.CHANNEL_SORT,
        options=[{"label": f"rank by {what}", "value": by} for by, what in SORTS.items()],
        value="mean",
        clearable=False,
        className="mb-2",
    )
    topk = dcc.Slider(
        id=ids.TOPK_SLIDER,
        min=1,
        max=MAX_K,
        step=1,
        value=DEFAULT_K,
        marks={m: str(m) for m in K_MARKS},
        tooltip={"placement": "bottom"},
        updatemode="mouseup",
    )
    return [
        section(
            "Layer inspector",
            "zoom-in",
            [
                sort,
                html.Small("channels per page", className="text-body-secondary d-block"),
                topk,
                # The colour range is the page's norm-mode (the grid's Display controls).
            ],
        ),
        section("Model health", "heart-pulse", health_controls(), ""),
    ]


def panels(workbench) -> list:
    """The inspector card, then the statistics card."""
    links = [
        dcc.Location(id=ids.URL_VIEW, refresh=False),
        dcc.Store(id=ids.URL_TARGET, data=BOOT),
        dcc.Interval(id=ids.URL_BOOT, interval=250, max_intervals=1),
    ]
    return [_inspector_card(), _stats_card(), *links]


def _inspector_card() -> dbc.Card:

    header = [
        html.Span(id=ids.INSPECTOR_TITLE, className="ms-1 fw-semibold"),
        html.Small(id=ids.INSPECTOR_SUMMARY, className="text-body-secondary mx-2"),
        pager(ids.CHANNEL_PAGE, "mb-0 ms-auto"),
    ]
    graph = dcc.Loading(
        dcc.Graph(
            id=ids.CHANNEL_GRAPH,
            figure=empty_figure("click a panel of the grid to inspect its layer"),
            config=GRAPH_CONFIG,
        ),
        type="dot",
        delay_show=150,
    )
    body = keyed_region([html.Div(graph, style={"overflowX": "auto"}), overlay_block()])
    return card(
        "Layer inspector",
        "zoom-in",
        body,
        header_extra=[html.Div(header, className="d-inline-flex align-items-center flex-wrap")],
        id=ids.LAYER_INSPECTOR,
        className="shadow-sm mb-3",
    )


def _stats_card() -> dbc.Card:

    columns = [
        {"field": key, "headerName": header, "width": width, "sortable": True}
        | ({"valueFormatter": _NUMBER_FORMAT} if key in ("min", "max", "mean", "std") else {})
        for key, header, width in STATS_COLUMNS
    ]
    table = dag.AgGrid(
        id=ids.STATS_TABLE,
        columnDefs=columns,
        rowData=[],
        getRowId="params.data.name",
        dashGridOptions={
            "rowSelection": {
                "mode": "singleRow",
                "checkboxes": False,
                "enableClickSelection": True,
            },
            "animateRows": False,
            # 15 columns are cheap to draw; drawing them all keeps every cell in the page
            # (find-in-page, browser tests) instead of only the scrolled-to ones.
            "suppressColumnVirtualisation": True,
        },
        style={"height": "420px"},
    )
    download = dbc.Button(
        [html.I(className="bi bi-filetype-csv me-1"), "CSV"],
        id=ids.STATS_DOWNLOAD,
        color="primary",
        outline=True,
        size="sm",
        n_clicks=0,
        className="ms-2",
    )
    histogram = dcc.Graph(
        id=ids.STATS_HISTOGRAM, figure=empty_figure("pick a layer"), config=GRAPH_CONFIG
    )
    body = dbc.Row([dbc.Col(table, lg=8), dbc.Col(histogram, lg=4)], className="g-2")
    return card(
        "Layer statistics",
        "table",
        [body, dcc.Download(id=ids.STATS_FILE)],
        header_extra=[download],
        className="shadow-sm mb-3",
    )
