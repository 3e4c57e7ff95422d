"""The compare section: pattern B beside A, A | B | B − A per layer, divergence across depth.

With ``compare-switch`` on, the control panel offers pattern B (a perturbation of A, another
seed, a sample or an upload) and the results column shows the divergence graph, both
predictions and a paged grid with a row of three panels per visible layer. Clicking a point of
the divergence graph opens that layer: it turns this grid and the activation grid to the
layer's page, names it in ``ids.SELECTED_LAYER_STORE`` for the inspector and sets the
inspector's ``channel-sort`` to "change (B − A)", the layer's most changed channels first.
The server side is :mod:`layerviz.ui.features.compare_state`; the callbacks here only unpack
and pack.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx, dcc, html, no_update

from layerviz.analysis.perturb import KINDS
from layerviz.draw.figures import empty_figure
from layerviz.patterns.readers import ACCEPTED_EXTENSIONS, MAX_PATTERN_BYTES
from layerviz.ui import ids
from layerviz.ui.blocks import pager as make_pager
from layerviz.ui.blocks import section
from layerviz.ui.common import decode_upload, error_text
from layerviz.ui.features.compare_state import (
    INPUT_HEIGHT,
    CompareView,
    b_store,
    compare_view,
)
from layerviz.ui.features.inspector.views import CHANGE
from layerviz.ui.features.training_run_views import available_runs
from layerviz.ui.recipe import recipe_from_store
from layerviz.ui.wiring import ALERT, PATTERN, PATTERN_IN, SELECT, SELECTED_IN
from layerviz.ui.workbench import Workbench

__all__ = ["TAB", "controls", "panels", "register", "tab"]

GRAPH_CONFIG = {"displaylogo": False}
SOURCE_LABELS = {
    "perturb": "A, perturbed",
    "seed": "a random pattern (seed)",
    "sample": "a bundled sample",
    "upload": "an uploaded file",
    "epoch": "A at epoch k of a training run",
}
#: What the perturbation's values box takes, per kind (``layerviz.analysis.perturb.parse_spec``).
VALUE_HINTS = {
    "noise": "sigma, e.g. 0.1",
    "shift": "dx,dy in pixels, e.g. 2,0",
    "occlude": "x,y,size[,value], e.g. 8,8,6",
    "scale": "factor, e.g. 0.5",
}
_B_INPUTS = (
    ids.COMPARE_SWITCH,
    ids.PATTERN_B_SOURCE,
    ids.PERTURB_SELECT,
    ids.PERTURB_VALUES,
    ids.PATTERN_B_SEED,
    ids.PATTERN_B_SAMPLE,
    ids.PATTERN_B_RUN,
    ids.PATTERN_B_EPOCH,
)


# --- layout --------------------------------------------------------------------------------


TAB = ("Compare", "layout-split")
# Built the first time it is shown (or when a shared link names a pattern B, see
# ``layerviz.ui.workspace``): the inspector, the architecture graph, the links and the export
# read its switch through ``wiring.COMPARED`` (None until the tab is built) and B's store, which
# ``panels`` keeps in the page.


def controls(workbench: Workbench) -> list:
    return []


def tab(workbench: Workbench) -> list:
    """The Compare tab: the switch and pattern B's controls, then the comparison."""
    return [*_controls(available_runs(workbench)), *_panels()]


def panels(workbench: Workbench) -> list:
    """Pattern B's store, always in the page: other tabs read it."""
    return [dcc.Store(id=ids.COMPARE_STORE)]


