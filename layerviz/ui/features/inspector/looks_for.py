"""The inspector's "what it looks for" row as plain functions (no Dash): tests call them directly.

For the channels on the inspector's page, the pattern each one looks for
(``layerviz.visualise``), drawn as a PNG tile. It runs as a background job (``looks_for_ui``);
each tile is kept per (model, layer, channel, settings) in this process, and the job's result
carries the tiles too, so the page can draw them whichever process (a Celery worker) ran it.
For the output layer the channels are its classes: one picture per class.
"""

from __future__ import annotations

import base64
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from layerviz.analysis.visualise import MAX_STEPS, Visualiser, VisualiseSettings
from layerviz.draw.channel_pages import DEFAULT_K, channel_page
from layerviz.draw.feature_images import pattern_png
from layerviz.draw.grid import clamp
from layerviz.errors import ArgumentError
from layerviz.load.bundled import bundled_model_of
from layerviz.patterns.inputs import stated_input_range
from layerviz.ui.common import current_run
from layerviz.ui.features.inspector import views
from layerviz.ui.workbench import Workbench

__all__ = [
    "MAX_UI_STEPS",
    "SETTINGS",
    "PageChannels",
    "cached_tiles",
    "looks_for_job",
    "looks_for_settings",
    "model_input_range",
    "page_channels",
    "settings_key",
]

#: The dashboard's optimisation: fewer steps than the library's default, so a page of 16
#: channels of digits_cnn takes seconds; the rest as ``VisualiseSettings``' defaults.
SETTINGS = VisualiseSettings(steps=128)
#: The most steps the page asks for: the library's own bound (16 channels of digits_cnn's conv2
#: take ~5 s per 256 steps on two busy cores; the job shows progress and can be cancelled).
MAX_UI_STEPS = MAX_STEPS
#: The tiles kept in this process (about 2 KB each for a 32² pattern drawn at 128 px).
MAX_TILES = 2048
#: Models whose compiled steps are kept (one ``Visualiser`` each).
MAX_VISUALISERS = 4

_tiles: OrderedDict[tuple, str] = OrderedDict()
_visualisers: OrderedDict[str, Visualiser] = OrderedDict()
_lock = threading.Lock()


class PageChannels:
    """The inspector page's layer and channels: what the row shows tiles for."""

    def __init__(self, model: str, layer: str, channels: list[int], names: list[str]):
        self.model = model
        self.layer = layer
        self.channels = channels
        #: The caption of each channel's tile: ``ch 3``, or ``class 7`` / ``7 (seven)``.
        self.names = names


def page_channels(
    workbench: Workbench, store_data: Any, selected: Any, by: Any, k: Any, page: Any, b: Any
) -> PageChannels | None:
    """The layer and the channels the inspector shows, as its callback ranks and pages them.

    Returns:
        None when no layer of this model is selected.

    Raises:
        ArgumentError, PatternError, ModelLoadError: as ``views.inspector_view``.
    """
    recipe, run = current_run(workbench, store_data)
    if not isinstance(selected, dict) or selected.get("model") != recipe.model:
        return None
    act = views.find_layer(run.extraction.activations, selected.get("layer"), recipe.model)
    by = by if by in views.SORTS else "mean"
    k = min(clamp(k, (1, views.MAX_K), DEFAULT_K), act.shape[-1])
    page = clamp(page, (1, math.ceil(act.shape[-1] / k)), 1)
    scores = views.change_scores(workbench, store_data, b, act) if by == views.CHANGE else None
    shown = channel_page(act, by, k, page - 1, "map", scores)
    channels = [panel.channel for panel in shown.panels]
    entry = workbench.entry(recipe.model)
    final = act.name == run.extraction.activations[-1].name
    classes = entry.class_names if final else None
    names = [_caption(c, classes) for c in channels]
    return PageChannels(recipe.model, act.name, channels, names)


def _caption(channel: int, classes) -> str:
    if classes and channel < len(classes):
        return f"class {channel}: {classes[channel]}"[:40]
    return f"ch {channel}"


def model_input_range(workbench: Workbench, model: str) -> tuple[float, float] | None:
    """The input range a model states (a bundled model's card), or None when unknown."""
    bundled = bundled_model_of(model) if model in workbench.model_names else None
    return stated_input_range(bundled.input_scaling) if bundled is not None else None


