"""Dashboard feature: which part of the input made the model say this (``explain-graph``).

Controls: ``explain-method`` (Grad-CAM, saliency, SmoothGrad), ``explain-layer`` (any layer
with spatial maps; empty means the last one), ``explain-target`` (the class score before the
softmax, as the Grad-CAM paper has it, or the probability) and ``explain-opacity``. A click on
a bar of ``prediction-graph`` makes that class the target; the "top class" button goes back to the
model's own answer. Explanations are cached by model, pattern and settings, so moving the
opacity slider only redraws.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
import numpy as np
from dash import Input, Output, State, ctx, dcc, html, no_update

from layerviz.analysis.explain import METHODS, TARGETS, Explainer, Explanation
from layerviz.draw.figures import empty_figure, explanation_figure
from layerviz.ui import ids
from layerviz.ui.blocks import hint, named, opacity_slider
from layerviz.ui.cache import ByteLRU
from layerviz.ui.common import current_run, error_text
from layerviz.ui.recipe import recipe_from_store
from layerviz.ui.wiring import PATTERN, PATTERN_IN
from layerviz.ui.workbench import Workbench, pattern_digest

__all__ = ["TAB", "controls", "panels", "register", "tab", "target_class"]

LABELS = {"gradcam": "Grad-CAM", "saliency": "Saliency", "smoothgrad": "SmoothGrad (16 copies)"}
TARGET_LABELS = {"logit": "class score (before softmax)", "probability": "probability"}
#: Budget of cached heat maps (a 224×224 map is 200 kB).
CACHE_BYTES = 32 * 2**20
DEFAULT_OPACITY = 0.5


TAB = ("Explain", "lightbulb")


def controls(workbench: Workbench) -> list:
    return []


def panels(workbench: Workbench) -> list:
    """Always in the page: the class a click on a prediction bar picked (the click opens this
    tab, which may not be built yet)."""
    return [dcc.Store(id=ids.EXPLAIN_CLASS_STORE)]


def tab(workbench: Workbench) -> list:
    """The Explain tab: method, layer and opacity, then ``explain-graph``."""
    method = dcc.Dropdown(
        id=ids.EXPLAIN_METHOD,
        options=[{"label": LABELS[m], "value": m} for m in METHODS],
        value="gradcam",
        clearable=False,
    )
    layer = dcc.Dropdown(
        id=ids.EXPLAIN_LAYER, options=[], placeholder="Grad-CAM layer: the last with maps"
    )
    opacity = opacity_slider(ids.EXPLAIN_OPACITY, DEFAULT_OPACITY, "heat opacity")
    target = dcc.RadioItems(
        id=ids.EXPLAIN_TARGET,
        options=[{"label": f" {TARGET_LABELS[t]}", "value": t} for t in TARGETS],
        value="logit",
        className="small mb-2",
        labelClassName="me-3",
    )
    top = html.Button(
        "top class",
        id=ids.EXPLAIN_TOP_BUTTON,
        className="btn btn-sm btn-outline-secondary py-0",
        title="explain the model's top class again",
    )
    options = dbc.Row(
        [
            dbc.Col(named(method, "explanation method"), md=4),
            dbc.Col(named(layer, "Grad-CAM layer"), md=4),
            dbc.Col([hint("heat opacity"), opacity], md=4),
        ],
        className="g-2 mb-2 align-items-end",
    )
    options = html.Div([options, named(html.Div([hint("explain"), target]), "explained score")])
    note = html.Div(
        [hint("Click a prediction bar to explain that class.", None), top],
        className="d-flex align-items-center gap-2 mb-1",
    )
    graph = dcc.Loading(
        dcc.Graph(
            id=ids.EXPLAIN_GRAPH, figure=empty_figure("explaining…"), config={"displaylogo": False}
        )
    )
    return [options, note, graph]


def target_class(click_data, outputs: np.ndarray, n_outputs: int) -> int | None:
    """The class a click on ``prediction-graph`` picked, or None if it picked none.

    The bars are the top classes in descending order (``figures.prediction_bar``), so the
    clicked bar's position maps back to a class through the same sort. A one-unit head shows
    one bar, its output ``p``: that is class 1.
    """
    try:
        position = int(click_data["points"][0]["pointNumber"])
    except (TypeError, KeyError, IndexError, ValueError, OverflowError):  # ±inf: no bar
        return None
    if n_outputs == 1:
        return 1
    order = np.argsort(-np.asarray(outputs, dtype=np.float64).ravel(), kind="stable")
    return int(order[position]) if 0 <= position < order.size else None


class _Explainers:
    """One ``Explainer`` per model (built on the workbench's extractor, kept on the model's
    entry so it dies with it), and cached maps."""

    def __init__(self, workbench: Workbench):
        self.workbench = workbench
        self.maps: ByteLRU[Explanation] = ByteLRU(CACHE_BYTES, lambda e: e.heat.nbytes)

    def of(self, model: str) -> Explainer:
        return self.workbench.model_cache(model, "explainer", lambda e: Explainer(e.extractor))


def register(app, workbench: Workbench) -> None:
    """The feature's callbacks."""
    explainers = _Explainers(workbench)

    @app.callback(
        Output(ids.EXPLAIN_LAYER, "options"),
        Output(ids.EXPLAIN_LAYER, "value"),
        PATTERN_IN,
        State(ids.EXPLAIN_LAYER, "value"),
    )
    def layer_choices(data, current):
        try:
            layers = explainers.of(recipe_from_store(data).model).spatial_layers
        except Exception as exc:  # no choices: the explain graph says why
            error_text(exc)  # which logs anything unexpected
            return [], None
        options = [{"label": name, "value": name} for name in layers]
        return options, current if current in layers else None

    @app.callback(
        Output(ids.EXPLAIN_CLASS_STORE, "data"),
        Input(ids.PREDICTION_GRAPH, "clickData"),
        # In the tab, which a click on a bar may come before.
        Input(ids.EXPLAIN_TOP_BUTTON, "n_clicks", allow_optional=True),
        PATTERN,
        prevent_initial_call=True,
    )
    def pick_class(click_data, _top, data):
        if ctx.triggered_id == ids.EXPLAIN_TOP_BUTTON:
            return None
        try:
            recipe, run = current_run(workbench, data)
            explainer = explainers.of(recipe.model)
        except Exception as exc:
            error_text(exc)  # logs anything unexpected; a bad pattern is reported elsewhere
            return no_update
        chosen = target_class(click_data, run.extraction.outputs[0], explainer.n_outputs)
        return no_update if chosen is None else {"model": recipe.model, "class": chosen}

    @app.callback(
        Output(ids.EXPLAIN_GRAPH, "figure"),
        PATTERN_IN,
        Input(ids.EXPLAIN_METHOD, "value"),
        Input(ids.EXPLAIN_LAYER, "value"),
        Input(ids.EXPLAIN_OPACITY, "value"),
        Input(ids.EXPLAIN_CLASS_STORE, "data"),
        Input(ids.EXPLAIN_TARGET, "value"),
    )
    def render(data, method, layer, opacity, target, score):
        try:
            return explanation_view(explainers, data, method, layer, opacity, target, score)
        except Exception as exc:  # the page goes on; the message says why
            return empty_figure(error_text(exc))


