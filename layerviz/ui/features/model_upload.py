"""The "Your model" section: a ``.keras`` upload that, once vetted, joins this session's list.

The file is vetted by :func:`layerviz.check_model_file` (static checks, then a canary child
that loads and runs it under limits) before this server process loads it. The loaded model
is kept in ``workbench.user_models`` under an unguessable name that only the uploading
browser session learns: its ``dcc.Store(storage_type="session")`` remembers the names, and
``model-select`` lists them for that session only. Selecting it renders at once with a random
pattern (seed 0), like any model without samples.

The canary takes seconds (about 10 on a busy machine), so the upload callback does only the
quick static checks and hands the rest (canary, load, keep) to a bounded
:class:`~layerviz.load.canary_queue.CheckQueue` (issue 25, row 2): it returns at once with
"checking…", a ``dcc.Interval`` polls the check's state, and a full queue refuses at once with
its limit. The state is written to the session's upload store as it changes, so with several
workers the poll may land on any of them. The page shows the check's steps as the check's own
code reports them (issue 20; :mod:`layerviz.ui.features.upload_steps`).
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from dash import Input, Output, State, dcc, html, no_update

from layerviz.errors import LayervizError, UnsafeModelError
from layerviz.load.canary_queue import CheckQueue, CheckTicket, report_step
from layerviz.load.modelcheck import CheckLimits, check_model_file
from layerviz.ui import ids
from layerviz.ui.blocks import section
from layerviz.ui.common import decode_upload, error_text
from layerviz.ui.features.upload_steps import sandbox_estimate, steps_view
from layerviz.ui.shared_models import MAX_MODEL_FILE_BYTES, load_upload
from layerviz.ui.store import StoreUnavailableError, current_session
from layerviz.ui.wiring import ALERT
from layerviz.ui.workbench import Workbench, upload_entry

__all__ = [
    "CHECKS",
    "MAX_SESSION_MODELS",
    "POLL_MS",
    "add_uploaded_model",
    "check_state",
    "controls",
    "decode_model_upload",
    "panels",
    "poll_upload",
    "register",
    "session_options",
    "start_upload_check",
]

log = logging.getLogger("layerviz.ui")

#: How many uploads one session's list remembers (the oldest drops off).
MAX_SESSION_MODELS = 8
#: How often the page asks how its upload's check is going.
POLL_MS = 1000
#: This process's queue of upload checks (a few run at once, a bounded few wait).
CHECKS = CheckQueue()


def controls(workbench: Workbench) -> list:
    """The upload zone, its status line and the session's store of uploaded models."""

    mb = MAX_MODEL_FILE_BYTES // 2**20
    zone = dcc.Upload(
        id=ids.MODEL_UPLOAD,
        max_size=MAX_MODEL_FILE_BYTES,
        accept=".keras",
        className="upload-zone",
        className_active="upload-zone active",
        children=html.Div(
            [
                html.I(className="bi bi-box-arrow-in-up fs-4 d-block"),
                html.Span("Drop your .keras model or "),
                html.A("choose a file", className="link-primary"),
                html.Small(
                    f"built-in Keras layers only — up to {mb} MB; checked in a sandbox first",
                    className="text-body-secondary d-block",
                ),
            ]
        ),
    )
    return [
        section(
            "Your model",
            "box-arrow-in-up",
            [
                html.Div(zone, **{"data-max-bytes": str(MAX_MODEL_FILE_BYTES)}),
                html.Small(id=ids.MODEL_UPLOAD_INFO, className="text-body-secondary d-block"),
                dcc.Store(id=ids.MODEL_UPLOAD_STORE, storage_type="session"),
                dcc.Store(id=ids.MODEL_UPLOADS_KEPT),
                dcc.Store(id=ids.MODEL_UPLOAD_PENDING),
                dcc.Interval(id=ids.MODEL_UPLOAD_POLL, interval=POLL_MS, disabled=True),
            ],
        )
    ]


def panels(workbench: Workbench) -> list:
    """Nothing in the results column: an uploaded model shows in the usual grid."""
    return []


