"""A bounded queue of model checks that runs them on its own threads, never the caller's.

The canary (:mod:`layerviz.load.canary`) takes about 10 s per model. A server that ran it in
the request thread gave every request thread to a burst of uploads (8 at once made
``/healthz`` take 27 s). :meth:`CheckQueue.submit` instead returns a :class:`CheckTicket` at
once; at most ``running`` checks run at a time, on threads the queue starts for them, at most
``waiting`` more wait, and one owner (a browser session) has at most ``per_owner`` queued or
running. Past a bound, ``submit`` refuses at once with :class:`ChecksBusyError`, whose message
names the bound. The bounds are per process: each gunicorn worker keeps its own queue.

A check tells its steps as it goes (issue 20): the code that does a step calls
:func:`report_step` on the queue's thread; the ticket keeps its current step, when it began and
the steps done, and the queue keeps how long each step took lately (:meth:`CheckQueue.typical`)
so a page can say "≈N s" from what it measured here.
"""

from __future__ import annotations

import logging
import secrets
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from layerviz.errors import LayervizError
from layerviz.load.canary import MAX_RUNNING

__all__ = [
    "MAX_WAITING_CHECKS",
    "PER_OWNER_CHECKS",
    "CheckQueue",
    "CheckTicket",
    "ChecksBusyError",
    "report_step",
]

log = logging.getLogger("layerviz.load")

#: Checks that may wait for a running slot in one process; one more is refused.
MAX_WAITING_CHECKS = 8
#: Checks one owner (a browser session) may have queued or running at once.
PER_OWNER_CHECKS = 2
#: Finished tickets are forgotten this many seconds after they end.
_KEEP_FINISHED_S = 600.0
#: How many recent durations of each step :meth:`CheckQueue.typical` takes the median of.
_KEEP_DURATIONS = 20

_local = threading.local()  # the ticket this queue thread runs now, for ``report_step``


def report_step(step: str) -> None:
    """Tell the check running on this thread that it begins ``step`` (no-op off a queue thread).

    Called by the code that does the step (the static checks, the canary, the load), so the
    step a page shows is the one under way, not a timer's guess.
    """
    ticket = getattr(_local, "ticket", None)
    if ticket is not None:
        ticket._step_to(step)


class ChecksBusyError(LayervizError):
    """The queue of model checks is full, or this owner has as many as it may."""


