"""Servers an integration test (or a benchmark) starts on loopback: gunicorn, a Celery worker,
nginx, a team of them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from servers import free_port, http_status, redis_server, stop, wait_for

REPO = Path(__file__).resolve().parents[2]
#: How the deployment starts gunicorn (Dockerfile, docker-compose.yml): with this config.
GUNICORN_CONFIG = ["-c", "python:layerviz.ui.gunicorn_conf"]


class Team:
    """The running deployment: its URL, and Redis that a test may stop and bring back."""

    def __init__(self, web_port: int, redis_port: int):
        self.web_port = web_port
        self.base = f"http://127.0.0.1:{web_port}"
        self.redis_port = redis_port
        self._redis = None

    def workers_answering(self, seen: set[int], n: int = 8) -> set[int]:
        """The pids of the gunicorn workers that answered ``n`` fresh connections."""
        return workers_answering(self.base, seen, n)

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


def workers_answering(base: str, seen: set[int], n: int = 8) -> set[int]:
    """Add to ``seen`` the pids of the gunicorn workers that answered ``n`` fresh connections."""
    for _ in range(n):
        with urllib.request.urlopen(base + "/healthz", timeout=10) as response:
            seen.add(json.loads(response.read())["worker"])
    return seen


def start_gunicorn(
    args: list[str], env: dict, log: Path, target: str = "app:server", port: int | None = None
) -> tuple[subprocess.Popen, str, int]:
    """gunicorn serving ``target`` on loopback (a free port unless given): process, URL, port.

    Started as the Dockerfile and docker-compose.yml start it, with the project's config
    (:data:`GUNICORN_CONFIG`; its ``post_worker_init`` warms each worker before it takes
    traffic) unless ``args`` name a ``-c`` of their own; ``args`` come after it and win.
    """
    port = port or free_port()
    config = [] if "-c" in args else GUNICORN_CONFIG
    process = _spawn(
        [sys.executable, "-m", "gunicorn", *config, *args, "--bind", f"127.0.0.1:{port}", target],
        env,
        log,
    )
    base = f"http://127.0.0.1:{port}"
    return process, base, port


def wait_until_serving(
    process: subprocess.Popen, base: str, seconds: float, workers: int = 1
) -> None:
    """Wait until ``/healthz`` answers 200 and, past one worker, until every worker has answered
    (each imports TensorFlow on its own); stop ``process`` if that does not happen in time."""
    seen: set[int] = set()
    try:
        wait_for(lambda: http_status(base + "/healthz") == 200, seconds, "gunicorn")
        if workers > 1:

            def every_worker() -> bool:
                return len(workers_answering(base, seen)) >= workers

            wait_for(every_worker, seconds, f"{workers} workers")
    except BaseException:
        stop(process)
        raise


def start_celery_worker(env: dict, log: Path) -> subprocess.Popen:
    """A Celery worker of the app (``--pool threads``, 2 at once), as the team deployment runs."""
    return _spawn(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "app:celery_app",
            "worker",
            "--pool",
            "threads",
            "--concurrency",
            "2",
            "--loglevel",
            "warning",
        ],
        env,
        log,
    )
