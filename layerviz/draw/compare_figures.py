"""Pure Plotly builders for comparing two patterns: A, B and B − A per layer, divergence vs depth.

Like :mod:`layerviz.draw.figures`, these import neither Dash nor Keras. The A/B/B − A grid is an
``activation_grid`` of three panels per row (a layer output, or one attention head), its
difference panels recoloured with a diverging scale whose range is symmetric around 0 and set
per row (``±max|B − A|`` at full resolution), so 0 is always white and each layer's change
fills its own scale.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import plotly.graph_objects as go

from layerviz.analysis.compare import LayerDifference
from layerviz.analysis.perturb import OcclusionMap
from layerviz.draw.figures import activation_grid, empty_figure
from layerviz.draw.selection import VisibleLayer, visible_layers
from layerviz.errors import ArgumentError

__all__ = [
    "DIFF_COLORSCALE",
    "Row",
    "compare_grid",
    "divergence_figure",
    "occlusion_figure",
    "visible_rows",
]

#: Blue below 0, white at 0, red above: the diverging scale of every B − A panel.
DIFF_COLORSCALE = "RdBu_r"
#: The three panels of a layer's row, left to right.
COLUMNS = ("A", "B", "B − A")


#: One row of the comparison grid: a layer output and, for attention scores, one head.
Row = tuple[LayerDifference, int | None]


def visible_rows(
    layers: Sequence[LayerDifference], limit_size_layer: Sequence[int] = (15, 15)
) -> list[Row]:
    """The rows the grid shows: each output larger than the limit (the grid's own rule), one
    row per head for attention scores, in model order."""
    by_name = {d.name: d for d in layers}
    panels = visible_layers((d.activation("diff") for d in layers), limit_size_layer)
    return [(by_name[p.name], p.head) for p in panels]


def compare_grid(
    rows: Sequence[Row],
    *,
    max_panel_pixels: int | None = 160,
    height_per_row: int = 260,
) -> go.Figure:
    """One page of the comparison: a row per layer output with panels A, B and B − A.

    A and B share one colour range per row (so they can be compared by eye); B − A has a
    diverging scale, symmetric around 0, of its own per row.

    Args:
        rows: this page's rows (``visible_rows``), in order, at most 6.
        max_panel_pixels, height_per_row: as in ``figures.activation_grid``.

    Returns:
        The figure; trace ``3 i + k`` is row ``i``'s panel ``COLUMNS[k]``.

    Raises:
        ArgumentError: more than 6 rows.
    """
    if not rows:
        return empty_figure("no layers to show")
    if len(rows) > 6:
        raise ArgumentError(f"a comparison page shows 1 to 6 layers, got {len(rows)}")
    panels = [
        VisibleLayer(replace(d.activation(which), name=f"{d.name} · {label}"), head)
        for d, head in rows
        for which, label in zip(("a", "b", "diff"), COLUMNS, strict=True)
    ]
    fig = activation_grid(
        panels,
        (len(rows), 3),
        max_panel_pixels=max_panel_pixels,
        height_per_row=height_per_row,
    )
    for i in range(len(rows)):
        low, high = _shared_range(panels[3 * i].image, panels[3 * i + 1].image)
        fig.data[3 * i].update(zmin=low, zmax=high)
        fig.data[3 * i + 1].update(zmin=low, zmax=high)
        half = _max_abs(panels[3 * i + 2].image) or 1.0
        fig.data[3 * i + 2].update(colorscale=DIFF_COLORSCALE, zmin=-half, zmax=half, zmid=0)
    return fig


def divergence_figure(layers: Sequence[LayerDifference], selected: str | None = None) -> go.Figure:
    """Cosine distance and relative L2 against depth, one point per layer output.

    Each point's ``customdata`` is the output's position in ``layers``, so a click names it
    (a layer with several outputs has several points at its depth). Relative L2 is drawn on
    its own axis (right); an infinite value (A silent, B not) is drawn at the top of that axis
    as a triangle and reads "inf" on hover.

    Args:
        layers: every compared layer output, in model order.
        selected: the name of an output to mark, e.g. the one open in the inspector.
    """
    if not layers:
        return empty_figure("no layers to compare")
    index = np.array([d.index for d in layers], dtype=np.int32)
    # customdata as a plain list: a typed array does not reach Dash's clickData (plotly.js
    # leaves it out of the click event's points).
    custom = list(range(len(layers)))
    names = [f"{d.index}: {d.name}" for d in layers]
    cosine = np.array([d.cosine for d in layers], dtype=np.float64)
    rel = np.array([d.relative_l2 for d in layers], dtype=np.float64)
    finite = rel[np.isfinite(rel)]
    top = float(finite.max()) * 1.1 if finite.size and finite.max() > 0 else 1.0
    shown = np.where(np.isfinite(rel), rel, top)
    rel_text = ["inf" if math.isinf(v) else f"{v:.4g}" for v in rel]
    cosine_trace = dict(
        type="scatter", x=index, y=cosine, customdata=custom, text=names,
        name="cosine distance", mode="lines+markers",
        hovertemplate="%{text}<br>cosine distance %{y:.4g}<extra></extra>",
    )  # fmt: skip
    rel_trace = dict(
        type="scatter", x=index, y=shown, customdata=custom, text=names,
        name="relative L2 ‖B−A‖/‖A‖", yaxis="y2", mode="lines+markers", hovertext=rel_text,
        marker=dict(symbol=["triangle-up" if math.isinf(v) else "circle" for v in rel]),
        hovertemplate="%{text}<br>relative L2 %{hovertext}<extra></extra>",
    )  # fmt: skip
    picked = next((d.index for d in layers if d.name == selected), None)
    mark = dict(
        type="line", x0=picked, x1=picked, xref="x", y0=0, y1=1, yref="paper",
        line=dict(color="#888", dash="dot"),
    )  # fmt: skip
    # One Figure built from plain dicts: validated once, not once per add_trace/update call.
    layout = dict(
        template="plotly_white",
        height=260,
        margin=dict(l=50, r=60, t=30, b=40),
        xaxis=dict(title=dict(text="layer (depth)"), tickmode="array", tickvals=index),
        yaxis=dict(title=dict(text="cosine distance"), rangemode="tozero"),
        yaxis2=dict(
            title=dict(text="relative L2"), overlaying="y", side="right", rangemode="tozero"
        ),
        legend=dict(orientation="h", y=1.12, x=0),
        clickmode="event",
        shapes=[] if picked is None else [mark],
    )
    return go.Figure({"data": [cosine_trace, rel_trace], "layout": layout})


def occlusion_figure(result: OcclusionMap, class_name: str | None = None) -> go.Figure:
    """The occlusion sweep's map: the class's probability drop with the box at each position.

    Positions are drawn at the boxes' centres in input coordinates, on a diverging scale
    symmetric around 0 (red: covering there hurts the class; blue: it helps). A 1-D signal's
    sweep is a curve over time.
    """
    name = class_name if class_name is not None else f"class {result.class_index}"
    offset = (result.size - 1) / 2
    title = (
        f"drop in p({name}) with a {result.size}-wide box, stride {result.stride} "
        f"(uncovered p = {result.base_probability:.3f})"
    )
    fig = go.Figure()
    if len(result.space) == 1:
        fig.add_trace(
            go.Scatter(
                x=result.xs + offset, y=result.drop[0], mode="lines+markers",
                hovertemplate="box centre t %{x}: drop %{y:.4g}<extra></extra>",
            )
        )  # fmt: skip
        fig.update_yaxes(title="probability drop", zeroline=True)
    else:
        half = float(np.abs(result.drop).max()) or 1.0
        fig.add_trace(
            go.Heatmap(
                z=result.drop, x=result.xs + offset, y=result.ys + offset,
                colorscale=DIFF_COLORSCALE, zmin=-half, zmax=half, zmid=0,
                colorbar=dict(thickness=8, outlinewidth=0),
                hovertemplate="box centre row %{y}, col %{x}: drop %{z:.4g}<extra></extra>",
            )
        )  # fmt: skip
        fig.update_yaxes(autorange="reversed", scaleanchor="x", scaleratio=1)
    fig.update_layout(
        title=dict(text=title, font_size=13),
        template="plotly_white",
        height=320,
        margin=dict(l=40, r=10, t=40, b=30),
    )
    return fig


def _max_abs(image: np.ndarray) -> float:
    finite = image[np.isfinite(image)]
    return float(np.abs(finite).max()) if finite.size else 0.0


def _shared_range(a: np.ndarray, b: np.ndarray) -> tuple[float | None, float | None]:
    """The finite min and max over both images (None, None when there are none)."""
    values = np.concatenate([a[np.isfinite(a)], b[np.isfinite(b)]])
    if not values.size:
        return None, None
    return float(values.min()), float(values.max())