def _controls(runs: list) -> list:
    """The switch, and pattern B's source (shown while the switch is on); the epoch source only
    when the app offers recorded runs."""
    perturbation = dbc.InputGroup(
        [
            dbc.Select(
                id=ids.PERTURB_SELECT,
                options=[{"label": kind, "value": kind} for kind in KINDS],
                value="noise",
                style={"maxWidth": "7.5rem"},
            ),
            dbc.Input(
                id=ids.PERTURB_VALUES, value="0.1", debounce=True, placeholder=VALUE_HINTS["noise"]
            ),
        ],
        size="sm",
        className="mb-1",
    )
    seed = dbc.InputGroup(
        [
            dbc.InputGroupText("seed"),
            dbc.Input(id=ids.PATTERN_B_SEED, type="number", min=0, step=1, value=0, debounce=True),
        ],
        size="sm",
        className="mb-1",
    )
    upload = dcc.Upload(
        id=ids.PATTERN_B_UPLOAD,
        max_size=MAX_PATTERN_BYTES,
        accept=",".join(ACCEPTED_EXTENSIONS),
        className="upload-zone",
        children=html.Small(["Drop pattern B or ", html.A("choose a file")]),
    )
    sources = [key for key in SOURCE_LABELS if key != "epoch" or runs]
    body = [
        dbc.RadioItems(
            id=ids.PATTERN_B_SOURCE,
            options=[{"label": SOURCE_LABELS[key], "value": key} for key in sources],
            value="perturb",
            className="mb-2",
        ),
        perturbation,
        # A value the perturbation cannot take is marked in the box and said here, at once.
        html.Small(
            id=ids.PERTURB_FEEDBACK,
            className="text-danger d-block",
            **{"aria-live": "polite"},
        ),
        html.Small(
            "noise: sigma · shift: dx,dy · occlude: x,y,size · scale: factor",
            className="text-body-secondary d-block mb-2",
        ),
        seed,
        html.Small(
            "B's random pattern, or the noise's seed", className="text-body-secondary d-block mb-2"
        ),
        dcc.Dropdown(id=ids.PATTERN_B_SAMPLE, placeholder="sample for B", className="mb-2"),
        upload,
        _epoch_controls(runs),
    ]
    switch = dbc.Switch(id=ids.COMPARE_SWITCH, label="compare with a pattern B", value=False)
    collapse = dbc.Collapse(body, id=ids.COMPARE_COLLAPSE, is_open=False, className="mt-2")

    return [section("Pattern B", "layout-split", [switch, collapse], "mb-2")]


def _epoch_controls(runs: list) -> html.Div:
    """B = A as a recorded run saw it after epoch k: the run and k (hidden with no runs)."""
    options = [{"label": f"{p.name} ({p.parent})", "value": str(p)} for p in runs]
    return html.Div(
        [
            dcc.Dropdown(
                id=ids.PATTERN_B_RUN,
                options=options,
                value=options[0]["value"] if options else None,
                placeholder="training run for B",
                clearable=False,
                className="mt-2 mb-1",
            ),
            dbc.InputGroup(
                [
                    dbc.InputGroupText("epoch"),
                    dbc.Input(
                        id=ids.PATTERN_B_EPOCH, type="number", min=0, step=1, value=0,
                        debounce=True,
                    ),
                ],
                size="sm",
            ),
            html.Small(
                "A must be one of the run's probe patterns (e.g. a bundled sample)",
                className="text-body-secondary d-block",
            ),
        ],
        hidden=not runs,
    )  # fmt: skip


def _panels() -> list:
    """The comparison (open while compare mode is on)."""
    pager = make_pager(ids.COMPARE_PAGE)
    export = dbc.Button(
        [html.I(className="bi bi-file-earmark-zip me-1"), "Download A, B, B − A"],
        id=ids.COMPARE_EXPORT_BUTTON,
        color="primary",
        size="sm",
        n_clicks=0,
        className="ms-2",
    )
    predictions = dbc.Row(
        [dbc.Col([_caption("pattern A"), _graph(ids.COMPARE_INPUT_A, INPUT_HEIGHT),
                  _graph(ids.COMPARE_PREDICTION_A, 320)], xs=6),
         dbc.Col([_caption("pattern B"), _graph(ids.COMPARE_INPUT_B, INPUT_HEIGHT),
                  _graph(ids.COMPARE_PREDICTION_B, 320)], xs=6)],
        className="g-2",
    )  # fmt: skip
    body = [
        html.Small(id=ids.COMPARE_SELECTED, className="text-body-secondary d-block px-2"),
        _graph(ids.DIVERGENCE_GRAPH, 260),
        predictions,
        html.Div(
            [
                html.Small(
                    id=ids.COMPARE_SUMMARY, className="text-body-secondary flex-grow-1 px-2"
                ),
                pager,
                export,
            ],
            className="d-flex align-items-center flex-wrap my-2",
        ),
        dcc.Loading(
            dcc.Graph(id=ids.COMPARE_GRAPH, figure=empty_figure(""), config=GRAPH_CONFIG),
            type="dot",
            delay_show=150,
        ),
        dcc.Download(id=ids.COMPARE_DOWNLOAD),
    ]

    return [dbc.Collapse(body, id=ids.COMPARE_PANEL, is_open=False)]


