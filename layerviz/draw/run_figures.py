"""Figures of a recorded training run: numbers over epochs, and one channel's tile in every record.

Pure functions over plain arrays (a run's reader, :mod:`layerviz.record.run`, gives them): no
Dash, and nothing here reads a file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from layerviz.draw.figures import empty_figure

__all__ = ["CURVE_TITLES", "channel_strip_figure", "epoch_marks", "run_curves_figure"]

#: The per-layer curves drawn, by the name :class:`layerviz.record.run.LayerCurves` gives them.
CURVE_TITLES = {
    "mean": "mean activation",
    "std": "standard deviation",
    "zero_fraction": "fraction of zeros",
    "dead": "dead channels",
    "nonfinite": "non-finite channels",
}


def run_curves_figure(
    x: Sequence[float],
    curves: Mapping[str, Mapping[str, np.ndarray]],
    logs: Mapping[str, np.ndarray],
    current: float | None = None,
) -> go.Figure:
    """Each layer's curves over the records, and the logged loss (and metrics) beside them.

    Args:
        x: the records' positions in epochs (``epoch``, or ``epoch - 1 + batch / batches``).
        curves: ``{layer name: {"mean": ..., "std": ..., "zero_fraction": ..., "dead": ...,
            "nonfinite": ...}}``, one value per record each.
        logs: ``{"loss": ..., "accuracy": ...}``, one value per record (NaN before training).
        current: the epoch the grid shows, marked with a vertical line in every plot.

    Returns:
        A figure of six plots: the five of :data:`CURVE_TITLES`, one line per layer (a layer's
        lines share a legend entry), then the logs.
    """
    if not len(x):
        return empty_figure("the run has no records yet")
    titles = [*CURVE_TITLES.values(), "loss and metrics"]
    # Two rows of three: the layers' numbers, then dead, non-finite and the logs.
    fig = make_subplots(
        rows=2, cols=3, subplot_titles=titles, horizontal_spacing=0.06, vertical_spacing=0.2
    )
    for name, layer in curves.items():
        for plot, key in enumerate(CURVE_TITLES):
            row, col = divmod(plot, 3)
            fig.add_trace(
                go.Scatter(
                    x=list(x),
                    y=np.asarray(layer[key], np.float64),
                    mode="lines",
                    name=name,
                    legendgroup=name,
                    showlegend=plot == 0,
                    hovertemplate=f"{name}<br>epoch %{{x}}<br>{CURVE_TITLES[key]} %{{y:.4g}}"
                    "<extra></extra>",
                ),
                row=row + 1,
                col=col + 1,
            )
    for key, values in logs.items():
        fig.add_trace(
            go.Scatter(
                x=list(x),
                y=np.asarray(values, np.float64),
                mode="lines+markers",
                name=key,
                legendgroup=f"log:{key}",
                line={"dash": "dot"},
            ),
            row=2,
            col=3,
        )
    if current is not None:
        fig.update_layout(shapes=epoch_marks(current))
    fig.update_xaxes(title_text="epoch")
    fig.update_layout(
        height=520,
        margin={"l": 40, "r": 10, "t": 40, "b": 40},
        legend={"orientation": "h", "y": -0.25},
        template="plotly_white",
        uirevision="run-curves",
    )
    return fig


def epoch_marks(current: float) -> list[dict]:
    """The vertical line at epoch ``current`` in each plot of ``run_curves_figure``: what a
    scrub changes in that figure (sent alone, the figure stays in the browser)."""
    n_plots = len(CURVE_TITLES) + 1
    return [
        {
            "type": "line", "x0": current, "x1": current, "y0": 0, "y1": 1,
            "xref": "x" if plot == 0 else f"x{plot + 1}",
            "yref": "y domain" if plot == 0 else f"y{plot + 1} domain",
            "line": {"color": "#d63384", "width": 1},
        }
        for plot in range(n_plots)
    ]  # fmt: skip


def channel_strip_figure(
    strip: np.ndarray, labels: Sequence[str], title: str, colorscale: str = "Viridis"
) -> go.Figure:
    """One channel's map in every record, side by side on one colour range, one gap apart.

    Args:
        strip: ``(records, h, w)`` (or ``(records, w)`` for a 1-D output's values).
        labels: one label per record, written under its tile (``"epoch 3"``).
        title: the figure's title (which layer and channel, when it died).
    """
    if strip.ndim == 2:
        strip = strip[:, np.newaxis, :]
    n, h, w = strip.shape
    image = np.full((h, n * (w + 1) - 1), np.nan, np.float32)
    for i, tile in enumerate(strip):
        image[:, i * (w + 1) : i * (w + 1) + w] = tile
    finite = image[np.isfinite(image)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    heat = go.Heatmap(
        z=image,
        colorscale=colorscale,
        zmin=low,
        zmax=high if high > low else low + 1.0,
        hovertemplate="%{z:.4g}<extra></extra>",
    )
    centres = [i * (w + 1) + (w - 1) / 2 for i in range(n)]
    fig = go.Figure(heat)
    fig.update_xaxes(tickvals=centres, ticktext=list(labels), tickangle=-45, showgrid=False)
    fig.update_yaxes(autorange="reversed", showticklabels=False, showgrid=False)
    fig.update_layout(
        title={"text": title, "font": {"size": 13}},
        height=max(160, min(320, 40 * h)),
        margin={"l": 10, "r": 10, "t": 40, "b": 60},
        template="plotly_white",
    )
    return fig
