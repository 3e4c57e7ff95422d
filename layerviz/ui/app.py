"""The dashboard's app factory."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path

import keras
from dash import Dash, html
from dash._utils import to_json
from flask import Flask

from layerviz.config import assets_dir
from layerviz.errors import ArgumentError, RunError
from layerviz.load.bundled import bundled_model_of
from layerviz.load.loading import load_model
from layerviz.patterns.readers import MAX_PATTERN_BYTES
from layerviz.ui import guard, serving
from layerviz.ui.callbacks import register_callbacks
from layerviz.ui.common import log
from layerviz.ui.features import FEATURES
from layerviz.ui.first_view import fill_first_view
from layerviz.ui.jobs import job_manager
from layerviz.ui.layout import page
from layerviz.ui.session import install as install_sessions
from layerviz.ui.shared_models import SharedModelFiles, model_files_from_environment
from layerviz.ui.store import (
    SECRET_VARIABLE,
    StoreUnavailableError,
    UploadStore,
    store_from_environment,
)
from layerviz.ui.workbench import Workbench
from layerviz.ui.workspace import every_tab
from layerviz.ui.workspace import register as register_workspace

__all__ = ["INDEX_STRING", "MAX_REQUEST_BYTES", "Warmup", "create_app"]

#: Largest request the server reads: an upload at the pattern limit, base64-encoded (4/3),
#: plus room for the rest of the callback's JSON. Flask answers 413 past it.
MAX_REQUEST_BYTES = MAX_PATTERN_BYTES * 4 // 3 + 2**20
#: The activation cache's budget in MiB, when ``create_app`` is not given one: each worker
#: settles near 0.75 GiB plus this budget (bench/rss.py), so a deployment sizes it here.
CACHE_MB_VARIABLE = "LAYERVIZ_CACHE_MB"
CACHE_MB_RANGE = (1, 65536)


#: Dash's page template with the document's language declared (screen readers pick their
#: voice by it).
INDEX_STRING = """<!DOCTYPE html>
<html lang="en">
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
    </head>
    <body>
        {%app_entry%}
        <footer>
            {%config%}
            {%scripts%}
            {%renderer%}
        </footer>
    </body>
