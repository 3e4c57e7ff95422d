"""The health run's controls and callbacks: a Dash background callback, like the zip export.

The run goes on the app's background callback manager (``layerviz.ui.jobs``): threads of the
server in the embedded default, Celery workers when ``LAYERVIZ_REDIS_URL`` is set. Its result
lands in ``HEALTH_STORE``, which the inspector's outlines and the statistics table read; the
rest of the page stays usable while it runs, and ``health-cancel`` stops it at the next batch.
The plain work (checks, patterns, the stored batch) is in ``inspector.jobs``.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx, dcc, html, no_update

from layerviz.ui import ids
from layerviz.ui.blocks import job_controls, upload_zone
from layerviz.ui.common import error_text, keep_upload
from layerviz.ui.features.inspector.jobs import (
    BATCH_FILE_BYTES,
    DEFAULT_SEEDS,
    MAX_SEEDS,
    MAX_THRESHOLD,
    SOURCES,
    add_batch,
    checked_run,
    health_summary,
    run_health,
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
from layerviz.ui.wiring import PATTERN
from layerviz.ui.workbench import Workbench

__all__ = ["HEALTH_SLOTS", "health_controls", "health_job", "register_health", "upload_batch"]

#: Health runs at once in one process (a server, or a Celery worker), as for exports: the
#: others wait, shown as "queued", so a burst of runs cannot starve slider moves; past the
#: bounds of ``layerviz.ui.jobs.JobSlots`` (or a second run of a session) a run is refused.
HEALTH_SLOTS = 2

_slots = JobSlots("health run", HEALTH_SLOTS)


def health_controls() -> list:
    """The health section's controls: source, N, threshold, batch upload, run and cancel."""
    source = dbc.RadioItems(
        id=ids.HEALTH_SOURCE,
        options=[{"label": text, "value": key} for key, text in SOURCES.items()],
        value="seeds",
        className="mb-1",
    )
    seeds = _number(ids.HEALTH_SEEDS, "N patterns", DEFAULT_SEEDS, (1, MAX_SEEDS), 1)
    threshold = _number(ids.HEALTH_THRESHOLD, "threshold", 0.0, (-MAX_THRESHOLD, MAX_THRESHOLD))
    run = [html.I(className="bi bi-play-fill me-1", **{"aria-hidden": "true"}), "Run"]
    buttons, progress, summary = job_controls(
        ids.HEALTH_BUTTON, run, ids.HEALTH_CANCEL, ids.HEALTH_PROGRESS, ids.HEALTH_SUMMARY
    )
    # ids.HEALTH_STORE, the result, is always in the page (inspector.layout.panels).
    store = dcc.Store(id=ids.HEALTH_BATCH_STORE)
    return [source, seeds, threshold, _batch_zone(), buttons, progress, summary, store]


def _number(id_: str, label: str, value: float, bounds: tuple, step: float | str = "any"):
    return dbc.InputGroup(
        [
            html.Label(label, htmlFor=id_, className="input-group-text"),
            dbc.Input(
                id=id_,
                type="number",
                min=bounds[0],
                max=bounds[1],
                step=step,
                value=value,
                debounce=True,
            ),
        ],
        size="sm",
        className="mb-1",
    )


def _batch_zone() -> html.Div:
    return upload_zone(
        ids.HEALTH_UPLOAD,
        ids.HEALTH_BATCH_INFO,
        max_bytes=BATCH_FILE_BYTES,
        accept=".npy,.npz",
        what="a batch of patterns",
        formats=f".npy .npz, (n, …input shape), {MAX_SEEDS} patterns",
        name="batch of patterns file",
    )


def upload_batch(workbench: Workbench, contents, filename, store_data) -> tuple:
    """The upload callback's answer: (batch store, info line, its class, source)."""
    upload = (contents, filename, store_data)
    batch, error = keep_upload(workbench, add_batch, upload, BATCH_FILE_BYTES)
    if batch is None:
        return None, error, "d-block text-danger", no_update
    info = f"{batch['filename']}: {batch['n']} patterns"
    return batch, info, "d-block text-body-secondary", "batch"


def register_health(app, workbench: Workbench) -> None:
    """The batch upload, and the run as a background callback on the app's job manager."""

    @app.callback(
        Output(ids.HEALTH_BATCH_STORE, "data"),
        Output(ids.HEALTH_BATCH_INFO, "children"),
        Output(ids.HEALTH_BATCH_INFO, "className"),
        Output(ids.HEALTH_SOURCE, "value"),
        Input(ids.HEALTH_UPLOAD, "contents"),
        State(ids.HEALTH_UPLOAD, "filename"),
        PATTERN,
        prevent_initial_call=True,
    )
    def _upload(contents, filename, store_data):
        return upload_batch(workbench, contents, filename, store_data)

    @app.callback(
        Output(ids.HEALTH_STORE, "data"),
        Output(ids.HEALTH_SUMMARY, "children"),
        Input(ids.HEALTH_BUTTON, "n_clicks"),
        PATTERN,
        State(ids.HEALTH_SOURCE, "value"),
        State(ids.HEALTH_SEEDS, "value"),
        State(ids.HEALTH_THRESHOLD, "value"),
        State(ids.HEALTH_BATCH_STORE, "data"),
        **job_callback_options(
            ids.HEALTH_PROGRESS, ids.HEALTH_BUTTON, ids.HEALTH_CANCEL, _job_failed
        ),
    )
    def _run(set_progress, clicks, store_data, source, seeds, threshold, batch):
        if not clicks:
            return no_update, no_update
        # A background job runs outside the request: its session (whose batch it reads)
        # comes from the cookies Dash hands it.
        current_session.set(session_of(ctx.cookies) or "local")
        return health_job(workbench, (store_data, source, seeds, threshold, batch), set_progress)


def _job_failed(exc: Exception) -> tuple:
    """The job could not run or be followed (Redis away): say so in the summary, not a 500."""
    return no_update, job_error_text(exc) or error_text(exc)


def health_job(workbench: Workbench, controls: tuple, set_progress) -> tuple:
    """The background job: (result store, summary); a bad argument is only a message."""

    def progress(done: int, total: int) -> None:
        set_progress((done, total, f"{done}/{total} patterns"))
        check_cancelled()  # the user's cancel stops the run between batches

    try:
        run = checked_run(*controls)
        set_progress((0, 1, "queued"))
        with _slots.slot(current_session.get()):
            result = run_health(workbench, run, progress)
    except JobCancelledError:
        return no_update, "cancelled"
    except Exception as exc:
        return no_update, error_text(exc)
    return result, health_summary(result)
