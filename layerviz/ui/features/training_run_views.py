"""The Training run section's plain functions (no Dash): the runs offered, one epoch's grid
page, the curves and their epoch marks, a channel's strip. The callbacks in
:mod:`layerviz.ui.features.training_run` wrap them; tests call them directly.

Open runs are kept while their number of record files stays the same, so a run still being
written is read again when it grows.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from layerviz.config import models_dir
from layerviz.draw.figures import empty_figure
from layerviz.draw.grid import GridSettings, clamp, grid_pages
from layerviz.draw.run_figures import channel_strip_figure, epoch_marks, run_curves_figure
from layerviz.draw.tile_figures import tile_grid
from layerviz.draw.tiles import shown_point
from layerviz.errors import RunError
from layerviz.record.run import Run, layer_summary, list_runs
from layerviz.record.store import RECORDS
from layerviz.ui.workbench import Workbench

__all__ = [
    "MAX_TILE_PIXELS",
    "EpochGrid",
    "available_runs",
    "curves_figure",
    "curves_marks",
    "epoch_grid",
    "offered_run",
    "open_run",
    "run_choices",
    "strip_figure",
]

#: Panels larger than this keep every f-th pixel, as the main grid's (MAX_TILE_PIXELS).
MAX_TILE_PIXELS = 320


def available_runs(workbench: Workbench) -> list[Path]:
    """The runs the app offers: those given to ``create_app``, else the bundled ones."""
    given = getattr(workbench, "runs", None)
    if given:
        return list(given)
    bundled = models_dir() / "runs"
    try:
        return list_runs(bundled) if bundled.is_dir() else []
    except RunError:
        return []


class _Runs:
    """Open runs, kept while their number of record files stays the same."""

    def __init__(self) -> None:
        self._open: dict[str, tuple[int, Run]] = {}
        self._curves: dict[int, list] = {}
        self._lock = threading.Lock()

    def curves(self, folder: str) -> list:
        """``run.curves()`` of the run as it is now, read once (it opens every record)."""
        run = self.get(folder)
        with self._lock:
            if id(run) not in self._curves:
                self._curves = {id(run): run.curves()}  # the latest run's only
            return self._curves[id(run)]

    def get(self, folder: str) -> Run:
        count = sum(1 for _ in (Path(folder) / RECORDS).glob("*.h5"))
        with self._lock:
            kept = self._open.get(folder)
            if kept is None or kept[0] != count:
                kept = (count, Run(folder, salvage=True))
                self._open[folder] = kept
            return kept[1]


_RUNS = _Runs()


def offered_run(workbench: Workbench, folder: Any) -> Run:
    """The run at ``folder`` when the app offers it (a browser may send any path), opened.

    Raises:
        RunError: ``folder`` is not one of the runs the app offers.
    """
    offered = [str(p) for p in available_runs(workbench)]
    if not isinstance(folder, str) or folder not in offered:
        shown = folder[:200] if isinstance(folder, str) else type(folder).__name__
        raise RunError(f"the runs offered are {', '.join(offered) or 'none'}; got {shown!r}")
    return _RUNS.get(folder)


def run_choices(folder: str) -> tuple[list[dict], int, dict, str]:
    """The pattern options, the last record's number, the slider's marks and the run's line."""
    run = _RUNS.get(folder)
    patterns = [{"label": label, "value": i} for i, label in enumerate(run.header.probe_labels)]
    last = max(len(run) - 1, 0)
    every = max(1, len(run) // 10)
    marks = {s.number: str(s.epoch) for s in run.stamps[::every]}
    versions = run.header.versions
    info = (
        f"{run.header.model_name}: {len(run)} records, {run.nbytes / 2**20:.2f} MB; probe: "
        f"{run.header.probe_source}; keras {versions.get('keras')} on {versions.get('backend')}"
    )
    if run.damage:
        info += f" — {run.damage}"
    return patterns, last, marks, info


class EpochGrid(NamedTuple):
    """One page of the run grid: the figure, the record's label, the page's layer names, and
    the pager's count and page (clamped)."""

    figure: Any
    label: str
    names: list[str]
    n_pages: int = 1
    page: int = 1


def epoch_grid(
    folder: str, number: int, pattern: int, settings: GridSettings, colorscale: str, norm: str,
    range_mode: str, page: Any = 1,
) -> EpochGrid:  # fmt: skip
    """Page ``page`` of the grid (as the main grid pages layers, ``rows × cols`` panels a
    page) for record ``number`` and probe pattern ``pattern``."""
    run = _RUNS.get(folder)
    if not len(run):
        return EpochGrid(empty_figure("the run has no records yet"), "", [])
    number = min(max(int(number), 0), len(run) - 1)
    record = run.record(number)
    acts = run.activations(record, int(pattern), limit_size_layer=settings.limit)
    pages = grid_pages(acts, GridSettings(settings.rows, settings.cols, (0, 0))).pages
    n_pages = max(1, len(pages))
    page = clamp(page, (1, n_pages), 1)
    first = pages[page - 1] if pages else []
    if not first:
        figure = empty_figure("no layer is larger than the size limit")
        return EpochGrid(figure, record.label, [])
    ranges = None
    if range_mode == "run":
        ranges = _run_ranges(run, first, int(pattern))
        norm = "layer"
    figure = tile_grid(
        first, settings.grid, colorscale=colorscale, norm=norm,
        max_panel_pixels=MAX_TILE_PIXELS, ranges=ranges,
    )  # fmt: skip
    loss = record.logs.get("loss")
    label = record.label + ("" if loss is None else f" · loss {loss:.4g}")
    return EpochGrid(figure, label, [panel.name for panel in first], n_pages, page)


def _run_ranges(run: Run, page, pattern: int) -> list[np.ndarray]:
    """Each panel's range over every record of the run (from the recorded statistics)."""
    positions = {info.name: i for i, info in enumerate(run.header.layers)}
    low = {name: np.inf for name in positions}
    high = {name: -np.inf for name in positions}
    for stamp in run.stamps:
        record = run.record(stamp.number, maps=False)
        for panel in page:
            layer = record.layers[positions[panel.name]]
            low[panel.name] = min(low[panel.name], float(np.nanmin(layer.minimum[pattern])))
            high[panel.name] = max(high[panel.name], float(np.nanmax(layer.maximum[pattern])))
    return [np.tile([low[p.name], high[p.name]], (p.n_maps, 1)) for p in page]


def curves_figure(folder: str, number: int):
    """Every layer's curves over the run, the current record marked."""
    run = _RUNS.get(folder)
    curves = {
        c.info.name: {
            "mean": c.mean, "std": c.std, "zero_fraction": c.zero_fraction, "dead": c.dead,
            "nonfinite": c.nonfinite,
        }
        for c in _RUNS.curves(folder)
    }  # fmt: skip
    x = _positions(run)
    current = x[min(max(int(number), 0), len(x) - 1)] if x else None
    return run_curves_figure(x, curves, run.logs(), current)


def curves_marks(folder: str, number: int) -> list[dict]:
    """The curves' epoch marks at record ``number``: all a scrub changes in that figure.

    Rebuilding the figure (ten layers × five plots) took ~320 ms on the server at each step
    of the slider (load ~7, 2 cores), beside the grid's ~60 ms; the marks alone take none.
    """
    x = _positions(_RUNS.get(folder))
    return epoch_marks(x[min(max(int(number), 0), len(x) - 1)]) if x else []


def _positions(run: Run) -> list[float]:
    """Each record's place in epochs; within-epoch records fall between their epochs."""
    per_epoch = max((s.batch or 0 for s in run.stamps), default=0) or 1
    return [
        float(s.epoch) if s.batch is None else s.epoch + s.batch / (per_epoch + 1)
        for s in run.stamps
    ]


def strip_figure(folder: str, layer_name: str, click: dict, pattern: int, colorscale: str):
    """The strip of the clicked channel over every record, and when it first died."""
    run = _RUNS.get(folder)
    positions = {info.name: i for i, info in enumerate(run.header.layers)}
    position = positions[layer_name]
    info = run.header.layers[position]
    channel = _clicked_channel(run, position, click, pattern)
    strip = run.channel_strip(position, channel, pattern)
    labels = [s.label.replace("epoch ", "") for s in run.stamps]
    dead, saturated, broken = _first_epochs(run, position, channel)
    title = (
        f"{info.name} channel {channel} over {len(run)} records (pattern "
        f"{run.header.probe_labels[pattern]}) · first dead: {dead} · first saturated: {saturated}"
    )
    if broken != "never":
        title += f" · first non-finite: {broken}"
    return channel_strip_figure(strip, labels, title, colorscale)


def _clicked_channel(run: Run, position: int, click: dict, pattern: int) -> int:
    """The channel under a click on the run grid: a montage's tile, a 1-D output's unit."""
    from layerviz.draw.selection import VisibleLayer

    info = run.header.layers[position]
    act = run.activations(run.record(0), pattern)[position]
    point = shown_point(VisibleLayer(act), int(click["step"]), int(click["y"]), int(click["x"]))
    if point is None:
        raise RunError("that pixel is a gap between maps: click inside a channel's tile")
    if point.channel is not None:
        return point.channel
    return point.col if len(info.shape) == 1 else 0


def _first_epochs(run: Run, position: int, channel: int) -> tuple[str, str, str]:
    """The first record in which the channel was dead, saturated and non-finite ("never")."""
    firsts = dict.fromkeys(("dead", "saturated", "nonfinite_channels"), "never")
    for stamp in run.stamps:
        record = run.record(stamp.number, maps=False)
        summary = layer_summary(record.layers[position], run.header.layers[position])
        for kind, first in firsts.items():
            if first == "never" and channel in summary[kind]:
                firsts[kind] = stamp.label
    return firsts["dead"], firsts["saturated"], firsts["nonfinite_channels"]


def open_run(folder: str) -> Run:
    """The run at ``folder``, opened once while its records stay the same (no check that the
    app offers it: the callbacks check that first)."""
    return _RUNS.get(folder)
