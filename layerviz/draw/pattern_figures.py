"""The input patterns of a model with several inputs, side by side in one figure (pure Plotly).

Each input is drawn as :func:`layerviz.draw.figures.pattern_figure` draws a single input (an image,
an RGB picture, or curves for a vector or a waveform), in its own panel under its name and shape.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from layerviz.draw.figures import _title_above, pattern_figure
from layerviz.errors import ArgumentError

__all__ = ["input_patterns_figure"]

#: Axis properties a panel takes from its single-input figure (its place is the subplot's own).
_PLACEMENT = ("domain", "anchor", "scaleanchor")
#: Space between two panels, as a fraction of the figure's width.
_GAP = 0.1


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
    n = len(patterns)
    width = (1 - _GAP * (n - 1)) / n
    data: list[dict] = []
    layout: dict = dict(
        template="plotly_white",
        height=320,
        showlegend=False,
        margin=dict(l=10, r=10, t=40, b=10),
        annotations=[],
    )
    for i, (pattern, name) in enumerate(zip(patterns, names, strict=True)):
        domain = (i * (width + _GAP), i * (width + _GAP) + width)
        title = f"{html.escape(name)} — {tuple(np.shape(pattern))}"  # a name is not markup
        _add_panel(data, layout, pattern_figure(pattern), i, domain, title)
    # One Figure built from plain dicts: plotly validates each part once (make_subplots and
    # per-trace updates validated each part again, and took about twice as long).
    return go.Figure(data=data, layout=layout)


def _add_panel(
    data: list, layout: dict, single: go.Figure, i: int, domain: tuple, title: str
) -> None:
    """``single``'s traces in panel ``i`` (``domain`` of the width), with its axes' look
    (square pixels for images) and ``title`` above it."""
    suffix = "" if i == 0 else str(i + 1)
    for trace in single.data:
        trace = trace.to_plotly_json()
        trace.update(xaxis=f"x{suffix}", yaxis=f"y{suffix}")
        if trace["type"] == "heatmap":
            trace["showscale"] = False
        data.append(trace)
    x_look, y_look = (_look(single.layout[axis]) for axis in ("xaxis", "yaxis"))
    layout[f"xaxis{suffix}"] = {**x_look, "domain": list(domain), "anchor": f"y{suffix}"}
    layout[f"yaxis{suffix}"] = {**y_look, "anchor": f"x{suffix}"}
    if single.layout.yaxis.scaleanchor:
        layout[f"yaxis{suffix}"].update(scaleanchor=f"x{suffix}", scaleratio=1)
    layout["annotations"].append(_title_above(title, domain, 1.0))


def _look(axis) -> dict:
    return {k: v for k, v in axis.to_plotly_json().items() if k not in _PLACEMENT}