def looks_for_settings(low: Any, high: Any, steps: Any) -> VisualiseSettings:
    """The dashboard's settings from the row's boxes: the input range and the step count.

    Raises:
        ArgumentError: a box that is empty or not a number, ``min`` not below ``max``, steps
            not a whole number from 1 to ``MAX_UI_STEPS``; each names what was expected and
            what arrived.
    """
    bounds = []
    for name, value in (("min", low), ("max", high)):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not math.isfinite(value):
            shown = "nothing" if value in (None, "") else repr(value)[:40]
            raise ArgumentError(f"the input range's {name} must be a finite number, got {shown}")
        bounds.append(float(value))
    if not bounds[0] < bounds[1]:
        raise ArgumentError(
            f"the input range must have min < max, got min {bounds[0]:g} and max {bounds[1]:g}"
        )
    if isinstance(steps, float) and steps.is_integer():
        steps = int(steps)
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_UI_STEPS:
        shown = "nothing" if steps in (None, "") else repr(steps)[:40]
        raise ArgumentError(f"steps must be a whole number from 1 to {MAX_UI_STEPS}, got {shown}")
    return replace(SETTINGS, steps=steps, value_range=(bounds[0], bounds[1]))


def settings_key(settings: VisualiseSettings | None = None) -> str:
    """The settings (default: ``SETTINGS``) as the text a tile is kept under."""
    return repr(settings or SETTINGS)


def cached_tiles(
    shown: PageChannels, result: Any = None, settings: VisualiseSettings | None = None
) -> dict[int, str]:
    """The tiles already made for ``shown``'s channels with ``settings`` (default
    ``SETTINGS``): ``{channel: data URL}``.

    ``result`` is the job's store (its tiles count when it is for this model, layer and
    settings); tiles this process made count too.
    """
    found: dict[int, str] = {}
    key = settings_key(settings)
    wanted = (shown.model, shown.layer, key)
    if (
        isinstance(result, dict)
        and (result.get("model"), result.get("layer"), result.get("settings")) == wanted
    ):
        tiles = result.get("tiles") or {}
        found.update({int(c): u for c, u in tiles.items() if str(c).isdigit()})
    with _lock:
        for channel in shown.channels:
            url = _tiles.get((shown.model, shown.layer, channel, key))
            if url is not None:
                found.setdefault(channel, url)
    return {c: found[c] for c in shown.channels if c in found}


def looks_for_job(
    workbench: Workbench,
    shown: PageChannels,
    progress: Callable[[int, int], object] | None = None,
    settings: VisualiseSettings | None = None,
) -> dict:
    """Optimise the page's channels not made yet with ``settings`` (default ``SETTINGS``);
    the row's store form.

    Returns:
        ``{"model", "layer", "settings", "tiles": {channel: data URL}}`` for every channel of
        the page.

    Raises:
        ArgumentError: a layer without channels (see ``Visualiser.n_channels``).
        ModelStructureError: a model feature visualisation cannot optimise.
    """
    settings = settings or SETTINGS
    key = settings_key(settings)
    have = cached_tiles(shown, settings=settings)
    missing = [c for c in shown.channels if c not in have]
    if missing:
        visualiser = _visualiser(workbench, shown.model)
        result = visualiser.visualise(shown.layer, missing, settings, seed=0, progress=progress)
        value_range = result.settings.value_range
        with _lock:
            for channel, image in zip(result.channels, result.images, strict=True):
                url = _data_url(pattern_png(image, value_range))
                have[channel] = url
                _tiles[(shown.model, shown.layer, channel, key)] = url
            while len(_tiles) > MAX_TILES:
                _tiles.popitem(last=False)
    tiles = {str(c): have[c] for c in shown.channels}
    return {"model": shown.model, "layer": shown.layer, "settings": key, "tiles": tiles}


def _visualiser(workbench: Workbench, model: str) -> Visualiser:
    with _lock:
        found = _visualisers.get(model)
        if found is not None:
            _visualisers.move_to_end(model)
            return found
    entry = workbench.entry(model)
    if entry.extractor is None:
        raise ArgumentError(f"model {model!r} is not loaded")
    visualiser = Visualiser(entry.extractor)
    with _lock:
        _visualisers[model] = visualiser
        while len(_visualisers) > MAX_VISUALISERS:
            _visualisers.popitem(last=False)
    return visualiser


def _data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
