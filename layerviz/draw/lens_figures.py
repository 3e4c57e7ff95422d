"""The Dataset views' figures: a projection of one layer, probe accuracy by depth, CKA.

Pure functions of plain data (arrays and names) returning Plotly figures; each point carries
what a click needs in ``customdata`` (a pattern's row, a layer's name).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from PIL import Image

__all__ = ["COLOUR_BY", "cka_figure", "probe_figure", "projection_figure", "thumbnail_url"]

#: What the projection's points may be coloured by.
COLOUR_BY = ("label", "prediction", "correct")
_MARGIN = dict(l=40, r=10, t=30, b=40)


def projection_figure(
    coords: np.ndarray,
    groups: np.ndarray | None,
    group_names: Sequence[str] = (),
    title: str = "",
) -> go.Figure:
    """One marker per pattern at its 2-D coordinates, one trace (and colour) per group.

    Args:
        coords: ``(n, 2)`` coordinates.
        groups: ``(n,)`` whole numbers naming each point's group (a class, or 0/1 for
            wrong/right), or None for one colour.
        group_names: the name of each group value, for the legend.
        title: the figure's title.

    Returns:
        A figure whose points carry their pattern's row in ``customdata``.
    """
    rows = np.arange(len(coords))
    fig = go.Figure()
    values = np.zeros(len(coords), dtype=int) if groups is None else np.asarray(groups)
    for value in np.unique(values):
        chosen = rows[values == value]
        name = group_names[value] if 0 <= value < len(group_names) else str(value)
        fig.add_trace(
            go.Scatter(
                x=coords[chosen, 0],
                y=coords[chosen, 1],
                mode="markers",
                marker=dict(size=7, opacity=0.8),
                name=name if groups is not None else "patterns",
                # A list, not an array: Plotly leaves typed-array customdata out of the
                # hover and click events, which need the pattern's row.
                customdata=chosen.tolist(),
                hovertemplate=f"pattern %{{customdata}}<br>{name}<extra></extra>",
            )
        )
    fig.update_layout(
        title=dict(text=title, font=dict(size=13)),
        margin=_MARGIN,
        height=380,
        legend=dict(font=dict(size=10)),
        clickmode="event",
        xaxis=dict(zeroline=False),
        yaxis=dict(zeroline=False),
    )
    return fig


def probe_figure(
    names: Sequence[str], accuracy: Sequence[float], spread: Sequence[float], chance: float
) -> go.Figure:
    """Probe accuracy against depth (a band for the spread over folds) and the chance line."""
    x = list(range(len(names)))
    acc, err = np.asarray(accuracy), np.asarray(spread)
    fig = go.Figure(
        go.Scatter(
            x=x,
            y=acc,
            mode="lines+markers",
            name="probe accuracy",
            error_y=dict(type="data", array=err, visible=True, thickness=1),
            customdata=list(names),
            hovertemplate="%{customdata}: %{y:.3f}<extra></extra>",
        )
    )
    fig.add_hline(
        y=chance, line_dash="dash", line_color="grey", annotation_text=f"chance {chance:.2f}"
    )
    fig.update_layout(
        margin=dict(_MARGIN, b=90),
        height=320,
        yaxis=dict(range=[0, 1.05], title="accuracy"),
        xaxis=dict(tickmode="array", tickvals=x, ticktext=list(names), tickangle=-60),
        showlegend=False,
        clickmode="event",
    )
    return fig


def cka_figure(names: Sequence[str], matrix: np.ndarray, debiased: bool = False) -> go.Figure:
    """The CKA matrix as a heatmap from 0 to 1, layers in model order on both axes."""
    kind = "debiased CKA" if debiased else "linear CKA"
    fig = go.Figure(
        go.Heatmap(
            z=np.asarray(matrix, dtype=np.float32),
            x=list(names),
            y=list(names),
            zmin=0,
            zmax=1,
            colorscale="Viridis",
            colorbar=dict(title=dict(text=kind)),
            hovertemplate="%{y} ↔ %{x}: %{z:.3f}<extra></extra>",
        )
    )
    fig.update_layout(
        margin=dict(_MARGIN, l=90, b=90),
        height=420,
        yaxis=dict(autorange="reversed"),
        xaxis=dict(tickangle=-60),
    )
    return fig


def thumbnail_url(pattern: np.ndarray, side: int = 96) -> str | None:
    """A pattern ``(H, W)``, ``(H, W, 1)`` or ``(H, W, 3)`` as a PNG data URL; None otherwise.

    Values are stretched to the pattern's own range; the image is scaled (nearest) so its
    longer side is ``side`` pixels.
    """
    arr = np.asarray(pattern, dtype=np.float32)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[-1] == 3)):
        return None
    low, high = float(arr.min()), float(arr.max())
    scaled = (arr - low) / (high - low) if high > low else np.zeros_like(arr)
    image = Image.fromarray(np.round(scaled * 255).astype(np.uint8))
    ratio = side / max(image.size)
    image = image.resize(
        (max(1, round(image.width * ratio)), max(1, round(image.height * ratio))),
        Image.Resampling.NEAREST,
    )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
