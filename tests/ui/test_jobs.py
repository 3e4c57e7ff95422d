"""Tests for layerviz.ui.jobs: with Celery, an export or a health run clicked while Redis is away
says so (no 500); the job slots bound how many wait, per process and per session.

A real redis-server is stopped and started again under the app; no Celery worker is needed to
see whether a job was queued.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse

import kombu.exceptions
import pytest
import redis.exceptions
from servers import free_port, redis_server

from layerviz.ui import ids
from layerviz.ui.app import create_app
from layerviz.ui.jobs import (
    JOBS_UNAVAILABLE,
    CeleryJobManager,
    JobCancelledError,
    JobsBusyError,
    JobSlots,
    _cancel_flag,
    job_error_text,
)
from layerviz.ui.store import MemoryStore

MODEL = "digits_cnn"


def export_body(dependencies: list[dict], clicks: int) -> dict:
    dep = next(d for d in dependencies if f"{ids.EXPORT_ZIP_DOWNLOAD}.data" in d["output"])
    values = {
        f"{ids.EXPORT_BUTTON}.n_clicks": clicks,
        "store-pattern.data": {"model": MODEL, "kind": "seed", "seed": clicks},
    }

    def value(item):
        return {**item, "value": values.get(f"{item['id']}.{item['property']}")}

    return {
        "output": dep["output"],
        "outputs": {"id": ids.EXPORT_ZIP_DOWNLOAD, "property": "data"},
        "inputs": [value(i) for i in dep["inputs"]],
        "state": [value(s) for s in dep["state"]],
        "changedPropIds": [f"{ids.EXPORT_BUTTON}.n_clicks"],
    }


@pytest.fixture
def celery_app_on(monkeypatch):
    """``(client, dependencies, port, redis context)``: an app whose jobs go through Celery."""
    port = free_port()
    server = redis_server(port)
    url = server.__enter__()
    monkeypatch.setenv("LAYERVIZ_REDIS_URL", url)
    monkeypatch.setenv("LAYERVIZ_SECRET", "jobs-test-secret")
    app = create_app(MODEL, uploads=MemoryStore())
    assert isinstance(app._background_manager, CeleryJobManager)
    client = app.server.test_client()
    assert client.get("/").status_code == 200
    dependencies = json.loads(client.get("/_dash-dependencies").data)
    state = {"server": server}
    try:
        yield client, dependencies, port, state
    finally:
        state["server"].__exit__(None, None, None)


def test_an_export_while_redis_is_away_says_so_and_works_when_it_is_back(celery_app_on):
    client, dependencies, port, state = celery_app_on
    state["server"].__exit__(None, None, None)
    for clicks in (1, 2):  # the second meets Celery's result consumer after it gave up
        started = time.monotonic()
        answer = client.post("/_dash-update-component", json=export_body(dependencies, clicks))
        assert answer.status_code == 200 and time.monotonic() - started < 5
        handles = json.loads(answer.data)
        query = urllib.parse.urlencode({"cacheKey": handles["cacheKey"], "job": handles["job"]})
        polled = client.post(
            f"/_dash-update-component?{query}", json=export_body(dependencies, clicks)
        )
        assert polled.status_code == 200
        alert = json.loads(polled.data)["sideUpdate"][ids.ERROR_ALERT]
        assert alert == {"children": JOBS_UNAVAILABLE, "is_open": True}
        assert "Traceback" not in polled.data.decode()

    state["server"] = redis_server(port)
    state["server"].__enter__()
    answer = client.post("/_dash-update-component", json=export_body(dependencies, 3))
    assert answer.status_code == 200
    assert not json.loads(answer.data)["job"].startswith("not-queued")  # queued for a worker


def test_job_error_text_knows_only_the_job_service():
    assert job_error_text(RuntimeError("Retry limit exceeded while trying")) == JOBS_UNAVAILABLE
    assert job_error_text(redis.exceptions.ConnectionError("refused")) == JOBS_UNAVAILABLE
    assert job_error_text(redis.exceptions.TimeoutError("slow")) == JOBS_UNAVAILABLE
    assert job_error_text(kombu.exceptions.OperationalError("away")) == JOBS_UNAVAILABLE
    assert job_error_text(ValueError("a bug")) is None
    # Any other OSError is not Redis being away: a full disk must not read as one.
    assert job_error_text(OSError(28, "No space left on device")) is None
    assert job_error_text(FileNotFoundError("x.keras")) is None


class Holder:
    """A job of ``session`` that holds (or waits for) a slot on its own thread until released."""

    def __init__(self, slots: JobSlots, session: str):
        self.inside, self.release = threading.Event(), threading.Event()
        self.errors: list[BaseException] = []
        self.cancel = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(slots, session), daemon=True)
        self.thread.start()

    def _run(self, slots: JobSlots, session: str) -> None:
        _cancel_flag.set(self.cancel)
        try:
            with slots.slot(session):
                self.inside.set()
                self.release.wait(10)
        except Exception as exc:
            self.errors.append(exc)

    def finish(self) -> None:
        self.release.set()
        self.thread.join(5)
        assert not self.thread.is_alive()


def wait_until(check, seconds: float = 5) -> None:
    until = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < until, "timed out"
        time.sleep(0.01)


def test_slots_let_a_few_wait_and_refuse_the_next_at_once():
    slots = JobSlots("export", running=2, waiting=3)
    jobs = [Holder(slots, f"session-{i}") for i in range(5)]
    try:
        wait_until(lambda: sum(j.inside.is_set() for j in jobs) == 2)
        wait_until(lambda: len(slots._sessions) == 5)
        start = time.monotonic()
        busy = r"^too many exports waiting; try again in a moment$"
        with pytest.raises(JobsBusyError, match=busy), slots.slot("session-late"):
            pytest.fail("a sixth job got in")
        assert time.monotonic() - start < 1  # at once, not after a wait
        assert sum(j.inside.is_set() for j in jobs) == 2
    finally:
        for job in jobs:
            job.finish()
    assert all(j.inside.is_set() for j in jobs) and not any(j.errors for j in jobs)
    with slots.slot("session-late"):  # room again once they are done
        pass


def test_a_session_has_one_job_of_a_kind_running_or_waiting():
    slots = JobSlots("health run", running=1, waiting=8)
    first = Holder(slots, "alice")
    try:
        assert first.inside.wait(5)
        busy = "another health run of this browser session"
        with pytest.raises(JobsBusyError, match=busy), slots.slot("alice"):
            pytest.fail("a second job of the session got in")
        waiting = Holder(slots, "bob")  # another session waits behind alice
        wait_until(lambda: "bob" in slots._sessions)
        # Bob's waiting job counts too.
        with pytest.raises(JobsBusyError, match=busy), slots.slot("bob"):
            pytest.fail("a second job of the session got in")
    finally:
        first.finish()
    assert waiting.inside.wait(5)
    waiting.finish()
    with slots.slot("alice"):  # alice's job is over: she may start another
        pass
    assert slots._sessions == set()


def test_a_waiting_job_cancelled_leaves_its_place():
    slots = JobSlots("export", running=1, waiting=1)
    first = Holder(slots, "alice")
    assert first.inside.wait(5)
    waiting = Holder(slots, "bob")
    wait_until(lambda: "bob" in slots._sessions)
    waiting.cancel.set()
    waiting.thread.join(5)
    assert [type(e) for e in waiting.errors] == [JobCancelledError]
    assert not waiting.inside.is_set() and slots._sessions == {"alice"}
    first.finish()


def test_a_failing_job_gives_back_its_slot_and_its_session():
    slots = JobSlots("export", running=1, waiting=0)
    with pytest.raises(ValueError, match="boom"), slots.slot("alice"):
        raise ValueError("boom")
    with slots.slot("alice"):
        assert slots._sessions == {"alice"}
    assert slots._sessions == set()


def health_body(dependencies: list[dict], clicks: int) -> dict:
    dep = next(d for d in dependencies if f"{ids.HEALTH_STORE}.data" in d["output"])
    values = {
        f"{ids.HEALTH_BUTTON}.n_clicks": clicks,
        "store-pattern.data": {"model": MODEL, "kind": "seed", "seed": clicks},
        f"{ids.HEALTH_SOURCE}.value": "seeds",
        f"{ids.HEALTH_SEEDS}.value": 4,
        f"{ids.HEALTH_THRESHOLD}.value": 0,
    }

    def value(item):
        return {**item, "value": values.get(f"{item['id']}.{item['property']}")}

    return {
        "output": dep["output"],
        "outputs": [
            {"id": ids.HEALTH_STORE, "property": "data"},
            {"id": ids.HEALTH_SUMMARY, "property": "children"},
        ],
        "inputs": [value(i) for i in dep["inputs"]],
        "state": [value(s) for s in dep["state"]],
        "changedPropIds": [f"{ids.HEALTH_BUTTON}.n_clicks"],
    }


def test_a_health_run_while_redis_is_away_says_so_in_its_summary(celery_app_on):
    client, dependencies, _, state = celery_app_on
    state["server"].__exit__(None, None, None)
    answer = client.post("/_dash-update-component", json=health_body(dependencies, 1))
    assert answer.status_code == 200
    handles = json.loads(answer.data)
    query = urllib.parse.urlencode({"cacheKey": handles["cacheKey"], "job": handles["job"]})
    polled = client.post(f"/_dash-update-component?{query}", json=health_body(dependencies, 1))
    assert polled.status_code == 200  # not a 500 from a background error nobody handles
    assert JOBS_UNAVAILABLE in polled.data.decode()
    assert "export" not in JOBS_UNAVAILABLE.split(";")[0]  # the message fits a health run too
    assert "Traceback" not in polled.data.decode()
