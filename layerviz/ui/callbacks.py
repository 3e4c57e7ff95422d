"""The dashboard's callbacks: parse what the browser sent, call the core, return figures.

Each callback is a thin wrapper over a plain function of this module (``choose_pattern``,
``render_pattern``, ``render_grid``, ``export_files``) that takes the ``Workbench`` and plain
values, so tests can call them without a server or a browser.
"""

from __future__ import annotations

import base64
import binascii
import io
import logging
import zipfile
from dataclasses import dataclass

from dash import Input, Output, State, ctx, dcc, no_update

from layerviz.errors import LayervizError, PatternError
from layerviz.export import architecture_png, page_png
from layerviz.figures import activation_grid, empty_figure, pattern_figure, prediction_bar
from layerviz.patterns import SEED_LIMIT, check_seed
from layerviz.readers import check_file_size
from layerviz.selection import paginate, visible_layers
from layerviz.ui import ids
from layerviz.ui.bounds import DEFAULT_GRID, DEFAULT_LIMIT, GRID_SIDES, SIZE_LIMITS, clamp
from layerviz.ui.workbench import Workbench

log = logging.getLogger("layerviz.ui")

__all__ = [
    "choose_pattern",
    "decode_upload",
    "export_files",
    "register_callbacks",
    "render_grid",
    "render_pattern",
]


def _error_text(exc: Exception) -> str:
    """What a user sees: our own errors verbatim, anything else without internals."""
    if isinstance(exc, LayervizError):
        return str(exc)
    log.exception("unexpected error in a dashboard callback")
    return f"Something went wrong ({type(exc).__name__}); the details are in the server log."


