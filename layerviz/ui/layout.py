"""The dashboard's page: controls on the left; pattern, prediction and grid on the right."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from layerviz.figures import empty_figure
from layerviz.readers import MAX_PATTERN_BYTES
from layerviz.ui import ids
from layerviz.ui.bounds import DEFAULT_GRID, DEFAULT_LIMIT, GRID_SIDES, SIZE_LIMITS
from layerviz.ui.workbench import Workbench

__all__ = ["control_panel", "page", "results"]

GRAPH_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}
COLORSCALES = ["Viridis", "Cividis", "Magma", "Inferno", "Greys", "RdBu"]
GRID_MARKS = range(GRID_SIDES[0], GRID_SIDES[1] + 1)
UPLOAD_TYPES = ".npy,.npz,.csv,.png,.jpg,.jpeg"


def _label(text: str, icon: str) -> html.Label:
    return html.Label(
        [html.I(className=f"bi bi-{icon} me-1"), text], className="form-label fw-semibold d-block"
    )


def _slider(id_: str, bounds: tuple[int, int], value: int, marks) -> dcc.Slider:
    return dcc.Slider(
        id=id_,
        min=bounds[0],
        max=bounds[1],
        step=1,
        value=value,
        marks={m: str(m) for m in marks},
        tooltip={"placement": "bottom", "always_visible": False},
        updatemode="mouseup",
    )


def control_panel(workbench: Workbench, model_name: str) -> dbc.Card:
    """The left column: model, pattern, grid, display and export controls."""
    options = [{"label": workbench.entry_title(n), "value": n} for n in workbench.model_names]
    mb = MAX_PATTERN_BYTES // 2**20
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [
                        _label("Model", "diagram-3"),
                        dcc.Dropdown(
                            id=ids.MODEL_SELECT, options=options, value=model_name, clearable=False
                        ),
                        html.Small(id=ids.MODEL_INFO, className="text-body-secondary d-block mt-1"),
                    ],
                    className="mb-3",
                ),
                html.Div(
                    [
                        _label("Pattern", "image"),
                        dcc.Dropdown(
                            id=ids.SAMPLE_SELECT,
                            placeholder="bundled sample patterns",
                            clearable=False,
                            className="mb-2",
                        ),
                        # data-max-bytes feeds assets/upload-guard.js, which reports a file
                        # over the limit (dcc.Upload drops those silently).
                        html.Div(
                            dcc.Upload(
                                id=ids.PATTERN_UPLOAD,
                                max_size=MAX_PATTERN_BYTES,
                                accept=UPLOAD_TYPES,
                                className="upload-zone",
                                className_active="upload-zone active",
                                children=html.Div(
                                    [
                                        html.I(className="bi bi-cloud-arrow-up fs-4 d-block"),
                                        html.Span("Drop a pattern or "),
                                        html.A("choose a file", className="link-primary"),
                                        html.Small(
                                            f".npy .npz .csv .png .jpg — up to {mb} MB",
                                            className="d-block text-body-secondary",
                                        ),
                                    ]
                                ),
                            ),
                            className="mb-2",
                            **{"data-max-bytes": str(MAX_PATTERN_BYTES)},
                        ),
                        dbc.InputGroup(
                            [
                                dbc.InputGroupText("seed"),
                                dbc.Input(
                                    id=ids.SEED_INPUT,
                                    type="number",
                                    min=0,
                                    max=2**32 - 1,
                                    step=1,
                                    placeholder="0",
                                    debounce=True,
                                ),
                                dbc.Button(
                                    [html.I(className="bi bi-shuffle me-1"), "New random pattern"],
                                    id=ids.SEED_BUTTON,
                                    color="secondary",
                                    outline=True,
                                    n_clicks=0,
                                ),
                            ],
                            size="sm",
                        ),
                    ],
                    className="mb-3",
                ),
                html.Div(
                    [
                        _label("Grid", "grid-3x3"),
                        html.Small("rows", className="text-body-secondary d-block"),
                        _slider(
                            ids.GRID_ROWS,
                            GRID_SIDES,
                            DEFAULT_GRID[0],
                            GRID_MARKS,
                        ),
                        html.Small("columns", className="text-body-secondary d-block"),
                        _slider(
                            ids.GRID_COLS,
                            GRID_SIDES,
                            DEFAULT_GRID[1],
                            GRID_MARKS,
                        ),
                        html.Small(
                            "size limit: show a layer when its maps are larger than N×N",
                            className="text-body-secondary d-block",
                        ),
                        _slider(
                            ids.SIZE_LIMIT, SIZE_LIMITS, DEFAULT_LIMIT, [0, 15, 32, 64, 96, 128]
                        ),
                    ],
                    className="mb-3",
                ),
                html.Div(
                    [
                        _label("Display", "palette"),
                        dcc.Dropdown(
                            id=ids.COLORSCALE_SELECT,
                            options=COLORSCALES,
                            value="Viridis",
                            clearable=False,
                            className="mb-2",
                        ),
                        dbc.Switch(
                            id=ids.COLORBAR_SWITCH,
                            label="one colour scale for all panels",
                            value=False,
                        ),
                    ],
                    className="mb-3",
                ),
                html.Div(
                    [
                        _label("Export", "download"),
                        dbc.Switch(
                            id=ids.PLOT_MODEL_SWITCH,
                            label="include the architecture (model.png)",
                            value=False,
                        ),
                        dbc.ButtonGroup(
                            [
                                dbc.Button(
                                    [
                                        html.I(className="bi bi-file-earmark-zip me-1"),
                                        "Download PNGs",
                                    ],
                                    id=ids.EXPORT_BUTTON,
                                    color="primary",
                                    n_clicks=0,
                                ),
                                dbc.Button(
                                    [
                                        html.I(className="bi bi-file-earmark-image me-1"),
                                        "Download this page",
                                    ],
                                    id=ids.PAGE_EXPORT_BUTTON,
                                    color="primary",
                                    outline=True,
                                    n_clicks=0,
                                ),
                            ],
                            size="sm",
                            className="w-100",
                        ),
                        dcc.Download(id=ids.EXPORT_DOWNLOAD),
                    ]
                ),
            ]
        ),
        className="shadow-sm control-panel",
    )


def results(workbench: Workbench) -> html.Div:
    """The right column: alert, input pattern, prediction and the paged activation grid."""
    return html.Div(
        [
            dbc.Alert(
                id=ids.ERROR_ALERT,
                color="danger",
                dismissable=True,
                is_open=False,
                className="mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        dbc.Card(
                            [
                                dbc.CardHeader(
                                    [
                                        html.I(className="bi bi-image me-1"),
                                        "Input pattern",
                                        html.Small(
                                            id=ids.PATTERN_INFO,
                                            className="ms-2 text-body-secondary",
                                        ),
                                    ]
                                ),
                                dbc.CardBody(
                                    dcc.Graph(
                                        id=ids.PATTERN_GRAPH,
                                        figure=empty_figure(""),
                                        config=GRAPH_CONFIG,
                                        style={"height": "320px"},
                                    ),
                                    className="p-1",
                                ),
                            ],
                            className="shadow-sm h-100",
                        ),
                        md=5,
                    ),
                    dbc.Col(
                        dbc.Card(
                            [
                                dbc.CardHeader(
                                    [html.I(className="bi bi-bar-chart me-1"), "Prediction"]
                                ),
                                dbc.CardBody(
                                    dcc.Graph(
                                        id=ids.PREDICTION_GRAPH,
                                        figure=empty_figure(""),
                                        config=GRAPH_CONFIG,
                                        style={"height": "320px"},
                                    ),
                                    className="p-1",
                                ),
                            ],
                            className="shadow-sm h-100",
                        ),
                        md=7,
                    ),
                ],
                className="g-3 mb-3",
            ),
            dbc.Card(
                [
                    dbc.CardHeader(
                        html.Div(
                            [
                                html.Span([html.I(className="bi bi-layers me-1"), "Layer outputs"]),
                                html.Small(
                                    id=ids.GRID_SUMMARY,
                                    className="text-body-secondary mx-2 flex-grow-1",
                                ),
                                dbc.Pagination(
                                    id=ids.PAGE_SELECT,
                                    min_value=1,
                                    max_value=1,
                                    active_page=1,
                                    first_last=True,
                                    previous_next=True,
                                    fully_expanded=False,
                                    size="sm",
                                    class_name="mb-0",
                                ),
                            ],
                            className="d-flex align-items-center flex-wrap",
                        )
                    ),
                    dbc.CardBody(
                        dcc.Loading(
                            dcc.Graph(
                                id=ids.ACTIVATION_GRAPH,
                                figure=empty_figure("loading…"),
                                config=GRAPH_CONFIG,
                            ),
                            id=ids.LOADING,
                            type="dot",
                            delay_show=150,
                        ),
                        className="p-1",
                    ),
                ],
                className="shadow-sm",
            ),
        ]
    )


def page(workbench: Workbench, model_name: str) -> html.Div:
    """The whole page."""
    return html.Div(
        [
            dbc.Navbar(
                dbc.Container(
                    [
                        dbc.NavbarBrand(
                            [html.I(className="bi bi-layers-half me-2"), "layerviz"],
                            class_name="fw-bold",
                        ),
                        html.Span(
                            "what a pattern looks like in every layer of a Keras model",
                            className="navbar-text text-white-50 small d-none d-md-inline",
                        ),
                    ],
                    fluid=True,
                ),
                color="dark",
                dark=True,
                class_name="mb-3",
            ),
            dbc.Container(
                dbc.Row(
                    [
                        dbc.Col(control_panel(workbench, model_name), lg=3, md=4, className="mb-3"),
                        dbc.Col(results(workbench), lg=9, md=8),
                    ]
                ),
                fluid=True,
            ),
            dcc.Store(id=ids.PATTERN_STORE),
        ]
    )
