"""Stalled request bodies (issue 14, row 4): gunicorn alone freezes, nginx in front does not.

Clients that send headers with ``Content-Length: 1000`` and then one byte hold a gunicorn
thread each until they go away. The team deployment puts nginx in front (deploy/nginx.conf),
which reads bodies itself and hands gunicorn only complete requests. Both are measured on the
single-host setup (one worker, four threads, as the Dockerfile runs it), so which worker takes
which socket cannot decide the outcome.
"""

from __future__ import annotations

import os
import socket
import time
import urllib.request
from contextlib import ExitStack

import pytest
from servers import http_status, stop, wait_for

from integration.deploy import REPO, start_gunicorn, start_nginx

pytestmark = pytest.mark.integration

THREADS = 4
STALLED = 2 * THREADS


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    """gunicorn, 1 worker × 4 threads, and nginx in front of it: ``(direct, proxied)`` URLs."""
    folder = tmp_path_factory.mktemp("single")
    env = {k: v for k, v in os.environ.items() if k != "LAYERVIZ_REDIS_URL"}
    env["PYTHONPATH"] = str(REPO)
    web, direct, port = start_gunicorn(
        ["--workers", "1", "--threads", str(THREADS)], env, folder / "gunicorn.log"
    )
    proxy = None
    try:
        wait_for(lambda: http_status(direct + "/healthz") == 200, 120, "gunicorn")
        proxy, proxied = start_nginx(port, folder)
        yield direct, proxied
    finally:
        if proxy is not None:
            stop(proxy)
        stop(web)


def stall(stack: ExitStack, base: str) -> None:
    host, port = base.removeprefix("http://").split(":")
    for _ in range(STALLED):
        sock = stack.enter_context(socket.create_connection((host, int(port)), timeout=5))
        sock.sendall(
            b"POST /_dash-update-component HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
        )
    time.sleep(0.5)  # let the server take them


def answer_seconds(base: str, limit: float = 4.0) -> float | None:
    """Seconds a plain GET /healthz took, or None when it got no answer within ``limit``."""
    start = time.monotonic()
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=limit) as response:
            response.read()
    except OSError:
        return None
    return time.monotonic() - start


def test_stalled_bodies_do_not_freeze_the_proxied_server(single):
    _, proxied = single
    with ExitStack() as stack:
        stall(stack, proxied)
        through_proxy = answer_seconds(proxied)
    assert through_proxy is not None and through_proxy < 2


def test_gunicorn_alone_is_frozen_by_stalled_bodies(single):
    # The single-host command's documented limit (README, "Serving a team").
    direct, _ = single
    with ExitStack() as stack:
        stall(stack, direct)
        frozen = answer_seconds(direct)
    assert frozen is None
    assert answer_seconds(direct, 30) is not None  # back once they are gone
