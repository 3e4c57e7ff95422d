"""The dashboard's core callbacks: parse what the browser sent, call the core, return figures.

Each callback is a thin wrapper over a plain function of this module (``update_page``, built
from ``choose_pattern``, ``render_pattern`` and ``render_grid``; ``export_files``) that takes the
``Workbench`` and plain values, so tests can call them without a server or a browser. A new
pattern reaches the screen in one round trip: the callback that runs the forward pass also
returns the pattern, the prediction and the grid drawn from it (and still writes the pattern
store, which feature sections read). The per-input rows of a model with several inputs are
``layerviz.ui.input_sources``'s. Feature sections register their own callbacks
(``layerviz.ui.features``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace
from typing import Any

import keras
from dash import Input, Output, State, ctx, dcc, no_update

from layerviz.draw.export import architecture_png, page_png, streamed_pages_png, zip_of
from layerviz.draw.figures import empty_figure, pattern_figure, prediction_bar
from layerviz.draw.grid import GridPages, grid_pages, rows_needed
from layerviz.draw.normalise import ARTICLE_NORM, NORM_MODES
from layerviz.draw.pattern_figures import input_patterns_figure
from layerviz.draw.selection import VisibleLayer
from layerviz.draw.tile_figures import tile_grid
from layerviz.draw.tiles import point_text, shown_point, tile_step
from layerviz.errors import PatternError
from layerviz.extract.reduce import DISPLAY_SIDE
from layerviz.patterns.inputs import SEED_LIMIT, check_seed
from layerviz.ui import ids
from layerviz.ui.common import (
    colorscale_of,
    current_reduced,
    decode_upload,
    error_text,
    fit_strip,
    grid_settings,
)
from layerviz.ui.input_sources import (
    ROW_INPUTS,
    ROW_OUTPUTS,
    ROW_STATES,
    InputControls,
    input_recipe,
    input_rows,
    register_input_rows,
    row_of,
    row_outputs,
)
from layerviz.ui.recipe import MultiRecipe, Recipe, SampleRecipe, SeedRecipe
from layerviz.ui.wiring import ALERT, GRID_STATES, PATTERN
from layerviz.ui.workbench import Workbench

__all__ = [
    "PAGE_OUTPUTS",
    "PageControls",
    "PatternChoice",
    "choose_pattern",
    "decode_upload",
    "export_files",
    "export_norm",
    "hover_label",
    "main_trigger",
    "norm_of",
    "register_callbacks",
    "render_grid",
    "render_pattern",
    "update_page",
]


@dataclass
class PatternChoice:
    """What ``choose_pattern`` decided: the outputs of the pattern callback."""

    recipe: dict | object = no_update
    sample_options: list | object = no_update
    sample_value: str | object | None = no_update
    seed: int | object | None = no_update
    model_info: str | object = no_update
    error: str | None = None
    #: The per-input seed boxes (``ids.INPUT_SEEDS``): cleared when a whole pattern is chosen.
    input_seeds: tuple | object = no_update


def choose_pattern(
    workbench: Workbench,
    trigger: str | None,
    model: Any,
    sample: Any = None,
    seed: Any = None,
    upload: Any = None,
    filename: Any = None,
    inputs: InputControls | None = None,
) -> PatternChoice:
    """Decide the pattern from what the user just did, and run it through the model once.

    ``trigger`` is the id of the control that changed (None on page load); a per-input row's
    control (``ids.INPUT_SEEDS``, ``ids.INPUT_UPLOADS``) changes that input of
    ``inputs.current`` alone. On failure the previous pattern stays (the recipe is
    ``no_update``) and ``error`` says why.
    """
    choice = PatternChoice()
    try:
        if row_of(trigger) is not None:
            rows = inputs or InputControls()
            recipe, choice.input_seeds = input_recipe(workbench, trigger, model, rows)
        else:
            recipe = _recipe_for(workbench, choice, trigger, model, sample, seed, upload, filename)
        if recipe is None:
            return choice
        run = workbench.reduced(recipe)  # the one (reduced) pass; later renders hit the cache
        if isinstance(choice.model_info, str):
            choice.model_info += " · " + cost_text(workbench.entry(recipe.model).extractor, run)
    except Exception as exc:
        return PatternChoice(error=error_text(exc))
    choice.recipe = recipe.to_store()
    if not isinstance(recipe, SampleRecipe) and trigger != ids.MODEL_SELECT:
        choice.sample_value = None
    if not isinstance(recipe, MultiRecipe):
        choice.input_seeds = (None,) * ids.MAX_INPUT_ROWS  # no row's seed names an input now
    return choice


def cost_text(extractor, run) -> str:
    """What one pattern costs: its activations at full resolution, and what the dashboard
    keeps of them (display maps and per-channel numbers)."""
    full, kept = extractor.activation_bytes, run.reduced.nbytes
    return f"one pattern: {_size(full)} of activations, {_size(kept)} kept for the views"


def _size(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def _recipe_for(workbench, choice, trigger, model, sample, seed, upload, filename) -> Recipe | None:
    """The recipe the trigger asks for, or None when it asks for nothing."""
    if trigger in (None, ids.MODEL_SELECT):
        return _open_model(workbench, choice, model)
    workbench.entry_title(model)  # an unknown model is an error before anything else
    if trigger == ids.SAMPLE_SELECT:
        return SampleRecipe(model, sample) if isinstance(sample, str) and sample else None
    if trigger == ids.SEED_BUTTON:
        choice.seed = 0 if seed is None else (check_seed(seed) + 1) % SEED_LIMIT
        return SeedRecipe(model, choice.seed)
    if trigger == ids.SEED_INPUT:
        return None if seed is None else SeedRecipe(model, check_seed(seed))
    if trigger == ids.PATTERN_UPLOAD:
        if not upload:
            return None
        name = filename if isinstance(filename, str) and filename else "upload"
        return workbench.add_upload(model, decode_upload(upload, name), name[:200])
    return None


def _open_model(workbench: Workbench, choice: PatternChoice, model: Any) -> Recipe:
    """A model was chosen (or the page loaded): its samples, its description, its default."""
    entry = workbench.entry(model)
    recipe = workbench.default_recipe(model)
    choice.sample_options = [
        {"label": f"{s.name} — {s.description}" if s.description else s.name, "value": s.name}
        for s in entry.samples
    ]
    choice.sample_value = recipe.sample if isinstance(recipe, SampleRecipe) else None
    inputs = "inputs" if len(entry.extractor.input_shapes) > 1 else "input"
    kind = " integer ids" if workbench.input_dtype(model).kind == "i" else ""
    parts = [f"{inputs} {workbench.input_text(model)}{kind}", entry.description, backend_text()]
    choice.model_info = " · ".join(part for part in parts if part)
    return recipe


#: How the model line names the backend Keras runs on.
BACKEND_NAMES = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}


def backend_text() -> str:
    """``"Keras on JAX"``: which backend the models run on (``keras.backend.backend()``)."""
    name = keras.backend.backend()
    return f"Keras on {BACKEND_NAMES.get(name, name)}"


def render_pattern(workbench: Workbench, store_data: Any):
    """The input-pattern figure (every input of a model with several), the prediction figure
    and the pattern's label."""
    recipe, run = current_reduced(workbench, store_data)
    entry = workbench.entry(recipe.model)
    if isinstance(run.pattern, tuple):
        names = entry.extractor.input_names
        figure = input_patterns_figure([part[0] for part in run.pattern], names)
    else:
        figure = pattern_figure(run.pattern[0])
    return (
        fit_strip(figure),
        fit_strip(prediction_bar(run.outputs[0], entry.class_names)),
        workbench.describe(recipe),
    )


