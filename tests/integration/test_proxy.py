"""Stalled request bodies (issue 14, row 4): gunicorn alone freezes, nginx in front does not.

Clients that send headers with ``Content-Length: 1000`` and then one byte hold a gunicorn
thread each until they go away. The team deployment puts nginx in front (deploy/nginx.conf),
which reads bodies itself and hands gunicorn only complete requests.
"""

from __future__ import annotations

import socket
import time
import urllib.request
from contextlib import ExitStack

import pytest

pytestmark = pytest.mark.integration

#: More stalled clients than the team's gunicorn has threads (2 workers × 4 threads).
STALLED = 16


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


def test_stalled_bodies_do_not_freeze_the_proxied_server(team, proxy):
    with ExitStack() as stack:
        stall(stack, proxy)
        through_proxy = answer_seconds(proxy)
    assert through_proxy is not None and through_proxy < 2


def test_gunicorn_alone_is_frozen_by_stalled_bodies(team):
    # The single-host command's documented limit (README, "Serving a team").
    with ExitStack() as stack:
        stall(stack, team.base)
        direct = answer_seconds(team.base)
    assert direct is None
    assert answer_seconds(team.base, 30) is not None  # back once they are gone
