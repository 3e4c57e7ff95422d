"""Optimised patterns (``layerviz.visualise``) drawn as PNGs: one per channel, or a contact sheet.

An image pattern is drawn as its pixels: its value range ``[low, high]`` mapped to 0–255, one
channel in grey, three in colour (others as their mean, in grey), enlarged by whole pixels
(nearest neighbour, so no pixel is blurred). A sequence ``(T, C)`` is drawn as its curves over
time. Only Pillow and matplotlib's object API (``Figure`` + Agg) are used.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from layerviz.errors import ArgumentError

__all__ = ["contact_sheet_png", "pattern_pixels", "pattern_png"]

#: An image pattern is enlarged by a whole factor until its longer side reaches this.
MIN_SIDE = 128
DPI = 100


def pattern_pixels(
    pattern: np.ndarray, value_range: tuple[float, float], min_side: int = MIN_SIDE
) -> np.ndarray:
    """An image pattern ``(H, W, C)`` as ``(h, w, 3)`` uint8, enlarged by whole pixels.

    Raises:
        ArgumentError: the pattern is not ``(H, W, C)``.
    """
    arr = np.asarray(pattern, dtype=np.float32)
    if arr.ndim != 3:
        raise ArgumentError(f"an image pattern is shaped (H, W, C), got {arr.shape}")
    low, high = value_range
    unit = np.clip((arr - low) / (high - low), 0.0, 1.0)
    if unit.shape[-1] != 3:
        unit = np.repeat(unit.mean(axis=-1, keepdims=True), 3, axis=-1)
    pixels = np.round(unit * 255).astype(np.uint8)
    factor = max(1, math.ceil(min_side / max(arr.shape[:2])))
    return np.repeat(np.repeat(pixels, factor, axis=0), factor, axis=1)


def pattern_png(pattern: np.ndarray, value_range: tuple[float, float]) -> bytes:
    """One optimised pattern as PNG bytes: pixels for an image, curves for a sequence.

    Raises:
        ArgumentError: the pattern is neither ``(H, W, C)`` nor ``(T, C)``.
    """
    arr = np.asarray(pattern, dtype=np.float32)
    if arr.ndim == 3:
        buffer = io.BytesIO()
        Image.fromarray(pattern_pixels(arr, value_range), "RGB").save(buffer, "PNG")
        return buffer.getvalue()
    if arr.ndim != 2:
        raise ArgumentError(f"a pattern is (H, W, C) or (T, C), got {arr.shape}")
    fig = Figure(figsize=(3.2, 1.6), dpi=DPI)
    _draw(fig.add_axes((0.02, 0.04, 0.96, 0.92)), arr, value_range)
    return _png(fig)


def contact_sheet_png(
    patterns: np.ndarray,
    labels: Sequence[str],
    value_range: tuple[float, float],
    title: str = "",
    columns: int = 8,
) -> bytes:
    """Every pattern in a grid, each titled by its label, as one PNG.

    Raises:
        ArgumentError: labels and patterns differ in number, or there are none.
    """
    arr = np.asarray(patterns, dtype=np.float32)
    if len(arr) == 0 or len(arr) != len(labels):
        raise ArgumentError(f"{len(arr)} patterns need as many labels, got {len(labels)}")
    cols = min(columns, len(arr))
    rows = math.ceil(len(arr) / cols)
    wide = arr.ndim == 3  # a sequence: curves need a wider cell than they are tall
    cell = (2.4, 1.4) if wide else (1.6, 1.8)
    fig = Figure(figsize=(cell[0] * cols, cell[1] * rows + (0.4 if title else 0)), dpi=DPI)
    if title:
        fig.suptitle(title, fontsize=11)
    for i, (pattern, label) in enumerate(zip(arr, labels, strict=True)):
        ax = fig.add_subplot(rows, cols, i + 1)
        _draw(ax, pattern, value_range)
        ax.set_title(label, fontsize=8)
    fig.tight_layout()
    return _png(fig)


def _draw(ax, pattern: np.ndarray, value_range: tuple[float, float]) -> None:
    if pattern.ndim == 3:
        ax.imshow(pattern_pixels(pattern, value_range, min_side=1), interpolation="nearest")
    else:
        for channel in range(pattern.shape[-1]):
            ax.plot(pattern[:, channel], linewidth=1)
        ax.set_ylim(*value_range)
    ax.set_xticks([])
    ax.set_yticks([])


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
