"""The embedded default (``layerviz serve``): no other service, exports on the server's threads."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from servers import free_port, http_status, stop, wait_for

from integration.dash_http import DashSession, export_zip, health_values
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
