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

from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, Patch, State, ctx, dcc, html, no_update

from layerviz.draw.figures import empty_figure
from layerviz.ui import ids
from layerviz.ui.blocks import card, pager
from layerviz.ui.callbacks import norm_of
from layerviz.ui.common import colorscale_of, error_text, grid_settings
from layerviz.ui.features.training_run_views import (
    EpochGrid,
    available_runs,
    curves_figure,
    curves_marks,
    epoch_grid,
    offered_run,
    open_run,
    run_choices,
    strip_figure,
)
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
RANGE_MODES = {"epoch": "per epoch", "run": "fixed across the run"}


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
            return curves_figure(folder, len(open_run(folder)) - 1)
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
