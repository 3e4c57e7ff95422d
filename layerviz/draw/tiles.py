"""Grid panels as server-coloured images: palettes, colour indices, PNGs, and the way back
from a pixel of a montage to the value it shows.

The dashboard's grid sends each panel as a palette PNG coloured here with numpy instead of
a float array that plotly.js colours in the browser (:mod:`layerviz.draw.tile_figures`); hover
then asks the server for the exact value under the pointer (:func:`montage_point`), in the
original map's coordinates. Plain numpy and Pillow, no Dash.
"""

from __future__ import annotations

import base64
import functools
import io
from dataclasses import dataclass

import numpy as np
import plotly.colors
from PIL import Image

from layerviz.draw.normalise import panel_values
from layerviz.draw.selection import VisibleLayer
from layerviz.errors import ArgumentError
from layerviz.extract.reduce import display_stride
from layerviz.extract.reduce import kept_lines as extract_kept_lines

__all__ = [
    "LEVELS",
    "MontagePoint",
    "colour_indices",
    "grid_palette",
    "kept_lines",
    "map_lines",
    "montage_point",
    "palette_png_url",
    "point_text",
    "sampled",
    "shown_point",
    "tile_step",
]

#: Colours of a panel's scale; index ``LEVELS`` is the missing colour (NaN, ±Inf, gaps).
LEVELS = 255
_MISSING = (255, 255, 255)


@functools.cache
def grid_palette(colorscale: str) -> np.ndarray:
    """Plotly's colour scale ``colorscale`` as ``LEVELS`` RGB rows, then white: ``(256, 3)``.

    Sampled from Plotly's own definition, so the tiles match the colorbar Plotly draws.

    Raises:
        ArgumentError: not a Plotly colour scale name.
    """
    try:
        scale = plotly.colors.get_colorscale(colorscale)
    except Exception as exc:  # plotly raises PlotlyError or ValueError
        raise ArgumentError(f"unknown colour scale {colorscale!r}") from exc
    colours = plotly.colors.sample_colorscale(scale, np.linspace(0, 1, LEVELS).tolist())
    rgb = [plotly.colors.unlabel_rgb(c) if c.startswith("rgb") else _hex(c) for c in colours]
    return np.clip(np.rint(np.array([*rgb, _MISSING], dtype=np.float64)), 0, 255).astype(np.uint8)


def _hex(colour: str) -> tuple[int, int, int]:
    return plotly.colors.hex_to_rgb(colour)


def colour_indices(image: np.ndarray, limits: tuple[float, float] | None) -> np.ndarray:
    """Each pixel's palette index: ``limits`` cut into ``LEVELS`` equal bins; non-finite
    values (and everything, when ``limits`` is None) get the missing index ``LEVELS``."""
    if limits is None:
        return np.full(image.shape, LEVELS, dtype=np.uint8)
    low, high = limits
    scale = LEVELS / (high - low) if high > low else 0.0
    with np.errstate(invalid="ignore", over="ignore"):
        index = np.clip((image - np.float32(low)) * np.float32(scale), 0, LEVELS - 1)
    index = np.where(np.isfinite(image), index, LEVELS)
    return index.astype(np.uint8)


def palette_png_url(indices: np.ndarray, palette: np.ndarray) -> str:
    """``(h, w)`` palette indices as a ``data:image/png;base64,…`` URL (a lossless 8-bit PNG,
    a third of an RGB one, and as fast to encode)."""
    image = Image.fromarray(np.ascontiguousarray(indices), "P")
    image.putpalette(palette.tobytes())
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def tile_step(layer: VisibleLayer, max_side: int | None) -> int:
    """The smallest step ``f`` that fits the panel in ``max_side`` pixels a side when each map
    keeps every ``f``-th pixel (and the gaps between tiles stay): 1 when it fits as it is or
    ``max_side`` is None.

    Raises:
        ArgumentError: ``max_side`` below 1.
    """
    if layer.is_reduced:  # already sampled inside the model, at its own stride
        return layer.stride
    # One rule with the reduced pass, which keeps the same pixels inside the model.
    return display_stride(layer.map_shape, layer.n_maps, max_side)


def kept_lines(length: int, tiles: int, step: int) -> np.ndarray:
    """The montage rows (or columns) a panel keeps at ``step``: every ``step``-th line of each
    tile (from ``step // 2``) and every gap line between tiles; entry ``i`` is the montage
    line that the sent image's line ``i`` shows."""
    inside = _inside(length, step)
    parts = []
    for tile in range(tiles):
        parts.append(tile * (length + 1) + inside)
        if tile < tiles - 1:
            parts.append(np.array([tile * (length + 1) + length]))
    return np.concatenate(parts)


