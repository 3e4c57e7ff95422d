"""Where the dashboard's long work runs: threads of this process, or Celery workers on Redis.

Dash background callbacks need a manager. Its two homes here:

- **embedded** (no ``LAYERVIZ_REDIS_URL``): :class:`ThreadJobManager`, Dash's
  ``DiskcacheManager`` with its jobs on threads of the server process instead of forked
  processes. The server has imported TensorFlow, and a forked child that runs TensorFlow can
  hang on the thread pools and locks it inherits. No other service is needed.
- **team** (``LAYERVIZ_REDIS_URL`` set): Dash's ``CeleryManager`` with Redis as broker and
  result store. Run the worker with ``--pool threads`` (see the README, "Serving a team"): the
  prefork pool forks children after the app module has imported TensorFlow.

A job that wants to stop when its user presses cancel calls :func:`check_cancelled` between
steps: Dash's cancel kills a process, which a thread cannot be, so cancelling is cooperative.

Every start request gets a thread or a Celery task, so a crafted client could queue jobs
without end. A kind of job (the zip export, the health run) therefore draws through
:class:`JobSlots`: a few at once per process, at most :data:`MAX_WAITING_JOBS` more waiting,
and one running-or-waiting per browser session; past that the job ends at once with
:class:`JobsBusyError`, whose message the page shows.

When Redis is away, Dash's ``CeleryManager`` raises out of the request (HTTP 500).
:class:`CeleryJobManager` answers instead with a job that "failed" with
:data:`JOBS_UNAVAILABLE`; the failure reaches the callback's ``on_error`` (see
:func:`job_error_text`), which says so in the page. Its handle is signed like any job's, so the
poll that reads it may land on any worker.
"""

from __future__ import annotations

import itertools
import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from dash import CeleryManager, DiskcacheManager, Input, Output

from layerviz.errors import LayervizError
from layerviz.ui.store import REDIS_URL_VARIABLE

__all__ = [
    "JOBS_UNAVAILABLE",
    "MAX_WAITING_JOBS",
    "CeleryJobManager",
    "JobCancelledError",
    "JobSlots",
    "JobsBusyError",
    "ThreadJobManager",
    "check_cancelled",
    "job_callback_options",
    "job_error_text",
    "job_manager",
]

log = logging.getLogger("layerviz.ui")

#: What the page says when a background job cannot start or be followed for want of Redis.
JOBS_UNAVAILABLE = (
    "the background job service (Redis) cannot be reached, so the job did not run; "
    "try again when it is back. Seeds, samples and the bundled models still work."
)
#: Jobs of one kind that may wait for a slot in one process (a server, or a Celery worker);
#: one more is refused at once.
MAX_WAITING_JOBS = 8
#: The job id handed out when the job could not be queued.
_NOT_QUEUED = "not-queued"

#: The cancel flag of the job running in this thread (None outside a thread job).
_cancel_flag: ContextVar[threading.Event | None] = ContextVar("layerviz_cancel", default=None)


class JobCancelledError(LayervizError):
    """The user cancelled the job."""


class JobsBusyError(LayervizError):
    """Too many jobs of a kind wait already, or this session has one running or waiting."""


class JobSlots:
    """Where jobs of one kind wait their turn: bounded per process and per session.

    At most ``running`` jobs hold a slot at once; at most ``waiting`` more wait for one (each
    on its thread, or its Celery worker thread); a session has at most one of them, running
    or waiting. The bounds are per process: each Celery worker process keeps its own.

    Args:
        kind: what the page calls one job ("export"), for the messages.
        running: jobs that hold a slot at once.
        waiting: jobs that may wait for a slot (default :data:`MAX_WAITING_JOBS`).
    """

    def __init__(self, kind: str, running: int, waiting: int = MAX_WAITING_JOBS):
        self.kind = kind
        self.running = running
        self.waiting = waiting
        self._free = threading.BoundedSemaphore(running)
        self._lock = threading.Lock()
        self._sessions: set[str] = set()  # running or waiting

    @contextmanager
    def slot(self, session: str) -> Iterator[None]:
        """Hold a slot for ``session``'s job while the block runs, waiting for one first.

        Raises:
            JobsBusyError: the session has a job of this kind already, or too many wait.
            JobCancelledError: the user cancelled while it waited.
        """
        self._admit(session)
        try:
            while not self._free.acquire(timeout=0.25):
                check_cancelled()
            try:
                yield
            finally:
                self._free.release()
        finally:
            with self._lock:
                self._sessions.discard(session)

    def _admit(self, session: str) -> None:
        with self._lock:
            if session in self._sessions:
                raise JobsBusyError(
                    f"another {self.kind} of this browser session is already running or "
                    "waiting; let it finish or cancel it first"
                )
            if len(self._sessions) >= self.running + self.waiting:
                raise JobsBusyError(f"too many {self.kind}s waiting; try again in a moment")
            self._sessions.add(session)


