"""Health runs in the background: a thread per run, its progress read by polling (no Dash).

``model_health`` over 64 patterns of a large model takes seconds; a callback that waited for it
would hold the page. ``HealthJobs.start`` returns at once with a job id; the thread updates the
job's progress, and a ``dcc.Interval`` reads it with ``HealthJobs.status``. Jobs live in this
process's memory, as the extraction cache does (one server process).
"""

from __future__ import annotations

import math
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from layerviz.errors import ArgumentError
from layerviz.health import ModelHealth, model_health, sample_patterns, seeded_patterns
from layerviz.ui.common import error_text
from layerviz.ui.workbench import Workbench

__all__ = ["DEFAULT_SEEDS", "MAX_SEEDS", "HealthJob", "HealthJobs", "health_store"]

DEFAULT_SEEDS = 64
MAX_SEEDS = 512
#: Patterns per forward pass in the dashboard: smaller than the library's default, so a large
#: model's batch (MobileNetV2: about 85 MB of outputs per pattern) stays under 1 GB.
BATCH_SIZE = 8
#: Finished jobs kept for their pollers; older ones are dropped.
KEPT_JOBS = 16


@dataclass
class HealthJob:
    """One health run: its progress, then its result or its error."""

    model: str
    total: int = 0
    done: int = 0
    result: dict | None = None
    error: str | None = None
    finished: threading.Event = field(default_factory=threading.Event)


class HealthJobs:
    """The health runs of one dashboard, by id."""

    def __init__(self, workbench: Workbench):
        self._workbench = workbench
        self._jobs: dict[str, HealthJob] = {}
        self._lock = threading.Lock()

    def start(self, model: str, source: Any, seeds: Any) -> str:
        """Start a run over ``seeds`` seeded patterns or (``source == "samples"``) the samples.

        Raises:
            ArgumentError: ``seeds`` is not a whole number from 1 to ``MAX_SEEDS``.
            ModelLoadError: an unknown model.
        """
        entry = self._workbench.entry(model)
        if source == "samples":
            shape = self._workbench.input_shape(model)
            patterns = sample_patterns(model, shape, self._workbench.input_dtype(model))
        else:
            patterns = seeded_patterns(entry.model, _checked_seeds(seeds))
        job_id = uuid.uuid4().hex
        job = HealthJob(model, total=len(patterns))
        with self._lock:
            self._jobs[job_id] = job
            self._forget_old()
        thread = threading.Thread(
            target=self._run, args=(job, entry.extractor, patterns), daemon=True
        )
        thread.start()
        return job_id

    def status(self, job_id: Any) -> HealthJob | None:
        """The job with this id, or None (unknown, or long finished)."""
        with self._lock:
            return self._jobs.get(job_id) if isinstance(job_id, str) else None

    def _run(self, job: HealthJob, extractor, patterns) -> None:
        def progress(done: int, total: int) -> None:
            job.done, job.total = done, total

        try:
            report = model_health(extractor, patterns, batch_size=BATCH_SIZE, progress=progress)
            job.result = health_store(job.model, report)
        except Exception as exc:  # a thread has no caller: the poller shows the message
            job.error = error_text(exc)
        finally:
            job.finished.set()

    def _forget_old(self) -> None:
        finished = [key for key, job in self._jobs.items() if job.finished.is_set()]
        for key in finished[: max(0, len(finished) - KEPT_JOBS)]:
            del self._jobs[key]


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


def _checked_seeds(seeds: Any) -> int:
    whole = isinstance(seeds, int | float) and not isinstance(seeds, bool)
    if not whole or not math.isfinite(seeds) or seeds != int(seeds):
        raise ArgumentError(f"the number of patterns must be a whole number, got {seeds!r}")
    if not 1 <= seeds <= MAX_SEEDS:
        raise ArgumentError(f"the number of patterns must be from 1 to {MAX_SEEDS}, got {seeds}")
    return int(seeds)
