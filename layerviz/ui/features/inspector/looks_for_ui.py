"""The inspector's "what it looks for" row: its components and callbacks (the work: ``looks_for``).

Under the channel tiles, a button starts a background job (``layerviz.ui.jobs``, as the health
run) that optimises the pattern each channel on the page looks for, with a progress bar and a
cancel button. The row redraws whenever the page changes, from the tiles already made; a new
page's missing ones wait for the button.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx, dcc, html, no_update

from layerviz.ui import ids
from layerviz.ui.common import error_text
from layerviz.ui.features.compare_state import active_b
from layerviz.ui.features.inspector import looks_for
from layerviz.ui.features.inspector.looks_for import (
    cached_tiles,
    looks_for_job,
    looks_for_settings,
    model_input_range,
    page_channels,
)
from layerviz.ui.jobs import (
    JobCancelledError,
    JobSlots,
    check_cancelled,
    job_callback_options,
    job_error_text,
)
from layerviz.ui.session import session_of
from layerviz.ui.store import current_session
from layerviz.ui.workbench import Workbench

__all__ = ["looks_for_block", "range_controls", "register_looks_for", "row_of"]

#: One optimisation at a time per process: each is a few seconds of every core.
_slots = JobSlots("feature visualisation", 1)

#: The inspector's controls that decide which channels the page shows.
_PAGE_STATE = (
    (ids.PATTERN_STORE, "data"),
    (ids.SELECTED_LAYER_STORE, "data"),
    (ids.CHANNEL_SORT, "value"),
    (ids.TOPK_SLIDER, "value"),
    (ids.CHANNEL_PAGE, "active_page"),
    (ids.COMPARE_SWITCH, "value"),
    (ids.COMPARE_STORE, "data"),
)


def _optional(component_id: str) -> bool:
    """Whether a control may be missing: compare's switch, in a tab built on first view."""
    return component_id == ids.COMPARE_SWITCH


def looks_for_block() -> html.Div:
    """The row's heading, run and cancel buttons, progress bar, status line and tiles."""
    icon = html.I(className="bi bi-stars me-1", **{"aria-hidden": "true"})
    buttons = [
        dbc.Button([icon, "Find the patterns"], id=ids.LOOKS_FOR_BUTTON, color="primary",
                   outline=True, size="sm", n_clicks=0),
        dbc.Button("Cancel", id=ids.LOOKS_FOR_CANCEL, color="secondary", outline=True,
                   size="sm", disabled=True, n_clicks=0),
    ]  # fmt: skip
    progress = dbc.Progress(
        id=ids.LOOKS_FOR_PROGRESS, value=0, max=1, label="", style={"height": "14px"},
        className="flex-grow-1",
    )  # fmt: skip
    header = html.Div(
        [html.Span("What it looks for", className="fw-semibold small"), *buttons, progress],
        className="d-flex align-items-center gap-2 mt-2",
    )
    status = html.Small(
        id=ids.LOOKS_FOR_STATUS,
        className="text-body-secondary d-block",
        role="status",
        **{"aria-live": "polite"},
    )
    row = html.Div(id=ids.LOOKS_FOR_ROW, className="d-flex flex-wrap gap-1 mt-1")
    return html.Div(
        [header, _settings_row(), status, row, dcc.Store(id=ids.LOOKS_FOR_STORE)],
        className="px-2",
    )


def _settings_row() -> html.Div:
    """The input range (the model's when it states one, else editable) and the step count."""

    def box(label: str, id_: str, value, **kwargs) -> dbc.InputGroup:
        number = dbc.Input(id=id_, type="number", value=value, debounce=True, **kwargs)
        return dbc.InputGroup(
            [dbc.InputGroupText(label), number], size="sm", style={"maxWidth": "9rem"}
        )

    settings = looks_for.SETTINGS  # read when the layout is built (tests set fewer steps)
    low, high = settings.value_range
    return html.Div(
        [
            box("min", ids.LOOKS_FOR_MIN, low, step="any"),
            box("max", ids.LOOKS_FOR_MAX, high, step="any"),
            # No min/max on the box: the browser would send "nothing" for 0, not the 0 typed,
            # and the message names what arrived.
            box("steps", ids.LOOKS_FOR_STEPS, settings.steps, step=1),
            html.Small(id=ids.LOOKS_FOR_RANGE_NOTE, className="text-body-secondary"),
        ],
        className="d-flex align-items-center flex-wrap gap-2 mt-1",
    )


def range_controls(workbench: Workbench, store_data) -> tuple:
    """The range boxes for the pattern's model: ``(min, max, disabled, note)``."""
    model = store_data.get("model") if isinstance(store_data, dict) else None
    known = model_input_range(workbench, model) if isinstance(model, str) else None
    if known is None:
        low, high = looks_for.SETTINGS.value_range
        return low, high, False, "input range unknown: set the values the model expects"
    return known[0], known[1], True, "input range from the model's card"


