"""The zip of every page as a background job: a progress bar, a cancel button, a queue.

"Download PNGs" used to hold a request for the whole export (about 9 s on MobileNetV2). Now it
is a Dash background callback: on threads of the server (embedded) or on Celery workers (with
``LAYERVIZ_REDIS_URL``; ``layerviz.ui.jobs``), while the rest of the page stays usable. Exports
are cached per (model, pattern, settings), and at most ``EXPORT_SLOTS`` draw at once per
process; a few others wait, shown as "queued", so a burst of exports cannot starve slider moves
(past ``layerviz.ui.jobs.JobSlots``' bounds, or a second one of a session, an export is refused).
In compare mode (``compare-switch`` on, with a B) the zip holds A's, B's and B − A's pages
(``a/0.png…``, ``b/…``, ``diff/…``): the compare card's own zip, from the same code.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx, dcc, html, no_update, set_props

from layerviz.draw.export import architecture_png, streamed_pages_png, zip_of
from layerviz.draw.grid import grid_pages
from layerviz.errors import PatternError
from layerviz.ui import ids
from layerviz.ui.cache import ByteLRU
from layerviz.ui.callbacks import export_norm, full_page
from layerviz.ui.common import current_reduced, error_text, grid_settings
from layerviz.ui.features.compare_state import active_b, compare_view
from layerviz.ui.jobs import JobSlots, check_cancelled, job_callback_options, job_error_text
from layerviz.ui.session import session_of
from layerviz.ui.store import current_session
from layerviz.ui.wiring import COMPARED, GRID_STATES, PATTERN
from layerviz.ui.workbench import Workbench, pattern_digest

__all__ = ["EXPORT_SLOTS", "controls", "export_zip", "panels", "register"]

#: Exports drawn at once in one process (each already uses two threads for its pages).
EXPORT_SLOTS = 2
#: Budget of the export cache (a MobileNetV2 zip is about 10 MB).
EXPORT_CACHE_BYTES = 64 * 2**20

_slots = JobSlots("export", EXPORT_SLOTS)
_cache: ByteLRU[bytes] = ByteLRU(EXPORT_CACHE_BYTES, len)


def export_zip(
    workbench: Workbench,
    store_data: Any,
    rows,
    cols,
    limit,
    plot_model=False,
    progress=None,
    b_data: Any = None,
    norm: str | None = None,
) -> tuple[str, bytes]:
    """The zip of every page (``model.png`` too when ``plot_model is True``), cached.

    With ``b_data`` (B's store form, see ``compare_state.active_b``) it is the compare card's zip
    instead: ``a/``, ``b/`` and ``diff/`` pages, the same bytes (``plot_model`` is ignored).
    ``progress(done, total, label)`` hears "queued", then each page drawn. ``norm`` draws
    A's pages under that normalisation (``callbacks.export_norm``; None: the article's).

    Raises:
        PatternError: nothing to export, or the recipe's pattern is not kept; a bad B.
        ArgumentError: a B perturbation out of range.
        JobCancelledError: the user cancelled while it waited or drew.
        JobsBusyError: too many exports wait, or this session has one already.
    """
    report = progress or (lambda done, total, label: None)
    recipe, run = current_reduced(workbench, store_data)
    pages = grid_pages(run.activations, grid_settings(rows, cols, limit))
    if not pages.pages:
        raise PatternError(
            "there is nothing to download: no layer output is larger than "
            f"{pages.settings.limit_text}"
        )
    with_model = plot_model is True and b_data is None
    b_key = None if b_data is None else json.dumps(b_data, sort_keys=True, default=str)
    key = (recipe.model, pattern_digest(run.pattern), pages.settings, with_model, b_key, norm)
    suffix = "" if b_data is None else "-compare"
    name = f"layerviz-{recipe.model}{suffix}.zip"
    total = len(pages.pages) * (1 if b_data is None else 3)
    data = _cache.get(key)
    if data is not None:
        report(total, total, "ready")
        return name, data
    report(0, total, "queued")

    def step(done, total):
        report(done, total, f"{done} of {total} pages")
        check_cancelled()

    with _slots.slot(current_session.get()):
        if b_data is not None:
            view = compare_view(workbench)
            data = view.zip_bytes(store_data, b_data, rows, cols, limit, step)
        else:
            data = _pages_zip(workbench, recipe, pages, with_model, step, norm)
    _cache.put(key, data)
    return name, data


def _pages_zip(workbench: Workbench, recipe, pages, with_model: bool, step, norm=None) -> bytes:
    """A's pages as ``0.png…`` (then ``model.png`` when asked for) in one zip, each page's
    layers at full resolution only while it is drawn."""
    model = workbench.entry(recipe.model).model if with_model else None
    architecture = architecture_png(model) if model is not None else None
    load = functools.partial(full_page, workbench, recipe)
    return zip_of(list(streamed_pages_png(pages, load, step, norm)), architecture)


#: Its controls go right under the shared Export section, beside the buttons they belong to.
CONTROLS_UNDER = "export"


def controls(workbench: Workbench) -> list:
    """The export's progress bar and cancel button (shown while an export runs)."""
    return [
        html.Div(
            [
                dbc.Progress(id=ids.EXPORT_PROGRESS, value=0, max=1, label="", className="mb-1"),
                dbc.Button(
                    [html.I(className="bi bi-x-circle me-1"), "Cancel export"],
                    id=ids.EXPORT_CANCEL,
                    color="secondary",
                    outline=True,
                    size="sm",
                    disabled=True,
                    n_clicks=0,
                ),
                dcc.Download(id=ids.EXPORT_ZIP_DOWNLOAD),
            ],
            className="mb-3",
        )
    ]


def panels(workbench: Workbench) -> list:
    return []


def _job_failed(exc: Exception) -> None:
    """The job could not run or be followed (Redis away): say so in the page, not a 500."""
    set_props(
        ids.ERROR_ALERT, {"children": job_error_text(exc) or error_text(exc), "is_open": True}
    )


def register(app, workbench: Workbench) -> None:
    """The zip export as a background callback on the app's job manager."""

    @app.callback(
        Output(ids.EXPORT_ZIP_DOWNLOAD, "data"),
        Input(ids.EXPORT_BUTTON, "n_clicks"),
        PATTERN,
        *GRID_STATES[:3],
        State(ids.PLOT_MODEL_SWITCH, "value"),
        *COMPARED,
        State(ids.EXPORT_NORM_SWITCH, "value"),
        State(ids.NORM_MODE, "value"),
        **job_callback_options(
            ids.EXPORT_PROGRESS, ids.EXPORT_BUTTON, ids.EXPORT_CANCEL, _job_failed
        ),
    )
    def _export_zip(
        set_progress, clicks, store_data, rows, cols, limit, plot_model, compare_on, b_data, *norm
    ):
        if not clicks or not store_data:
            return no_update
        # A background job runs outside the request: its session comes from the cookies
        # Dash hands it.
        current_session.set(session_of(ctx.cookies) or "local")
        try:
            name, data = export_zip(
                workbench,
                store_data,
                rows,
                cols,
                limit,
                plot_model,
                lambda done, total, label: set_progress((done, total, label)),
                active_b(compare_on, b_data),
                export_norm(*norm),
            )
        except Exception as exc:
            set_props(ids.ERROR_ALERT, {"children": error_text(exc), "is_open": True})
            return no_update
        return dcc.send_bytes(data, name)