class ThreadJobManager(DiskcacheManager):
    """Dash background callbacks on daemon threads of this process; results in a diskcache.

    Args:
        directory: where the diskcache keeps results (default: a fresh temporary folder).
    """

    def __init__(self, directory: str | None = None):
        import diskcache

        directory = directory or tempfile.mkdtemp(prefix="layerviz-jobs-")
        super().__init__(diskcache.Cache(directory), expire=600)
        self._jobs: dict[int, tuple[threading.Thread, threading.Event]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def call_job_fn(self, key, job_fn, args, context):
        """Start the job on a thread; its id stands where Dash expects a process id."""
        flag = threading.Event()
        with self._lock:
            # Jobs whose page went away are never fetched: forget the finished ones here.
            for done in [j for j, (t, _) in self._jobs.items() if not t.is_alive()]:
                del self._jobs[done]
            job = next(self._ids)
            thread = threading.Thread(
                target=self._run,
                args=(flag, job_fn, (key, self._make_progress_key(key), args, context)),
                name=f"layerviz-job-{job}",
                daemon=True,
            )
            self._jobs[job] = (thread, flag)
        thread.start()
        return job

    @staticmethod
    def _run(flag, job_fn, job_args) -> None:
        _cancel_flag.set(flag)
        job_fn(*job_args)

    def job_running(self, job) -> bool:
        item = self._jobs.get(_job_id(job))
        return item is not None and item[0].is_alive()

    def terminate_job(self, job) -> None:
        """Ask the job to stop (it does at its next :func:`check_cancelled`)."""
        with self._lock:
            item = self._jobs.pop(_job_id(job), None)
        if item is not None:
            item[1].set()

    def terminate_unhealthy_job(self, job) -> bool:
        job = _job_id(job)
        if job in self._jobs and not self.job_running(job):
            self.terminate_job(job)
            return True
        return False


def _job_id(job) -> int:
    try:
        return int(job)
    except (TypeError, ValueError):
        return 0


def check_cancelled() -> None:
    """Stop the current job if its user cancelled it (thread jobs and Celery tasks alike).

    Raises:
        JobCancelledError: the job was cancelled.
    """
    flag = _cancel_flag.get()
    if flag is not None and flag.is_set():
        raise JobCancelledError("the export was cancelled")
    if flag is None and _celery_task_revoked():
        raise JobCancelledError("the export was cancelled")


def _celery_task_revoked() -> bool:
    """Whether the Celery task running here was revoked (Dash's cancel revokes it)."""
    try:
        from celery import current_task
        from celery.worker import state
    except ImportError:
        return False
    task = current_task
    return bool(task and task.request.id and task.request.id in state.revoked)


def _unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` says the broker or result store (Redis) cannot be reached."""
    import kombu.exceptions
    import redis.exceptions

    # Only the clients' own connection errors: any other OSError (a full disk, a bad file)
    # is a bug or a different failure, not "Redis is away".
    reachable_errors = (
        redis.exceptions.ConnectionError,
        redis.exceptions.TimeoutError,
        kombu.exceptions.OperationalError,
        kombu.exceptions.ConnectionError,
    )
    # Celery's result consumer gives up with a RuntimeError ("Retry limit exceeded").
    return isinstance(exc, reachable_errors) or (
        isinstance(exc, RuntimeError) and "Retry limit exceeded" in str(exc)
    )


def _failed(message: str) -> dict:
    """A job result that Dash routes to the callback's ``on_error``."""
    return {"background_callback_error": {"msg": message, "tb": ""}}


class CeleryJobManager(CeleryManager):
    """Dash's ``CeleryManager`` that says "Redis is away" in the page instead of a 500.

    Queueing a job while the broker is away returns a job id that reads as failed with
    :data:`JOBS_UNAVAILABLE`; losing Redis while polling a running job does the same. Other
    errors are Dash's as before. Celery reconnects by itself once Redis is back.
    """

    def call_job_fn(self, key, job_fn, args, context):
        try:
            return super().call_job_fn(key, job_fn, args, context)
        except Exception as exc:
            if not _unreachable(exc):
                raise
            log.warning("background job not queued: %s", type(exc).__name__)
            return _NOT_QUEUED

    def job_running(self, job) -> bool:
        return job != _NOT_QUEUED and bool(self._quietly(super().job_running, False, job))

    def terminate_job(self, job) -> None:
        if job != _NOT_QUEUED:
            self._quietly(super().terminate_job, None, job)

    def get_progress(self, key):
        return self._quietly(super().get_progress, None, key)

    def get_result(self, key, job):
        if job == _NOT_QUEUED:
            return _failed(JOBS_UNAVAILABLE)
        return self._quietly(super().get_result, _failed(JOBS_UNAVAILABLE), key, job)

    def get_updated_props(self, key):
        return self._quietly(super().get_updated_props, {}, key)

    @staticmethod
    def _quietly(method, fallback, *args):
        try:
            return method(*args)
        except Exception as exc:
            if not _unreachable(exc):
                raise
            return fallback


def job_error_text(exc: BaseException) -> str | None:
    """The page's message for an error a background callback's ``on_error`` hears.

    Returns:
        :data:`JOBS_UNAVAILABLE` when the job service was away, else None (the caller says
        what it says for any other error).
    """
    return JOBS_UNAVAILABLE if JOBS_UNAVAILABLE in str(exc) or _unreachable(exc) else None


def job_manager(redis_url: str | None = None):
    """The manager for this server's background callbacks, and its Celery app (or None).

    Args:
        redis_url: Redis for broker and results; default ``$LAYERVIZ_REDIS_URL``, and
            without one, jobs run on threads of this process.
    """
    redis_url = redis_url or os.environ.get(REDIS_URL_VARIABLE)
    if not redis_url:
        return ThreadJobManager(), None
    from celery import Celery

    celery_app = Celery("layerviz", broker=redis_url, backend=redis_url)
    celery_app.conf.update(
        broker_connection_retry_on_startup=True,
        # One export at a time per worker thread: a long job must not hold back queued ones.
        worker_prefetch_multiplier=1,
        result_expires=600,
        # When Redis is away, a request fails within seconds instead of retrying forever.
        broker_transport_options={"max_retries": 1, "interval_start": 0, "interval_step": 0.2},
        # Likewise the result store: Celery's default (20 retries, ~19 s) held a request that
        # long before the page could say that Redis is away.
        result_backend_transport_options={
            "retry_policy": {"max_retries": 2, "interval_start": 0, "interval_step": 0.3}
        },
        redis_socket_connect_timeout=2,
        redis_socket_timeout=5,
    )
    return CeleryJobManager(celery_app, expire=600), celery_app


def job_callback_options(progress: str, button: str, cancel: str, on_error) -> dict:
    """The keyword arguments of a background job with a progress bar, a run and a cancel button.

    Args:
        progress: id of the ``dbc.Progress`` the job's ``set_progress(value, max, label)`` fills.
        button: id of the button that starts it (disabled while it runs).
        cancel: id of the button that cancels it (enabled while it runs).
        on_error: what the page shows when the job fails or cannot be queued.

    Returns:
        Options for ``app.callback(..., **options)``.
    """
    return dict(
        background=True,
        progress=[
            Output(progress, "value"),
            Output(progress, "max"),
            Output(progress, "label"),
        ],
        running=[
            (Output(button, "disabled"), True, False),
            (Output(cancel, "disabled"), False, True),
        ],
        cancel=[Input(cancel, "n_clicks")],
        interval=300,
        prevent_initial_call=True,
        on_error=on_error,
    )
