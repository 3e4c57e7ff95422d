"""What the inspector's channel selection and overlay compute, as plain functions (no Dash).

The selected channel of the inspected layer is drawn over the input it came from
(:func:`layerviz.draw.channel_overlay.channel_heat` →
:func:`layerviz.draw.figures.explanation_figure`):
an image under the upsampled map, a waveform above a heat band. A model with several inputs
overlays the input the layer derives from (read off the model's graph), or else the first
input the layer's maps fit; the caption says which. Arguments come from a browser: a bad one
is an ``ArgumentError`` or a quiet fallback, never a traceback.
"""

from __future__ import annotations

import weakref
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go

from layerviz.analysis.architecture import architecture
from layerviz.analysis.statistics import ChannelScores, channel_scores
from layerviz.draw.channel_overlay import channel_heat, overlay_problem
from layerviz.draw.channel_pages import DEFAULT_K
from layerviz.draw.figures import empty_figure, explanation_figure
from layerviz.draw.grid import clamp
from layerviz.errors import LayervizError
from layerviz.extract.activations import LayerActivation
from layerviz.ui.common import current_reduced
from layerviz.ui.features.inspector import channel_select
from layerviz.ui.features.inspector.views import (
    CHANGE,
    MAX_K,
    SORTS,
    change_scores,
    selected_layer_output,
)
from layerviz.ui.workbench import Workbench

__all__ = [
    "DEFAULT_OPACITY",
    "LayerRanking",
    "OverlayInput",
    "layer_ranking",
    "overlay_input",
    "overlay_view",
    "select",
]

DEFAULT_OPACITY = 0.5
#: Each model's input layers per layer, read once from its graph (a model is a weak key, so an
#: uploaded model that is dropped takes its entry with it).
_ANCESTORS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@dataclass(frozen=True, eq=False)
class LayerRanking:
    """The inspected layer of the current pattern, and its channels ranked as the grid shows."""

    model: str
    activation: LayerActivation
    scores: ChannelScores
    pattern: Any
    keras_model: Any
    input_names: list[str]
    input_shapes: list[tuple[int, ...]]


@dataclass(frozen=True)
class OverlayInput:
    """The input a layer's channels are laid over: its position, name and shape, and a note
    for the caption when the model has several inputs."""

    index: int
    name: str
    shape: tuple[int, ...]
    note: str


def layer_ranking(
    workbench: Workbench, store_data: Any, selected: Any, by: Any, b_data: Any = None
) -> LayerRanking | None:
    """The selected layer and its ranking; None when no layer of this model is selected.

    Raises:
        ArgumentError: an unknown layer; ranking by change without a B.
        PatternError, ModelLoadError: as ``current_run``.
    """
    recipe, run = current_reduced(workbench, store_data)
    if not isinstance(selected, dict) or selected.get("model") != recipe.model:
        return None
    act = selected_layer_output(workbench, recipe, selected.get("layer"))
    by = by if isinstance(by, str) and by in SORTS else "mean"
    scores = change_scores(workbench, store_data, b_data, act) if by == CHANGE else None
    entry = workbench.entry(recipe.model)
    return LayerRanking(
        recipe.model,
        act,
        scores or channel_scores(act, by),
        run.pattern,
        entry.model,
        list(entry.extractor.input_names),
        [tuple(s) for s in entry.extractor.input_shapes],
    )


