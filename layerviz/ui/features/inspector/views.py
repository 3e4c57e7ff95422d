"""What the inspector's callbacks compute, as plain functions (no Dash): tests call them directly.

Every argument is what a browser sent, so each is checked here: an unknown layer, a k that is
not a number, a page past the end are clear messages (``ArgumentError``), never a traceback.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go

from layerviz.analysis.statistics import (
    CHANNEL_SCORES,
    ChannelScores,
    records_csv,
    reduced_statistics,
)
from layerviz.draw.channel_figures import channel_grid, value_histogram
from layerviz.draw.channel_pages import DEFAULT_K, NORM_MODES, channel_page
from layerviz.draw.figures import empty_figure
from layerviz.draw.grid import clamp
from layerviz.errors import ArgumentError
from layerviz.extract.activations import LayerActivation
from layerviz.ui.common import current_reduced
from layerviz.ui.features.compare_state import compare_view
from layerviz.ui.features.inspector.channel_select import chosen as chosen_channel
from layerviz.ui.recipe import recipe_from_store
from layerviz.ui.workbench import Workbench

__all__ = [
    "CHANGE",
    "MAX_K",
    "SORTS",
    "WIDTHS",
    "InspectorView",
    "change_scores",
    "find_layer",
    "health_marks",
    "histogram",
    "inspector_view",
    "stats_csv",
    "stats_rows",
]

#: The top-k slider's largest value: 64 panels of 128 px is already a tall page.
MAX_K = 64
#: The ``channel-sort`` value that ranks channels by how much B changed them (compare mode).
CHANGE = "change"
#: Every channel order the inspector offers: the library's scores, then the change from A to B.
SORTS = {**CHANNEL_SCORES, CHANGE: "change (B − A)"}


@dataclass(frozen=True)
class InspectorView:
    """What the inspector card shows."""

    title: str
    figure: go.Figure
    summary: str
    n_pages: int
    page: int


def find_layer(activations: list[LayerActivation], name: Any, model: str) -> LayerActivation:
    """The activation of the layer called ``name``.

    Raises:
        ArgumentError: no such layer (the message names the model and a few of its layers).
    """
    for act in activations:
        if act.name == name:
            return act
    shown = repr(name) if isinstance(name, str) and len(name) <= 60 else "that name"
    some = ", ".join(a.name for a in activations[:4])
    raise ArgumentError(f"model {model!r} has no layer {shown} (its layers: {some}, …)")


def selected_layer_output(workbench: Workbench, recipe, name: Any) -> LayerActivation:
    """The named layer's full output for the recipe's pattern, on demand (a sub-pass of that
    layer alone, cached): the inspector needs every value of one layer, not of all.

    Raises:
        ArgumentError: no such layer (as :func:`find_layer` says it).
    """
    layers = workbench.entry(recipe.model).extractor.layers
    known = [LayerActivation(index, n, cls, _NO_VALUES) for index, n, cls in layers]
    find_layer(known, name, recipe.model)
    return workbench.layers(recipe, [name])[0]


_NO_VALUES = np.zeros(0, np.float32)


def inspector_view(
    workbench: Workbench,
    store_data: Any,
    selected: Any,
    by: Any,
    k: Any,
    page: Any,
    norm: Any,
    health: Any = None,
    b_data: Any = None,
    chosen: Any = None,
    width: Any = None,
) -> InspectorView:
    """The inspector for the selected layer of the current pattern's extraction.

    ``page`` counts from 1 (the pager's way). ``k`` is clamped to the layer's channels.
    ``by == CHANGE`` ranks them by how much pattern B (``b_data``, compare mode's) changed them.
    ``chosen`` is the selected channel's store (``channel_select``): its panel is outlined.
    ``width`` is the pixels the tiles may take across (the pane's, measured in the browser):
    they fill it; anything but a number in ``WIDTHS`` keeps the tiles' default size.

    Raises:
        ArgumentError: an unknown layer, sort or normalisation; ``CHANGE`` without a B.
        PatternError, ModelLoadError: as ``current_run``.
    """
    recipe = recipe_from_store(store_data)
    if not isinstance(selected, dict) or selected.get("model") != recipe.model:
        return InspectorView(
            "no layer selected", empty_figure("click a panel of the grid"), "", 1, 1
        )
    act = selected_layer_output(workbench, recipe, selected.get("layer"))
    by = by if isinstance(by, str) and by in SORTS else "mean"  # a list is no key: no TypeError
    norm = norm if isinstance(norm, str) and norm in NORM_MODES else "map"
    n_channels = act.shape[-1]
    k = min(clamp(k, (1, MAX_K), DEFAULT_K), n_channels)
    n_pages = math.ceil(n_channels / k)
    page = clamp(page, (1, n_pages), 1)
    scores = change_scores(workbench, store_data, b_data, act) if by == CHANGE else None
    shown = channel_page(act, by, k, page - 1, norm, scores)
    dead, saturated = health_marks(health, recipe.model, act.name)
    mark = chosen_channel(shown.scores, chosen, recipe.model, act.name).channel
    figure = channel_grid(shown, dead=dead, saturated=saturated, selected=mark, width=_width(width))
    title = f"{act.index}: {act.name} ({act.class_name}, {'×'.join(map(str, act.shape))})"
    return InspectorView(title, figure, shown.summary, n_pages, page)


#: The widths (pixels) the inspector takes from a browser; others keep the default tiles.
WIDTHS = (200, 4000)


def _width(value: Any) -> int | None:
    """A browser's width when it is a whole number of pixels in ``WIDTHS``, else None."""
    whole = isinstance(value, int) and not isinstance(value, bool)
    return value if whole and WIDTHS[0] <= value <= WIDTHS[1] else None


def change_scores(workbench: Workbench, store_data: Any, b_data: Any, act) -> ChannelScores:
    """``act``'s channels scored by how much B changed them (``LayerDifference.channel_change``),
    the most changed first; the comparison comes from the compare section's cache.

    Raises:
        ArgumentError: no B (compare mode off), or a layer without per-channel changes.
        PatternError: a malformed B (as ``compare_state.b_pattern``).
    """
    if not b_data:
        raise ArgumentError("ranking channels by change needs compare mode on, with a pattern B")
    _, result = compare_view(workbench).comparison(store_data, b_data)
    found = next((d for d in result.layers if d.name == act.name), None)
    if found is None or found.channel_change.shape != (act.shape[-1],):
        raise ArgumentError(f"layer {act.name!r} has no change per channel to rank by")
    change = np.asarray(found.channel_change, dtype=np.float64)
    return ChannelScores(CHANGE, change, found.ranked_channels)


def health_marks(health: Any, model: str, layer: str) -> tuple[set[int], set[int]]:
    """The dead and saturated channels of ``layer`` in a health result, if it is this model's."""
    if not isinstance(health, dict) or health.get("model") != model:
        return set(), set()
    found = (health.get("layers") or {}).get(layer) or {}
    return set(found.get("dead") or ()), set(found.get("saturated") or ())


def stats_rows(workbench: Workbench, store_data: Any, health: Any = None) -> list[dict]:
    """One row per layer for the statistics table, health counts filled in when known."""
    recipe, run = current_reduced(workbench, store_data)
    rows = []
    for record in reduced_statistics(run.reduced):
        row = record.as_row()
        row["zero_fraction"] = round(100 * record.zero_fraction, 2)
        for key in ("min", "max", "mean", "std"):
            row[key] = _finite_or_none(row[key])
        dead, saturated = health_marks(health, recipe.model, record.name)
        if isinstance(health, dict) and health.get("model") == recipe.model:
            row["health_dead"], row["health_saturated"] = len(dead), len(saturated)
        rows.append(row)
    return rows


def stats_csv(workbench: Workbench, store_data: Any) -> tuple[str, str]:
    """The statistics table as CSV: ``(file name, text)``."""
    recipe, run = current_reduced(workbench, store_data)
    return f"{recipe.model}-statistics.csv", records_csv(reduced_statistics(run.reduced))


def histogram(workbench: Workbench, store_data: Any, selected: Any) -> go.Figure:
    """The value histogram of the selected layer, or a hint to pick one."""
    recipe = recipe_from_store(store_data)
    if not isinstance(selected, dict) or selected.get("model") != recipe.model:
        return empty_figure("pick a layer in the table or the grid")
    act = selected_layer_output(workbench, recipe, selected.get("layer"))
    return value_histogram(act.array, f"{act.index}: {act.name}")


def _finite_or_none(value: float) -> float | None:
    """JSON has no NaN or Infinity: the table shows those as blank (the counts say why)."""
    return value if math.isfinite(value) else None