def _caption(text: str) -> html.Small:
    return html.Small(text, className="fw-semibold d-block px-2")


def _graph(graph_id: str, height: int) -> dcc.Graph:
    return dcc.Graph(
        id=graph_id, figure=empty_figure(""), config=GRAPH_CONFIG, style={"height": f"{height}px"}
    )


# --- callbacks -----------------------------------------------------------------------------


def register(app, workbench: Workbench) -> None:
    """Attach the compare section's callbacks to ``app``."""
    view = compare_view(workbench)  # shared with the architecture graph's divergence colours
    _register_toggle(app, workbench)
    _register_choice(app, view)
    _register_render(app, view)
    _register_jump(app, view)
    _register_export(app, view)


def _register_toggle(app, workbench: Workbench) -> None:
    @app.callback(
        Output(ids.COMPARE_COLLAPSE, "is_open"),
        Output(ids.COMPARE_PANEL, "is_open"),
        Input(ids.COMPARE_SWITCH, "value"),
    )
    def _toggle(on):
        return on is True, on is True

    @app.callback(
        Output(ids.PATTERN_B_SAMPLE, "options"),
        Output(ids.PERTURB_VALUES, "placeholder"),
        PATTERN_IN,
        Input(ids.PERTURB_SELECT, "value"),
    )
    def _b_options(a_store, kind):
        hint = VALUE_HINTS.get(kind, "") if isinstance(kind, str) else ""
        try:
            entry = workbench.entry(recipe_from_store(a_store).model)
        except Exception:  # no pattern yet, or a model that failed: no samples to offer
            return [], hint
        return [{"label": s.name, "value": s.name} for s in entry.samples], hint


#: The control a user touched says where B comes from (a seed may be B's or the noise's).
_SOURCE_OF = {
    ids.PERTURB_SELECT: "perturb",
    ids.PERTURB_VALUES: "perturb",
    ids.PATTERN_B_SAMPLE: "sample",
    ids.PATTERN_B_UPLOAD: "upload",
    ids.PATTERN_B_RUN: "epoch",
    ids.PATTERN_B_EPOCH: "epoch",
}


def _register_choice(app, view: CompareView) -> None:
    @app.callback(
        Output(ids.COMPARE_STORE, "data"),
        Output(ids.PATTERN_B_SOURCE, "value"),
        *ALERT,
        Output(ids.PATTERN_B_UPLOAD, "contents"),
        Output(ids.PERTURB_VALUES, "invalid"),
        Output(ids.PERTURB_FEEDBACK, "children"),
        *(Input(component, "value") for component in _B_INPUTS),
        Input(ids.PATTERN_B_UPLOAD, "contents"),
        State(ids.PATTERN_B_UPLOAD, "filename"),
        PATTERN,
        prevent_initial_call=True,
    )
    def _choose(on, source, kind, values, seed, sample, run, epoch, upload, filename, a_store):
        clear = None if upload else no_update
        if on is not True or not a_store:
            return no_update, no_update, no_update, no_update, clear, no_update, no_update
        touched = _SOURCE_OF.get(ctx.triggered_id)
        shown = touched if touched and touched != source else no_update
        source = touched or source
        try:
            controls = dict(
                seed=seed, sample=sample, kind=kind, values=values, run=run, epoch=epoch
            )
            data = _b_data(view, a_store, source, controls, upload, filename)
            if data is None:
                return no_update, shown, no_update, no_update, clear, False, ""
            view.comparison(a_store, data)  # the one batch of two; renders hit the cache
        except Exception as exc:
            if source == "perturb":  # the values box's own mistake: said beside it
                return no_update, shown, no_update, False, clear, True, error_text(exc)
            return no_update, shown, error_text(exc), True, clear, False, ""
        return data, shown, no_update, False, clear, False, ""


