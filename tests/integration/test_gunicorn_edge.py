"""The deployed server's edge, against a real gunicorn on a free loopback port.

What the Flask test client cannot show: the ``Server`` header gunicorn writes, and a chunked
body as gunicorn hands it to the app (no ``Content-Length``).
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
from pathlib import Path

import pytest
from servers import free_port, http_status, stop, wait_for

from layerviz.ui.app import MAX_REQUEST_BYTES

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server():
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
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
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: http_status(base + "/healthz") == 200, 120, "gunicorn", process)
    yield port
    stop(process, 30)


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