def map_lines(layer: VisibleLayer, step: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The rows and columns each map of the panel keeps at ``step`` (None at step 1): for
    ``normalise.normalised_image``, which then gathers only those pixels."""
    if step == 1 or layer.is_reduced:
        return None
    h, w = layer.map_shape
    return _inside(h, step), _inside(w, step)


def _inside(length: int, step: int) -> np.ndarray:
    """The lines a map keeps: every ``step``-th from ``step // 2`` (the middle one of a map
    shorter than ``step``, such as a 1-pixel strip)."""
    return extract_kept_lines(length, step)


def sampled(image: np.ndarray, layer: VisibleLayer, step: int) -> np.ndarray:
    """The panel's montage-shaped ``image`` at ``step``: each map crisp (nearest pixels, as a
    browser draws a larger image into fewer pixels), the gaps between tiles kept."""
    if step == 1:
        return image
    (h, w), (tiles_r, tiles_c) = layer.map_shape, layer.tiles
    return image[np.ix_(kept_lines(h, tiles_r, step), kept_lines(w, tiles_c, step))]


def shown_point(layer: VisibleLayer, step: int, row: int, col: int) -> MontagePoint | None:
    """The value at ``(row, col)`` of the image sent at ``step`` (see :func:`sampled`), or
    None in a gap or outside it."""
    (h, w), (tiles_r, tiles_c) = layer.map_shape, layer.tiles
    if layer.is_reduced and layer.stride > 1:
        return _reduced_point(layer, row, col)
    rows, cols = kept_lines(h, tiles_r, step), kept_lines(w, tiles_c, step)
    if not (0 <= row < len(rows) and 0 <= col < len(cols)):
        return None
    return montage_point(layer, int(rows[row]), int(cols[col]))


def _reduced_point(layer: VisibleLayer, row: int, col: int) -> MontagePoint | None:
    """The exact value under ``(row, col)`` of a reduced panel's image, in the full map's
    coordinates: the image shows kept pixels only, and the entry holds each one's value."""
    values = panel_values(layer)
    maps = values[np.newaxis] if layer.is_attention else _stack_of(values)
    n, h, w = maps.shape
    _, tiles_c = layer.tiles
    tile_r, r = divmod(row, h + 1)
    tile_c, c = divmod(col, w + 1)
    channel = tile_r * tiles_c + tile_c
    if not (row >= 0 and col >= 0 and r < h and c < w and tile_c < tiles_c and channel < n):
        return None
    full_h, full_w = layer.map_shape
    original_r = int(extract_kept_lines(full_h, layer.stride)[r])
    original_c = int(extract_kept_lines(full_w, layer.stride)[c])
    return MontagePoint(
        channel if layer.n_maps > 1 else None, original_r, original_c, float(maps[channel, r, c])
    )


def _stack_of(values: np.ndarray) -> np.ndarray:
    """A panel's values as maps ``(n, h, w)`` (``selection.maps_of``, as views)."""
    if values.ndim == 1:
        return values.reshape(1, 1, -1)
    return values[np.newaxis] if values.ndim == 2 else np.moveaxis(values, -1, 0)


@dataclass(frozen=True)
class MontagePoint:
    """One value of a panel, in the original map's coordinates.

    Attributes:
        channel: the map's channel (None for a panel of one map).
        row, col: in the map (query and key for an attention head).
        value: the exact value, as the layer output holds it.
    """

    channel: int | None
    row: int
    col: int
    value: float


def montage_point(layer: VisibleLayer, row: int, col: int) -> MontagePoint | None:
    """The value at ``(row, col)`` of the panel's image (the montage), or None in a gap
    between tiles or outside the image."""
    values = panel_values(layer)
    h, w = layer.map_shape
    n = layer.n_maps
    _, tiles_c = layer.tiles
    if n == 1:
        if not (0 <= row < h and 0 <= col < w):
            return None
        flat = values.reshape(h, w)
        return MontagePoint(None, row, col, float(flat[row, col]))
    tile_r, r = divmod(row, h + 1)
    tile_c, c = divmod(col, w + 1)
    channel = tile_r * tiles_c + tile_c
    if not (row >= 0 and col >= 0 and r < h and c < w and tile_c < tiles_c and channel < n):
        return None
    return MontagePoint(channel, r, c, float(values[r, c, channel]))


def point_text(layer: VisibleLayer, point: MontagePoint) -> str:
    """What hover says about a point: the panel, the place in the map, the exact value."""
    value = f"{point.value:.6g}"
    if layer.is_attention:
        return f"{layer.title}: query {point.row} attends to key {point.col}: {value}"
    where = "" if point.channel is None else f"channel {point.channel}, "
    return f"{layer.title}: {where}row {point.row}, col {point.col}: value {value}"
