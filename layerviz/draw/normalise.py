"""Colour ranges of the grid's panels under a normalisation mode, for the screen and the PNGs.

A grid panel draws one layer output (or one attention head) as a montage of maps, one tile
per channel (see :mod:`layerviz.draw.selection`). The modes (:data:`NORM_MODES`) say which values
share one colour range:

=========  ===================================================================================
``map``    each map (a channel's tile in the montage) is scaled to its own finite min–max:
           the shape of every channel reads, whatever its magnitude;
``layer``  one range per panel, over all of its maps: the article's per-panel ``imshow``,
           the grid's look by default and the PNG export's default. An attention head is its
           own panel, so it keeps its own range;
``page``   one range over every panel shown together (a page of the grid, a PNG page):
           magnitudes compare across layers.
=========  ===================================================================================

Non-finite values (NaN, ±Inf) never widen a range; they are drawn in the missing colour.
Plain numpy, no Dash: the figure builders and :mod:`layerviz.draw.export` both read it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from layerviz.draw.channel_pages import NORM_MODES, check_norm, finite_range
from layerviz.draw.selection import VisibleLayer, maps_of, montage

__all__ = [
    "ARTICLE_NORM",
    "NORM_MODES",
    "check_norm",
    "colour_ranges",
    "normalised_image",
    "panel_values",
    "tile_ranges",
]

#: The article's per-panel ``imshow``: the grid's default look and the export's default.
ARTICLE_NORM = "layer"


def panel_values(layer: VisibleLayer) -> np.ndarray:
    """The values a panel draws, without the montage's gaps: the output, or one head."""
    array = layer.activation.array
    return array[layer.head] if layer.is_attention else array


def tile_ranges(layer: VisibleLayer) -> np.ndarray:
    """Each map's finite ``[low, high]`` in the panel's tile order: ``(n_maps, 2)`` float64.

    A map with no finite value has ``[nan, nan]``. A reduced entry brings its maps' extremes
    over the full output (its array holds only the kept lines).
    """
    if layer.is_reduced:
        act = layer.activation
        low, high = act.map_minimum, act.map_maximum
        if layer.is_attention:
            low, high = low[[layer.head]], high[[layer.head]]
        return np.stack([low, high], axis=1).astype(np.float64)
    values = panel_values(layer)
    # Reduce over the map axes in place: a (h, w, c) output's maps are its channels.
    axes = (0, 1) if layer.n_maps > 1 else None
    low, high = np.min(values, axis=axes), np.max(values, axis=axes)
    if not (np.isfinite(low).all() and np.isfinite(high).all()):  # rare: only then mask
        finite = np.isfinite(values)
        low = np.min(values, axis=axes, where=finite, initial=np.inf)
        high = np.max(values, axis=axes, where=finite, initial=-np.inf)
    ranges = np.stack([np.ravel(low), np.ravel(high)], axis=1).astype(np.float64)
    ranges[~np.isfinite(ranges).all(axis=1)] = np.nan
    return ranges


def colour_ranges(page: Sequence[VisibleLayer], norm: str) -> list[np.ndarray]:
    """The colour range of every map of every panel on a page, under ``norm``.

    Args:
        page: the panels shown together.
        norm: a key of :data:`NORM_MODES`.

    Returns:
        One ``(n_maps, 2)`` array of ``[low, high]`` per panel (rows alike except in ``map``
        mode); ``[nan, nan]`` where there is no finite value to scale by.

    Raises:
        ArgumentError: an unknown mode.
    """
    norm = check_norm(norm)
    if norm == "map":
        return [tile_ranges(layer) for layer in page]
    own = [_panel_range(layer) for layer in page]
    if norm == "page":
        kept = [r for r in own if r is not None]
        shared = (min(r[0] for r in kept), max(r[1] for r in kept)) if kept else None
        own = [shared] * len(page)
    return [_broadcast(r, layer.n_maps) for r, layer in zip(own, page, strict=True)]


def _panel_range(layer: VisibleLayer) -> tuple[float, float] | None:
    """The finite ``(low, high)`` over a whole panel; None when nothing is finite."""
    if not layer.is_reduced:
        return finite_range([panel_values(layer)])
    ranges = tile_ranges(layer)
    kept = ranges[~np.isnan(ranges).any(axis=1)]
    return (float(kept[:, 0].min()), float(kept[:, 1].max())) if len(kept) else None


def _broadcast(limits: tuple[float, float] | None, n: int) -> np.ndarray:
    row = limits if limits is not None else (np.nan, np.nan)
    return np.tile(np.asarray(row, dtype=np.float64), (n, 1))


def normalised_image(
    layer: VisibleLayer, ranges: np.ndarray, keep: tuple[np.ndarray, np.ndarray] | None = None
) -> tuple[np.ndarray, tuple[float, float] | None]:
    """The panel's image and the one colour range to draw it with.

    When all maps share a range, the image is the panel's own and the range is that one.
    Otherwise (``map`` mode) each tile is rescaled to [0, 1] by its own range (a constant
    map to 0) and the range is ``(0, 1)``: one colouring pass draws every tile in its range.

    Args:
        layer: the panel.
        ranges: its ``(n_maps, 2)`` rows, from :func:`colour_ranges`.
        keep: the rows and columns of each map to keep (``tiles.map_lines``: every f-th
            pixel); the montage is then built from those alone. None keeps every pixel.

    Returns:
        ``(image, (low, high))``; the range is None when no value is finite.
    """
    shared = len(ranges) == 0 or np.all(ranges == ranges[0]) or np.isnan(ranges).all()
    if shared:
        first = ranges[0] if len(ranges) else (np.nan, np.nan)
        limits = None if np.isnan(first).any() else (float(first[0]), float(first[1]))
        if keep is None:
            return layer.image, limits
    values = panel_values(layer)
    maps = values[np.newaxis] if layer.is_attention else maps_of(values)
    if keep is not None:  # one gather of the kept pixels: no full-size montage first
        maps = maps[:, keep[0][:, None], keep[1][None, :]]
    if shared:
        return montage(maps), limits
    low, high = ranges[:, 0], ranges[:, 1]
    span = np.where(high > low, high - low, 1.0)
    with np.errstate(invalid="ignore"):
        scaled = (maps.astype(np.float64) - low[:, None, None]) / span[:, None, None]
    return montage(scaled.astype(np.float32)), (0.0, 1.0)
