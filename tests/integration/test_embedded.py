"""The embedded default (``layerviz serve``): no other service, exports on the server's threads."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import keras
import pytest
from servers import free_port, http_status, stop, wait_for

from integration.dash_http import DashSession, export_zip, health_values, upload_model
from integration.deploy import REPO

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "LAYERVIZ_REDIS_URL"}
    log = tmp_path_factory.mktemp("embedded") / "serve.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "layerviz", "serve", "--port", str(port)],
        cwd=REPO,
        env={**env, "PYTHONPATH": str(REPO)},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: http_status(base + "/healthz") == 200, 120, "layerviz serve")
        yield base
    finally:
        stop(process)


def test_health_needs_no_other_service(embedded):
    health = json.loads(DashSession(embedded).request("/healthz")[1])
    assert (health["uploads"], health["jobs"]) == ("in process", "threads")


def test_an_export_on_threads_reports_progress_and_finishes(embedded):
    session = DashSession(embedded)
    session.open_page()
    sent = export_zip(session, {"kind": "seed", "model": "digits_cnn", "seed": 4})
    assert len(sent.pages) > 1
    assert sent.labels and sent.labels[-1].endswith("pages")


def test_a_health_run_on_threads_reports_progress_and_finishes(embedded):
    session = DashSession(embedded)
    session.open_page()
    values = health_values({"kind": "seed", "model": "digits_cnn", "seed": 0}, 16)
    answer, progress = session.call_background(
        "store-health.data", values, "health-button.n_clicks"
    )
    assert answer["response"]["store-health"]["data"]["n_patterns"] == 16
    assert progress and progress[-1]["health-progress.label"] == "16/16 patterns"


def test_an_uploaded_model_is_its_sessions_only(embedded, tmp_path):
    """Issue 25, row 7: in ``layerviz serve`` another session that sent the name opened it."""
    inputs = keras.Input((6, 6, 1), name="picture")
    x = keras.layers.Conv2D(2, 3, name="conv")(inputs)
    model = keras.Model(inputs, keras.layers.Flatten(name="flat")(x), name="mine")
    model.save(tmp_path / "mine.keras")
    contents = (
        "data:application/octet-stream;base64,"
        + base64.b64encode((tmp_path / "mine.keras").read_bytes()).decode()
    )
    alice = DashSession(embedded, timeout=120)
    alice.open_page()
    answer = upload_model(alice, contents, "mine.keras")
    assert "error-alert" not in answer, answer.get("error-alert")
    name = answer["model-select"]["value"]

    def open_as(session: DashSession) -> dict:
        values = {"model-select.value": name, "grid-rows.value": 1, "grid-cols.value": 1}
        return session.call("store-pattern-view.data", values, "model-select.value")["response"]

    assert open_as(alice)["error-alert"]["is_open"] is False
    mallory = DashSession(embedded)
    mallory.open_page()
    refused = open_as(mallory)["error-alert"]
    assert refused["is_open"] is True and "no longer kept" in refused["children"]