def decode_model_upload(contents: Any, filename: str) -> bytes:
    """A model upload's bytes: :func:`decode_upload` against the upload zone's own limit.

    Raises:
        UnsafeModelError: not a base64 data URL, or over ``MAX_MODEL_FILE_BYTES``.
    """
    return decode_upload(contents, filename, MAX_MODEL_FILE_BYTES, UnsafeModelError)


def add_uploaded_model(
    workbench: Workbench,
    data: bytes,
    filename: str,
    limits: CheckLimits | None = None,
    on_step: Callable[[str], None] | None = None,
) -> dict:
    """Vet an uploaded model, load it here, keep it for this session; its dropdown option.

    Takes seconds (the canary): the page runs it on a check queue's thread
    (:func:`start_upload_check`), never in a request. ``on_step`` is told each step as it
    begins: ``"file"``, ``"sandbox"`` (by :func:`check_model_file`), then ``"open"``.

    Returns:
        ``{"label": ..., "value": name}`` for ``model-select``; ``name`` is unguessable.

    Raises:
        UnsafeModelError: the checks or the canary refused it.
        ModelLoadError, ModelStructureError: Keras could not load it, or layerviz cannot
            cut it into layers (free axes, a subclassed model).
    """
    shared = workbench.model_files
    if shared is not None:
        shared.check()  # Redis away: say so now, not after the canary's seconds
    report = check_model_file(
        data, MAX_MODEL_FILE_BYTES, limits=limits, canary=True, file_name=filename, on_step=on_step
    )
    if on_step is not None:
        on_step("open")
    loaded = load_upload(data, filename, report)
    entry = functools.partial(upload_entry, loaded=loaded)  # called with the name it is kept as

    session = current_session.get()
    if shared is None:
        name = workbench.user_models.add(entry, loaded.nbytes, owner=session)
    else:
        # Any worker may answer this session's next request: the file goes to the shared
        # store under a name every worker derives alike (see layerviz.ui.shared_models).
        name = shared.name_of(session, data)
        shared.put(session, name, data, filename)
        workbench.user_models.keep(name, entry(name), loaded.nbytes, owner=session)
    return {"label": loaded.title, "value": name}


def _kept(workbench: Workbench, name: Any) -> bool:
    """Whether this worker or the shared store still keeps the session's model ``name``."""
    if workbench.user_models.get(name, current_session.get()) is not None:
        return True
    if workbench.model_files is None or not workbench.user_models.is_upload_name(name):
        return False
    try:
        return workbench.model_files.contains(current_session.get(), name)
    except StoreUnavailableError:  # listed again when the store is back
        return False


def session_options(workbench: Workbench, store_data: Any) -> list[dict]:
    """The uploads a session's store lists that the server still keeps, checked field by field."""
    listed = store_data.get("models") if isinstance(store_data, dict) else None
    options = []
    for item in listed[-MAX_SESSION_MODELS:] if isinstance(listed, list) else []:
        if not isinstance(item, dict):
            continue
        label, value = item.get("label"), item.get("value")
        if isinstance(label, str) and _kept(workbench, value):
            options.append({"label": label[:200], "value": value})
    return options


def _base_options(workbench: Workbench) -> list[dict]:
    return [{"label": workbench.entry_title(n), "value": n} for n in workbench.model_names]


#: A check whose state no worker can tell after this long is reported lost.
_LOST_AFTER_S = 15 * 60.0


def start_upload_check(
    workbench: Workbench,
    data: bytes,
    filename: str,
    limits: CheckLimits | None = None,
    queue: CheckQueue | None = None,
) -> CheckTicket:
    """Run the quick static checks now, and queue the canary, the load and the keeping.

    Returns at once: the canary runs on a thread of ``queue``, never the caller's. Its state
    (``check_state``) is written to the session's upload store as it changes.

    Raises:
        UnsafeModelError: the static checks refused the file.
        ChecksBusyError: the queue is full, or this session has as many checks as it may.
        StoreUnavailableError: the shared store (Redis) cannot be reached.
    """
    shared = workbench.model_files
    if shared is not None:
        shared.check()  # Redis away: say so now, not after the canary's seconds
    check_model_file(data, MAX_MODEL_FILE_BYTES, limits=limits, canary=False, file_name=filename)
    session = current_session.get()

    def work() -> dict:
        token = current_session.set(session)  # a queue thread starts with no session
        try:
            option = add_uploaded_model(workbench, data, filename, limits, on_step=report_step)
            _open(workbench, option["value"])
            return option
        finally:
            current_session.reset(token)

    queue = queue or CHECKS
    return queue.submit(session, work, on_state=lambda t: _record(workbench, session, t, queue))


