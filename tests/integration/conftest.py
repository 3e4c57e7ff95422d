"""A team deployment on loopback: redis-server, gunicorn with two workers, a Celery worker.

Started once for the module that asks for ``team`` (about 20 s on two cores: three processes
import TensorFlow); every process is ours and is stopped by its own handle.
"""

from __future__ import annotations

import os
import sys

import pytest
from servers import free_port, http_status, stop, wait_for

from integration.deploy import REPO, Team, _spawn


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    logs = tmp_path_factory.mktemp("team")
    redis_port, web_port = free_port(), free_port()
    team = Team(web_port, redis_port)
    url = team.start_redis()
    env = {
        **os.environ,
        "LAYERVIZ_REDIS_URL": url,
        "LAYERVIZ_SECRET": "integration-test-secret",
        "PYTHONPATH": str(REPO),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    web = _spawn(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "2",
            "--threads",
            "4",
            "--bind",
            f"127.0.0.1:{web_port}",
            "app:server",
        ],
        env,
        logs / "gunicorn.log",
    )
    worker = _spawn(
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
        logs / "celery.log",
    )
    try:
        wait_for(lambda: http_status(team.base + "/healthz") == 200, 120, "gunicorn")
        # Both workers import TensorFlow: wait until each has answered once.
        seen: set[int] = set()
        wait_for(lambda: len(seen.union(team.workers_answering(seen))) == 2, 120, "2 workers")
        yield team
    finally:
        stop(worker)
        stop(web)
        team.stop_redis()
