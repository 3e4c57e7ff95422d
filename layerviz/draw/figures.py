"""Pure Plotly figure builders for the dashboard: activation grids, predictions, input patterns.

Every function returns a ``plotly.graph_objects.Figure`` and imports neither Dash nor Keras.
Images are passed to Plotly as float32 (or uint8) numpy arrays, which Plotly 7 serialises as
base64 typed arrays (``bdata``) — several times smaller than JSON float lists.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from layerviz.errors import ArgumentError

if TYPE_CHECKING:
    from layerviz.draw.selection import VisibleLayer

__all__ = [
    "activation_grid",
    "downsample",
    "empty_figure",
    "explanation_figure",
    "pattern_figure",
    "plotly_text",
    "png_data_url",
    "prediction_bar",
    "typed_array",
]


def plotly_text(text: str) -> str:
    """``text`` (plain, perhaps a user's file name) as Plotly draws titles and annotations.

    Plotly reads ``<b>``, ``<br>`` and the like as markup and decodes only ``&amp;``,
    ``&lt;``, ``&gt;`` and numeric entities, so ``&``, ``<`` and ``>`` are escaped and quotes
    are left alone (``html.escape`` turns ``"`` into ``&quot;``, which Plotly shows as typed).
    """
    return html.escape(text, quote=False)


_TEMPLATE = "plotly_white"
_AXIS = dict(showticklabels=False, showgrid=False, zeroline=False, ticks="", showline=False)


def downsample(image: np.ndarray, max_side: int) -> tuple[np.ndarray, int]:
    """Shrink a 2-D image by block means so that both sides are at most ``max_side``.

    NaN pixels are ignored in the means; a block is NaN only when all its pixels are. The edges
    are padded with NaN to a multiple of the factor.

    Args:
        image: a 2-D array.
        max_side: the largest side allowed (at least 1).

    Returns:
        ``(image, factor)``: the float32 block means and the integer factor; with factor 1 the
        very same array is returned untouched.
    """
    if max_side < 1:
        raise ArgumentError(f"max_side must be at least 1, got {max_side}")
    h, w = image.shape
    factor = max(1, math.ceil(h / max_side), math.ceil(w / max_side))
    if factor == 1:
        return image, 1
    out_h, out_w = math.ceil(h / factor), math.ceil(w / factor)
    known = ~np.isnan(image)
    values = np.zeros((out_h * factor, out_w * factor), dtype=np.float32)
    counts = np.zeros(values.shape, dtype=np.float32)
    np.copyto(values[:h, :w], image, where=known)
    counts[:h, :w] = known
    totals, counts = (_block_sum(a, factor) for a in (values, counts))
    with np.errstate(invalid="ignore", divide="ignore"):
        means = totals / counts  # 0 / 0 -> NaN where the whole block is padding or gaps
    return means.astype(np.float32, copy=False), factor


def _block_sum(a: np.ndarray, f: int) -> np.ndarray:
    """Sums over ``f × f`` blocks of ``a`` (its sides are multiples of ``f``).

    Strided slices added in turn: much faster than ``reshape(...).sum`` over short axes.
    """
    rows = a[0::f].copy()
    for k in range(1, f):
        rows += a[k::f]
    blocks = rows[:, 0::f].copy()
    for k in range(1, f):
        blocks += rows[:, k::f]
    return blocks


def _shape_note(layer: VisibleLayer, factor: int) -> str:
    """The title's second line: map shape, channel count, downsampling."""
    h, w = layer.map_shape
    note = f"{h}×{w}" + (f" ×{layer.n_maps} maps" if layer.n_maps > 1 else "")
    if layer.is_attention:
        note += " query × key"
    if factor > 1:
        note += f" · shown at 1/{factor}"
    return note


def _nan_range(images: Sequence[np.ndarray]) -> tuple[float, float] | None:
    """The smallest and largest finite values over ``images``, or None if there are none."""
    lows, highs = [], []
    for img in images:
        finite = img[np.isfinite(img)]
        if finite.size:
            lows.append(float(finite.min()))
            highs.append(float(finite.max()))
    return (min(lows), max(highs)) if lows else None


def typed_array(array: np.ndarray) -> dict:
    """Encode an array as a plotly.js typed-array spec (``{"dtype", "bdata", "shape"}``).

    This is the form Plotly itself sends numpy arrays in; doing it here, once per panel, spares
    Plotly from validating and converting each array again (about 4 ms instead of 40 for a
    page of nine 136×136 panels).
    """
    a = np.ascontiguousarray(_plotly_typed(np.asarray(array)))
    dtype = _TYPED_ARRAY_CODES[a.dtype.type]
    return {
        "dtype": dtype,
        "bdata": base64.b64encode(a.tobytes()).decode("ascii"),
        "shape": ", ".join(str(d) for d in a.shape),
    }


#: The dtypes plotly.js has typed arrays for, and their codes.
_TYPED_ARRAY_CODES = {
    np.float32: "f4",
    np.float64: "f8",
    np.int8: "i1",
    np.uint8: "u1",
    np.int16: "i2",
    np.uint16: "u2",
    np.int32: "i4",
    np.uint32: "u4",
}


def _plotly_typed(a: np.ndarray) -> np.ndarray:
    """``a`` in a dtype plotly.js can read: float16 (mixed precision) and bool widen, 64-bit
    integers become float64 (JavaScript has no int64 typed array the plot reads)."""
    if a.dtype.type in _TYPED_ARRAY_CODES:
        return a
    if a.dtype == np.bool_:
        return a.astype(np.uint8)
    if a.dtype.kind == "f":
        return a.astype(np.float32)
    if a.dtype.kind in "iu":
        return a.astype(np.float64)
    raise ArgumentError(f"cannot draw an array of dtype {a.dtype}")


def _grid_domains(
    rows: int, cols: int, h_gap: float, v_gap: float
) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """Paper-coordinate ``(x_domain, y_domain)`` of each cell, row by row from the top."""
    width = (1 - h_gap * (cols - 1)) / cols
    height = (1 - v_gap * (rows - 1)) / rows
    cells = []
    for i in range(rows * cols):
        r, c = divmod(i, cols)
        x0 = c * (width + h_gap)
        top = 1 - r * (height + v_gap)
        cells.append(((_unit(x0), _unit(x0 + width)), (_unit(top - height), _unit(top))))
    return cells


def _unit(value: float) -> float:
    """Clamp to [0, 1]: float sums like 1 - 3 × (1/3) land a hair outside, which Plotly refuses."""
    return min(1.0, max(0.0, value))


def activation_grid(
    page: Sequence[VisibleLayer],
    grid_size: Sequence[int] = (3, 3),
    *,
    colorscale: str = "Viridis",
    shared_colorbar: bool = False,
    max_panel_pixels: int | None = 160,
    height_per_row: int = 300,
) -> go.Figure:
    """One page of layer activations as a grid of heatmaps, one panel per layer.

    Args:
        page: the layers of this page, in grid order (row by row); at most ``rows × cols``.
        grid_size: ``(rows, cols)``; cells past the end of ``page`` stay blank.
        colorscale: any Plotly colorscale name.
        shared_colorbar: one colour axis and colorbar for all panels (values comparable across
            layers) instead of one colorbar per panel.
        max_panel_pixels: images larger than this on either side are block-averaged down;
            None draws them at full size.
        height_per_row: figure height per grid row, in pixels.

    Returns:
        The figure; hover shows the layer, row, column (in the original image's coordinates)
        and value. Heatmap ``z`` values are typed-array specs (``typed_array``).

    Raises:
        ArgumentError: the grid is smaller than 1×1 or the page does not fit in it.
    """
    grid = _PageGrid(page, grid_size, height_per_row)
    if not page:
        return empty_figure("no layers to show")

    traces, titles = [], []
    for layer, axes, x_dom, y_dom in grid.panels:
        image, factor = (
            downsample(layer.image, max_panel_pixels) if max_panel_pixels else (layer.image, 1)
        )
        colour = (
            {"coloraxis": "coloraxis"}
            if shared_colorbar
            else _panel_colour(colorscale, x_dom, y_dom)
        )
        traces.append({**_panel_trace(layer, image, factor, axes), **colour})
        titles.append(_panel_title(layer, factor, x_dom, y_dom))
        grid.layout.update(_panel_axes(axes, x_dom, y_dom, image.shape))

    if shared_colorbar:
        grid.layout["coloraxis"] = _shared_coloraxis(page, colorscale)
    grid.layout.update(annotations=titles, template=_TEMPLATE)
    return go.Figure({"data": traces, "layout": grid.layout})


class _PageGrid:
    """Where a page's panels go in a ``rows × cols`` grid, shared by the heatmap and the tile
    grid: ``panels`` are ``(layer, axes, x domain, y domain)`` in grid order, and ``layout``
    starts with the figure's size, margins, revision and the hidden axes of the empty cells.

    Raises:
        ArgumentError: the grid is smaller than 1×1 or the page does not fit in it.
    """

    def __init__(self, page: Sequence[VisibleLayer], grid_size: Sequence[int], height_per_row):
        rows, cols = (int(v) for v in grid_size)
        if rows < 1 or cols < 1:
            raise ArgumentError(f"grid size must be at least 1x1, got {rows}x{cols}")
        if len(page) > rows * cols:
            raise ArgumentError(f"{len(page)} layers do not fit in a {rows}x{cols} grid")
        height = rows * height_per_row
        margin = dict(l=10, r=50, t=60, b=10)
        self.cells = _grid_cells(rows, cols, height - margin["t"] - margin["b"])
        self.layout: dict = dict(
            height=height,
            margin=margin,
            uirevision=f"grid {rows}x{cols}: " + " | ".join(layer.title for layer in page),
        )
        self.panels = []
        for i, (x_dom, y_dom) in enumerate(self.cells):
            axes = _Axes(i)
            if i < len(page):
                self.panels.append((page[i], axes, x_dom, y_dom))
            else:
                self.layout[axes.x_name] = dict(domain=x_dom, anchor=axes.y_ref, visible=False)
                self.layout[axes.y_name] = dict(domain=y_dom, anchor=axes.x_ref, visible=False)


def _grid_cells(rows: int, cols: int, plot_height: int):
    """The cells' paper domains, with gaps for titles (60 px) and colorbars."""
    v_gap = 60 / max(plot_height, 1)
    return _grid_domains(
        rows,
        cols,
        min(0.08, 0.9 / (cols - 1)) if cols > 1 else 0.0,
        min(v_gap, 0.9 / (rows - 1)) if rows > 1 else 0.0,
    )


class _Axes:
    """Plotly's names for the ``i``-th cell's axes: ``xaxis``/``x`` then ``xaxis2``/``x2``..."""

    def __init__(self, i: int):
        suffix = "" if i == 0 else str(i + 1)
        self.x_name, self.y_name = f"xaxis{suffix}", f"yaxis{suffix}"
        self.x_ref, self.y_ref = f"x{suffix}", f"y{suffix}"


def _panel_trace(layer: VisibleLayer, image: np.ndarray, factor: int, axes: _Axes) -> dict:
    """The heatmap of one panel; hover reads in the original image's coordinates."""
    where = f"block mean of {factor}×{factor} around " if factor > 1 else ""
    if layer.is_attention:
        # Rows are queries, columns keys: the hover reads as a sentence about one weight.
        reads = f"{where}query %{{y}} attends to key %{{x}}: %{{z:.3g}}"
    else:
        reads = f"{where}row %{{y}}, col %{{x}}<br>value %{{z:.4g}}"
    return dict(
        type="heatmap",
        z=typed_array(np.asarray(image, dtype=np.float32)),
        x0=(factor - 1) / 2,
        dx=factor,
        y0=(factor - 1) / 2,
        dy=factor,
        xaxis=axes.x_ref,
        yaxis=axes.y_ref,
        hovertemplate=f"<b>{plotly_text(layer.title)}</b><br>{reads}<extra></extra>",
        hoverongaps=False,
        name=layer.title,
    )


def _panel_colour(colorscale: str, x_dom, y_dom) -> dict:
    """A panel's own colour scale, with a slim colorbar right of it, as tall as the panel."""
    colorbar = dict(
        x=x_dom[1] + 0.005,
        xanchor="left",
        y=(y_dom[0] + y_dom[1]) / 2,
        yanchor="middle",
        len=y_dom[1] - y_dom[0],
        thickness=8,
        outlinewidth=0,
        tickfont=dict(size=9),
    )
    return {"colorscale": colorscale, "colorbar": colorbar}


def _panel_title(layer: VisibleLayer, factor: int, x_dom, y_dom) -> dict:
    """The ``"{index}: {name}"`` title above a panel, with its shape note below it."""
    text = f"{plotly_text(layer.title)}<br><sup>{_shape_note(layer, factor)}</sup>"
    return _title_above(text, x_dom, y_dom[1])


def _title_above(text: str, x_dom, top: float, size: int = 13) -> dict:
    """An annotation centred over the paper span ``x_dom``, sitting on the height ``top``:
    the title of a panel in any of the grid figures."""
    return dict(
        text=text,
        x=(x_dom[0] + x_dom[1]) / 2,
        y=top,
        xref="paper",
        yref="paper",
        xanchor="center",
        yanchor="bottom",
        showarrow=False,
        font=dict(size=size),
    )


def _panel_axes(axes: _Axes, x_dom, y_dom, image_shape: tuple[int, int]) -> dict:
    """A panel's hidden axes: square pixels, except for long thin maps (1×n strips,
    (time, channel) maps of sequence layers), which would shrink to a sliver and so fill
    the panel instead."""
    h, w = image_shape
    elongated = max(h, w) > 3 * min(h, w)
    return {
        axes.x_name: dict(_AXIS, domain=x_dom, anchor=axes.y_ref),
        axes.y_name: dict(
            _AXIS,
            domain=y_dom,
            anchor=axes.x_ref,
            autorange="reversed",
            scaleanchor=None if elongated else axes.x_ref,
        ),
    }


def _shared_coloraxis(page: Sequence[VisibleLayer], colorscale: str) -> dict:
    """One colour axis for the page, its range from the full-resolution images (block means
    would understate the extremes)."""
    low_high = _nan_range([layer.image for layer in page])
    cmin, cmax = low_high if low_high else (None, None)
    return dict(
        colorscale=colorscale,
        cmin=cmin,
        cmax=cmax,
        colorbar=dict(thickness=12, outlinewidth=0, x=1.005, xanchor="left"),
    )


#: An empty figure's height: one line of hint, not a tall blank plot (issue 20).
EMPTY_HEIGHT = 64


def empty_figure(message: str, height: int = EMPTY_HEIGHT) -> go.Figure:
    """A blank figure showing only ``message``, centred, ``height`` pixels tall."""
    fig = go.Figure()
    fig.add_annotation(
        text=plotly_text(message),
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        showarrow=False,
        font=dict(size=15, color="#666"),
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(template=_TEMPLATE, height=height, margin=dict(l=10, r=10, t=10, b=10))
    return fig


def prediction_bar(
    probabilities: np.ndarray, class_names: Sequence[str] | None = None, top: int = 5
) -> go.Figure:
    """The model's top-``top`` classes as horizontal bars, the best at the top.

    Args:
        probabilities: the model output for one pattern, a 1-D vector (softmax or raw scores).
        class_names: a label per class; missing labels read ``"class 7"``.
        top: how many classes to show.

    Returns:
        The bar chart, or an ``empty_figure`` when the output is not a class vector. Values
        read as percentages when the vector looks like probabilities (sums to ~1).
    """
    values = np.asarray(probabilities)
    if values.ndim != 1 or values.size == 0 or not np.issubdtype(values.dtype, np.number):
        return empty_figure(f"model output of shape {values.shape} is not a class vector")
    values = values.astype(np.float64)
    names = list(class_names or [])
    order = np.argsort(-values, kind="stable")[: max(1, int(top))]
    labels = [names[i] if i < len(names) else f"class {i}" for i in order]
    shown = values[order]
    is_prob = bool(
        np.all((values >= -1e-6) & (values <= 1 + 1e-6)) and abs(values.sum() - 1) < 1e-3
    )
    text = [f"{v:.1%}" if is_prob else f"{v:.4g}" for v in shown]
    fig = go.Figure(
        go.Bar(
            x=shown,
            y=labels,
            orientation="h",
            text=text,
            textposition="auto",
            hovertemplate="%{y}: %{text}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(range=[0, 1] if is_prob else None, tickformat=".0%" if is_prob else None)
    fig.update_layout(
        title=dict(text=f"prediction: {plotly_text(labels[0])}", font_size=14),
        # A click anywhere along a bar's row picks that class: the bar of a near-zero
        # probability has no width to hit (the explain feature's target class is picked so).
        hovermode="y",
        template=_TEMPLATE,
        height=90 + 30 * len(order),
        margin=dict(l=10, r=10, t=40, b=10),
    )
    return fig


def pattern_figure(pattern: np.ndarray) -> go.Figure:
    """The input pattern (batch axis removed) drawn as an image, an RGB picture or curves.

    ``(h, w)`` and ``(h, w, 1)`` are grayscale images, ``(h, w, 3)`` an RGB picture (values in
    [0, 1], or [0, 255] when larger), ``(t, c)`` with ``c ≤ 8 < t`` one curve per channel (a
    waveform), ``(n,)`` one curve; anything else shows its first 2-D slice.
    """
    arr = np.atleast_1d(np.asarray(pattern))
    title = "input " + "×".join(str(d) for d in arr.shape)
    fig = go.Figure()
    if arr.ndim == 1 or (arr.ndim == 2 and arr.shape[1] <= 8 < arr.shape[0]):
        series = arr.reshape(arr.shape[0], -1).astype(np.float32)
        steps = np.arange(series.shape[0], dtype=np.int32)
        for c in range(series.shape[1]):
            fig.add_trace(
                go.Scatter(
                    x=steps,
                    y=series[:, c],
                    mode="lines",
                    name=f"channel {c}",
                    hovertemplate="t %{x}: %{y:.4g}<extra></extra>",
                )
            )
        fig.update_layout(showlegend=series.shape[1] > 1)
    elif arr.ndim == 3 and arr.shape[-1] == 3:
        rgb = np.nan_to_num(arr.astype(np.float32))
        scale = 1.0 if rgb.size and rgb.max() > 1.0 else 255.0
        pixels = np.clip(np.rint(rgb * scale), 0, 255).astype(np.uint8)
        # A PNG source, not z: plotly.js draws a z image one fillRect per pixel (~0.5 s for
        # 224×224 in headless Chromium), a source image at once; hover still reads the pixel.
        fig.add_trace(go.Image(source=png_data_url(pixels), hovertemplate=_RGB_HOVER, name="input"))
        _image_axes(fig)
    else:
        image = arr
        while image.ndim > 2:
            image = image[..., 0]
        if arr.ndim > 2 and arr.shape[2:] != (1,) * (arr.ndim - 2):
            title += f" (showing [:, :{', 0' * (arr.ndim - 2)}])"
        fig.add_trace(
            go.Heatmap(
                z=image.astype(np.float32),
                colorscale="gray",
                colorbar=dict(thickness=8, outlinewidth=0),
                hovertemplate="row %{y}, col %{x}: %{z:.4g}<extra></extra>",
            )
        )
        _image_axes(fig)
        fig.update_yaxes(autorange="reversed")
    fig.update_layout(
        title=dict(text=title, font_size=14),
        template=_TEMPLATE,
        height=320,
        margin=dict(l=10, r=10, t=40, b=10),
    )
    return fig


_RGB_HOVER = "row %{y}, col %{x}: rgb %{color[0]}, %{color[1]}, %{color[2]}<extra></extra>"


def png_data_url(pixels: np.ndarray) -> str:
    """An ``(h, w, 3)`` uint8 array as a ``data:image/png;base64,…`` URL (lossless)."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels), "RGB").save(buffer, "PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _image_axes(fig: go.Figure) -> None:
    """Hide ticks and grid and keep pixels square."""
    fig.update_xaxes(**_AXIS)
    fig.update_yaxes(**_AXIS, scaleanchor="x", scaleratio=1)


def explanation_figure(
    pattern: np.ndarray, heat: np.ndarray, title: str = "", opacity: float = 0.5
) -> go.Figure:
    """A heat map over its input: an image in grey with the heat laid over it, or a sequence's
    curves with a heat band under them on the same time axis.

    Args:
        pattern: the input, with or without its batch axis: ``(H, W[, C])`` for a 2-D heat
            map, ``(T[, C])`` for a 1-D one.
        heat: the map in [0, 1], shaped as the input without its channel axis.
        title: the figure's title (plain text; it is escaped).
        opacity: the heat's opacity over an image, clamped to [0, 1].

    Returns:
        The figure.

    Raises:
        ArgumentError: ``heat`` is not 1-D or 2-D or does not match the pattern.
    """
    from layerviz.draw.overlay import grey_image, series_of  # the PNG's, so both agree

    heat = np.asarray(heat, dtype=np.float32)
    opacity = min(1.0, max(0.0, float(opacity)))
    if heat.ndim == 2:
        fig = go.Figure(
            [
                go.Heatmap(z=grey_image(pattern, heat.shape), colorscale="gray", showscale=False,
                           hovertemplate="row %{y}, col %{x}: %{z:.4g}<extra>input</extra>"),
                go.Heatmap(z=heat, colorscale="Inferno", zmin=0.0, zmax=1.0, opacity=opacity,
                           colorbar=dict(thickness=8, outlinewidth=0, title="heat"),
                           hovertemplate="row %{y}, col %{x}: %{z:.2f}<extra>heat</extra>"),
            ]
        )  # fmt: skip
        _image_axes(fig)
        fig.update_yaxes(autorange="reversed")
    elif heat.ndim == 1:
        fig = _band_figure(series_of(pattern, heat.shape[0]), heat)
    else:
        raise ArgumentError(f"a heat map is 1-D or 2-D, got shape {heat.shape}")
    fig.update_layout(
        title=dict(text=plotly_text(title), font_size=14),
        template=_TEMPLATE,
        height=360,
        margin=dict(l=10, r=10, t=40, b=10),
    )
    return fig


def _band_figure(series: np.ndarray, heat: np.ndarray) -> go.Figure:
    """Curves (one per channel) above a one-row heat band sharing their time axis."""
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=(0.8, 0.2),
                        vertical_spacing=0.04)  # fmt: skip
    steps = np.arange(series.shape[0], dtype=np.int32)
    for channel in range(series.shape[1]):
        fig.add_trace(
            go.Scatter(x=steps, y=series[:, channel], mode="lines", name=f"channel {channel}",
                       line=dict(color="#555", width=1),
                       hovertemplate="t %{x}: %{y:.4g}<extra></extra>"),
            row=1, col=1,
        )  # fmt: skip
    fig.add_trace(
        go.Heatmap(z=heat[None, :], x=steps, colorscale="Inferno", zmin=0.0, zmax=1.0,
                   colorbar=dict(thickness=8, outlinewidth=0, title="heat"),
                   hovertemplate="t %{x}: %{z:.2f}<extra>heat</extra>"),
        row=2, col=1,
    )  # fmt: skip
    fig.update_yaxes(**_AXIS, row=2, col=1)
    fig.update_layout(showlegend=False)
    return fig