def _open(workbench: Workbench, name: str) -> None:
    """Open the upload here, on the queue's thread: trace and run its first view's pass, so
    that the request that shows it does not pay for it (the canary bounded what it costs)."""
    try:
        workbench.reduced(workbench.default_recipe(name))
    except LayervizError as exc:  # the view that opens it says so, in its own words
        log.info("opening upload %s ahead of its view failed: %s", name, str(exc)[:200])


def _state_key(ticket_id: str) -> str:
    return f"model-check-{ticket_id}"


def _state_of(ticket: CheckTicket, queue: CheckQueue | None = None) -> dict:
    """A ticket's state as the page (or another worker) reads it."""
    queue = queue or CHECKS
    wall = time.time() - time.monotonic()  # monotonic to Unix time, for other workers
    state: dict[str, Any] = {
        "state": ticket.state,
        "step": ticket.step,
        "step_since": wall + ticket.step_started,
        "done": [step for step, _ in ticket.steps_done],
        "estimate": sandbox_estimate(queue.typical("sandbox"), CheckLimits().canary_timeout_s),
    }
    if ticket.state == "queued":
        state["ahead"] = queue.ahead_of(ticket)
    elif ticket.state == "checking" and ticket.started is not None:
        state["since"] = wall + ticket.started
    elif ticket.state == "done":
        state["option"] = ticket.result
    elif ticket.state == "failed":
        state["error"] = error_text(ticket.error)
    return state


def _record(workbench: Workbench, session: str, ticket: CheckTicket, queue: CheckQueue) -> None:
    """Write the ticket's state where any worker serving this session can read it."""
    text = json.dumps(_state_of(ticket, queue)).encode()
    workbench.uploads.put_bytes(session, _state_key(ticket.id), text)


def check_state(
    workbench: Workbench, ticket_id: str, queue: CheckQueue | None = None
) -> dict | None:
    """How this session's check ``ticket_id`` is going, or None when no one here knows yet.

    Returns:
        ``{"state": "queued", "ahead": n}``, ``{"state": "checking", "since": unix time}``,
        ``{"state": "done", "option": {...}}`` or ``{"state": "failed", "error": text}``;
        each also with ``step`` (the step under way, or the one it failed in), ``step_since``
        (Unix time), ``done`` (the steps finished) and ``estimate`` (the sandbox step's
        seconds and their ``basis``: ``"typical"``, measured here, or its time ``"limit"``).

    Raises:
        StoreUnavailableError: the shared store (Redis) cannot be reached.
    """
    session = current_session.get()
    queue = queue or CHECKS
    ticket = queue.ticket(ticket_id)
    if ticket is not None and ticket.owner == session:
        return _state_of(ticket, queue)
    raw = workbench.uploads.get_bytes(session, _state_key(ticket_id))
    return None if raw is None else json.loads(raw)


def _pending_of(pending: Any) -> dict | None:
    """The page's pending check, checked field by field (it comes from the browser)."""
    if not isinstance(pending, dict):
        return None
    ticket, name, since = pending.get("ticket"), pending.get("file"), pending.get("since")
    if not (isinstance(ticket, str) and 0 < len(ticket) <= 64 and isinstance(name, str)):
        return None
    if not isinstance(since, int | float):
        return None
    return {"ticket": ticket, "file": name[:200], "since": float(since)}


