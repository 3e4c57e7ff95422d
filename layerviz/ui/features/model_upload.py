"""The "Your model" section: a ``.keras`` upload that, once vetted, joins this session's list.

The file is vetted by :func:`layerviz.check_model_file` (static checks, then a canary child
that loads and runs it under limits) before this server process loads it. The loaded model
is kept in ``workbench.user_models`` under an unguessable name that only the uploading
browser session learns: its ``dcc.Store(storage_type="session")`` remembers the names, and
``model-select`` lists them for that session only. Selecting it renders at once with a random
pattern (seed 0), like any model without samples.
"""

from __future__ import annotations

import functools
from typing import Any

from dash import Input, Output, State, dcc, html, no_update

from layerviz.errors import UnsafeModelError
from layerviz.load.modelcheck import CheckLimits, check_model_file
from layerviz.ui import ids
from layerviz.ui.blocks import section
from layerviz.ui.common import decode_upload, error_text
from layerviz.ui.shared_models import MAX_MODEL_FILE_BYTES, load_upload
from layerviz.ui.store import StoreUnavailableError, current_session
from layerviz.ui.wiring import ALERT
from layerviz.ui.workbench import Workbench, upload_entry

__all__ = [
    "MAX_SESSION_MODELS",
    "add_uploaded_model",
    "controls",
    "decode_model_upload",
    "panels",
    "register",
    "session_options",
]

#: How many uploads one session's list remembers (the oldest drops off).
MAX_SESSION_MODELS = 8


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
                dcc.Loading(
                    html.Small(id=ids.MODEL_UPLOAD_INFO, className="text-body-secondary d-block"),
                    type="dot",
                ),
                dcc.Store(id=ids.MODEL_UPLOAD_STORE, storage_type="session"),
                dcc.Store(id=ids.MODEL_UPLOADS_KEPT),
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
    workbench: Workbench, data: bytes, filename: str, limits: CheckLimits | None = None
) -> dict:
    """Vet an uploaded model, load it here, keep it for this session; its dropdown option.

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
        data, MAX_MODEL_FILE_BYTES, limits=limits, canary=True, file_name=filename
    )
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


def register(app, workbench: Workbench) -> None:
    """The upload callback and the one that lists a session's uploads when its page loads."""

    @app.callback(
        Output(ids.MODEL_SELECT, "options", allow_duplicate=True),
        Output(ids.MODEL_SELECT, "value"),
        Output(ids.MODEL_UPLOAD_STORE, "data"),
        Output(ids.MODEL_UPLOAD_INFO, "children"),
        *ALERT,
        Output(ids.MODEL_UPLOAD, "contents"),
        Input(ids.MODEL_UPLOAD, "contents"),
        State(ids.MODEL_UPLOAD, "filename"),
        State(ids.MODEL_UPLOAD_STORE, "data"),
        prevent_initial_call=True,
    )
    def _upload(contents, filename, store_data):
        if not contents:
            return (no_update,) * 7
        name = filename[:200] if isinstance(filename, str) and filename else "upload.keras"
        try:
            option = add_uploaded_model(workbench, decode_model_upload(contents, name), name)
        except Exception as exc:
            message = f"{name} was not loaded: {error_text(exc)}"
            return no_update, no_update, no_update, "", message, True, None
        listed = session_options(workbench, store_data)
        # The same file again has the same name when it is shared: listed once.
        kept = [*[o for o in listed if o["value"] != option["value"]], option]
        store = {"models": kept[-MAX_SESSION_MODELS:]}
        options = _base_options(workbench) + store["models"]
        info = f"{name} passed the checks and is listed for this browser session only"
        return options, option["value"], store, info, no_update, no_update, None

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