def render_grid(
    workbench: Workbench,
    store_data: Any,
    rows: Any,
    cols: Any,
    limit: Any,
    page: Any,
    colorscale: Any = "Viridis",
    norm: Any = ARTICLE_NORM,
):
    """The activation grid for one page, the page count, the page shown, and a summary line.

    ``norm`` is the colour ranges' mode (``ids.NORM_MODE``: per map, layer or page; anything
    else is the default, per layer).
    """
    _, run = current_reduced(workbench, store_data)
    pages = grid_pages(run.activations, grid_settings(rows, cols, limit))
    if not pages.layers:
        message = (
            f"no layer output is larger than {pages.settings.limit_text} — lower the size limit"
        )
        return empty_figure(message), 1, 1, f"0 of {pages.total} layers shown"
    number = pages.page_number(page)
    shown = pages.page(number)
    # On screen, a short last page drops its empty rows (the PNG export keeps the full grid).
    figure = tile_grid(
        shown,
        (rows_needed(len(shown), pages.settings.cols), pages.settings.cols),
        colorscale=colorscale_of(colorscale),
        norm=norm_of(norm),
        max_panel_pixels=MAX_TILE_PIXELS,
    )
    return figure, pages.n_pages, number, pages.summary(number)


#: Panels larger than this on a side keep every f-th pixel of each map. A panel gets at most
#: ~240 CSS pixels a side on screen (300 px a row, less its title), so 320 still gives every
#: screen pixel its own image pixel. Measured on MobileNetV2 (bench/browser.py, back to back,
#: load 3-4): 480 took seed → heatmaps 468 ms and a page turn 232 ms, 320 took 307 and 156;
#: the full montages of its first page (4.4 M pixels, 3 MB of PNG) cost ~130 ms to encode
#: alone. Hover reads the exact value at full resolution whatever is sent. The reduced pass
#: keeps the same pixels inside the model (``extract.reduce.DISPLAY_SIDE``).
MAX_TILE_PIXELS = DISPLAY_SIDE


