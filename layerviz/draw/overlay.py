"""An explanation drawn as a PNG: the input in grey with the heat map over it.

Images get the heat map laid over them with some opacity; sequences and vectors get their
values as lines with a heat band under them, on a shared time axis. Only matplotlib's object
API is used (``Figure`` + Agg), as in ``layerviz.draw.export``. ``grey_image`` and ``series_of``
(numpy only) also shape the dashboard's figure (``layerviz.draw.figures.explanation_figure``).
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from layerviz.errors import ArgumentError

__all__ = ["HEAT_CMAP", "explanation_png", "grey_image", "series_of"]

#: The heat map's colours: dark where nothing counted, bright where the evidence is.
HEAT_CMAP = "inferno"
DPI = 100


def grey_image(pattern: np.ndarray, heat_shape: tuple[int, ...]) -> np.ndarray:
    """The pattern as one grey ``(H, W)`` image (the channels' mean) for an ``(H, W)`` heat map.

    Raises:
        ArgumentError: the pattern does not hold ``heat_shape`` in its leading axes.
    """
    arr = np.asarray(pattern, dtype=np.float32)
    if arr.ndim == len(heat_shape) + 2:  # a batch axis of 1 in front
        arr = arr[0]
    if arr.shape[: len(heat_shape)] != tuple(heat_shape):
        raise ArgumentError(f"pattern shape {arr.shape} does not hold a heat map {heat_shape}")
    return arr.reshape(*heat_shape, -1).mean(axis=-1)


def series_of(pattern: np.ndarray, steps: int) -> np.ndarray:
    """The pattern as ``(steps, channels)`` curves for a 1-D heat map of ``steps``.

    Raises:
        ArgumentError: the pattern's values do not split into ``steps`` equal rows.
    """
    values = np.asarray(pattern, dtype=np.float32).reshape(-1)
    if steps < 1 or values.size % steps:
        raise ArgumentError(f"pattern of {values.size} values does not fit heat ({steps},)")
    return values.reshape(steps, -1)


def explanation_png(
    pattern: np.ndarray, heat: np.ndarray, title: str = "", opacity: float = 0.5
) -> bytes:
    """Draw a heat map over its pattern as PNG bytes.

    Args:
        pattern: the input, with or without its batch axis: ``(H, W[, C])`` for a 2-D heat
            map, ``(T[, C])`` for a 1-D one.
        heat: the map in [0, 1], shaped as the input without its channel axis.
        title: a line above the picture.
        opacity: the heat map's opacity over an image, 0 to 1.

    Returns:
        The PNG file's bytes.

    Raises:
        ArgumentError: ``heat`` is not 1-D or 2-D, does not match the pattern, or the opacity
            is outside [0, 1].
    """
    heat = np.asarray(heat, dtype=np.float32)
    if not 0.0 <= opacity <= 1.0:
        raise ArgumentError(f"opacity must be between 0 and 1, got {opacity}")
    if heat.ndim not in (1, 2):
        raise ArgumentError(f"a heat map is 1-D or 2-D, got shape {heat.shape}")
    if heat.ndim == 2:
        fig = _image_figure(grey_image(pattern, heat.shape), heat, opacity)
    else:
        fig = _band_figure(series_of(pattern, heat.size), heat)
    if title:
        fig.suptitle(title, fontsize=10)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _image_figure(grey: np.ndarray, heat: np.ndarray, opacity: float) -> Figure:
    """The grey image with the heat map over it, and the heat's colour bar."""
    h, w = grey.shape
    side = 5.0
    fig = Figure(
        figsize=(side * min(2.0, max(0.5, w / h)) + 1.2, side), dpi=DPI, layout="constrained"
    )
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.set_axis_off()
    ax.imshow(grey, cmap="gray", interpolation="nearest")
    ax.imshow(heat, cmap=HEAT_CMAP, vmin=0.0, vmax=1.0, alpha=opacity, interpolation="nearest")
    # The bar gets its own opaque mappable: drawn from the faded layer it would look washed out.
    scale = ScalarMappable(Normalize(0.0, 1.0), HEAT_CMAP)
    fig.colorbar(scale, ax=ax, fraction=0.046, pad=0.04, label="heat")
    return fig


def _band_figure(series: np.ndarray, heat: np.ndarray) -> Figure:
    """The series (one line per channel) over a heat band on the same time axis."""
    fig = Figure(figsize=(8.0, 4.0), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    line_ax, band_ax = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    steps = np.arange(series.shape[0])
    for channel in range(series.shape[1]):
        line_ax.plot(steps, series[:, channel], color="0.3", linewidth=1)
    line_ax.set_ylabel("input")
    # Pixel edges at half steps, so band cell t sits under sample t.
    extent = (-0.5, series.shape[0] - 0.5, 0, 1)
    shown = band_ax.imshow(
        heat[None, :], cmap=HEAT_CMAP, vmin=0.0, vmax=1.0, aspect="auto", extent=extent
    )
    band_ax.set_yticks([])
    band_ax.set_xlabel("step")
    fig.colorbar(shown, ax=[line_ax, band_ax], fraction=0.03, pad=0.02, label="heat")
    return fig
