"""Servers an integration test starts on loopback: gunicorn, nginx, a team of them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from servers import free_port, http_status, redis_server, wait_for

REPO = Path(__file__).resolve().parents[2]


class Team:
    """The running deployment: its URL, and Redis that a test may stop and bring back."""

    def __init__(self, web_port: int, redis_port: int):
        self.web_port = web_port
        self.base = f"http://127.0.0.1:{web_port}"
        self.redis_port = redis_port
        self._redis = None

    def workers_answering(self, seen: set[int], n: int = 8) -> set[int]:
        """The pids of the gunicorn workers that answered ``n`` fresh connections."""
        for _ in range(n):
            with urllib.request.urlopen(self.base + "/healthz", timeout=10) as response:
                seen.add(json.loads(response.read())["worker"])
        return seen

    def start_redis(self):
        self._redis = redis_server(self.redis_port)
        return self._redis.__enter__()

    def stop_redis(self):
        self._redis.__exit__(None, None, None)


def _spawn(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        args, cwd=REPO, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )


def nginx_config(web_port: int, listen: int, folder: Path) -> Path:
    """deploy/nginx.conf pointed at our gunicorn and port, its files under ``folder``."""
    text = (REPO / "deploy" / "nginx.conf").read_text()
    text = text.replace("set $layerviz_web web:8050;", f"set $layerviz_web 127.0.0.1:{web_port};")
    text = text.replace("listen 8080;", f"listen 127.0.0.1:{listen};")
    path = folder / "nginx.conf"
    path.write_text(text)
    return path


def start_nginx(web_port: int, folder: Path) -> tuple[subprocess.Popen, str]:
    """nginx with the deployment's config in front of gunicorn on ``web_port``: its URL."""
    binary = shutil.which("nginx")
    if binary is None:
        pytest.skip("nginx is not installed (make test installs Debian's nginx-light)")
    port = free_port()
    config = nginx_config(web_port, port, folder)
    process = subprocess.Popen(
        [
            binary,
            "-p",
            str(folder),
            "-c",
            str(config),
            "-e",
            "stderr",
            "-g",
            f"daemon off; pid {folder}/nginx.pid;",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(folder / "nginx.log").open("wb"),
    )
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: http_status(base + "/healthz") == 200, 30, "nginx")
    return process, base


def start_gunicorn(args: list[str], env: dict, log: Path) -> tuple[subprocess.Popen, str, int]:
    """gunicorn serving app:server on a free loopback port: process, URL, port."""
    port = free_port()
    process = _spawn(
        [sys.executable, "-m", "gunicorn", *args, "--bind", f"127.0.0.1:{port}", "app:server"],
        env,
        log,
    )
    base = f"http://127.0.0.1:{port}"
    return process, base, port