def norm_of(value: Any) -> str:
    """``value`` when it is a normalisation mode, else the grid's default (per layer)."""
    return value if isinstance(value, str) and value in NORM_MODES else ARTICLE_NORM


def export_norm(apply: Any, norm: Any) -> str | None:
    """The export's normalisation: the screen's when ``apply is True``, else None (the
    article's per-panel ``imshow``, byte for byte)."""
    return norm_of(norm) if apply is True else None


def export_files(
    workbench: Workbench,
    store_data: Any,
    rows: Any,
    cols: Any,
    limit: Any,
    page: Any = None,
    plot_model: Any = False,
    norm: str | None = None,
) -> tuple[str, bytes]:
    """The download: a zip of every page (``page=None``), or one page's PNG.

    Same bytes as ``plot_pattern_process`` writes for the same model, pattern and settings;
    with ``norm`` (see ``export_norm``) drawn under that normalisation instead.
    """
    recipe, run = current_reduced(workbench, store_data)
    pages = grid_pages(run.activations, grid_settings(rows, cols, limit))
    stem = f"layerviz-{recipe.model}"
    if not pages.pages:
        raise PatternError(
            "there is nothing to download: no layer output is larger than "
            f"{pages.settings.limit_text}"
        )
    if page is not None:
        # Named like its entry in the zip (0.png is page 1), as plot_pattern_process names it.
        number = pages.page_number(page)
        full = full_page(workbench, recipe, pages.page(number))
        png = page_png(full, pages.settings.grid, norm=norm)
        return f"{stem}-{number - 1}.png", png
    model = workbench.entry(recipe.model).model if plot_model is True else None
    load = functools.partial(full_page, workbench, recipe)
    return f"{stem}.zip", _zip_of(pages, load, model, norm)


def full_page(workbench: Workbench, recipe: Recipe, page: list[VisibleLayer]) -> list:
    """A page of the grid's (reduced) panels at full resolution, for a PNG: only its layers,
    through a cached sub-pass."""
    names = list(dict.fromkeys(panel.name for panel in page))
    found = {act.name: act for act in workbench.layers(recipe, names)}
    return [VisibleLayer(found[panel.name], panel.head) for panel in page]


def _zip_of(pages: GridPages, load, model=None, norm: str | None = None) -> bytes:
    """The pages as ``0.png, 1.png, …`` (and ``model.png`` when a model is given), stored;
    each page's layers are loaded at full resolution (``load``) only while it is drawn."""
    architecture = architecture_png(model) if model is not None else None
    return zip_of(list(streamed_pages_png(pages, load, norm=norm)), architecture)


def selected_layer(
    workbench: Workbench, store_data: Any, click: Any, rows: Any, cols: Any, limit: Any, page: Any
) -> dict | None:
    """The layer a click on a panel of the grid picks: ``{"model", "layer"}``, or None.

    Plotly reports the clicked trace's number, and the grid draws one trace per panel in page
    order, so the number is the panel's place on the page shown.
    """
    try:
        curve = click["points"][0]["curveNumber"]
    except (TypeError, KeyError, IndexError):
        return None
    if isinstance(curve, bool) or not isinstance(curve, int):
        return None
    recipe, run = current_reduced(workbench, store_data)
    shown = grid_pages(run.activations, grid_settings(rows, cols, limit)).page(page)
    if not 0 <= curve < len(shown):
        return None
    return {"model": recipe.model, "layer": shown[curve].name}


