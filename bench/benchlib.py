"""What the benchmark scripts share: the machine line that heads each table, model choice,
the test model, and the clocks that time calls side by side."""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")


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


def tf_keras_versions(*more: str) -> str:
    """``TensorFlow x, Keras y[, more...]``: the versions a machine line names for TF work."""
    import keras
    import tensorflow as tf

    return ", ".join([f"TensorFlow {tf.__version__}", f"Keras {keras.__version__}", *more])


def mobilenet():
    """MobileNetV2 at 224×224×3 with seeded random weights (nothing is downloaded)."""
    import keras

    keras.utils.set_random_seed(0)
    return keras.applications.MobileNetV2(input_shape=(224, 224, 3), weights=None)


def parser_for(doc: str) -> argparse.ArgumentParser:
    """A script's argument parser, described by the first line of its docstring ``doc``."""
    return argparse.ArgumentParser(description=doc.split("\n", 1)[0])


def quick_option(doc: str, argv: list[str] | None = None, help: str = "fewer rounds") -> bool:
    """Parse a script whose only option is ``--quick`` (``help`` says what it leaves out)."""
    parser = parser_for(doc)
    parser.add_argument("--quick", action="store_true", help=help)
    return parser.parse_args(argv).quick


def quick_and_models(
    doc: str, models: Iterable[str], argv: list[str] | None = None, quick_help: str = "fewer rounds"
) -> tuple[bool, list[str]]:
    """Parse ``--quick`` and ``--models a,b`` (keys of ``models``, all by default).

    Returns:
        ``(quick, the chosen keys in the order given)``; unknown keys are a usage error.
    """
    known = list(models)
    parser = parser_for(doc)
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument(
        "--models",
        default=",".join(known),
        help="comma-separated, from: " + ", ".join(known) + " (default: all)",
    )
    args = parser.parse_args(argv)
    return args.quick, chosen_models(parser, args.models, known)


def chosen_models(parser: argparse.ArgumentParser, text: str, known: Iterable[str]) -> list[str]:
    """The keys of ``--models a,b``; a usage error (exit 2) names the known ones otherwise."""
    known = list(known)
    keys = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in keys if k not in known]
    if unknown or not keys:
        parser.error(f"unknown model(s) {unknown}; choose from {', '.join(known)}")
    return keys


def measure_each(
    keys: list[str], label: Callable[[str], str], measure: Callable[[str], T]
) -> list[T]:
    """``measure(key)`` for each key, each in a fresh Keras session (and after a collection),
    so one model's graphs and memory do not weigh on the next one's numbers."""
    import keras

    rows = []
    for key in keys:
        keras.backend.clear_session()
        gc.collect()
        print(f"measuring {label(key)} ...", file=sys.stderr, flush=True)
        rows.append(measure(key))
    return rows


def timed(fn: Callable[[], object], clock: Callable[[], float] = time.perf_counter) -> float:
    """Seconds one call of ``fn`` takes, by ``clock``."""
    t0 = clock()
    fn()
    return clock() - t0


def alternating_medians(
    fns: list[Callable[[], object]], rounds: int, clock: Callable[[], float] = time.perf_counter
) -> list[float]:
    """Median seconds per call of each of ``fns``, in ``rounds`` rounds of one call each.

    The order within a round alternates, so drift in the machine's speed hits every function
    alike; ``clock`` may be ``time.thread_time`` to count this thread's CPU time instead.
    """
    samples: list[list[float]] = [[] for _ in fns]
    for n in range(rounds):
        _one_round(fns, n, samples, clock)
    return [statistics.median(s) for s in samples]


def _one_round(fns, n: int, samples: list[list[float]], clock: Callable[[], float]) -> None:
    order = range(len(fns)) if n % 2 == 0 else reversed(range(len(fns)))
    for i in order:
        samples[i].append(timed(fns[i], clock))


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
        _one_round(fns, n, samples, time.perf_counter)
        n += 1
    return [statistics.median(s) for s in samples], n