def decode_upload(contents: str, filename: str) -> bytes:
    """Decode a ``dcc.Upload`` data URL, refusing oversized ones before decoding.

    Raises:
        PatternError: not a base64 data URL, or over ``MAX_PATTERN_BYTES``.
    """
    _, sep, b64 = contents.partition(";base64,")
    if not sep:
        raise PatternError(f"{filename}: the upload did not arrive as a base64 data URL")
    check_file_size(len(b64) * 3 // 4, filename)  # before decoding
    try:
        return base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise PatternError(f"{filename}: the upload is not valid base64 ({exc})") from exc


@dataclass
class PatternChoice:
    """What ``choose_pattern`` decided: the outputs of the pattern callback."""

    recipe: dict | object = no_update
    sample_options: list | object = no_update
    sample_value: str | object | None = no_update
    seed: int | object | None = no_update
    model_info: str | object = no_update
    error: str | None = None


def choose_pattern(
    workbench: Workbench,
    trigger: str | None,
    model: str,
    sample: str | None = None,
    seed: int | None = None,
    upload: str | None = None,
    filename: str | None = None,
) -> PatternChoice:
    """Decide the pattern from what the user just did, and run it through the model once.

    ``trigger`` is the id of the control that changed (None on page load). On failure the
    previous pattern stays (the recipe is ``no_update``) and ``error`` says why.
    """
    choice = PatternChoice()
    try:
        if trigger in (None, ids.MODEL_SELECT):
            entry = workbench.entry(model)
            recipe = workbench.default_recipe(model)
            choice.sample_options = [
                {
                    "label": f"{s.name} — {s.description}" if s.description else s.name,
                    "value": s.name,
                }
                for s in entry.samples
            ]
            choice.sample_value = recipe.get("sample")
            shape = "×".join(map(str, workbench.input_shape(model)))
            choice.model_info = f"input {shape} · {entry.description}".rstrip(" ·")
        elif trigger == ids.SAMPLE_SELECT:
            if not sample:
                return choice
            recipe = {"model": model, "kind": "sample", "sample": sample}
        elif trigger == ids.SEED_BUTTON:
            seed = 0 if seed is None else (check_seed(seed) + 1) % SEED_LIMIT
            choice.seed = seed
            recipe = {"model": model, "kind": "seed", "seed": seed}
        elif trigger == ids.SEED_INPUT:
            if seed is None:
                return choice
            recipe = {"model": model, "kind": "seed", "seed": seed}
        elif trigger == ids.PATTERN_UPLOAD:
            if not upload:
                return choice
            name = filename or "upload"
            recipe = workbench.add_upload(model, decode_upload(upload, name), name)
        else:
            return choice
        workbench.extraction(recipe)  # the one forward pass; later renders hit the cache
    except Exception as exc:
        return PatternChoice(error=_error_text(exc))
    choice.recipe = recipe
    if recipe["kind"] != "sample" and trigger != ids.MODEL_SELECT:
        choice.sample_value = None
    return choice


def render_pattern(workbench: Workbench, recipe: dict):
    """The input-pattern figure, the prediction figure and the pattern's label."""
    pattern, extraction, _ = workbench.extraction(recipe)
    entry = workbench.entry(recipe["model"])
    output = extraction.outputs[0]
    return (
        pattern_figure(pattern[0]),
        prediction_bar(output, entry.class_names),
        workbench.describe(recipe),
    )


def _settings(rows, cols, limit) -> tuple[int, int, int]:
    """Grid rows, columns and size limit from a request, clamped to what the controls allow."""
    return (
        clamp(rows, GRID_SIDES, DEFAULT_GRID[0]),
        clamp(cols, GRID_SIDES, DEFAULT_GRID[1]),
        clamp(limit, SIZE_LIMITS, DEFAULT_LIMIT),
    )


def render_grid(
    workbench: Workbench,
    recipe: dict,
    rows: int,
    cols: int,
    limit: int,
    page: int | None,
    colorscale: str = "Viridis",
    shared_colorbar: bool = False,
):
    """The activation grid for one page, the page count, the page shown, and a summary line."""
    _, extraction, _ = workbench.extraction(recipe)
    rows, cols, limit = _settings(rows, cols, limit)
    layers = visible_layers(extraction.activations, (limit, limit))
    pages = paginate(layers, (rows, cols))
    n_pages = max(1, len(pages))
    page = clamp(page, (1, n_pages), 1)
    total = len(extraction.activations)
    if not layers:
        message = f"no layer output is larger than {limit}×{limit} — lower the size limit"
        return empty_figure(message), 1, 1, f"0 of {total} layers shown"
    shown = pages[page - 1]
    # On screen, a short last page drops its empty rows (the PNG export keeps the full grid).
    figure = activation_grid(
        shown,
        (-(-len(shown) // cols), cols),
        colorscale=colorscale,
        shared_colorbar=bool(shared_colorbar),
    )
    summary = (
        f"{len(layers)} of {total} layers larger than {limit}×{limit} · page {page} of {n_pages}"
    )
    return figure, n_pages, page, summary


def export_files(
    workbench: Workbench,
    recipe: dict,
    rows: int,
    cols: int,
    limit: int,
    page: int | None = None,
    plot_model: bool = False,
) -> tuple[str, bytes]:
    """The download: a zip of every page (``page=None``), or one page's PNG.

    Same bytes as ``plot_pattern_process`` writes for the same model, pattern and settings.
    """
    _, extraction, _ = workbench.extraction(recipe)
    rows, cols, limit = _settings(rows, cols, limit)
    grid = (rows, cols)
    pages = paginate(visible_layers(extraction.activations, (limit, limit)), grid)
    stem = f"layerviz-{recipe['model']}"
    if not pages:
        raise PatternError(
            f"there is nothing to download: no layer output is larger than {limit}×{limit}"
        )
    if page is not None:
        # Named like its entry in the zip (0.png is page 1), as plot_pattern_process names it.
        number = clamp(page, (1, len(pages)), 1) - 1
        return f"{stem}-{number}.png", page_png(pages[number], grid)
    buffer = io.BytesIO()
    # PNGs are compressed already: store them.
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for number, layers in enumerate(pages):
            archive.writestr(_zip_entry(f"{number}.png"), page_png(layers, grid))
        if plot_model:
            model = workbench.entry(recipe["model"]).model
            archive.writestr(_zip_entry("model.png"), architecture_png(model))
    return f"{stem}.zip", buffer.getvalue()


def _zip_entry(name: str) -> zipfile.ZipInfo:
    """A zip entry with a fixed timestamp, so the same export is the same bytes."""
    return zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))


#: Controls whose change re-pages the grid (the pager and the colour controls do not).
_REPAGING = {ids.PATTERN_STORE, ids.GRID_ROWS, ids.GRID_COLS, ids.SIZE_LIMIT, None}


def register_callbacks(app, workbench: Workbench) -> None:
    """Attach the callbacks to ``app`` (never the global ``dash.callback``)."""

    @app.callback(
        Output(ids.PATTERN_STORE, "data"),
        Output(ids.SAMPLE_SELECT, "options"),
        Output(ids.SAMPLE_SELECT, "value"),
        Output(ids.SEED_INPUT, "value"),
        Output(ids.MODEL_INFO, "children"),
        Output(ids.ERROR_ALERT, "children"),
        Output(ids.ERROR_ALERT, "is_open"),
        Output(ids.PATTERN_UPLOAD, "contents"),
        Input(ids.MODEL_SELECT, "value"),
        Input(ids.SAMPLE_SELECT, "value"),
        Input(ids.SEED_BUTTON, "n_clicks"),
        Input(ids.SEED_INPUT, "value"),
        Input(ids.PATTERN_UPLOAD, "contents"),
        State(ids.PATTERN_UPLOAD, "filename"),
    )
    def _choose(model, sample, _clicks, seed, upload, filename):
        choice = choose_pattern(workbench, ctx.triggered_id, model, sample, seed, upload, filename)
        return (
            choice.recipe,
            choice.sample_options,
            choice.sample_value,
            choice.seed,
            choice.model_info,
            choice.error,
            choice.error is not None,
            None if upload else no_update,
        )

    @app.callback(
        Output(ids.PATTERN_GRAPH, "figure"),
        Output(ids.PREDICTION_GRAPH, "figure"),
        Output(ids.PATTERN_INFO, "children"),
        Input(ids.PATTERN_STORE, "data"),
        prevent_initial_call=True,
    )
    def _pattern(recipe):
        try:
            return render_pattern(workbench, recipe)
        except Exception as exc:
            message = _error_text(exc)
            return empty_figure(message), empty_figure(""), ""

    @app.callback(
        Output(ids.ACTIVATION_GRAPH, "figure"),
        Output(ids.PAGE_SELECT, "max_value"),
        Output(ids.PAGE_SELECT, "active_page"),
        Output(ids.GRID_SUMMARY, "children"),
        Input(ids.PATTERN_STORE, "data"),
        Input(ids.GRID_ROWS, "value"),
        Input(ids.GRID_COLS, "value"),
        Input(ids.SIZE_LIMIT, "value"),
        Input(ids.PAGE_SELECT, "active_page"),
        Input(ids.COLORSCALE_SELECT, "value"),
        Input(ids.COLORBAR_SWITCH, "value"),
        prevent_initial_call=True,
    )
    def _grid(recipe, rows, cols, limit, page, colorscale, shared):
        if not recipe:
            return no_update, no_update, no_update, no_update
        # A new pattern or a new layout starts at page 1; colours keep the page.
        if ctx.triggered_id in _REPAGING:
            page = 1
        try:
            return render_grid(workbench, recipe, rows, cols, limit, page, colorscale, shared)
        except Exception as exc:
            return empty_figure(_error_text(exc)), 1, 1, ""

    @app.callback(
        Output(ids.EXPORT_DOWNLOAD, "data"),
        Output(ids.ERROR_ALERT, "children", allow_duplicate=True),
        Output(ids.ERROR_ALERT, "is_open", allow_duplicate=True),
        Input(ids.EXPORT_BUTTON, "n_clicks"),
        Input(ids.PAGE_EXPORT_BUTTON, "n_clicks"),
        State(ids.PATTERN_STORE, "data"),
        State(ids.GRID_ROWS, "value"),
        State(ids.GRID_COLS, "value"),
        State(ids.SIZE_LIMIT, "value"),
        State(ids.PAGE_SELECT, "active_page"),
        State(ids.PLOT_MODEL_SWITCH, "value"),
        prevent_initial_call=True,
    )
    def _export(_all, _page, recipe, rows, cols, limit, page, plot_model):
        if not recipe:
            return no_update, no_update, no_update
        one_page = page if ctx.triggered_id == ids.PAGE_EXPORT_BUTTON else None
        try:
            name, data = export_files(workbench, recipe, rows, cols, limit, one_page, plot_model)
        except Exception as exc:
            return no_update, _error_text(exc), True
        return dcc.send_bytes(data, name), no_update, no_update