def hover_label(
    workbench: Workbench, store_data: Any, hover: Any, rows: Any, cols: Any, limit: Any, page: Any
) -> str | None:
    """What hover on the grid says: the exact value under the pointer in the original map's
    coordinates (channel, row, column), or None (a gap, or not a grid point).

    Plotly reports the image trace's number (the panel's place on the page) and the pixel's
    coordinates in the image sent, which ``tiles.shown_point`` maps back to the layer output.
    """
    try:
        point = hover["points"][0]
        curve, x, y = point["curveNumber"], point["x"], point["y"]
    except (TypeError, KeyError, IndexError):
        return None
    if not all(type(v) in (int, float) and math.isfinite(v) for v in (curve, x, y)):
        return None
    _, run = current_reduced(workbench, store_data)
    shown = grid_pages(run.activations, grid_settings(rows, cols, limit)).page(page)
    if curve != int(curve) or not 0 <= curve < len(shown):
        return None
    layer = shown[int(curve)]
    found = shown_point(layer, tile_step(layer, MAX_TILE_PIXELS), round(y), round(x))
    return None if found is None else point_text(layer, found)


#: Controls that choose a new pattern, and so run the forward pass (None: the page loaded).
_PATTERN_TRIGGERS = {
    None,
    ids.MODEL_SELECT,
    ids.SAMPLE_SELECT,
    ids.SEED_BUTTON,
    ids.SEED_INPUT,
    ids.PATTERN_UPLOAD,
    *ids.INPUT_SEEDS,
    *ids.INPUT_UPLOADS,
}
#: Controls whose change re-pages the grid (the pager and the colour controls do not).
_REPAGING = _PATTERN_TRIGGERS | {ids.GRID_ROWS, ids.GRID_COLS, ids.SIZE_LIMIT}

#: What ``update_page`` answers, in order: the pattern choice, the pattern's figures, the grid.
PAGE_OUTPUTS = (
    Output(ids.SAMPLE_SELECT, "options"),
    Output(ids.SAMPLE_SELECT, "value"),
    Output(ids.SEED_INPUT, "value"),
    Output(ids.MODEL_INFO, "children"),
    Output(ids.ERROR_ALERT, "children"),
    Output(ids.ERROR_ALERT, "is_open"),
    Output(ids.PATTERN_UPLOAD, "contents"),
    Output(ids.PATTERN_VIEW_STORE, "data"),
    Output(ids.ACTIVATION_GRAPH, "figure"),
    Output(ids.PAGE_SELECT, "max_value"),
    Output(ids.PAGE_SELECT, "active_page"),
    Output(ids.GRID_SUMMARY, "children"),
    # The per-input rows (shown for a model with several inputs): seeds, then uploads.
    *ROW_OUTPUTS,
)


@dataclass
class PageControls:
    """What the browser sent with a page update: the pattern and grid controls' values."""

    model: Any = None
    sample: Any = None
    seed: Any = None
    upload: Any = None
    filename: Any = None
    rows: Any = None
    cols: Any = None
    limit: Any = None
    page: Any = None
    colorscale: Any = "Viridis"
    norm: Any = ARTICLE_NORM
    inputs: InputControls | None = None