def _b_data(view, a_store, source, controls: dict, upload, filename) -> dict | None:
    """B's store form from the controls (``b_store``'s keywords); None when there is nothing
    new to show."""
    if source == "upload":
        if ctx.triggered_id != ids.PATTERN_B_UPLOAD or not upload:
            return None
        name = filename if isinstance(filename, str) and filename else "upload"
        model = recipe_from_store(a_store).model
        recipe = view.workbench.add_upload(model, decode_upload(upload, name), name[:200])
        return {"source": "upload", "digest": recipe.digest, "filename": recipe.filename}
    return b_store(source, **controls)


def _register_render(app, view: CompareView) -> None:
    #: A new A, B or layout starts at page 1; a page click or a layer pick keeps its page.
    repaging = {ids.COMPARE_STORE, ids.PATTERN_STORE, ids.GRID_ROWS, ids.SIZE_LIMIT}

    @app.callback(
        Output(ids.DIVERGENCE_GRAPH, "figure"),
        Output(ids.COMPARE_GRAPH, "figure"),
        Output(ids.COMPARE_PAGE, "max_value"),
        Output(ids.COMPARE_PAGE, "active_page"),
        Output(ids.COMPARE_SUMMARY, "children"),
        Output(ids.COMPARE_PREDICTION_A, "figure"),
        Output(ids.COMPARE_PREDICTION_B, "figure"),
        Output(ids.COMPARE_SELECTED, "children"),
        Output(ids.COMPARE_INPUT_A, "figure"),
        Output(ids.COMPARE_INPUT_B, "figure"),
        Input(ids.COMPARE_STORE, "data"),
        PATTERN_IN,
        Input(ids.GRID_ROWS, "value"),
        Input(ids.SIZE_LIMIT, "value"),
        Input(ids.COMPARE_PAGE, "active_page"),
        SELECTED_IN,
        State(ids.COMPARE_SWITCH, "value"),
        prevent_initial_call=True,
    )
    def _render(b_data, a_store, rows, limit, page, selected, on):
        if on is not True or not b_data or not a_store:
            return (no_update,) * 10
        if ctx.triggered_id in repaging:
            page = 1
        try:
            r = view.render(a_store, b_data, rows, limit, page, selected)
        except Exception as exc:
            blank = empty_figure("")
            return empty_figure(error_text(exc)), blank, 1, 1, "", blank, blank, "", blank, blank
        return (
            r.divergence, r.grid, r.n_pages, r.page, r.summary,
            r.prediction_a, r.prediction_b, r.selected_info, r.input_a, r.input_b,
        )  # fmt: skip


#: Pattern A's recipe, B's store and the grid's rows, columns and size limit, as states.
_A_B_GRID = (
    PATTERN,
    State(ids.COMPARE_STORE, "data"),
    State(ids.GRID_ROWS, "value"),
    State(ids.GRID_COLS, "value"),
    State(ids.SIZE_LIMIT, "value"),
)


def _register_jump(app, view: CompareView) -> None:
    @app.callback(
        SELECT,
        Output(ids.COMPARE_PAGE, "active_page", allow_duplicate=True),
        Output(ids.PAGE_SELECT, "active_page", allow_duplicate=True),
        Output(ids.CHANNEL_SORT, "value", allow_duplicate=True),
        Input(ids.DIVERGENCE_GRAPH, "clickData"),
        *_A_B_GRID,
        prevent_initial_call=True,
    )
    def _jump(click, a_store, b_data, rows, cols, limit):
        try:
            picked, compare_page, grid_page = view.jump(a_store, b_data, click, rows, cols, limit)
        except Exception as exc:
            error_text(exc)
            return no_update, no_update, no_update, no_update
        keep = no_update
        return picked, compare_page or keep, grid_page or keep, CHANGE


def _register_export(app, view: CompareView) -> None:
    @app.callback(
        Output(ids.COMPARE_DOWNLOAD, "data"),
        *ALERT,
        Input(ids.COMPARE_EXPORT_BUTTON, "n_clicks"),
        *_A_B_GRID,
        prevent_initial_call=True,
    )
    def _export(_clicks, a_store, b_data, rows, cols, limit):
        if not a_store or not b_data:
            return no_update, no_update, no_update
        try:
            data = view.zip_bytes(a_store, b_data, rows, cols, limit)
            model = recipe_from_store(a_store).model
        except Exception as exc:
            return no_update, error_text(exc), True
        return dcc.send_bytes(data, f"layerviz-{model}-compare.zip"), no_update, no_update