</html>"""


def create_app(
    model: str | Path | keras.Model | None = None,
    pattern=None,
    *,
    include_bundled: bool = True,
    cache_bytes: int | None = None,
    embeddable: bool = False,
    uploads: UploadStore | None = None,
    model_files: SharedModelFiles | None = None,
    max_model_bytes: int | None = None,
    runs: Sequence[str | Path] | None = None,
) -> Dash:
    """Build a dashboard app.

    Args:
        model: the model to open first: a bundled name, a ``.keras`` path, or an in-memory
            Keras model; None opens the default bundled model.
        pattern: the pattern to open ``model`` with (default: its sample, or random seed 0).
        include_bundled: also offer the bundled models in the model list.
        cache_bytes: budget of the server-side activation cache; default
            ``$LAYERVIZ_CACHE_MB`` MiB when set, else the workbench's 512 MiB.
        embeddable: let other pages show this one in a frame (``layerviz.show`` in Jupyter);
            by default ``frame-ancestors 'none'``.
        uploads: where uploads are kept; default: Redis when ``LAYERVIZ_REDIS_URL`` is set
            (long work then runs on Celery workers, ``app.celery_app``), else this process.
        model_files: where uploaded model files are shared between workers; default: Redis
            when ``LAYERVIZ_REDIS_URL`` is set, else none (a model lives in its process).
        max_model_bytes: a cap on ``model``'s file (the operator's: no cap when None; uploads
            keep the upload limit whatever this says).
        runs: recorded training runs for the *Training run* section (run folders, or folders
            of runs); default: the bundled ``models/runs/``.

    Returns:
        A ``Dash`` app; ``app.server`` is the Flask app for gunicorn; ``GET /healthz`` says
        what it checked.

    Raises:
        ModelLoadError: ``model`` cannot be loaded.
        PatternError: ``pattern`` does not fit ``model``.
        ArgumentError: ``$LAYERVIZ_CACHE_MB`` is not a whole number in ``CACHE_MB_RANGE``.
        RunError: a folder in ``runs`` holds no recorded run.
    """
    run_folders = _runs_of(runs)
    extra, first = _models_of(model, include_bundled, max_model_bytes)
    cache_bytes = cache_bytes if cache_bytes is not None else cache_bytes_from_environment()
    kwargs = {} if cache_bytes is None else {"cache_bytes": cache_bytes}
    uploads = uploads if uploads is not None else store_from_environment()
    workbench = Workbench(extra, include_bundled=include_bundled, uploads=uploads, **kwargs)
    workbench.model_files = model_files or model_files_from_environment()
    workbench.runs = run_folders
    first = first or workbench.model_names[0]
    workbench.entry(first)  # fail now, with a clear error, rather than in the browser
    if pattern is not None:
        workbench.set_default_pattern(first, pattern)

    manager, celery_app = job_manager()
    server = Flask(__name__)
    serving.install(server)  # before Dash turns compression on: it reads these settings
    app = _Page(
        __name__,
        server=server,
        compress=True,
        title="layerviz",
        update_title=None,
        assets_folder=str(assets_dir()),
        serve_locally=True,
        background_callback_manager=manager,
    )
    app.server.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    # Dash signs background-job handles with it: every worker must agree (see README).
    app.server.secret_key = os.environ.get(SECRET_VARIABLE) or None
    install_sessions(app.server)
    warmup = Warmup(workbench, first)
    _add_health(app.server, workbench, "celery" if celery_app else "threads", warmup)
    app.index_string = INDEX_STRING
    # The page's callbacks name components of tabs built on first view: check them against
    # the page with every tab built (sent with the page: a copy without the first view's
    # figures, which only the layout needs).
    app.validation_layout = html.Div([page(workbench, first), *every_tab(workbench)])
    app.layout = page(workbench, first)
    fill_first_view(app.layout, workbench, first)  # the first grid comes with the page
    register_callbacks(app, workbench)
    app.celery_app = celery_app  # before the features: a feature may add Celery tasks
    register_workspace(app, workbench)
    for feature in FEATURES:
        feature.register(app, workbench)
    # After every callback is registered: the CSP names each inline script by its hash.
    guard.install(
        app.server,
        list(app.csp_hashes()),
        embeddable=embeddable,
        callbacks=app.callback_map,
        suites=app.registered_paths,
    )
    app.workbench = workbench  # for tests and benchmarks
    app.warmup = warmup
    # gunicorn's worker start-up hook finds it on the WSGI app (layerviz.ui.gunicorn_conf).
    app.server.layerviz_warmup = warmup
    app.celery_app = celery_app  # for the Celery worker: celery -A app:celery_app worker
    return app


def _runs_of(runs: Sequence[str | Path] | None) -> list[Path]:
    """Every run in ``runs`` (a run's folder, or a folder of runs), checked now."""
    from layerviz.record.run import list_runs

    found: list[Path] = []
    for folder in runs or ():
        listed = list_runs(folder)
        if not listed:
            raise RunError(f"{folder} holds no recorded training run")
        found.extend(listed)
    return found


def cache_bytes_from_environment() -> int | None:
    """The activation cache's budget from ``$LAYERVIZ_CACHE_MB``, or None when it is unset.

    Raises:
        ArgumentError: the value is not a whole number of MiB in ``CACHE_MB_RANGE``.
    """
    raw = os.environ.get(CACHE_MB_VARIABLE, "").strip()
    if not raw:
        return None
    low, high = CACHE_MB_RANGE
    if not raw.isdigit() or not low <= int(raw) <= high:
        shown = raw if len(raw) <= 20 else raw[:20] + "…"
        raise ArgumentError(
            f"{CACHE_MB_VARIABLE} must be a whole number of MiB from {low} to {high}, got {shown!r}"
        )
    return int(raw) * 2**20


class _Page(Dash):
    """Dash, with a page that does not tell visitors which Python the server runs, and its
    layout serialised once (it is built once, with the first view drawn in: ~170 kB of JSON
    for digits_cnn, ~1 MB for MobileNetV2, which took tens of ms to write per page open)."""

    _layout_json: str | None = None

    def serve_layout(self):
        if self._layout_json is None:
            self._layout_json = to_json(self.get_layout())
        return self.backend.make_response(self._layout_json, mimetype="application/json")

    def interpolate_index(self, **kwargs) -> str:
        config = kwargs.get("config", "")
        kwargs["config"] = _PYTHON_VERSION.sub("", config)
        return super().interpolate_index(**kwargs)


#: The ``"python_version": "3.11.7 (main, ...)"`` entry of Dash's page config.
_PYTHON_VERSION = re.compile(r'"python_version":\s*"(?:[^"\\]|\\.)*",\s*')


class Warmup:
    """Open the default model and run its pattern once, so that the first users do not pay
    for loading and tracing the forward pass (gunicorn's ``post_worker_init`` hook runs it
    before the worker takes traffic; elsewhere the first ``/healthz`` starts it in a thread).
    """

    def __init__(self, workbench: Workbench, model: str):
        self.workbench, self.model = workbench, model
        self.done = threading.Event()
        self._started = threading.Lock()
        self._running = False
        #: How the worker was warmed: ``"before traffic"`` (the gunicorn hook, or code that
        #: called :meth:`run`) or ``"in background"`` (started by a request).
        self.how: str | None = None

    def run(self, how: str = "before traffic") -> None:
        """Warm now, in this thread (idempotent)."""
        if not self.done.is_set():
            self.workbench.extraction(self.workbench.default_recipe(self.model))
            self.how = self.how or how
            self.done.set()

    def start(self) -> None:
        """Warm in a background thread, once."""
        with self._started:
            if self._running or self.done.is_set():
                return
            self._running = True
        threading.Thread(target=self._run_logged, name="layerviz-warmup", daemon=True).start()

    def _run_logged(self) -> None:
        try:
            self.run("in background")
        except Exception as exc:  # a default model that fails shows in its own callbacks
            log.warning("warming %s failed: %s", self.model, str(exc)[:200])
            self.done.set()


def _add_health(server, workbench: Workbench, jobs: str, warmup: Warmup) -> None:
    """``GET /healthz``: 200 and what was checked; 503 while the worker warms its default
    model (``"status": "warming"``) or when the shared store is away."""

    @server.get("/healthz")
    def _healthz():
        if not warmup.done.is_set():
            warmup.start()
            return {"status": "warming", "worker": os.getpid()}, 503
        status = 200
        try:
            uploads = workbench.uploads.health()
        except StoreUnavailableError:
            uploads, status = "redis unreachable", 503
        # The worker's pid tells which process answered, behind a balancer or gunicorn.
        state = "ok" if status == 200 else "unavailable"
        return {
            "status": state,
            "uploads": uploads,
            "jobs": jobs,
            "worker": os.getpid(),
            "warmed": warmup.how,
        }, status


def _models_of(
    model, include_bundled: bool, max_bytes: int | None = None
) -> tuple[dict[str, keras.Model], str | None]:
    """The in-memory models to offer, and the name of the one to open first.

    A bundled model given by its file's path (``layerviz serve models/digits_cnn.keras``)
    opens as the bundled model, with its samples and classes.
    """
    if isinstance(model, keras.Model):
        return {model.name: model}, model.name
    if model is None:
        return {}, None
    bundled = bundled_model_of(model) if include_bundled else None
    if bundled is not None:
        return {}, bundled.name
    if Path(model).suffix or Path(model).exists():
        return {Path(model).stem: load_model(model, max_bytes=max_bytes)}, Path(model).stem
    return {}, str(model)