def update_page(
    workbench: Workbench, trigger: str | None, controls: PageControls, store_data: Any
) -> tuple:
    """Everything one control change redraws, in one response (``PAGE_OUTPUTS``' order).

    A pattern control (or the page load) chooses the pattern and runs the forward pass once,
    then draws the pattern, the prediction and page 1 of the grid from that run; a grid or
    colour control redraws the grid alone from the cached run. Whatever is not redrawn is
    ``no_update``, so one round trip carries a new pattern to the screen. The new recipe and
    the pattern and prediction figures go to ``ids.PATTERN_VIEW_STORE``
    (``{"recipe", "pattern", "prediction", "info"}``); the browser draws the grid first, then
    copies them into the figures and ``ids.PATTERN_STORE`` (so feature sections start their
    own work after the grid is on screen). ``store_data`` is the current recipe (store form).
    """
    c = controls
    choice = PatternChoice()
    inputs = replace(c.inputs or InputControls(), current=store_data)
    if trigger in _PATTERN_TRIGGERS:
        choice = choose_pattern(
            workbench, trigger, c.model, c.sample, c.seed, c.upload, c.filename, inputs
        )
    new_pattern = choice.recipe is not no_update
    store = choice.recipe if new_pattern else store_data
    if trigger == ids.MODEL_SELECT and choice.error is not None:
        choice.model_info = "could not open this model"  # replaces "Opening …"
    head = (
        choice.sample_options,
        choice.sample_value,
        choice.seed,
        choice.model_info,
        choice.error,
        choice.error is not None,
        None if c.upload else no_update,
    )
    view = {"recipe": store, **_pattern_view(workbench, store)} if new_pattern else no_update
    if store and (new_pattern or trigger not in _PATTERN_TRIGGERS):
        page = 1 if trigger in _REPAGING else c.page
        grid = _grid_outputs(workbench, store, c, page)
    else:
        grid = (no_update,) * 4
    return (*head, view, *grid, *row_outputs(choice.input_seeds, inputs))


def main_trigger(triggered: list) -> str | None:
    """The control an update answers when several changed at once (a shared link sets the
    model and the grid together): a pattern control first, as it redraws everything."""
    for trigger in triggered:
        if trigger in _PATTERN_TRIGGERS:
            return trigger
    return triggered[0] if triggered else None


def _pattern_view(workbench: Workbench, store: Any) -> dict:
    """``render_pattern`` (and the per-input rows) as the pattern-view store holds it (an
    error figure on failure)."""
    try:
        figures = render_pattern(workbench, store)
        rows = input_rows(workbench, store)
    except Exception as exc:
        figures, rows = (empty_figure(error_text(exc)), empty_figure(""), ""), None
    return {**dict(zip(("pattern", "prediction", "info"), figures, strict=True)), "inputs": rows}


def _grid_outputs(workbench: Workbench, store: Any, c: PageControls, page: Any) -> tuple:
    """``render_grid``, or an error figure in its place."""
    try:
        return render_grid(workbench, store, c.rows, c.cols, c.limit, page, c.colorscale, c.norm)
    except Exception as exc:
        return empty_figure(error_text(exc)), 1, 1, ""


#: Says at once, in the browser, what a model choice sets off: the first load of a large model
#: takes seconds (the server's answer then replaces the text with the model's description).
_OPENING_JS = """function (model) {
    return model ? "Opening " + model + ": loading it and running a pattern through it…" : "";
}"""


#: After the frame that shows the new grid (or 100 ms, in a hidden tab that draws no frames):
#: the pattern's figures, and the recipe into the pattern store, whose readers (feature
#: sections) then start their own requests, no longer competing with the grid for the CPU.
_PATTERN_VIEW_JS = """function (view) {
    const nu = window.dash_clientside.no_update;
    if (!view) { return [nu, nu, nu, nu]; }
    return new Promise(function (resolve) {
        let done = false;
        const go = function () {
            if (done) { return; }
            done = true;
            setTimeout(function () {
                resolve([view.recipe, view.pattern, view.prediction, view.info]);
            }, 0);
        };
        requestAnimationFrame(go);
        setTimeout(go, 100);
    });
}"""


def register_callbacks(app, workbench: Workbench) -> None:
    """Attach the core callbacks to ``app`` (never the global ``dash.callback``)."""
    app.clientside_callback(
        _PATTERN_VIEW_JS,
        Output(ids.PATTERN_STORE, "data"),
        Output(ids.PATTERN_GRAPH, "figure"),
        Output(ids.PREDICTION_GRAPH, "figure"),
        Output(ids.PATTERN_INFO, "children"),
        Input(ids.PATTERN_VIEW_STORE, "data"),
        prevent_initial_call=True,
    )
    register_input_rows(app)
    app.clientside_callback(
        _OPENING_JS,
        Output(ids.MODEL_INFO, "children", allow_duplicate=True),
        Input(ids.MODEL_SELECT, "value"),
        prevent_initial_call=True,
    )
    _register_page(app, workbench)
    _register_layer_pick(app, workbench)
    _register_grid_hover(app, workbench)
    _register_export(app, workbench)


