"""The dashboard's health run as plain functions (no Dash): its arguments, patterns and result.

A run goes over N seeded patterns, the model's samples, or a batch file the user uploaded. It
runs as a Dash background callback (``inspector.health``), on a thread of the server or on a
Celery worker, so nothing here may live only in one process's memory: an uploaded batch is read
and checked once, when it arrives, then kept in the session's upload store (this process, or
Redis shared by every worker); the browser holds only its digest, and the job reads it back.

Why the store and not the job's arguments: a background callback's arguments travel in the
start request *and in every progress poll* (the renderer re-sends them), and through Celery as
JSON; a 16 MB batch as base64 in each of them would cost far more than one store round trip.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from layerviz.analysis.health import ModelHealth, model_health, sample_patterns, seeded_patterns
from layerviz.errors import ArgumentError, PatternError
from layerviz.patterns.readers import MAX_BATCH_BYTES, MAX_PATTERN_BYTES, read_pattern_batch
from layerviz.ui.recipe import SampleRecipe, recipe_from_store
from layerviz.ui.store import current_session
from layerviz.ui.workbench import Workbench, pattern_digest

__all__ = [
    "BATCH_FILE_BYTES",
    "DEFAULT_SEEDS",
    "MAX_SEEDS",
    "MAX_THRESHOLD",
    "SOURCES",
    "HealthRun",
    "add_batch",
    "checked_run",
    "checked_seeds",
    "checked_threshold",
    "health_store",
    "health_summary",
    "run_health",
]

DEFAULT_SEEDS = 64
#: The most patterns one run goes over, seeded or uploaded: bounds a run's server time.
MAX_SEEDS = 512
#: Patterns per forward pass in the dashboard: smaller than the library's default, so a large
#: model's batch (MobileNetV2: about 85 MB of outputs per pattern) stays under 1 GB.
BATCH_SIZE = 8
#: The threshold's bounds: far past any activation a dead-unit question asks about, and a
#: number the browser's input and JSON both carry exactly.
MAX_THRESHOLD = 1e6
#: An uploaded batch file: one request's worth, like a pattern (the server reads at most
#: ``app.MAX_REQUEST_BYTES``, nginx 24 MB). The library's own limit (256 MB) is for the CLI.
BATCH_FILE_BYTES = MAX_PATTERN_BYTES
#: Room for a ``.npy`` header in an unpacked batch (numpy reads headers up to 10,000 bytes).
_NPY_HEADER_BYTES = 2**16
#: Where a run's patterns come from (the source control's values).
SOURCES = {
    "seeds": "random patterns",
    "samples": "the model's samples",
    "batch": "an uploaded batch",
}
#: The digest a batch is kept under: a pattern digest with its own prefix, so a crafted
#: pattern recipe (whose digest is bare hex) can never name a batch.
_BATCH_DIGEST = re.compile(r"batch-[0-9a-f]{24}")

#: Called as ``progress(done, total)`` while a run goes (``layerviz.analysis.health.Progress``).
Progress = Callable[[int, int], object]


@dataclass(frozen=True)
class HealthRun:
    """A health run's checked arguments.

    Attributes:
        model: the model's name (from the page's pattern store).
        source: a key of :data:`SOURCES`.
        seeds: how many seeded patterns (for ``"seeds"``).
        threshold: a channel that never exceeds it is dead.
        batch: the uploaded batch's store form (for ``"batch"``), see :func:`add_batch`.
    """

    model: str
    source: str
    seeds: int
    threshold: float
    batch: dict | None = None


def checked_run(store_data: Any, source: Any, seeds: Any, threshold: Any, batch: Any) -> HealthRun:
    """The page's health controls as a :class:`HealthRun`, every value checked.

    Raises:
        PatternError: a malformed pattern store, or ``"batch"`` chosen with no batch uploaded.
        ArgumentError: an unknown source, a bad number of patterns or threshold.
    """
    model = recipe_from_store(store_data).model
    if not isinstance(source, str) or source not in SOURCES:
        raise ArgumentError(f"the patterns come from {', '.join(SOURCES)}; got {source!r}"[:300])
    count = checked_seeds(seeds) if source == "seeds" else 0
    if source == "batch" and not _is_batch(batch):
        raise PatternError("upload a batch of patterns (.npy or .npz) first")
    return HealthRun(model, source, count, checked_threshold(threshold), batch)


def checked_seeds(seeds: Any) -> int:
    """A number of seeded patterns from 1 to :data:`MAX_SEEDS`.

    Raises:
        ArgumentError: not a whole number, or out of range.
    """
    whole = isinstance(seeds, int | float) and not isinstance(seeds, bool)
    if not whole or not math.isfinite(seeds) or seeds != int(seeds):
        raise ArgumentError(f"the number of patterns must be a whole number, got {seeds!r}"[:300])
    if not 1 <= seeds <= MAX_SEEDS:
        raise ArgumentError(f"the number of patterns must be from 1 to {MAX_SEEDS}, got {seeds}")
    return int(seeds)


def checked_threshold(threshold: Any) -> float:
    """A threshold from ``-MAX_THRESHOLD`` to ``MAX_THRESHOLD``.

    Raises:
        ArgumentError: not a number (an empty input arrives as None), or out of range.
    """
    limit = f"{-MAX_THRESHOLD:,.0f} to {MAX_THRESHOLD:,.0f}"
    number = isinstance(threshold, int | float) and not isinstance(threshold, bool)
    if not number or not math.isfinite(threshold):
        got = "nothing" if threshold is None else repr(threshold)[:40]
        raise ArgumentError(f"the threshold must be a number from {limit}, got {got}")
    if abs(threshold) > MAX_THRESHOLD:
        raise ArgumentError(f"the threshold must be a number from {limit}, got {threshold:g}")
    return float(threshold)


def add_batch(workbench: Workbench, model: str, data: bytes, filename: str) -> dict:
    """Read an uploaded batch file for ``model`` and keep it for this session.

    Returns:
        Its store form: ``{"digest", "filename", "n", "shape"}`` (the page holds only this).

    Raises:
        PatternError: the file is unsafe, unreadable, does not fit the model's input, holds
            more than :data:`MAX_SEEDS` patterns, or is over one session's share of the store.
        ModelLoadError: an unknown model.
        StoreUnavailableError: the shared store (Redis) cannot be reached.
    """
    extractor = workbench.entry(model).extractor
    if len(extractor.input_shapes) != 1:
        raise PatternError(
            f"{filename}: a batch file fits a model with one input; "
            f"{model!r} has {len(extractor.input_shapes)}"
        )
    shape = extractor.input_shapes[0]
    # At most MAX_SEEDS patterns of the widest dtype (8 bytes) and a header: a small .npz of
    # zeros cannot make this request unpack the library's MAX_BATCH_BYTES (256 MB).
    limit = min(MAX_BATCH_BYTES, MAX_SEEDS * math.prod(shape) * 8 + _NPY_HEADER_BYTES)
    batch = read_pattern_batch(data, filename, shape, extractor.input_dtypes[0], limit)
    if not 1 <= len(batch) <= MAX_SEEDS:
        raise PatternError(
            f"{filename}: a batch holds 1 to {MAX_SEEDS} patterns, this one {len(batch)}"
        )
    digest = "batch-" + pattern_digest(batch)
    workbench.keep_upload(digest, batch, filename, "batch")
    return {"digest": digest, "filename": filename, "n": len(batch), "shape": list(batch.shape)}


def run_health(workbench: Workbench, run: HealthRun, progress: Progress | None = None) -> dict:
    """Run ``model_health`` for a checked run; the result in the page's store form.

    ``progress(done, total)`` hears each batch of patterns; it may raise to stop the run.

    Raises:
        PatternError: no samples, or the uploaded batch is no longer kept or does not fit.
        ModelLoadError: an unknown model.
        StoreUnavailableError: the shared store (Redis) cannot be reached.
    """
    entry = workbench.entry(run.model)
    report = model_health(
        entry.extractor,
        _patterns(workbench, run),
        threshold=run.threshold,
        batch_size=BATCH_SIZE,
        progress=progress,
    )
    return health_store(run.model, report)


def _patterns(workbench: Workbench, run: HealthRun):
    """The run's patterns: a batch ``(n, *input_shape)``, a list of them for several inputs."""
    if run.source == "seeds":
        return seeded_patterns(workbench.entry(run.model).model, run.seeds)
    if run.source == "samples":
        entry = workbench.entry(run.model)
        if len(entry.extractor.input_shapes) > 1 and entry.samples:
            # A sample holds one array per input (an .npz): each input gets its own batch.
            parts = [workbench.pattern(SampleRecipe(run.model, s.name)) for s in entry.samples]
            return [np.concatenate(arrays) for arrays in zip(*parts, strict=True)]
        shape = workbench.input_shape(run.model)
        return sample_patterns(run.model, shape, workbench.input_dtype(run.model))
    return _stored_batch(workbench, run.model, run.batch)


