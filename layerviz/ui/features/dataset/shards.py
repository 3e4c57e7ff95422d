"""Team mode: a dataset pass cut into shards that the Celery workers run side by side.

With Redis and Celery configured (``layerviz.ui.jobs``), :func:`register_shard_task` adds the
task ``layerviz.lens_shard`` to the app's Celery app: one slice of a bundled model's held-out
set through the reduced pass, its result as base64 ``.npz`` text (Celery carries JSON).
:func:`run_sharded` cuts the set on batch boundaries (``layerviz.lens.shards.shard_bounds``),
sends one task per shard, and merges what comes back in dataset order
(``layerviz.lens.features.merge_features``): the numbers of one pass, from every worker.
"""

from __future__ import annotations

import base64
import os
import socket

from layerviz.lens.datasets import bundled_dataset
from layerviz.lens.features import DatasetFeatures, dataset_features, merge_features
from layerviz.lens.shards import features_from_bytes, features_to_bytes, shard_bounds
from layerviz.ui.workbench import Workbench

__all__ = ["SHARD_TASK", "register_shard_task", "run_sharded"]

SHARD_TASK = "layerviz.lens_shard"


def register_shard_task(celery_app, workbench: Workbench) -> None:
    """Add ``layerviz.lens_shard(model, start, stop, batch_size)`` to ``celery_app``."""

    @celery_app.task(name=SHARD_TASK)
    def lens_shard(model: str, start: int, stop: int, batch_size: int) -> dict:
        data = bundled_dataset(model, tuple(workbench.input_shape(model)))
        if data is None:
            raise ValueError(f"model {model!r} has no held-out set")
        extractor = workbench.entry(model).extractor
        features = dataset_features(
            extractor, data.x[start:stop], batch_size=batch_size, start=start
        )
        return {
            "features": base64.b64encode(features_to_bytes(features)).decode("ascii"),
            "worker": f"{socket.gethostname()}:{os.getpid()}",
        }


def run_sharded(
    celery_app, model: str, n: int, shards: int, batch_size: int, timeout: float = 300
) -> tuple[DatasetFeatures, list[str]]:
    """Run ``model``'s held-out set (``n`` patterns) as ``shards`` Celery tasks and merge them.

    Call it from outside a task (a background job's thread, a script): it waits for results.

    Returns:
        The merged features, and which worker ran each shard.
    """
    bounds = shard_bounds(n, shards, batch_size)
    pending = [
        celery_app.send_task(SHARD_TASK, args=(model, start, stop, batch_size))
        for start, stop in bounds
    ]
    answers = [result.get(timeout=timeout) for result in pending]
    parts = [features_from_bytes(base64.b64decode(a["features"])) for a in answers]
    return merge_features(parts), [a["worker"] for a in answers]