def _register_page(app, workbench: Workbench) -> None:
    @app.callback(
        *PAGE_OUTPUTS,
        Input(ids.MODEL_SELECT, "value"),
        Input(ids.SAMPLE_SELECT, "value"),
        Input(ids.SEED_BUTTON, "n_clicks"),
        Input(ids.SEED_INPUT, "value"),
        Input(ids.PATTERN_UPLOAD, "contents"),
        Input(ids.GRID_ROWS, "value"),
        Input(ids.GRID_COLS, "value"),
        Input(ids.SIZE_LIMIT, "value"),
        Input(ids.PAGE_SELECT, "active_page"),
        Input(ids.COLORSCALE_SELECT, "value"),
        Input(ids.NORM_MODE, "value"),
        *ROW_INPUTS,
        State(ids.PATTERN_UPLOAD, "filename"),
        # The recipe as this callback last sent it (the pattern store follows a frame later).
        State(ids.PATTERN_VIEW_STORE, "data"),
        *ROW_STATES,
        # The first view is drawn into the layout (layerviz.ui.first_view).
        prevent_initial_call=True,
    )
    def _update(model, sample, _clicks, seed, upload, rows, cols, limit, page, *rest):
        n = ids.MAX_INPUT_ROWS
        colorscale, norm, *rest = rest
        seeds, uploads, (filename, view, *filenames) = rest[:n], rest[n : 2 * n], rest[2 * n :]
        store_data = view.get("recipe") if isinstance(view, dict) else None
        controls = PageControls(
            model, sample, seed, upload, filename, rows, cols, limit, page, colorscale, norm
        )
        controls.inputs = InputControls(tuple(seeds), tuple(uploads), tuple(filenames))
        trigger = main_trigger(list(ctx.triggered_prop_ids.values()))
        return update_page(workbench, trigger, controls, store_data)


def _register_layer_pick(app, workbench: Workbench) -> None:
    @app.callback(
        Output(ids.SELECTED_LAYER_STORE, "data"),
        Input(ids.ACTIVATION_GRAPH, "clickData"),
        PATTERN,
        *GRID_STATES,
        prevent_initial_call=True,
    )
    def _select_layer(click, store_data, rows, cols, limit, page):
        try:
            picked = selected_layer(workbench, store_data, click, rows, cols, limit, page)
            return picked or no_update
        except Exception as exc:
            error_text(exc)
            return no_update


def _register_grid_hover(app, workbench: Workbench) -> None:
    @app.callback(
        Output(ids.GRID_TOOLTIP, "show"),
        Output(ids.GRID_TOOLTIP, "bbox"),
        Output(ids.GRID_TOOLTIP, "children"),
        Input(ids.ACTIVATION_GRAPH, "hoverData"),
        PATTERN,
        *GRID_STATES,
        prevent_initial_call=True,
    )
    def _hover(hover, store_data, rows, cols, limit, page):
        try:
            text = hover_label(workbench, store_data, hover, rows, cols, limit, page)
        except Exception as exc:
            error_text(exc)
            text = None
        if text is None:
            return False, no_update, no_update
        return True, hover["points"][0].get("bbox"), text


def _register_export(app, workbench: Workbench) -> None:
    @app.callback(
        Output(ids.EXPORT_DOWNLOAD, "data"),
        *ALERT,
        Input(ids.PAGE_EXPORT_BUTTON, "n_clicks"),
        PATTERN,
        *GRID_STATES,
        State(ids.PLOT_MODEL_SWITCH, "value"),
        State(ids.EXPORT_NORM_SWITCH, "value"),
        State(ids.NORM_MODE, "value"),
        prevent_initial_call=True,
    )
    def _export(_page, store_data, rows, cols, limit, page, plot_model, apply_norm, norm):
        # The zip is a background job with progress (layerviz.ui.features.export_zip).
        if not store_data:
            return no_update, no_update, no_update
        try:
            name, data = export_files(
                workbench,
                store_data,
                rows,
                cols,
                limit,
                page,
                plot_model,
                export_norm(apply_norm, norm),
            )
        except Exception as exc:
            return no_update, error_text(exc), True
        return dcc.send_bytes(data, name), no_update, no_update