def _stored_batch(workbench: Workbench, model: str, batch: dict) -> np.ndarray:
    """The session's uploaded batch, checked against ``model``'s input."""
    name = str(batch.get("filename") or "the batch")[:200]
    found = workbench.uploads.get(current_session.get(), batch["digest"])
    if not isinstance(found, np.ndarray) or found.ndim < 2:
        raise PatternError(f"{name} is no longer kept on the server; upload it again")
    extractor = workbench.entry(model).extractor
    shape = tuple(extractor.input_shapes[0])
    if len(extractor.input_shapes) != 1 or found.shape[1:] != shape:
        raise PatternError(
            f"{name}: batch shape {found.shape} does not fit {model!r}'s input {shape}: "
            "upload a batch for this model"
        )
    return found.astype(extractor.input_dtypes[0], copy=False)


def _is_batch(batch: Any) -> bool:
    """Whether ``batch`` is a batch's store form (as :func:`add_batch` returns it)."""
    digest = batch.get("digest") if isinstance(batch, dict) else None
    return isinstance(digest, str) and _BATCH_DIGEST.fullmatch(digest) is not None


def health_store(model: str, report: ModelHealth) -> dict:
    """A health report in the form the page keeps: dead and saturated channels per layer."""
    return {
        "model": model,
        "n_patterns": report.n_patterns,
        "threshold": report.threshold,
        "layers": {
            layer.name: {"dead": list(layer.dead), "saturated": list(layer.saturated)}
            for layer in report.layers
        },
        "n_dead": report.n_dead,
        "n_saturated": report.n_saturated,
    }


def health_summary(result: dict) -> str:
    """One line about a finished run: its counts, patterns and threshold."""
    return (
        f"{result['n_dead']} dead and {result['n_saturated']} saturated channels over "
        f"{result['n_patterns']} patterns (threshold {result['threshold']:g})"
    )