def explanation_view(
    explainers: _Explainers, data, method, layer, opacity, target, score: str = "logit"
):
    """The ``explain-graph`` figure for the callback's inputs (checked here, at the boundary).

    ``target`` is the clicked class (a store's data); ``score`` what is explained (``TARGETS``).

    Raises:
        LayervizError: a bad method, a layer without maps, a pattern no longer kept, ...
    """
    workbench = explainers.workbench
    recipe, run = current_run(workbench, data)
    explainer = explainers.of(recipe.model)
    method = method if method in METHODS else "gradcam"
    layer = layer if method == "gradcam" and isinstance(layer, str) and layer else None
    chosen = _class_of(target, recipe.model, explainer.n_classes)
    score = score if score in TARGETS else "logit"
    key = (recipe.model, pattern_digest(run.pattern), method, layer, chosen, score)
    result, _ = explainers.maps.get_or_compute(
        key, lambda: explainer.explain(run.pattern, method, layer, chosen, target=score)
    )
    opacity = opacity if isinstance(opacity, (int, float)) else DEFAULT_OPACITY
    return explanation_figure(
        run.pattern, result.heat, _title(result, workbench.entry(recipe.model).class_names, chosen),
        opacity,
    )  # fmt: skip


def _class_of(target, model: str, n_classes: int) -> int | None:
    """The clicked class when it was clicked for this model and is in range; else the top."""
    if not isinstance(target, dict) or target.get("model") != model:
        return None
    chosen = target.get("class")
    ok = isinstance(chosen, int) and not isinstance(chosen, bool) and 0 <= chosen < n_classes
    return chosen if ok else None


def _title(result: Explanation, class_names, chosen: int | None) -> str:
    names = list(class_names or [])
    k = result.class_index
    name = names[k] if k < len(names) else f"class {k}"
    where = f" at {result.layer}" if result.layer else ""
    why = "clicked" if chosen is not None else "top class"
    of = ", its probability" if result.target == "probability" else ""  # the score: as ever
    return f"{LABELS[result.method]}{where}: {name} ({why}{of})"