def row_of(workbench: Workbench, page_state: tuple, result=None, settings=None) -> list:
    """The tiles already made for the page's channels with ``settings`` (no optimisation)."""
    store_data, selected, by, k, page, compare_on, b_data = page_state
    shown = page_channels(
        workbench, store_data, selected, by, k, page, active_b(compare_on, b_data)
    )
    if shown is None:
        return []
    tiles = cached_tiles(shown, result, settings)
    return [
        _tile(tiles[c], name)
        for c, name in zip(shown.channels, shown.names, strict=True)
        if c in tiles
    ]


def _tile(url: str, name: str) -> html.Figure:
    image = html.Img(
        src=url,
        alt=f"the pattern {name} looks for",
        width=72,
        height=72,
        style={"imageRendering": "pixelated"},
    )
    return html.Figure(
        [image, html.Figcaption(name, className="small text-center")], className="m-0"
    )


def register_looks_for(app, workbench: Workbench) -> None:
    """The row's redraw on every page change, and the optimisation as a background job."""
    page_inputs = [Input(i, p, allow_optional=_optional(i)) for i, p in _PAGE_STATE]
    boxes = (ids.LOOKS_FOR_MIN, ids.LOOKS_FOR_MAX, ids.LOOKS_FOR_STEPS)

    @app.callback(
        Output(ids.LOOKS_FOR_MIN, "value"),
        Output(ids.LOOKS_FOR_MAX, "value"),
        Output(ids.LOOKS_FOR_MIN, "disabled"),
        Output(ids.LOOKS_FOR_MAX, "disabled"),
        Output(ids.LOOKS_FOR_RANGE_NOTE, "children"),
        Input(ids.PATTERN_STORE, "data"),
    )
    def _range(store_data):
        low, high, known, note = range_controls(workbench, store_data)
        return low, high, known, known, note

    @app.callback(
        Output(ids.LOOKS_FOR_ROW, "children"),
        Input(ids.LOOKS_FOR_STORE, "data"),
        *page_inputs,
        *[Input(box, "value") for box in boxes],
        prevent_initial_call=True,
    )
    def _row(result, *state):
        try:
            settings = looks_for_settings(*state[-3:])
            return row_of(workbench, state[:-3], result, settings)
        except Exception as exc:
            error_text(exc)
            return []

    @app.callback(
        Output(ids.LOOKS_FOR_STORE, "data"),
        Output(ids.LOOKS_FOR_STATUS, "children"),
        Input(ids.LOOKS_FOR_BUTTON, "n_clicks"),
        *[State(i, p, allow_optional=_optional(i)) for i, p in _PAGE_STATE],
        *[State(box, "value") for box in boxes],
        **job_callback_options(
            ids.LOOKS_FOR_PROGRESS, ids.LOOKS_FOR_BUTTON, ids.LOOKS_FOR_CANCEL, _job_failed
        ),
    )
    def _run(set_progress, clicks, *state):
        if not clicks:
            return no_update, no_update
        # A background job runs outside the request: its session comes from the cookies.
        current_session.set(session_of(ctx.cookies) or "local")
        return looks_for_run(workbench, state[:-3], set_progress, state[-3:])


def _job_failed(exc: Exception) -> tuple:
    return no_update, job_error_text(exc) or error_text(exc)


def looks_for_run(
    workbench: Workbench, page_state: tuple, set_progress, boxes: tuple | None = None
) -> tuple:
    """The background job: (result store, status line); a bad argument (a setting out of its
    range included) is only a message. ``boxes``: the row's min, max and steps (None: the
    dashboard's ``SETTINGS``)."""

    def progress(done: int, total: int) -> None:
        if done == total or done % 4 == 0:  # a poll every 300 ms reads it: no need for more
            set_progress((done, total, f"{done}/{total} steps"))
        check_cancelled()  # the user's cancel stops the run at the next step

    try:
        settings = looks_for_settings(*boxes) if boxes is not None else None
        store_data, selected, by, k, page, compare_on, b_data = page_state
        b = active_b(compare_on, b_data)
        shown = page_channels(workbench, store_data, selected, by, k, page, b)
        if shown is None:
            return no_update, "click a panel of the grid to pick a layer first"
        set_progress((0, 1, "queued"))
        with _slots.slot(current_session.get()):
            result = looks_for_job(workbench, shown, progress, settings)
    except JobCancelledError:
        return no_update, "cancelled"
    except Exception as exc:
        return no_update, error_text(exc)
    return result, f"{len(result['tiles'])} patterns of {result['layer']}"
