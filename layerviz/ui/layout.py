"""The dashboard's page, a workspace: controls on the left, the grid in the centre, details
on the right.

The left panel holds the model, the pattern, the grid and colour controls and the export, and
folds away; the centre shows the input, the prediction and the paged activation grid, and
stays in view; the detail pane (``layerviz.ui.workspace``) holds the feature sections' tabs.
Each column scrolls on its own, so the page itself never does (at 1440×900 the grid's first
row is in view on open). Built from small parts: ``section`` for a group of controls, one
builder per control group.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from layerviz.draw.figures import empty_figure
from layerviz.draw.grid import DEFAULT_GRID, DEFAULT_LIMIT, GRID_SIDES
from layerviz.draw.normalise import ARTICLE_NORM
from layerviz.patterns.inputs import SEED_LIMIT
from layerviz.patterns.readers import ACCEPTED_EXTENSIONS, MAX_PATTERN_BYTES
from layerviz.ui import ids
from layerviz.ui.blocks import card, hint, icon_tag, named, pager, section
from layerviz.ui.common import COLORSCALES, DEFAULT_COLORSCALE, STRIP_HEIGHT
from layerviz.ui.features import FEATURES
from layerviz.ui.workbench import Workbench
from layerviz.ui.workspace import detail_pane

__all__ = ["card", "centre", "control_panel", "page", "pager", "section"]

GRAPH_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}
GRID_MARKS = range(GRID_SIDES[0], GRID_SIDES[1] + 1)
#: The size-limit slider's range (the server accepts more; past 128 little is left to show).
LIMIT_SLIDER = (0, 128)
LIMIT_MARKS = (0, 15, 32, 64, 96, 128)


def _slider(id_: str, bounds: tuple[int, int], value: int, marks, name: str) -> html.Div:
    return named(_dash_slider(id_, bounds, value, marks), name)


def _dash_slider(id_: str, bounds: tuple[int, int], value: int, marks) -> dcc.Slider:
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


# --- the control panel ---------------------------------------------------------------------


def _model_section(workbench: Workbench, model_name: str) -> html.Div:
    options = [{"label": workbench.entry_title(n), "value": n} for n in workbench.model_names]
    return section(
        "Model",
        "diagram-3",
        [
            named(
                dcc.Dropdown(
                    id=ids.MODEL_SELECT, options=options, value=model_name, clearable=False
                ),
                "model",
            ),
            # A live region: "opening …" while a model loads, then its description.
            html.Small(
                id=ids.MODEL_INFO,
                className="text-body-secondary d-block mt-1",
                role="status",
                **{"aria-live": "polite"},
            ),
        ],
    )


def _upload_zone() -> html.Div:
    mb = MAX_PATTERN_BYTES // 2**20
    # data-max-bytes feeds assets/upload-guard.js, which reports a file over the limit
    # (dcc.Upload drops those silently).
    return html.Div(
        named(
            dcc.Upload(
                id=ids.PATTERN_UPLOAD,
                max_size=MAX_PATTERN_BYTES,
                accept=",".join(ACCEPTED_EXTENSIONS),
                className="upload-zone",
                className_active="upload-zone active",
                children=html.Div(
                    [
                        html.I(className="bi bi-cloud-arrow-up fs-4 d-block"),
                        html.Span("Drop a pattern or "),
                        html.A("choose a file", className="link-primary"),
                        hint(f"{' '.join(ACCEPTED_EXTENSIONS)} — up to {mb} MB"),
                    ]
                ),
            ),
            "pattern file",
        ),
        className="mb-2",
        **{"data-max-bytes": str(MAX_PATTERN_BYTES)},
    )


def _seed_group() -> dbc.InputGroup:
    return dbc.InputGroup(
        [
            html.Label("seed", htmlFor=ids.SEED_INPUT, className="input-group-text"),
            dbc.Input(
                id=ids.SEED_INPUT,
                type="number",
                min=0,
                max=SEED_LIMIT - 1,
                step=1,
                placeholder="0",
                debounce=True,
            ),
            dbc.Button(
                [icon_tag("shuffle"), "New random"],
                id=ids.SEED_BUTTON,
                title="a new random pattern (the next seed)",
                color="secondary",
                outline=True,
                n_clicks=0,
            ),
        ],
        size="sm",
    )


def _pattern_section() -> html.Div:
    samples = named(
        dcc.Dropdown(
            id=ids.SAMPLE_SELECT,
            placeholder="bundled sample patterns",
            clearable=False,
            className="mb-2",
        ),
        "sample pattern",
    )
    return section("Pattern", "image", [samples, _upload_zone(), _seed_group(), _input_sources()])


def _input_sources() -> html.Div:
    """One source per input, for a model with several (hidden otherwise; the pattern view's
    ``"inputs"`` shows and names the rows, see ``callbacks.input_rows``)."""
    note = hint("Per input: a sample above feeds every input; change one input here.")
    rows = [_input_row(i) for i in range(ids.MAX_INPUT_ROWS)]
    return html.Div([note, *rows], id=ids.INPUT_SOURCES, className="mt-2", hidden=True)


def _input_row(index: int) -> html.Div:
    """Row ``index``: the input's name and shape, its source now, a seed and an upload."""
    mb = MAX_PATTERN_BYTES // 2**20
    label_id = ids.INPUT_LABELS[index]
    title = html.Div(
        [
            html.Span(id=label_id, className="fw-semibold small"),
            html.Small(id=ids.INPUT_NOW[index], className="text-body-secondary ms-2"),
        ]
    )
    seed = dbc.InputGroup(
        [
            html.Label("seed", htmlFor=ids.INPUT_SEEDS[index], className="input-group-text"),
            dbc.Input(
                id=ids.INPUT_SEEDS[index],
                type="number",
                min=0,
                max=SEED_LIMIT - 1,
                step=1,
                placeholder="e.g. 7",
                debounce=True,
            ),
        ],
        size="sm",
        className="mb-1",
    )
    upload = html.Div(
        named(
            dcc.Upload(
                id=ids.INPUT_UPLOADS[index],
                max_size=MAX_PATTERN_BYTES,
                accept=",".join(ACCEPTED_EXTENSIONS),
                className="upload-zone input-source-upload py-1",
                className_active="upload-zone input-source-upload py-1 active",
                children=html.Small(
                    [
                        html.A("choose a file", className="link-primary"),
                        f" for this input ({mb} MB)",
                    ]
                ),
            ),
            f"pattern file for input {index + 1}",
        ),
        **{"data-max-bytes": str(MAX_PATTERN_BYTES)},
    )
    return html.Div(
        [title, seed, upload],
        id=ids.INPUT_ROWS[index],
        className="border-top pt-2 mt-2",
        hidden=True,
    )


