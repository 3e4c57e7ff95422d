"""Tests for layerviz.ui.jobs: with Celery, an export or a health run clicked while Redis is away
says so (no 500).

A real redis-server is stopped and started again under the app; no Celery worker is needed to
see whether a job was queued.
"""

from __future__ import annotations

import json
import time
import urllib.parse

import pytest
from servers import free_port, redis_server

from layerviz.ui import ids
from layerviz.ui.app import create_app
from layerviz.ui.jobs import JOBS_UNAVAILABLE, CeleryJobManager, job_error_text
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
    assert job_error_text(ValueError("a bug")) is None


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