def select(
    ranking: LayerRanking, stored: Any, action: Any, k: Any, page: Any
) -> tuple[dict, int] | None:
    """A click or a step applied to the selection: the new store and the page that shows it.

    Args:
        ranking: from :func:`layer_ranking`.
        stored: the selection the page keeps (store form).
        action: ``"previous"``, ``"next"``, ``("click", curve number)`` of ``channel-graph``,
            or ``"page"``: the inspector turned to ``page``, and the selection follows it (it
            stays when the page shows it, else the page's first channel is selected).
        k, page: the inspector's channels per page and page (from 1), as the browser sent them.

    Returns:
        ``(store, page)``, or None when the action selects nothing (a click off the channels).
    """
    n = ranking.scores.n_channels
    k = min(clamp(k, (1, MAX_K), DEFAULT_K), n)
    page = clamp(page, (1, -(-n // k)), 1)
    act = ranking.activation
    current = channel_select.chosen(ranking.scores, stored, ranking.model, act.name)
    if action in ("previous", "next"):
        choice = channel_select.stepped(current, ranking.scores, 1 if action == "next" else -1)
    elif action == "page":
        shown = channel_select.page_of(current.rank, k) == page
        choice = current if shown else channel_select.first_on_page(ranking.scores, k, page)
    elif isinstance(action, tuple) and len(action) == 2 and action[0] == "click":
        choice = channel_select.clicked(ranking.scores, k, page, action[1])
    else:
        choice = None
    if choice is None:
        return None
    store = channel_select.selection_store(ranking.model, act.name, choice)
    return store, channel_select.page_of(choice.rank, k)


def overlay_input(ranking: LayerRanking) -> OverlayInput:
    """The input the selected layer's channels are laid over (see the module's docstring)."""
    names, shapes = ranking.input_names, ranking.input_shapes
    if len(shapes) == 1:
        return OverlayInput(0, names[0], shapes[0], "")
    layer_shape = ranking.activation.shape
    fits = [i for i, shape in enumerate(shapes) if overlay_problem(layer_shape, shape) is None]
    sources = _source_inputs(ranking.keras_model, ranking.activation.layer_name, names) or set()
    derived = [i for i, name in enumerate(names) if name in sources]
    if any(i in fits for i in derived):
        i = next(i for i in derived if i in fits)
        note = f"over input {names[i]!r}, which it derives from"
    elif fits:
        i = fits[0]
        note = f"over input {names[i]!r}, the first its maps fit (its source is not known)"
    else:  # nothing to lay it over: the caption names the input the sentence is about
        i = derived[0] if derived else 0
        note = f"from input {names[i]!r}"
    return OverlayInput(i, names[i], shapes[i], note)


def _source_inputs(model: Any, layer: str, input_names: list[str]) -> set[str] | None:
    """The names of the model's inputs that ``layer`` derives from; None when the graph cannot
    be read (a subclassed model)."""
    try:
        parents = _ANCESTORS.get(model)
        if parents is None:
            parents = {}
            for source, target in architecture(model).edges:
                parents.setdefault(target, []).append(source)
            _ANCESTORS[model] = parents
    except (LayervizError, AttributeError, KeyError, TypeError, ValueError):
        return None  # a config we cannot read: the caller falls back, and says so
    seen, todo = {layer}, deque([layer])
    while todo:
        for parent in parents.get(todo.popleft(), ()):
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen & set(input_names)


def overlay_view(ranking: LayerRanking | None, stored: Any, opacity: Any) -> tuple[go.Figure, str]:
    """The selected channel over its input, and the caption naming the channel.

    A layer whose maps have no place on the input gets a sentence instead of a figure.
    """
    if ranking is None:
        return empty_figure("click a panel of the grid, then a channel"), ""
    act = ranking.activation
    choice = channel_select.chosen(ranking.scores, stored, ranking.model, act.name)
    target = overlay_input(ranking)
    caption = " ".join(filter(None, [choice.label, target.note]))
    problem = "attention scores are not maps over the input" if act.role == "attention" else None
    problem = problem or overlay_problem(act.shape, target.shape)
    if problem is not None:
        return empty_figure(problem), f"{caption}. {problem}"
    heat = channel_heat(act.array, choice.channel, target.shape)
    title = f"{act.name}: channel {choice.channel} over the input"
    figure = explanation_figure(_input_of(ranking.pattern, target.index), heat, title,
                                _opacity(opacity))  # fmt: skip
    figure.update_layout(uirevision=f"{ranking.model} {act.name}")
    return figure, caption


def _input_of(pattern: Any, index: int) -> np.ndarray:
    """Input ``index`` of a pattern (a tuple for several inputs), batch axis removed."""
    part = pattern[index] if isinstance(pattern, tuple | list) else pattern
    return np.asarray(part)[0]


def _opacity(value: Any) -> float:
    """The slider's value, or the default for anything that is not a finite number."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return min(1.0, max(0.0, float(value))) if number and np.isfinite(value) else DEFAULT_OPACITY