def _grid_section() -> html.Div:
    return section(
        "Grid",
        "grid-3x3",
        [
            hint("rows"),
            _slider(ids.GRID_ROWS, GRID_SIDES, DEFAULT_GRID[0], GRID_MARKS, "grid rows"),
            hint("columns"),
            _slider(ids.GRID_COLS, GRID_SIDES, DEFAULT_GRID[1], GRID_MARKS, "grid columns"),
            hint("size limit: show a layer when its maps are larger than N×N"),
            _slider(ids.SIZE_LIMIT, LIMIT_SLIDER, DEFAULT_LIMIT, LIMIT_MARKS, "size limit"),
        ],
    )


_NORM_LABEL = "label-norm-mode"
#: norm-mode's choices as the grid reads them (layerviz.draw.normalise).
GRID_NORM_LABELS = {
    "map": "per map (each channel its own)",
    "layer": "per layer",
    "page": "per page (one for all)",
}


def _display_section() -> html.Div:
    return section(
        "Display",
        "palette",
        [
            named(
                dcc.Dropdown(
                    id=ids.COLORSCALE_SELECT,
                    options=list(COLORSCALES),
                    value=DEFAULT_COLORSCALE,
                    clearable=False,
                    className="mb-2",
                ),
                "colour scale",
            ),
            html.Small("colour range", id=_NORM_LABEL, className="text-body-secondary d-block"),
            # The one norm-mode control: the grid's colours, the inspector's channels and,
            # when asked for, the exported PNGs all follow it.
            html.Div(
                dbc.RadioItems(
                    id=ids.NORM_MODE,
                    options=[
                        {"label": text, "value": key} for key, text in GRID_NORM_LABELS.items()
                    ],
                    value=ARTICLE_NORM,
                    inline=True,
                ),
                role="radiogroup",
                **{"aria-labelledby": _NORM_LABEL},
            ),
        ],
    )


