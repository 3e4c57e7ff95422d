"""Dashboard feature: a recorded training run, scrubbed through its epochs (``run-grid``).

A self-contained card (its own controls, panels and callbacks, so it can become a tab of a
workspace): the run, the probe pattern, an epoch slider with play/pause (a ``dcc.Interval``
steps it), the grid of that epoch's recorded maps (the shared grid, size-limit and colour
controls apply; the colour range per epoch or fixed across the run), each layer's curves over
the epochs (mean, std, zeros, dead channels) with the loss beside them, and, on a click on a
channel of the grid, that channel's tile in every record in one strip with the first epoch it
was dead or saturated.

The runs come from ``create_app(runs=...)`` (``layerviz serve --run DIR`` / ``--runs DIR``),
else the bundled ``models/runs/``. A run still being written is read again when its number of
records changes.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, NamedTuple

import dash_bootstrap_components as dbc
import numpy as np
from dash import Input, Output, Patch, State, ctx, dcc, html, no_update

from layerviz.config import models_dir
from layerviz.draw.figures import empty_figure
from layerviz.draw.grid import GridSettings, clamp, grid_pages
from layerviz.draw.run_figures import channel_strip_figure, epoch_marks, run_curves_figure
from layerviz.draw.tile_figures import tile_grid
from layerviz.draw.tiles import shown_point
from layerviz.errors import RunError
from layerviz.record.run import Run, layer_summary, list_runs
from layerviz.record.store import RECORDS
from layerviz.ui import ids
from layerviz.ui.blocks import card, pager
from layerviz.ui.callbacks import norm_of
from layerviz.ui.common import colorscale_of, error_text, grid_settings
from layerviz.ui.workbench import Workbench

__all__ = [
    "EpochGrid",
    "available_runs",
    "controls",
    "curves_figure",
    "curves_marks",
    "epoch_grid",
    "offered_run",
    "panels",
    "register",
    "strip_figure",
    "tab",
]

#: Milliseconds between two epochs while playing (the grid of digits_cnn redraws in ~60 ms).
PLAY_MS = 600
#: Panels larger than this keep every f-th pixel, as the main grid's (MAX_TILE_PIXELS).
MAX_TILE_PIXELS = 320
RANGE_MODES = {"epoch": "per epoch", "run": "fixed across the run"}


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


def controls(workbench: Workbench) -> list:
    return []


#: The workspace's detail pane (issue 20) shows ``tab(workbench)`` under this title.
TAB = ("Training run", "film")


def panels(workbench: Workbench) -> list:
    """The section as a card below the grid, on a page without the workspace's tabs."""
    import layerviz.ui.features as registry

    if hasattr(registry, "TABS") or not available_runs(workbench):
        return []  # in the workspace, ``tab`` is the section
    return [card("Training run", "film", html.Div(tab(workbench)), className="shadow-sm mb-3")]


