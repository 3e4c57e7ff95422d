"""The dataset lens's files: the probe curve and the CKA matrix as CSV and PNG.

matplotlib's object API only (``Figure`` + the Agg canvas), as :mod:`layerviz.draw.export`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from layerviz.lens.probes import ProbeCurve

__all__ = ["cka_csv", "cka_png", "probe_csv", "probe_png"]

DPI = 100


def probe_csv(curve: ProbeCurve) -> str:
    """One row per layer: ``index,name,accuracy,spread,chance``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["index", "name", "accuracy", "spread", "chance"])
    for row in curve.rows():
        scores = (row["accuracy"], row["spread"], curve.chance)
        writer.writerow([row["index"], row["name"], *(f"{v:.6f}" for v in scores)])
    return out.getvalue()


def cka_csv(names: Sequence[str], matrix: np.ndarray) -> str:
    """The matrix with the layers' names as the first row and the first column."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["layer", *names])
    for name, row in zip(names, matrix, strict=True):
        writer.writerow([name, *(f"{value:.6f}" for value in row)])
    return out.getvalue()


def probe_png(curve: ProbeCurve, path: Path, title: str = "") -> None:
    """Probe accuracy against depth, with the spread over folds and the chance level."""
    width = min(4 + 0.18 * len(curve.names), 24)
    fig = Figure(figsize=(width, 4.2), dpi=DPI)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    x = np.arange(len(curve.names))
    ax.fill_between(x, curve.accuracy - curve.spread, curve.accuracy + curve.spread, alpha=0.2)
    ax.plot(x, curve.accuracy, marker="o", label="probe accuracy")
    ax.axhline(curve.chance, color="grey", linestyle="--", label=f"chance ({curve.chance:.2f})")
    ax.set_xticks(x, curve.names, rotation=60, ha="right", fontsize=7)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel(f"accuracy ({curve.folds}-fold CV)")
    ax.set_title(title or "Linear probe per layer")
    ax.legend(loc="lower right")
    fig.tight_layout()
    canvas.print_png(str(path))


def cka_png(names: Sequence[str], matrix: np.ndarray, path: Path, title: str = "") -> None:
    """The CKA matrix as a heatmap (0 to 1, viridis), layers in model order on both axes."""
    side = min(3 + 0.16 * len(names), 24)
    fig = Figure(figsize=(side + 1, side), dpi=DPI)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    image = ax.imshow(matrix, vmin=0, vmax=1, cmap="viridis", interpolation="nearest")
    if len(names) <= 60:  # past that the names overlap; the CSV has them
        ticks = np.arange(len(names))
        ax.set_xticks(ticks, names, rotation=90, fontsize=6)
        ax.set_yticks(ticks, names, fontsize=6)
    fig.colorbar(image, ax=ax, label="linear CKA")
    ax.set_title(title or "Layer similarity (linear CKA)")
    fig.tight_layout()
    canvas.print_png(str(path))