def _export_button(text: str, icon: str, id_: str, outline: bool) -> dbc.Button:
    return dbc.Button(
        [icon_tag(icon), text],
        id=id_,
        color="primary",
        outline=outline,
        n_clicks=0,
    )


def _export_section() -> html.Div:
    buttons = dbc.ButtonGroup(
        [
            _export_button("Download PNGs", "file-earmark-zip", ids.EXPORT_BUTTON, False),
            _export_button(
                "Download this page", "file-earmark-image", ids.PAGE_EXPORT_BUTTON, True
            ),
        ],
        size="sm",
        className="w-100",
    )
    switch = dbc.Switch(
        id=ids.PLOT_MODEL_SWITCH, label="include the architecture (model.png)", value=False
    )
    norm = dbc.Switch(
        id=ids.EXPORT_NORM_SWITCH,
        label="use the colour range shown (off: each panel its own, as the article)",
        value=False,
    )
    return section(
        "Export", "download", [switch, norm, buttons, dcc.Download(id=ids.EXPORT_DOWNLOAD)], ""
    )


def control_panel(workbench: Workbench, model_name: str) -> html.Aside:
    """The left column: model, pattern, grid, display and export controls, then features'
    (the model upload, the zip's progress); it folds away (``ids.CONTROLS_TOGGLE``)."""
    sections = [
        _model_section(workbench, model_name),
        _pattern_section(),
        _grid_section(),
        _display_section(),
        _export_section(),
    ]
    # A feature that extends the Export section (the zip's progress and cancel) sits under it.
    under_export = [f for f in FEATURES if getattr(f, "CONTROLS_UNDER", None) == "export"]
    for feature in under_export + [f for f in FEATURES if f not in under_export]:
        sections.extend(feature.controls(workbench))
    return html.Aside(
        dbc.Card(dbc.CardBody(sections, className="p-2"), className="shadow-sm"),
        id=ids.CONTROLS_PANEL,
        className="controls-panel",
        **{"aria-label": "controls"},
    )


# --- the centre ------------------------------------------------------------------------------


def _strip_graph(graph_id: str) -> dcc.Graph:
    """A small figure of the strip above the grid (the input, the prediction)."""
    return dcc.Graph(
        id=graph_id,
        figure=empty_figure("", height=STRIP_HEIGHT),
        config=GRAPH_CONFIG | {"displayModeBar": False},
        style={"height": f"{STRIP_HEIGHT}px"},
    )


def _strip() -> dbc.Row:
    """The input pattern and the prediction, side by side and short, above the grid."""
    pattern_info = html.Small(id=ids.PATTERN_INFO, className="text-body-secondary text-truncate")
    pattern = html.Div(
        [
            html.Div([icon_tag("image"), "Input ", pattern_info], className="strip-title"),
            _strip_graph(ids.PATTERN_GRAPH),
        ],
        className="strip-cell",
    )
    prediction = html.Div(
        [
            html.Div(
                [icon_tag("bar-chart"), "Prediction ", _hint_span("click a class to explain it")],
                className="strip-title",
            ),
            _strip_graph(ids.PREDICTION_GRAPH),
        ],
        className="strip-cell",
    )
    return dbc.Row([dbc.Col(pattern, xs=5), dbc.Col(prediction, xs=7)], className="g-2 mb-2 strip")


