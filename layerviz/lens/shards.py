"""A dataset pass cut into shards that run apart (Celery workers) and travel as bytes.

:func:`shard_bounds` cuts ``n`` patterns into consecutive slices on batch boundaries, so each
shard runs the very batches one pass would and :func:`~layerviz.lens.features.merge_features`
gives back one pass's numbers exactly. :func:`features_to_bytes` / :func:`features_from_bytes`
carry a shard's result as an ``.npz`` (no pickles: the layers' names and shapes travel as JSON
text in a byte array).
"""

from __future__ import annotations

import io
import json

import numpy as np

from layerviz.errors import ArgumentError
from layerviz.lens.features import DatasetFeatures, LayerFeatures

__all__ = ["features_from_bytes", "features_to_bytes", "shard_bounds"]


def shard_bounds(n: int, shards: int, batch_size: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of up to ``shards`` consecutive slices of ``n`` patterns, each a whole
    number of batches (the last may end short).

    Raises:
        ArgumentError: a count below 1.
    """
    if min(n, shards, batch_size) < 1:
        got = f"{n}, {shards}, {batch_size}"
        raise ArgumentError(f"n, shards and batch_size must be ≥ 1; got {got}")
    batches = -(-n // batch_size)
    per = -(-batches // shards)
    bounds = []
    for first in range(0, batches, per):
        bounds.append((first * batch_size, min((first + per) * batch_size, n)))
    return bounds


def features_to_bytes(features: DatasetFeatures) -> bytes:
    """A shard's result as ``.npz`` bytes (read back by :func:`features_from_bytes`)."""
    meta = {
        "n": features.n_patterns,
        "start": features.start,
        "layers": [
            [lay.index, lay.name, lay.class_name, list(lay.shape), lay.count]
            for lay in features.layers
        ],
    }
    arrays = {"meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)}
    for i, lay in enumerate(features.layers):
        arrays[f"pooled_{i}"] = lay.pooled
        arrays[f"peak_{i}"] = lay.peak
        arrays[f"total_{i}"] = lay.total
        arrays[f"total_sq_{i}"] = lay.total_sq
    if features.predictions is not None:
        arrays["predictions"] = features.predictions
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def features_from_bytes(data: bytes) -> DatasetFeatures:
    """What :func:`features_to_bytes` wrote (``allow_pickle=False``)."""
    with np.load(io.BytesIO(data), allow_pickle=False) as held:
        meta = json.loads(held["meta"].tobytes().decode())
        layers = tuple(
            LayerFeatures(
                index,
                name,
                class_name,
                tuple(shape),
                held[f"pooled_{i}"],
                held[f"peak_{i}"],
                count,
                held[f"total_{i}"],
                held[f"total_sq_{i}"],
            )
            for i, (index, name, class_name, shape, count) in enumerate(meta["layers"])
        )
        predictions = held["predictions"] if "predictions" in held.files else None
    return DatasetFeatures(layers, meta["n"], meta["start"], predictions)
