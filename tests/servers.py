"""Real servers for tests: ``redis-server`` on a free loopback port, and process helpers.

No mock stands in for Redis: ``make test`` installs Debian's ``redis-server``.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator

import pytest


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, seconds: float, what: str, process: subprocess.Popen | None = None) -> None:
    """Call ``check()`` until it is true, or fail after ``seconds``.

    With ``process`` (the server being waited for), fail at once with the tail of its stderr
    (when piped) if it exits first, and stop it on a time-out.
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            said = process.stderr.read().decode()[-2000:] if process.stderr else ""
            raise RuntimeError(f"{what} exited with {process.returncode}: {said}")
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.2)
    if process is not None:
        stop(process)
    raise TimeoutError(f"{what} did not come up in {seconds} s")


def stop(process: subprocess.Popen, seconds: float = 10) -> None:
    """Terminate one process we started (by its own handle), then kill it if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@contextlib.contextmanager
def redis_server(port: int | None = None) -> Iterator[str]:
    """A throwaway ``redis-server`` (no persistence) on loopback; yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (make test installs Debian's redis-server)")
    port = port or free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import redis

        client = redis.Redis(port=port)
        wait_for(client.ping, 10, "redis-server")
        client.close()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop(process)