def _hint_span(text: str) -> html.Small:
    """A grey inline hint."""
    return html.Small(text, className="text-body-secondary fw-normal ms-1")


def _grid_header() -> html.Div:
    return html.Div(
        [
            html.H2([icon_tag("layers"), "Layer outputs"], className="fs-6 fw-semibold m-0"),
            html.Small(id=ids.GRID_SUMMARY, className="text-body-secondary mx-2 flex-grow-1"),
            pager(ids.PAGE_SELECT),
        ],
        className="d-flex align-items-center flex-wrap",
    )


def _grid_card() -> dbc.Card:
    # The spinner overlays the old grid (dimmed) instead of hiding it: nothing to re-lay out
    # when the new one comes, and the page does not blink on a fast update.
    graph = dcc.Loading(
        dcc.Graph(
            id=ids.ACTIVATION_GRAPH,
            figure=empty_figure("loading…"),
            config=GRAPH_CONFIG,
            clear_on_unhover=True,
        ),
        id=ids.LOADING,
        type="dot",
        delay_show=300,
        show_initially=False,
        overlay_style={"visibility": "visible", "opacity": 0.6},
    )
    # Hover's label: the exact value under the pointer, asked of the server (the tiles are
    # images, coloured there).
    tooltip = dcc.Tooltip(id=ids.GRID_TOOLTIP, direction="bottom")
    body = html.Div([graph, tooltip], style={"position": "relative"})
    return dbc.Card(
        [dbc.CardHeader(_grid_header()), dbc.CardBody(body, className="p-1")],
        className="shadow-sm",
    )


def centre(workbench: Workbench) -> html.Section:
    """The centre column: the alert, the input and prediction strip, the paged grid."""
    alert = dbc.Alert(
        id=ids.ERROR_ALERT, color="danger", dismissable=True, is_open=False, className="mb-2"
    )
    return html.Section(
        [alert, _strip(), _grid_card()],
        className="centre",
        **{"aria-label": "layer outputs"},
    )


def _navbar() -> dbc.Navbar:
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand(
                    html.H1(
                        [
                            html.I(className="bi bi-layers-half me-2", **{"aria-hidden": "true"}),
                            "layerviz",
                        ],
                        className="h5 m-0 fw-bold",
                    ),
                    class_name="fw-bold",
                ),
                html.Span(
                    "what a pattern looks like in every layer of a Keras model",
                    className="navbar-text text-white-50 small d-none d-lg-inline me-auto",
                ),
                html.Button(
                    [icon_tag("layout-sidebar"), "Controls"],
                    id=ids.CONTROLS_TOGGLE,
                    className="btn btn-sm btn-outline-light",
                    n_clicks=0,
                    **{"aria-controls": ids.CONTROLS_PANEL, "aria-expanded": "true"},
                ),
            ],
            fluid=True,
        ),
        color="dark",
        dark=True,
        class_name="py-1",
    )


def page(workbench: Workbench, model_name: str) -> html.Div:
    """The whole page: the banner, then the workspace's three columns, then the stores."""
    always = [part for feature in FEATURES for part in feature.panels(workbench)]
    # Landmarks: the banner (header) and everything else in main, for screen readers.
    return html.Div(
        [
            html.Header(_navbar()),
            html.Main(
                [control_panel(workbench, model_name), centre(workbench), detail_pane(workbench)],
                className="workspace",
            ),
            *always,
            dcc.Store(id=ids.PATTERN_STORE),
            dcc.Store(id=ids.PATTERN_VIEW_STORE),
            dcc.Store(id=ids.SELECTED_LAYER_STORE),
        ]
    )
