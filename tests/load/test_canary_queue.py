"""The queue of model checks (issue 25, row 2): bounded, refuses past its bounds, and never
runs a check in the caller's thread."""

from __future__ import annotations

import re
import threading
import time

import keras
import pytest

from layerviz.errors import UnsafeModelError
from layerviz.load.canary_queue import CheckQueue, ChecksBusyError, report_step
from layerviz.load.modelcheck import CheckLimits, check_model_file

#: How long a held check waits for its release before it gives up (a caller that ran the
#: check itself would come back only after this, with the ticket already "done").
HOLD_S = 30


def held(release: threading.Event, running: list, peak: list):
    """A check that runs until ``release`` is set, counting how many run at once."""

    def work() -> str:
        running.append(1)
        peak[0] = max(peak[0], len(running))
        try:
            return "released" if release.wait(HOLD_S) else "not released"
        finally:
            running.pop()

    return work


def until(condition, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_submit_returns_at_once_and_past_the_bounds_refuses_naming_them():
    queue = CheckQueue(running=2, waiting=3, per_owner=5)
    release, running, peak = threading.Event(), [], [0]
    try:
        # Two run, three wait: every submit came back while no check could have ended.
        tickets = [queue.submit(f"s{i}", held(release, running, peak)) for i in range(5)]
        assert not release.is_set()
        until(lambda: [t.state for t in tickets[:2]] == ["checking"] * 2)
        assert [t.state for t in tickets[2:]] == ["queued"] * 3
        assert [queue.ahead_of(t) for t in tickets[2:]] == [0, 1, 2]
        with pytest.raises(ChecksBusyError, match=r"runs at most 2 and queues at most 3"):
            queue.submit("s9", held(release, running, peak))
    finally:
        release.set()
    assert all(t.wait(10) for t in tickets)
    assert [t.state for t in tickets] == ["done"] * 5
    assert {t.result for t in tickets} == {"released"}
    assert peak[0] == 2  # never more than ``running`` at once
    # The queue drained: there is room again.
    assert queue.submit("s9", lambda: "again").wait(10)


def test_one_session_has_at_most_per_owner_checks():
    queue = CheckQueue(running=1, waiting=8, per_owner=2)
    release, running, peak = threading.Event(), [], [0]
    try:
        mine = [queue.submit("alice", held(release, running, peak)) for _ in range(2)]
        with pytest.raises(ChecksBusyError, match=r"has 2 model checks.*at most 2 per session"):
            queue.submit("alice", held(release, running, peak))
        other = queue.submit("bob", held(release, running, peak))  # another session is served
    finally:
        release.set()
    assert all(t.wait(10) for t in [*mine, other])


def test_a_failing_check_carries_its_error_and_the_states_are_told_in_order():
    queue = CheckQueue(running=1)
    seen: list[str] = []

    def refuse():
        raise UnsafeModelError("no")

    ticket = queue.submit("s", refuse, on_state=lambda t: seen.append(t.state))
    assert ticket.wait(10)
    assert ticket.state == "failed" and isinstance(ticket.error, UnsafeModelError)
    assert seen == ["checking", "failed"]
    assert queue.ticket(ticket.id) is ticket and queue.ticket("unknown") is None


def small_model_bytes(tmp_path) -> tuple[keras.Model, bytes]:
    inputs = keras.Input((6, 6, 1), name="picture")
    x = keras.layers.Conv2D(2, 3, name="conv")(inputs)
    model = keras.Model(inputs, keras.layers.Flatten(name="flat")(x), name="queued")
    model.save(tmp_path / "m.keras")
    return model, (tmp_path / "m.keras").read_bytes()


def test_a_real_canary_runs_on_the_queue_not_in_the_caller(keras_session, tmp_path):
    model, data = small_model_bytes(tmp_path)
    queue = CheckQueue(running=1)
    told: list[tuple[str, str | None]] = []
    work = lambda: check_model_file(data, canary=True, on_step=report_step)  # noqa: E731
    ticket = queue.submit("s", work, on_state=lambda t: told.append((t.state, t.step)))
    # The child imports TensorFlow (seconds): it cannot have ended when submit returned.
    assert ticket.state in ("queued", "checking")
    assert ticket.wait(180), "the canary did not end"
    assert ticket.state == "done", ticket.error
    assert ticket.result.parameters == model.count_params()
    assert ticket.result.canary_seconds > 0
    # Issue 20: the check told its steps as its own code began them, in order.
    assert told == [
        ("checking", None),
        ("checking", "file"),
        ("checking", "sandbox"),
        ("done", None),
    ]
    assert [step for step, _ in ticket.steps_done] == ["queued", "file", "sandbox"]
    sandbox = dict(ticket.steps_done)["sandbox"]
    assert sandbox >= ticket.result.canary_seconds * 0.9  # the step is the canary's run
    assert queue.typical("sandbox") == sandbox and queue.typical("open") is None


def lambda_model_bytes(tmp_path) -> bytes:
    inputs = keras.Input((4,), name="x")
    model = keras.Model(inputs, keras.layers.Lambda(lambda t: t, name="lambda_1")(inputs))
    model.save(tmp_path / "evil.keras")
    return (tmp_path / "evil.keras").read_bytes()


@pytest.mark.parametrize(
    ("model", "limits", "step", "reason"),
    [
        # The static checks refuse a Lambda layer: no sandbox is started.
        (lambda_model_bytes, None, "file", r"layer 'lambda_1' \(Lambda\) runs arbitrary code"),
        # A sandbox given 0.5 s cannot import TensorFlow: refused in the sandbox step.
        (
            lambda p: small_model_bytes(p)[1],
            CheckLimits(canary_timeout_s=0.5),
            "sandbox",
            r"did not finish within 0\.5 s",
        ),
    ],
    ids=["static-checks", "sandbox"],
)
def test_a_refused_check_stops_at_the_step_that_refused_it(
    keras_session, tmp_path, model, limits, step, reason
):
    data = model(tmp_path)
    queue = CheckQueue(running=1)
    work = lambda: check_model_file(data, limits=limits, canary=True, on_step=report_step)  # noqa: E731
    ticket = queue.submit("s", work)
    assert ticket.wait(60)
    assert ticket.state == "failed" and isinstance(ticket.error, UnsafeModelError)
    assert re.search(reason, str(ticket.error))
    assert ticket.step == step
    done = ["queued", "file", "sandbox"]
    assert [s for s, _ in ticket.steps_done] == done[: done.index(step)]
