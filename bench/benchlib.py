"""What the benchmark scripts share: the machine line that heads each table, model choice."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterable


def cpu_name() -> str:
    """The CPU's model name from /proc/cpuinfo, or what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def machine_line(load_at_start: float, extra: str = "", versions: str = "") -> str:
    """``Machine: N CPU cores (cpu)[, extra], load at start/end; Python x[, versions]``.

    Other work on the machine skews timings: the 1-minute load average says how busy it was.
    """
    extra = f", {extra}" if extra else ""
    versions = f", {versions}" if versions else ""
    return (
        f"Machine: {os.cpu_count()} CPU cores ({cpu_name()}){extra}, 1-min load average "
        f"{load_at_start:.2f} at start, {os.getloadavg()[0]:.2f} at end; "
        f"Python {platform.python_version()}{versions}"
    )


def chosen_models(parser: argparse.ArgumentParser, text: str, known: Iterable[str]) -> list[str]:
    """The keys of ``--models a,b``; a usage error (exit 2) names the known ones otherwise."""
    known = list(known)
    keys = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in keys if k not in known]
    if unknown or not keys:
        parser.error(f"unknown model(s) {unknown}; choose from {', '.join(known)}")
    return keys


def time_alternately(
    fns: list[Callable[[], object]], budget_s: float, min_n: int, max_n: int
) -> tuple[list[float], int]:
    """Median seconds per call of each of ``fns``, timed in rounds of one call each.

    Rounds go on until every function has run ``min_n`` times and ``budget_s`` seconds have
    been spent in calls to each (or ``max_n`` rounds). The order within a round alternates, so
    drift in the machine's speed hits every function alike.
    """
    samples: list[list[float]] = [[] for _ in fns]
    n = 0
    while n < min_n or (min(sum(s) for s in samples) < budget_s and n < max_n):
        order = range(len(fns)) if n % 2 == 0 else reversed(range(len(fns)))
        for i in order:
            t0 = time.perf_counter()
            fns[i]()
            samples[i].append(time.perf_counter() - t0)
        n += 1
    return [statistics.median(s) for s in samples], n


# --- one backend per process -----------------------------------------------------------------

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: The interpreter that runs each Keras backend here: PyTorch lives in a venv of its own
#: (``make test-torch`` makes it), without TensorFlow beside it.
BACKEND_PYTHONS = {
    "tensorflow": ".venv/bin/python",
    "jax": ".venv/bin/python",
    "torch": ".venv-torch/bin/python",
}


def backend_names(text: str) -> list[str]:
    """The backends of ``--backend a,b`` (``all`` for every one)."""
    names = list(BACKEND_PYTHONS) if text == "all" else [b.strip() for b in text.split(",")]
    unknown = [b for b in names if b not in BACKEND_PYTHONS]
    if unknown:
        raise SystemExit(f"unknown backend(s) {unknown}; choose from {', '.join(BACKEND_PYTHONS)}")
    return names


def per_backend(script: str, backends: list[str], child_args: list[str]) -> list[dict]:
    """Run ``script --child ...`` once per backend (``KERAS_BACKEND`` is fixed at import, so
    one process each) and collect the JSON each prints on its last line."""
    import json
    import subprocess
    import sys

    results = []
    for backend in backends:
        python = os.path.join(ROOT, BACKEND_PYTHONS[backend])
        if not os.path.exists(python):
            results.append({"backend": backend, "error": f"{python} missing"})
            continue
        print(f"measuring on {backend} ...", file=sys.stderr, flush=True)
        env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": ROOT}
        done = subprocess.run(
            [python, script, "--child", *child_args],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        lines = done.stdout.strip().splitlines()
        try:
            results.append(json.loads(lines[-1]))
        except (IndexError, ValueError):
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            results.append({"backend": backend, "error": " / ".join(tail)})
    return results


def backend_version() -> str:
    """``"jax 0.10.2"``: the running Keras backend and its version (in a child)."""
    import importlib

    import keras

    name = keras.backend.backend()
    return f"{name} {importlib.import_module(name).__version__}"
