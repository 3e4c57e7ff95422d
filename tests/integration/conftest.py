"""A team deployment on loopback: redis-server, gunicorn with two workers, a Celery worker.

Started once for the module that asks for ``team`` (about 20 s on two cores: three processes
import TensorFlow); every process is ours and is stopped by its own handle.
"""

from __future__ import annotations

import os

import pytest
from servers import free_port, stop

from integration.deploy import REPO, Team, start_celery_worker, start_gunicorn, wait_until_serving


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
    args = ["--workers", "2", "--threads", "4"]
    web, _, _ = start_gunicorn(args, env, logs / "gunicorn.log", port=web_port)
    worker = start_celery_worker(env, logs / "celery.log")
    try:
        wait_until_serving(web, team.base, 120, workers=2)
        yield team
    finally:
        stop(worker)
        stop(web)
        team.stop_redis()