class CheckTicket:
    """One submitted check: its state, and its result or error once it ended.

    Attributes:
        id: an unguessable id.
        owner: who submitted it.
        state: ``"queued"``, ``"checking"``, ``"done"`` or ``"failed"``.
        result: what the work returned (``"done"``).
        error: the exception the work raised (``"failed"``).
        started: ``time.monotonic()`` when it began to run, or None.
        step: the step under way (``"queued"`` until it runs, then what the work reports with
            :func:`report_step`); a failed check keeps the step it failed in.
        step_started: ``time.monotonic()`` when ``step`` began.
        steps_done: ``(step, seconds)`` of the steps it finished, in order.
    """

    def __init__(
        self,
        owner: str,
        work: Callable[[], Any],
        on_state: Callable | None,
        took: Callable[[str, float], None] | None = None,
    ):
        self.id = secrets.token_urlsafe(12)
        self.owner = owner
        self.state = "queued"
        self.result: Any = None
        self.error: BaseException | None = None
        self.started: float | None = None
        self.ended: float | None = None
        self._work = work
        self._on_state = on_state
        self._done = threading.Event()
        self.step: str | None = "queued"
        self.step_started = time.monotonic()
        self.steps_done: list[tuple[str, float]] = []
        self._took = took

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the check ended (for tests and scripts); whether it did."""
        return self._done.wait(timeout)

    def _set(self, state: str) -> None:
        self.state = state
        if self._on_state is not None:
            self._on_state(self)

    def _end_step(self) -> None:
        """The current step is done: keep it and how long it took."""
        if self.step is not None:
            seconds = time.monotonic() - self.step_started
            self.steps_done.append((self.step, seconds))
            if self._took is not None:
                self._took(self.step, seconds)

    def _step_to(self, step: str) -> None:
        if step == self.step:
            return
        self._end_step()
        self.step, self.step_started = step, time.monotonic()
        if self._on_state is not None:
            try:
                self._on_state(self)
            except Exception as exc:  # telling the step must not fail the check itself
                log.warning("model check %s: telling its step failed: %s", self.id, exc)


class CheckQueue:
    """Model checks run on the queue's own threads: a few at once, a bounded few waiting.

    Args:
        running: checks that run at once (default :data:`layerviz.load.canary.MAX_RUNNING`,
            the canary's own bound per process).
        waiting: checks that may wait for a running slot.
        per_owner: checks one owner may have queued or running.
    """

    def __init__(
        self,
        running: int = MAX_RUNNING,
        waiting: int = MAX_WAITING_CHECKS,
        per_owner: int = PER_OWNER_CHECKS,
    ):
        self.running, self.waiting, self.per_owner = running, waiting, per_owner
        self._lock = threading.Lock()
        self._queued: deque[CheckTicket] = deque()
        self._threads = 0  # queue threads alive
        self._active = 0  # checks running now
        self._tickets: dict[str, CheckTicket] = {}
        self._durations: dict[str, deque[float]] = {}

    def submit(
        self, owner: str, work: Callable[[], Any], on_state: Callable | None = None
    ) -> CheckTicket:
        """Queue ``work`` for ``owner``; returns at once, never waits for a slot.

        Args:
            owner: whose check it is (a browser session).
            work: what to run on a queue thread; its return value is the ticket's result.
            on_state: called with the ticket on the queue thread each time its state changes
                (``"checking"``, then ``"done"`` or ``"failed"``).

        Raises:
            ChecksBusyError: ``waiting`` checks wait already, or ``owner`` has ``per_owner``.
        """
        ticket = CheckTicket(owner, work, on_state, self._took)
        with self._lock:
            self._forget_finished()
            mine = sum(1 for t in self._tickets.values() if t.owner == owner and t.ended is None)
            if mine >= self.per_owner:
                raise ChecksBusyError(
                    f"this browser session has {mine} model checks queued or running already "
                    f"(at most {self.per_owner} per session); wait for one to finish"
                )
            if len(self._queued) + self._active >= self.running + self.waiting:
                raise ChecksBusyError(
                    f"{self.running} model checks are running and {self.waiting} waiting on "
                    f"this server (it runs at most {self.running} and queues at most "
                    f"{self.waiting}); try again in a minute"
                )
            self._queued.append(ticket)
            self._tickets[ticket.id] = ticket
            start = self._threads < self.running
            if start:
                self._threads += 1
        if start:
            threading.Thread(target=self._drain, name="layerviz-check", daemon=True).start()
        return ticket

    def ticket(self, ticket_id: str) -> CheckTicket | None:
        """The ticket ``ticket_id`` of this process, or None (unknown or long finished)."""
        with self._lock:
            return self._tickets.get(ticket_id)

    def ahead_of(self, ticket: CheckTicket) -> int:
        """How many checks wait before ``ticket`` (0 once it runs)."""
        with self._lock:
            return next((i for i, t in enumerate(self._queued) if t is ticket), 0)

    def typical(self, step: str) -> float | None:
        """The median time ``step`` took in this process's recent checks, or None (never ran)."""
        with self._lock:
            took = list(self._durations.get(step, ()))
        return statistics.median(took) if took else None

    def _took(self, step: str, seconds: float) -> None:
        with self._lock:
            self._durations.setdefault(step, deque(maxlen=_KEEP_DURATIONS)).append(seconds)

    def _drain(self) -> None:
        """Run queued checks one after another until none is left, then end the thread."""
        while True:
            with self._lock:
                if not self._queued:
                    self._threads -= 1
                    return
                ticket = self._queued.popleft()
                ticket.started = time.monotonic()
                self._active += 1
            try:
                self._run(ticket)
            finally:
                with self._lock:
                    self._active -= 1

    @staticmethod
    def _run(ticket: CheckTicket) -> None:
        _local.ticket = ticket
        try:
            ticket._end_step()  # its wait in the queue; the work tells its own steps
            ticket.step, ticket.step_started = None, time.monotonic()
            ticket._set("checking")
            ticket.result = ticket._work()
            state = "done"
            ticket._end_step()
            ticket.step, ticket.step_started = None, time.monotonic()
        except Exception as exc:  # the ticket carries it to whoever asks
            ticket.error, state = exc.with_traceback(None), "failed"
        finally:
            _local.ticket = None
        # What the work held (a model file's bytes) is not kept with the ticket: neither its
        # closure nor, through a traceback's frames, its locals.
        ticket._work = None
        ticket.ended = time.monotonic()
        try:
            ticket._set(state)
        except Exception as exc:  # a listener's failure must not end the queue's thread
            log.warning("model check %s: telling its state failed: %s", ticket.id, exc)
        finally:
            ticket._done.set()

    def _forget_finished(self) -> None:
        now = time.monotonic()
        for key in [
            k for k, t in self._tickets.items() if t.ended and now - t.ended > _KEEP_FINISHED_S
        ]:
            del self._tickets[key]
