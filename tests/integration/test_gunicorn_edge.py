"""The deployed server's edge, against a real gunicorn on a free loopback port.

What the Flask test client cannot show: the ``Server`` header gunicorn writes, and a chunked
body as gunicorn hands it to the app (no ``Content-Length``).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from servers import free_port, http_status, stop, wait_for

from layerviz.ui.app import MAX_REQUEST_BYTES

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server_log(tmp_path_factory):
    return tmp_path_factory.mktemp("gunicorn") / "stderr.log"


@pytest.fixture(scope="module")
def server(server_log):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    log = server_log.open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "python:layerviz.ui.gunicorn_conf",
            "--bind",
            f"127.0.0.1:{port}",
            "app:server",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: http_status(base + "/healthz") == 200, 120, "gunicorn", process)
    yield port
    stop(process, 30)
    log.close()


def get(port: int, path: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", path)
    return connection.getresponse()


def test_no_version_in_the_server_header_and_security_headers_set(server):
    response = get(server, "/")
    body = response.read().decode()
    assert response.status == 200
    assert response.getheader("Server") == "layerviz"
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    assert "frame-ancestors 'none'" in response.getheader("Content-Security-Policy")
    assert "python_version" not in body


def test_framework_paths_answer_4xx(server):
    assert get(server, "/_dash-component-suites/dash/__init__.py").status == 404


def test_a_chunked_body_past_the_cap_is_413(server):
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=60)
    connection.putrequest("POST", "/_dash-update-component")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.endheaders()
    block = b"x" * 2**20
    try:
        for _ in range(MAX_REQUEST_BYTES // len(block) + 2):
            connection.send(b"%x\r\n%s\r\n" % (len(block), block))
        connection.send(b"0\r\n\r\n")
    except OSError:
        pass  # the server may answer and close before the last chunk
    assert connection.getresponse().status == 413


def post_json(port: int, body: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request(
        "POST", "/_dash-update-component", body, {"Content-Type": "application/json"}
    )
    response = connection.getresponse()
    response.read()
    return response.status


def _body(output: str, **fields) -> str:
    return json.dumps(
        {
            "output": output,
            "outputs": {"id": "a", "property": "b"},
            "inputs": [],
            "changedPropIds": [],
            **fields,
        }
    )


def _first_callback(port: int) -> dict:
    """A callback the served app declares, with its inputs and states."""
    return json.loads(get(port, "/_dash-dependencies").read())[0]


@pytest.mark.parametrize(
    "make",
    [
        lambda out: _body("nope.children" + "x" * 2**20),  # 1 MiB naming an unknown output
        lambda out: _body(out, inputs=[1]),
        lambda out: _body(out, state=[None]),
        lambda out: _body(out),  # too few inputs
        lambda out: json.dumps({"output": out, "inputs": [], "changedPropIds": []}),  # no outputs
    ],
    ids=["unknown-output", "inputs-int", "state-null", "too-few-inputs", "no-outputs"],
)
def test_malformed_callbacks_are_400_with_one_short_log_line(server, server_log, make):
    body = make(_first_callback(server)["output"])
    before = server_log.read_text()
    assert post_json(server, body) == 400
    time.sleep(0.3)  # gunicorn writes the line after answering
    added = server_log.read_text()[len(before) :]
    assert "Traceback" not in added and added.count("\n") <= 1 and len(added) < 300, added


@pytest.mark.parametrize(
    "path",
    [
        "/_dash-component-suites/nopkg/x.js",
        "/_dash-component-suites/dash/nothere.js",
        "/_dash-component-suites/dash/../../etc/passwd.js",
    ],
)
def test_unknown_component_suite_files_are_404_with_one_short_log_line(server, server_log, path):
    before = server_log.read_text()
    assert get(server, path).status == 404
    time.sleep(0.3)
    added = server_log.read_text()[len(before) :]
    assert "Traceback" not in added and added.count("\n") <= 1 and len(added) < 300, added


def test_a_real_component_suite_file_is_served(server):
    page = get(server, "/").read().decode()
    script = re.search(r'src="(/_dash-component-suites/dash/deps/react@[^"]+)"', page).group(1)
    assert get(server, script).status == 200


def _cookie_answer(port: int, cookie: str | None) -> str | None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", "/healthz", headers={"Cookie": cookie} if cookie else {})
    response = connection.getresponse()
    response.read()
    return response.getheader("Set-Cookie")


def test_session_ids_are_issued_by_the_server_only(server):
    """Issue 25, row 8: any 22-character cookie a client picked was adopted (fixation)."""
    issued = _cookie_answer(server, None)
    value = issued.split(";")[0]
    assert value.startswith("layerviz_session=")
    assert _cookie_answer(server, value) is None  # the server's own id is kept
    planted = "layerviz_session=" + "A" * 22
    forged = value[: -len("A" * 22)] + "A" * 22  # the real id with a made-up MAC
    for cookie in (planted, forged, planted + ".x"):
        fresh = _cookie_answer(server, cookie)
        assert fresh is not None, cookie  # an unknown id gets a fresh one
        assert fresh.split(";")[0] not in (cookie, value)


def test_the_worker_warmed_its_model_before_taking_traffic(server):
    """Issue 25, row 17: gunicorn's ``post_worker_init`` hook (layerviz.ui.gunicorn_conf)
    warms the default model before the worker accepts a connection: no request sees
    "warming", and the health check says how it was warmed."""
    response = get(server, "/healthz")
    answer = json.loads(response.read())
    assert response.status == 200 and answer["status"] == "ok"
    assert answer["warmed"] == "before traffic"
