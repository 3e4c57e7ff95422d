"""Pure Plotly builders for the layer inspector: a page of channel heatmaps, a value histogram.

Like :mod:`layerviz.draw.figures`, these return ``go.Figure`` objects, import neither Dash nor
Keras,
and send images as typed arrays. Panels are laid out in pixels (the figure's width and height
are set), so every channel is drawn at least ``panel_px`` a side whatever the window's width.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from layerviz.analysis.statistics import CHANNEL_SCORES
from layerviz.draw.channel_pages import ChannelPage, ChannelPanel, finite_range
from layerviz.draw.figures import _title_above, downsample, empty_figure, plotly_text, typed_array

__all__ = [
    "DEAD_COLOUR",
    "SATURATED_COLOUR",
    "SELECTED_COLOUR",
    "channel_grid",
    "fill_columns",
    "value_histogram",
]

DEAD_COLOUR = "#d62728"
SATURATED_COLOUR = "#ff7f0e"
#: The selected channel's outline: the page's focus colour, wider than the health outlines.
SELECTED_COLOUR = "#1a56db"
# No named template: validating "plotly_white" deep-copies the whole template into every
# figure, which was 3/4 of the time it took to build a page of 16 channels.
_TEMPLATE = "none"
_BACKGROUND = dict(paper_bgcolor="white", plot_bgcolor="white")
_AXIS = dict(showticklabels=False, showgrid=False, zeroline=False, ticks="", showline=False)
_GAP_PX = 14  # between panels
_TITLE_PX = 34  # above each panel: two lines of title
_MARGIN = dict(l=8, t=8, b=8)


@dataclass(frozen=True)
class _Cell:
    """One panel's place: paper-coordinate domains and Plotly's axis names."""

    i: int
    x: tuple[float, float]
    y: tuple[float, float]

    @property
    def suffix(self) -> str:
        return "" if self.i == 0 else str(self.i + 1)


def channel_grid(
    page: ChannelPage,
    *,
    dead: Collection[int] = (),
    saturated: Collection[int] = (),
    selected: int | None = None,
    colorscale: str = "Viridis",
    panel_px: int = 128,
    max_cols: int = 8,
    max_panel_pixels: int = 256,
    width: int | None = None,
) -> go.Figure:
    """One inspector page: each channel its own heatmap, best-ranked first, row by row.

    Args:
        page: from :func:`layerviz.draw.channel_pages.channel_page`.
        dead, saturated: channel indices to outline (and name in their titles), e.g. from
            :func:`layerviz.model_health`.
        selected: a channel index to outline as the selected one (and name in its title).
        colorscale: any Plotly colorscale name.
        panel_px: each panel's side in pixels (at least 96 for a readable map).
        max_cols: panels per row at most.
        max_panel_pixels: maps larger than this on a side are block-averaged for display
            (hover then says so); smaller maps hover with their exact values.
        width: the pixels the figure may take (a pane's width): columns and ``panel_px`` are
            then chosen to fill it (panels from ``MIN_PANEL_PX`` to ``MAX_PANEL_PX`` a side;
            fewer columns when there are few channels); None keeps ``panel_px``.

    Returns:
        The figure: one heatmap trace per channel, titled ``"ch 12 · 0.4321"``; per-map
        ranges without a colorbar, shared ranges with one colorbar.
    """
    if not page.panels:
        return empty_figure("no channels to show")
    n = len(page.panels)
    shared = page.norm != "map"
    margin = dict(_MARGIN, r=70 if shared else 8)
    if width is None:
        cols = min(max_cols, math.ceil(math.sqrt(n)))
    else:
        cols, panel_px = fill_columns(n, int(width) - margin["l"] - margin["r"], max_cols)
    rows = math.ceil(n / cols)
    width, height = cols * panel_px + (cols - 1) * _GAP_PX, rows * (panel_px + _TITLE_PX)
    traces, annotations, shapes, layout = [], [], [], {}
    for cell, panel in zip(_cells(rows, cols, panel_px, width, height), page.panels, strict=False):
        marks = _marks(panel.channel, dead, saturated)
        if panel.channel == selected:
            marks = [("selected", SELECTED_COLOUR), *marks]
        traces.append(_trace(page, panel, cell, max_panel_pixels, shared))
        annotations.append(_title(panel, cell, marks))
        shapes.extend(
            _outline(cell, colour, 6 if word == "selected" else 3) for word, colour in marks
        )
        layout.update(_axes(cell, panel.image.shape))
    if shared:
        low_high = page.panels[0].zrange or (None, None)
        layout["coloraxis"] = dict(
            colorscale=colorscale,
            cmin=low_high[0],
            cmax=low_high[1],
            colorbar=dict(thickness=12, outlinewidth=0, x=1.01, xanchor="left"),
        )
    else:
        for trace in traces:
            trace["colorscale"] = colorscale
    layout.update(
        annotations=annotations,
        shapes=shapes,
        template=_TEMPLATE,
        **_BACKGROUND,
        width=width + margin["l"] + margin["r"],
        height=height + margin["t"] + margin["b"],
        margin=margin,
        uirevision=f"{page.activation.name} {page.scores.by} {page.k} {page.page}",
    )
    return go.Figure({"data": traces, "layout": layout})


def value_histogram(array: np.ndarray, title: str, bins: int = 64) -> go.Figure:
    """A histogram of one layer's values, binned here (the values never travel).

    Args:
        array: the layer output (any shape); NaN and infinities are left out and counted in
            the title.
        title: what the histogram is of, e.g. the layer's name.
        bins: how many equal-width bins span the finite values.

    Returns:
        A bar chart of counts per bin, or an ``empty_figure`` when no value is finite.
    """
    values = np.asarray(array, dtype=np.float32).reshape(-1)
    low_high = finite_range([values])
    if low_high is None:
        return empty_figure(f"{title}: no finite values")
    finite = values if np.isfinite(values).all() else values[np.isfinite(values)]
    low, high = low_high
    counts, edges = np.histogram(finite, bins=bins, range=(low, high) if high > low else None)
    centres = (edges[:-1] + edges[1:]) / 2
    left_out = values.size - finite.size
    note = f" · {left_out} NaN/inf left out" if left_out else ""
    fig = go.Figure(
        {
            "data": [
                dict(
                    type="bar",
                    x=typed_array(centres.astype(np.float32)),
                    y=typed_array(counts.astype(np.int32)),
                    width=float(edges[1] - edges[0]),
                    marker=dict(color="#440154"),
                    hovertemplate="%{x:.4g}: %{y} values<extra></extra>",
                )
            ],
            "layout": dict(
                # Left-aligned: the right of the top margin is Plotly's mode bar's.
                title=dict(
                    text=f"{plotly_text(title)}: {values.size} values{note}",
                    font_size=13,
                    x=0.01,
                    xanchor="left",
                    xref="container",
                ),
                template=_TEMPLATE,
                **_BACKGROUND,
                height=280,
                bargap=0,
                margin=dict(l=56, r=10, t=56, b=44),
                xaxis=dict(title=dict(text="value")),
                yaxis=dict(
                    type="log" if _spiky(counts) else "linear",
                    title=dict(text="count" + (" (log)" if _spiky(counts) else "")),
                ),
            ),
        }
    )
    return fig


def _spiky(counts: np.ndarray) -> bool:
    """True when one bin towers over the typical one (ReLU's zeros): a log axis reads better."""
    filled = counts[counts > 0]
    return bool(filled.size) and counts.max() > 100 * np.median(filled)


# --- panels ----------------------------------------------------------------------------------

#: The smallest panel side a map stays readable at, and the largest worth its height.
MIN_PANEL_PX = 96
MAX_PANEL_PX = 480


def fill_columns(n: int, plot_width: int, max_cols: int = 8) -> tuple[int, int]:
    """``(columns, panel side)`` for ``n`` panels across ``plot_width`` pixels: as square a
    grid as fits panels of at least ``MIN_PANEL_PX``, each as wide as the width allows (up to
    ``MAX_PANEL_PX``), so the panels fill the width."""
    fit = max(1, (plot_width + _GAP_PX) // (MIN_PANEL_PX + _GAP_PX))
    needed = math.ceil((plot_width + _GAP_PX) / (MAX_PANEL_PX + _GAP_PX))
    cols = max(1, min(n, max_cols, fit, max(math.ceil(math.sqrt(n)), needed)))
    side = (plot_width - (cols - 1) * _GAP_PX) // cols
    return cols, int(min(MAX_PANEL_PX, max(MIN_PANEL_PX, side)))


def _cells(rows: int, cols: int, panel_px: int, width: int, height: int):
    """Each panel's paper domains, from the pixel layout (titles above, gaps between)."""
    for i in range(rows * cols):
        r, c = divmod(i, cols)
        x0 = c * (panel_px + _GAP_PX)
        top = r * (panel_px + _TITLE_PX) + _TITLE_PX
        yield _Cell(
            i,
            (x0 / width, min(1.0, (x0 + panel_px) / width)),
            (max(0.0, 1 - (top + panel_px) / height), 1 - top / height),
        )


def _trace(page: ChannelPage, panel: ChannelPanel, cell: _Cell, max_px: int, shared: bool):
    image, factor = downsample(np.asarray(panel.image, dtype=np.float32), max_px)
    where = f"block mean of {factor}×{factor} around " if factor > 1 else ""
    score = CHANNEL_SCORES.get(page.scores.by, page.scores.by)  # a caller's own order: its name
    trace = dict(
        type="heatmap",
        z=typed_array(image),
        x0=(factor - 1) / 2,
        dx=factor,
        y0=(factor - 1) / 2,
        dy=factor,
        xaxis=f"x{cell.suffix}",
        yaxis=f"y{cell.suffix}",
        hovertemplate=f"<b>channel {panel.channel}</b> (rank {panel.rank + 1}, {score} "
        f"{panel.score:.4g})<br>{where}row %{{y}}, col %{{x}}<br>value %{{z:.6g}}<extra></extra>",
        hoverongaps=False,
        name=f"channel {panel.channel}",
        meta=dict(channel=panel.channel),
    )
    if shared:
        trace["coloraxis"] = "coloraxis"
    else:
        trace["showscale"] = False
        if panel.zrange is not None:
            trace["zmin"], trace["zmax"] = panel.zrange
    return trace


def _marks(channel: int, dead: Collection[int], saturated: Collection[int]):
    """``[(word, colour)]`` for a dead or saturated channel; empty for a healthy one."""
    if channel in dead:
        return [("dead", DEAD_COLOUR)]
    if channel in saturated:
        return [("saturated", SATURATED_COLOUR)]
    return []


def _title(panel: ChannelPanel, cell: _Cell, marks) -> dict:
    words = "".join(f' <span style="color:{colour}">● {word}</span>' for word, colour in marks)
    text = f"<b>#{panel.rank + 1}</b> {plotly_text(panel.title)}{words}"
    return _title_above(text, cell.x, cell.y[1], size=11)


def _outline(cell: _Cell, colour: str, width: int = 3) -> dict:
    return dict(
        type="rect",
        xref="paper",
        yref="paper",
        x0=cell.x[0],
        x1=cell.x[1],
        y0=cell.y[0],
        y1=cell.y[1],
        line=dict(color=colour, width=width),
    )


def _axes(cell: _Cell, image_shape: tuple[int, int]) -> dict:
    """Hidden axes; square pixels except for long thin strips, which fill the panel."""
    h, w = image_shape
    elongated = max(h, w) > 3 * min(h, w)
    return {
        f"xaxis{cell.suffix}": dict(_AXIS, domain=cell.x, anchor=f"y{cell.suffix}"),
        f"yaxis{cell.suffix}": dict(
            _AXIS,
            domain=cell.y,
            anchor=f"x{cell.suffix}",
            autorange="reversed",
            scaleanchor=None if elongated else f"x{cell.suffix}",
        ),
    }