def tab(workbench: Workbench) -> list:
    """The section's body: its controls, the epoch's grid, the channel strip, the curves."""
    runs = available_runs(workbench)
    if not runs:
        return [
            html.Small("no recorded run: serve with --run DIR", className="text-body-secondary")
        ]
    options = [{"label": f"{p.name} ({p.parent})", "value": str(p)} for p in runs]
    top = dbc.Row(
        [
            dbc.Col(_labelled("run", dcc.Dropdown(
                id=ids.RUN_SELECT, options=options, value=options[0]["value"], clearable=False
            )), md=4),
            dbc.Col(_labelled("probe pattern", dcc.Dropdown(
                id=ids.RUN_PATTERN, options=[], value=0, clearable=False
            )), md=3),
            dbc.Col(_labelled("colour range", dbc.RadioItems(
                id=ids.RUN_RANGE,
                options=[{"label": t, "value": k} for k, t in RANGE_MODES.items()],
                value="epoch",
                inline=True,
            )), md=5),
        ],
        className="g-2 mb-2",
    )  # fmt: skip
    scrub = html.Div(
        [
            dbc.Button(
                "▶ play", id=ids.RUN_PLAY, size="sm", color="primary", outline=True, n_clicks=0
            ),
            html.Div(
                dcc.Slider(
                    id=ids.RUN_EPOCH_SLIDER, min=0, max=0, step=1, value=0, marks=None,
                    tooltip={"placement": "bottom", "always_visible": False},
                ),
                className="flex-grow-1 mx-2",
                **{"aria-label": "epoch"},
            ),
            html.Small(id=ids.RUN_EPOCH_LABEL, className="text-body-secondary"),
            dcc.Interval(id=ids.RUN_INTERVAL, interval=PLAY_MS, disabled=True),
            # The record the grid shows now: play steps on only once it is drawn.
            dcc.Store(id=ids.RUN_SHOWN_STORE),
        ],
        className="d-flex align-items-center mb-2",
    )  # fmt: skip
    return [
        top,
        scrub,
        html.Div(
            [
                html.Small(id=ids.RUN_INFO, className="text-body-secondary flex-grow-1"),
                pager(ids.RUN_PAGE),
            ],
            className="d-flex align-items-center flex-wrap mb-1",
        ),
        dcc.Graph(id=ids.RUN_GRID, figure=empty_figure(""), config={"displaylogo": False}),
        html.Small(
            "click a channel of the grid to see its tile in every epoch",
            className="text-body-secondary d-block",
        ),
        dcc.Graph(id=ids.RUN_STRIP, figure=empty_figure(""), config={"displaylogo": False}),
        dcc.Graph(id=ids.RUN_CURVES, figure=empty_figure(""), config={"displaylogo": False}),
    ]


def _labelled(text: str, control) -> html.Div:
    return html.Div([html.Small(text, className="text-body-secondary d-block"), control])


# --- plain functions the callbacks wrap ------------------------------------------------------


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


# --- callbacks -------------------------------------------------------------------------------


