"""The inspector's components: its tab (controls, then the channels), the statistics tab's
table and health controls (``layerviz.ui.features.statistics``), and the page's links."""

from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from layerviz.draw.channel_pages import DEFAULT_K
from layerviz.draw.figures import empty_figure
from layerviz.ui import ids
from layerviz.ui.blocks import card, hint, pager, section
from layerviz.ui.features.inspector.health import health_controls
from layerviz.ui.features.inspector.links import BOOT
from layerviz.ui.features.inspector.looks_for_ui import looks_for_block
from layerviz.ui.features.inspector.overlay import keyed_region, overlay_block
from layerviz.ui.features.inspector.views import MAX_K, SORTS

__all__ = ["controls", "panels", "statistics_tab", "tab"]

GRAPH_CONFIG = {"displaylogo": False}
K_MARKS = (1, 8, 16, 32, 48, 64)
#: The statistics table's columns: (field, header, width).
STATS_COLUMNS = (
    ("index", "#", 56),
    ("name", "layer", 130),
    ("mean", "mean", 90),
    ("zero_fraction", "zeros %", 90),
    ("n_dead", "dead (this pattern)", 110),
    ("min", "min", 90),
    ("max", "max", 90),
    ("std", "std", 90),
    ("class_name", "class", 120),
    ("shape", "shape", 100),
    ("nan_count", "NaN", 70),
    ("inf_count", "Inf", 70),
    ("n_channels", "channels", 90),
    ("health_dead", "dead (health)", 110),
    ("health_saturated", "saturated (health)", 130),
)
#: Pinned at the left while the table scrolls sideways: which row is which.
PINNED = ("index", "name")
_NUMBER_FORMAT = {"function": "params.value == null ? '' : d3.format('.4~g')(params.value)"}


def controls(workbench) -> list:
    """Nothing in the control panel: the inspector's controls are in its tab."""
    return []


def tab(workbench) -> list:
    """The Inspector tab: rank and page size, then the channels and the overlay."""

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
    # The colour range is the page's norm-mode (the grid's Display controls).
    options = dbc.Row(
        [
            dbc.Col(sort, md=5),
            dbc.Col(
                [html.Small("channels per page", className="text-body-secondary d-block"), topk],
                md=7,
            ),
        ],
        className="g-2 mb-2 align-items-end",
    )
    return [options, _inspector_card()]


def statistics_tab(workbench) -> list:
    """The Statistics & health tab: the table with its histogram, then the health run."""
    return [_stats_card(), section("Model health", "heart-pulse", health_controls(), "mt-2")]


def panels(workbench) -> list:
    """Always in the page: the URL's view (a shared link), and the health run's result, which
    the inspector's outlines read whether or not the statistics tab was opened."""
    return [
        dcc.Location(id=ids.URL_VIEW, refresh=False),
        dcc.Store(id=ids.URL_TARGET, data=BOOT),
        dcc.Store(id=ids.URL_LINKED),
        dcc.Interval(id=ids.URL_BOOT, interval=250, max_intervals=1),
        dcc.Store(id=ids.HEALTH_STORE),
    ]


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
    graph = html.Div(graph, style={"overflowX": "auto"})
    # The pane's width, measured in the browser: the tiles fill it (assets/workspace.js).
    width = dcc.Store(id=ids.INSPECTOR_WIDTH)
    body = keyed_region([graph, width, looks_for_block(), overlay_block(), _examples_block()])
    return card(
        "Layer inspector",
        "zoom-in",
        body,
        header_extra=[html.Div(header, className="d-inline-flex align-items-center flex-wrap")],
        id=ids.LAYER_INSPECTOR,
        className="shadow-sm mb-3",
    )


def _examples_block() -> html.Div:
    """Where the Dataset section shows the selected channel's most and least exciting patterns."""
    waiting = "Run a dataset (Dataset section), then select a channel: its dataset examples."
    return html.Div(
        [
            html.H3("Dataset examples of this channel", className="fs-6 mt-2 mb-1"),
            html.Div(hint(waiting), id=ids.INSPECTOR_EXAMPLES),
        ]
    )


def _stats_card() -> dbc.Card:

    columns = [
        {"field": key, "headerName": header, "width": width, "sortable": True}
        | ({"valueFormatter": _NUMBER_FORMAT} if key in ("min", "max", "mean", "std") else {})
        | ({"pinned": "left"} if key in PINNED else {})
        | {"wrapHeaderText": True, "autoHeaderHeight": True}
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
    # Stacked: the pane is narrower than the old results column.
    body = html.Div([table, histogram])
    return card(
        "Layer statistics",
        "table",
        [body, dcc.Download(id=ids.STATS_FILE)],
        header_extra=[download],
        className="shadow-sm mb-3",
    )
