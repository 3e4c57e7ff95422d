"""The dataset pass sharded over two real Celery workers (redis-server on loopback) gives the
numbers of one pass in this process."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
from servers import redis_server, stop, wait_for

from integration.deploy import REPO, _spawn
from layerviz.lens.datasets import bundled_dataset
from layerviz.lens.features import dataset_features
from layerviz.load.loading import load_model
from layerviz.ui.features.dataset.shards import run_sharded
from layerviz.ui.jobs import job_manager

pytestmark = pytest.mark.integration

MODEL = "digits_cnn"
BATCH = 16


def worker(env: dict, name: str, log) -> object:
    args = [sys.executable, "-m", "celery", "-A", "app:celery_app", "worker"]
    args += ["--pool", "threads", "--concurrency", "1", "-n", f"{name}@%h", "--loglevel", "warning"]
    return _spawn(args, env, log)


def test_shards_on_two_workers_equal_one_pass(tmp_path):
    with redis_server() as url:
        env = {
            **os.environ,
            "LAYERVIZ_REDIS_URL": url,
            "LAYERVIZ_SECRET": "integration-test-secret",
            "PYTHONPATH": str(REPO),
            "TF_CPP_MIN_LOG_LEVEL": "3",
        }
        workers = [worker(env, f"lens{i}", tmp_path / f"celery{i}.log") for i in range(2)]
        try:
            _, celery_app = job_manager(url)
            inspector = celery_app.control.inspect(timeout=1.0)
            wait_for(lambda: len(inspector.ping() or {}) == 2, 180, "two Celery workers")
            data = bundled_dataset(MODEL, (32, 32, 1))
            merged, ran_on = run_sharded(celery_app, MODEL, len(data), 4, BATCH)
        finally:
            for process in workers:
                stop(process)
    assert len(set(ran_on)) == 2, ran_on  # both workers took shards
    whole = dataset_features(load_model(MODEL), data.x, batch_size=BATCH)
    assert merged.n_patterns == whole.n_patterns == len(data)
    assert merged.names == whole.names
    for got, want in zip(merged.layers, whole.layers, strict=True):
        np.testing.assert_allclose(got.pooled, want.pooled, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(got.peak, want.peak, rtol=1e-5, atol=1e-6)
        assert got.count == want.count
        np.testing.assert_allclose(got.total, want.total, rtol=1e-6)
    np.testing.assert_allclose(merged.predictions, whole.predictions, rtol=1e-5, atol=1e-6)