def register(app, workbench: Workbench) -> None:
    offered = {str(p) for p in available_runs(workbench)}
    if not offered:
        return

    def allowed(folder: Any) -> str | None:
        """The folder when it is one the page offers; a browser may send anything else."""
        return folder if isinstance(folder, str) and folder in offered else None

    @app.callback(
        Output(ids.RUN_PATTERN, "options"),
        Output(ids.RUN_PATTERN, "value"),
        Output(ids.RUN_EPOCH_SLIDER, "max"),
        Output(ids.RUN_EPOCH_SLIDER, "marks"),
        Output(ids.RUN_EPOCH_SLIDER, "value"),
        Output(ids.RUN_INFO, "children"),
        Input(ids.RUN_SELECT, "value"),
    )
    def choose_run(folder):
        folder = allowed(folder)
        if folder is None:
            return [], None, 0, {}, 0, ""
        try:
            patterns, last, marks, info = run_choices(folder)
        except Exception as exc:  # shown in the section's line
            return [], None, 0, {}, 0, error_text(exc)
        return patterns, 0, last, marks, last, info

    @app.callback(
        Output(ids.RUN_INTERVAL, "disabled"),
        Output(ids.RUN_PLAY, "children"),
        Input(ids.RUN_PLAY, "n_clicks"),
        prevent_initial_call=True,
    )
    def play(clicks):
        playing = isinstance(clicks, int) and clicks % 2 == 1
        return not playing, "⏸ pause" if playing else "▶ play"

    @app.callback(
        Output(ids.RUN_EPOCH_SLIDER, "value", allow_duplicate=True),
        Input(ids.RUN_INTERVAL, "n_intervals"),
        State(ids.RUN_EPOCH_SLIDER, "value"),
        State(ids.RUN_EPOCH_SLIDER, "max"),
        State(ids.RUN_SHOWN_STORE, "data"),
        prevent_initial_call=True,
    )
    def step(_, value, last, shown):
        # Step on only once the grid shows this record (never skip one on a slow server).
        if not isinstance(value, int) or not isinstance(last, int) or shown != value:
            return no_update
        return 0 if (value or 0) >= (last or 0) else (value or 0) + 1

    #: A new run or layout starts at page 1; scrubbing the epochs keeps the page.
    repaging = {ids.RUN_SELECT, ids.GRID_ROWS, ids.GRID_COLS, ids.SIZE_LIMIT}

    @app.callback(
        Output(ids.RUN_GRID, "figure"),
        Output(ids.RUN_EPOCH_LABEL, "children"),
        Output(ids.RUN_SHOWN_STORE, "data"),
        Output(ids.RUN_PAGE, "max_value"),
        Output(ids.RUN_PAGE, "active_page"),
        Input(ids.RUN_SELECT, "value"),
        Input(ids.RUN_EPOCH_SLIDER, "value"),
        Input(ids.RUN_PATTERN, "value"),
        Input(ids.RUN_RANGE, "value"),
        Input(ids.GRID_ROWS, "value"),
        Input(ids.GRID_COLS, "value"),
        Input(ids.SIZE_LIMIT, "value"),
        Input(ids.COLORSCALE_SELECT, "value"),
        Input(ids.NORM_MODE, "value"),
        Input(ids.RUN_PAGE, "active_page"),
    )
    def draw_grid(folder, number, pattern, range_mode, rows, cols, limit, colorscale, norm, page):
        folder = allowed(folder)
        if folder is None or not isinstance(pattern, int) or not isinstance(number, int | None):
            return (no_update,) * 5
        page = 1 if ctx.triggered_id in repaging else page
        try:
            shown = epoch_grid(
                folder, number or 0, pattern, grid_settings(rows, cols, limit),
                colorscale_of(colorscale), norm_of(norm), range_mode, page,
            )  # fmt: skip
        except Exception as exc:  # any failure is shown in place of the grid
            return empty_figure(error_text(exc)), "", number, 1, 1
        return shown.figure, shown.label, number, shown.n_pages, shown.page

    @app.callback(Output(ids.RUN_CURVES, "figure"), Input(ids.RUN_SELECT, "value"))
    def draw_curves(folder):
        folder = allowed(folder)
        if folder is None:
            return no_update
        try:  # marked at the last record, where choosing a run puts the slider
            return curves_figure(folder, len(_RUNS.get(folder)) - 1)
        except Exception as exc:
            return empty_figure(error_text(exc))

    @app.callback(
        Output(ids.RUN_CURVES, "figure", allow_duplicate=True),
        # Once the grid shows the record: the curves' redraw never delays the grid's.
        Input(ids.RUN_SHOWN_STORE, "data"),
        State(ids.RUN_SELECT, "value"),
        prevent_initial_call=True,
    )
    def mark_epoch(number, folder):
        folder = allowed(folder)
        if folder is None or not isinstance(number, int):
            return no_update
        try:
            marks = curves_marks(folder, number)
        except Exception:  # the figure says what failed already
            return no_update
        patch = Patch()
        patch["layout"]["shapes"] = marks
        return patch

    @app.callback(
        Output(ids.RUN_STRIP, "figure"),
        Input(ids.RUN_GRID, "clickData"),
        State(ids.RUN_GRID, "figure"),
        State(ids.RUN_SELECT, "value"),
        State(ids.RUN_PATTERN, "value"),
        State(ids.COLORSCALE_SELECT, "value"),
        prevent_initial_call=True,
    )
    def draw_strip(click, figure, folder, pattern, colorscale):
        point = _click_point(click, figure)
        folder = allowed(folder)
        if point is None or folder is None or not isinstance(pattern, int | None):
            return no_update
        try:
            name, where = point
            return strip_figure(folder, name, where, int(pattern or 0), colorscale_of(colorscale))
        except Exception as exc:
            return empty_figure(error_text(exc))


def _click_point(click: Any, figure: Any) -> tuple[str, dict] | None:
    """``(layer name, {"x", "y", "step"})`` of a click on the run grid's panel, or None."""
    try:
        point = click["points"][0]
        trace = figure["data"][point["curveNumber"]]
        title = str(trace["name"])  # the panel's title, "index: name"
    except (KeyError, IndexError, TypeError):
        return None
    name = title.split(": ", 1)[-1].split(" head ", 1)[0]
    step = (trace.get("meta") or {}).get("step", 1)
    return name, {"x": point.get("x", 0), "y": point.get("y", 0), "step": step}