def poll_upload(workbench: Workbench, pending: Any, store_data: Any) -> tuple:
    """The poll's answer: the status line while the check runs; the listed model, or the
    refusal, once it ended. Outputs as the poll callback's (see ``register``)."""
    stop = (None, True)  # forget the pending check, stop polling
    pending = _pending_of(pending)
    if pending is None:
        return *(no_update,) * 6, *stop
    name = pending["file"]
    try:
        state = check_state(workbench, pending["ticket"])
    except StoreUnavailableError as exc:
        return *(no_update,) * 3, "", f"{name} was not loaded: {error_text(exc)}", True, *stop
    if state is None and time.time() - pending["since"] > _LOST_AFTER_S:
        state = {"state": "failed", "error": "its check was lost (did the server restart?)"}
    state = state or {"state": "queued"}
    if state.get("state") == "failed":
        message = f"{name} was not loaded: {str(state.get('error'))[:500]}"
        refused = [steps_view(name, state), html.Small(message, className="text-danger")]
        return *(no_update,) * 3, refused, message, True, *stop
    if state.get("state") != "done" or not isinstance(state.get("option"), dict):
        return *(no_update,) * 3, steps_view(name, state), *(no_update,) * 4
    option = state["option"]
    listed = session_options(workbench, store_data)
    # The same file again has the same name when it is shared: listed once.
    kept = [*[o for o in listed if o["value"] != option["value"]], option]
    store = {"models": kept[-MAX_SESSION_MODELS:]}
    options = _base_options(workbench) + store["models"]
    info = [
        steps_view(name, state),
        f"{name} passed the checks and is listed for this browser session only",
    ]
    return options, option["value"], store, info, no_update, no_update, *stop


def register(app, workbench: Workbench) -> None:
    """The upload callback and the one that lists a session's uploads when its page loads."""

    @app.callback(
        Output(ids.MODEL_UPLOAD_INFO, "children"),
        *ALERT,
        Output(ids.MODEL_UPLOAD, "contents"),
        Output(ids.MODEL_UPLOAD_PENDING, "data"),
        Output(ids.MODEL_UPLOAD_POLL, "disabled"),
        Input(ids.MODEL_UPLOAD, "contents"),
        State(ids.MODEL_UPLOAD, "filename"),
        prevent_initial_call=True,
    )
    def _upload(contents, filename):
        # Returns at once: the canary runs on the check queue's thread (issue 25, row 2).
        if not contents:
            return (no_update,) * 6
        name = filename[:200] if isinstance(filename, str) and filename else "upload.keras"
        try:
            ticket = start_upload_check(workbench, decode_model_upload(contents, name), name)
        except Exception as exc:
            return "", f"{name} was not loaded: {error_text(exc)}", True, None, None, True
        pending = {"ticket": ticket.id, "file": name, "since": time.time()}
        info = steps_view(name, _state_of(ticket))
        return info, no_update, no_update, None, pending, False

    @app.callback(
        Output(ids.MODEL_SELECT, "options", allow_duplicate=True),
        Output(ids.MODEL_SELECT, "value"),
        Output(ids.MODEL_UPLOAD_STORE, "data"),
        Output(ids.MODEL_UPLOAD_INFO, "children", allow_duplicate=True),
        *ALERT,
        Output(ids.MODEL_UPLOAD_PENDING, "data", allow_duplicate=True),
        Output(ids.MODEL_UPLOAD_POLL, "disabled", allow_duplicate=True),
        Input(ids.MODEL_UPLOAD_POLL, "n_intervals"),
        State(ids.MODEL_UPLOAD_PENDING, "data"),
        State(ids.MODEL_UPLOAD_STORE, "data"),
        prevent_initial_call=True,
    )
    def _poll(_ticks, pending, store_data):
        return poll_upload(workbench, pending, store_data)

    # A session's uploads, listed again on a reload: asked of the server only when the session
    # has some (the layout already lists the others), so a plain open costs no request.
    app.clientside_callback(
        """function (_stamp, data) {
            return (data && data.models && data.models.length)
                ? data : window.dash_clientside.no_update;
        }""",
        Output(ids.MODEL_UPLOADS_KEPT, "data"),
        Input(ids.MODEL_UPLOAD_STORE, "modified_timestamp"),
        State(ids.MODEL_UPLOAD_STORE, "data"),
    )

    @app.callback(
        Output(ids.MODEL_SELECT, "options"),
        Input(ids.MODEL_UPLOADS_KEPT, "data"),
        prevent_initial_call=True,
    )
    def _list(store_data):
        return _base_options(workbench) + session_options(workbench, store_data)
