"""The dashboard's activation grid drawn as server-coloured image tiles.

Each panel is a Plotly ``image`` trace whose ``source`` is a palette PNG coloured with numpy
(:mod:`layerviz.draw.tiles`) under a normalisation mode (:mod:`layerviz.draw.normalise`). plotly.js
then
only places an ``<image>``: no float arrays to send, no colouring in JavaScript. Hover labels
come from the server (the dashboard asks for the exact value under the pointer), so the
traces carry ``hoverinfo="none"``: Plotly still reports the point. A colour range's legend is
the scale as a slim layout image with its two ends written beside it (one per panel, or one
for the page); the only traces are the panels', so trace ``i`` is panel ``i``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import plotly.io

from layerviz.draw.figures import (
    _TEMPLATE,
    _Axes,
    _PageGrid,
    _panel_axes,
    _panel_title,
    empty_figure,
    plotly_text,
)
from layerviz.draw.normalise import ARTICLE_NORM, colour_ranges, normalised_image
from layerviz.draw.selection import VisibleLayer
from layerviz.draw.tiles import (
    LEVELS,
    colour_indices,
    grid_palette,
    map_lines,
    palette_png_url,
    tile_step,
)

__all__ = ["tile_grid"]


def tile_grid(
    page: Sequence[VisibleLayer],
    grid_size: Sequence[int] = (3, 3),
    *,
    colorscale: str = "Viridis",
    norm: str = ARTICLE_NORM,
    max_panel_pixels: int | None = None,
    height_per_row: int = 300,
    ranges: Sequence[np.ndarray] | None = None,
) -> go.Figure:
    """One page of layer outputs as a grid of coloured images, one panel per layer.

    Args:
        page: the panels of this page, in grid order (row by row); at most ``rows × cols``.
        grid_size: ``(rows, cols)``; cells past the end of ``page`` stay blank.
        colorscale: a Plotly colour scale name.
        norm: ``"map"`` (each channel's tile its own range), ``"layer"`` (one range per
            panel: the article's look) or ``"page"`` (one range for all panels shown); see
            :mod:`layerviz.draw.normalise`.
        max_panel_pixels: panels larger than this on a side keep every ``f``-th pixel of
            each map (crisp, as a browser draws a larger image into fewer pixels; the gaps
            between maps stay; ``tiles.tile_step``); None sends the full montage.
        height_per_row: figure height per grid row, in pixels.
        ranges: colour ranges chosen by the caller, one ``(n_maps, 2)`` array of
            ``[low, high]`` per panel (as :func:`~layerviz.draw.normalise.colour_ranges`
            gives them), in place of ``norm``'s: a recorded run's range fixed across epochs.

    Returns:
        The figure: one image trace per panel (trace ``i`` is panel ``i``, its ``meta``
        ``{"panel": i, "step": f, "layer": name}``); the range legends are layout images and
        annotations after the titles.

    Raises:
        ArgumentError: the grid is smaller than 1×1, the page does not fit in it, or an
            unknown ``norm`` or ``colorscale``.
    """
    grid = _PageGrid(page, grid_size, height_per_row)
    if not page:
        return empty_figure("no layers to show")
    palette = grid_palette(colorscale)
    ranges = colour_ranges(page, norm) if ranges is None else list(ranges)
    layout = grid.layout
    images, titles = [], []
    for i, (layer, axes, x_dom, y_dom) in enumerate(grid.panels):
        step = tile_step(layer, max_panel_pixels)
        shown, limits = normalised_image(layer, ranges[i], map_lines(layer, step))
        url = palette_png_url(colour_indices(shown, limits), palette)
        images.append(_image_trace(layer, url, step, axes, i))
        titles.append(_panel_title(layer, step, x_dom, y_dom))
        layout.update(_panel_axes(axes, x_dom, y_dom, shown.shape))
        if layout[axes.y_name]["scaleanchor"] is None:
            # plotly.js anchors an image's axes to square pixels unless told otherwise.
            layout[axes.y_name]["scaleanchor"] = False
    legends, ends = _legends(norm, ranges, colorscale, grid.cells)
    layout.update(annotations=titles + ends, images=legends, template=_layout_template())
    return go.Figure({"data": images, "layout": layout}, skip_invalid=False)


@functools.cache
def _layout_template() -> dict:
    """The figures' template, its layout part only: the whole one (styles for every trace
    type) took Plotly 20–100 ms to validate per figure, this one ~4 ms."""
    return {"layout": plotly.io.templates[_TEMPLATE].layout.to_plotly_json()}


def _image_trace(layer: VisibleLayer, url: str, step: int, axes: _Axes, panel: int) -> dict:
    """One panel's image, in its own pixels' coordinates (hover reports them; the server
    knows which value each shows: ``tiles.shown_point``)."""
    return dict(
        type="image",
        source=url,
        xaxis=axes.x_ref,
        yaxis=axes.y_ref,
        hoverinfo="none",
        name=layer.title,
        meta={"panel": panel, "step": step, "layer": layer.name},
    )


def _range_legend(limits, colorscale: str, x: float, y_dom, labels=None) -> tuple[dict, list]:
    """A colour range's legend right of ``x``: the scale as a slim image (high at the top),
    its ends written beside it. Drawn as a layout image and two annotations: nine Plotly
    colorbars took about as long to draw as the rest of the grid together."""
    low, high = limits
    image = dict(
        source=_scale_png(colorscale),
        xref="paper",
        yref="paper",
        x=x + 0.005,
        y=y_dom[1],
        sizex=0.008,
        sizey=y_dom[1] - y_dom[0],
        sizing="stretch",
        xanchor="left",
        yanchor="top",
        layer="above",
    )
    top, bottom = labels or (f"{high:.3g}", f"{low:.3g}")
    ends = [
        _legend_text(top, x + 0.015, y_dom[1], "top"),
        _legend_text(bottom, x + 0.015, y_dom[0], "bottom"),
    ]
    return image, ends


def _legend_text(text: str, x: float, y: float, anchor: str) -> dict:
    return dict(
        text=plotly_text(text),
        x=x,
        y=y,
        xref="paper",
        yref="paper",
        xanchor="left",
        yanchor=anchor,
        showarrow=False,
        font=dict(size=9),
    )


@functools.cache
def _scale_png(colorscale: str) -> str:
    """The colour scale as a 1-pixel-wide PNG, its highest colour at the top."""
    levels = np.arange(LEVELS - 1, -1, -1, dtype=np.uint8)[:, None]
    return palette_png_url(levels, grid_palette(colorscale))


def _legends(norm: str, ranges: list[np.ndarray], colorscale: str, cells) -> tuple[list, list]:
    """The range legends of a page: one per panel (``layer``), else one right of the grid."""
    if norm == "layer":
        shown = [
            _range_legend(_first(r), colorscale, x_dom[1], y_dom)
            for r, (x_dom, y_dom) in zip(ranges, cells, strict=False)
            if _first(r) is not None
        ]
    elif norm == "map":  # each map its own range: the legend says where in it a colour lies
        shown = [_range_legend((0, 1), colorscale, 1.0, (0, 1), ("max", "min"))]
    else:
        limits = next((_first(r) for r in ranges if _first(r) is not None), None)
        shown = [] if limits is None else [_range_legend(limits, colorscale, 1.0, (0, 1))]
    return [image for image, _ in shown], [text for _, ends in shown for text in ends]


def _first(ranges: np.ndarray) -> tuple[float, float] | None:
    """A panel's range when its maps share one (None when nothing is finite)."""
    if len(ranges) == 0 or np.isnan(ranges[0]).any():
        return None
    return float(ranges[0, 0]), float(ranges[0, 1])
