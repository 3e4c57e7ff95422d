"""The input patterns of a model with several inputs, side by side in one figure (pure Plotly).

Each input is drawn as :func:`layerviz.figures.pattern_figure` draws a single input (an image,
an RGB picture, or curves for a vector or a waveform), in its own panel under its name and shape.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from layerviz.errors import ArgumentError
from layerviz.figures import pattern_figure

__all__ = ["input_patterns_figure"]

#: Axis properties a panel takes from its single-input figure (its place is the subplot's own).
_PLACEMENT = ("domain", "anchor", "scaleanchor")


def input_patterns_figure(patterns: Sequence[np.ndarray], names: Sequence[str]) -> go.Figure:
    """One panel per input, left to right: ``"image — (16, 16, 1)"``, ``"meta — (16,)"``.

    Args:
        patterns: one array per input, batch axis removed.
        names: the inputs' names, in the same order.

    Returns:
        A figure with one panel per input (colour bars and legends left out: the panels are
        small, and hover reads every value).

    Raises:
        ArgumentError: no pattern, or not one name per pattern.
    """
    if not patterns or len(patterns) != len(names):
        raise ArgumentError(
            f"expected one name per pattern, got {len(patterns)} patterns and {len(names)} names"
        )
    titles = [f"{name} — {tuple(np.shape(p))}" for name, p in zip(names, patterns, strict=True)]
    fig = make_subplots(rows=1, cols=len(patterns), subplot_titles=titles, horizontal_spacing=0.1)
    for column, pattern in enumerate(patterns, start=1):
        _add_panel(fig, pattern_figure(pattern), column)
    fig.update_annotations(font_size=13)
    fig.update_layout(
        template="plotly_white",
        height=320,
        showlegend=False,
        margin=dict(l=10, r=10, t=40, b=10),
    )
    return fig


def _add_panel(fig: go.Figure, single: go.Figure, column: int) -> None:
    """``single``'s traces in panel ``column``, with its axes' look (square pixels for images)."""
    suffix = "" if column == 1 else str(column)
    for trace in single.data:
        trace.update(xaxis=f"x{suffix}", yaxis=f"y{suffix}")
        if trace.type == "heatmap":
            trace.update(showscale=False)
        fig.add_trace(trace)
    for axis in ("xaxis", "yaxis"):
        look = {
            k: v for k, v in single.layout[axis].to_plotly_json().items() if k not in _PLACEMENT
        }
        fig.layout[f"{axis}{suffix}"].update(look)
    if single.layout.yaxis.scaleanchor:
        fig.layout[f"yaxis{suffix}"].update(scaleanchor=f"x{suffix}", scaleratio=1)
