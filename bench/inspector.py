"""Benchmark: layer statistics and model health on MobileNetV2, side by side with their floors.

On ``keras.applications.MobileNetV2(weights=None)`` at 224×224×3 (155 layers), in one run:

a. ``layer_statistics`` for every layer of one cached extraction, against the plain numpy way
   (``min``, ``max``, ``mean``, ``std``, ``== 0``, ``isnan``, ``isinf`` and a per-channel max,
   one call each) and against the forward pass that made the extraction; target ≤ 50 ms;
b. ``model_health`` over 64 seeded patterns (extractor built once, batch size 32 and 16),
   against one batch-64 forward pass of the bare model; target ≤ 3×. The extractor's own
   ``run_batch`` without the reductions is timed too, to show where the time goes;
c. opening the dashboard's inspector on the largest layer of a cached extraction, k = 16: the
   server's work for the callback (``views.inspector_view``, then the figure as JSON, as Dash
   sends it), against the grid callback's work for the same cached extraction; target ≤ 100 ms.

Rounds alternate between the contenders so that drift in the machine's speed hits all alike;
each figure is a median. Prints Markdown tables ready to paste into an issue. It measures and
does not test: it exits 0 whether the targets are met or not.

Usage:
    .venv/bin/python bench/inspector.py [--quick]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

# isort: split
import layerviz  # before keras: it imports TensorFlow without the log noise

# isort: split

import numpy as np
import tensorflow as tf

# bench/benchlib.py, beside this script
from benchlib import alternating_medians, machine_line, mobilenet, quick_option, tf_keras_versions

from layerviz.analysis.health import model_health, seeded_patterns
from layerviz.analysis.statistics import layer_statistics
from layerviz.extract.activations import ActivationExtractor
from layerviz.ui.callbacks import render_grid
from layerviz.ui.features.inspector.views import inspector_view
from layerviz.ui.recipe import SeedRecipe
from layerviz.ui.workbench import Workbench

STATISTICS_TARGET_S = 0.050
HEALTH_TARGET_RATIO = 3.0
N_PATTERNS = 64
INSPECTOR_TARGET_S = 0.100


def plain_numpy_statistics(activations) -> list[tuple]:
    """The statistics as one would first write them: one numpy call per number."""
    rows = []
    for act in activations:
        a = act.array
        rows.append(
            (
                a.min(),
                a.max(),
                a.mean(),
                a.std(),
                np.mean(a == 0),
                np.count_nonzero(np.isnan(a)),
                np.count_nonzero(np.isinf(a)),
                a.reshape(-1, a.shape[-1]).max(axis=0) <= 0,
            )
        )
    return rows


def bench_statistics(extractor, pattern, rounds: int) -> list[str]:
    extraction = extractor.run(pattern)
    n_layers = len(extraction.activations)
    for _ in range(2):  # warm-up
        layer_statistics(extraction)
        plain_numpy_statistics(extraction.activations)
    fns = [
        lambda: layer_statistics(extraction),
        lambda: plain_numpy_statistics(extraction.activations),
        lambda: extractor.run(pattern),
    ]
    fast, plain, forward = alternating_medians(fns, rounds)
    # numpy runs in this thread, so its CPU time is what the wall time would be on an idle
    # machine; TensorFlow's forward pass runs in its own threads and has no such figure.
    fast_cpu, plain_cpu = alternating_medians(fns[:2], rounds, clock=time.thread_time)
    verdict = "PASS" if fast <= STATISTICS_TARGET_S else "MISS"
    mb = extraction.nbytes / 2**20
    return [
        f"### a. `layer_statistics`, all {n_layers} layers ({mb:.0f} MiB of activations)",
        "",
        "| what | wall ms | / layer_statistics | CPU ms (this thread) |",
        "|---|--:|--:|--:|",
        f"| `layer_statistics` | {fast * 1e3:.1f} | 1.00× | {fast_cpu * 1e3:.1f} |",
        f"| plain numpy, one call per number | {plain * 1e3:.1f} | {plain / fast:.2f}× "
        f"| {plain_cpu * 1e3:.1f} |",
        f"| the extraction's forward pass (`run`) | {forward * 1e3:.1f} | "
        f"{forward / fast:.2f}× | — |",
        "",
        f"- {verdict}: `layer_statistics` ≤ {STATISTICS_TARGET_S * 1e3:.0f} ms: "
        f"{fast * 1e3:.1f} ms wall, {fast_cpu * 1e3:.1f} ms CPU (medians of {rounds} rounds)",
    ]


def bench_health(model, extractor, rounds: int) -> list[str]:
    patterns = seeded_patterns(model, N_PATTERNS)
    bare_fn = tf.function(lambda x: model(x, training=False))

    def bare():
        return bare_fn(patterns).numpy()

    def run_batches(size: int):
        for start in range(0, N_PATTERNS, size):
            extractor.run_batch(patterns[start : start + size])

    contenders = {
        "bare model, one batch-64 forward pass": bare,
        "`model_health`, batch size 32": lambda: model_health(extractor, patterns, batch_size=32),
        "`model_health`, batch size 16": lambda: model_health(extractor, patterns, batch_size=16),
        "`run_batch` only, 2 × 32 (no reductions)": lambda: run_batches(32),
    }
    for fn in contenders.values():  # traces and first-call costs
        fn()
    medians = alternating_medians(list(contenders.values()), rounds)
    times = dict(zip(contenders, medians, strict=True))
    floor = times["bare model, one batch-64 forward pass"]
    lines = [
        f"### b. `model_health` over {N_PATTERNS} seeded patterns (extractor built once)",
        "",
        "| what | s | / bare batch-64 forward |",
        "|---|--:|--:|",
    ]
    lines += [f"| {name} | {t:.2f} | {t / floor:.2f}× |" for name, t in times.items()]
    best = min(times["`model_health`, batch size 32"], times["`model_health`, batch size 16"])
    default = times["`model_health`, batch size 32"] / floor
    verdict = "PASS" if default <= HEALTH_TARGET_RATIO else "MISS"
    lines += [
        "",
        f"- {verdict}: `model_health` (default batch size 32) ≤ {HEALTH_TARGET_RATIO:g}× one "
        f"batch-64 forward pass: {default:.2f}× (best batch size: {best / floor:.2f}×; "
        f"median of {rounds} rounds)",
    ]
    return lines


def bench_inspector(model, rounds: int) -> list[str]:
    from plotly.io.json import to_json_plotly  # what Dash's JSON encoder calls for figures

    workbench = Workbench({"mobilenet": model}, include_bundled=False)
    store = SeedRecipe("mobilenet", 0).to_store()
    run = workbench.extraction(SeedRecipe("mobilenet", 0))  # the cache now holds it
    largest = max(run.extraction.activations, key=lambda a: a.array.size)
    selected = {"model": "mobilenet", "layer": largest.name}

    def inspector(by: str):
        view = inspector_view(workbench, store, selected, by, 16, 1, "map")
        return to_json_plotly(view.figure)

    def grid():
        return to_json_plotly(render_grid(workbench, store, 3, 3, 15, 1)[0])

    fns = {
        "inspector, k = 16, rank by mean": lambda: inspector("mean"),
        "inspector, k = 16, rank by std": lambda: inspector("std"),
        "the grid callback (3×3 page, limit 15)": grid,
    }
    for fn in fns.values():
        fn()
    times = dict(zip(fns, alternating_medians(list(fns.values()), rounds), strict=True))
    first = times["inspector, k = 16, rank by mean"]
    slowest = max(times["inspector, k = 16, rank by mean"], times["inspector, k = 16, rank by std"])
    verdict = "PASS" if slowest <= INSPECTOR_TARGET_S else "MISS"
    shape = "×".join(map(str, largest.shape))
    lines = [
        f"### c. opening the inspector on the cached extraction's largest layer ({largest.name}, "
        f"{shape})",
        "",
        "| server work | ms | / inspector by mean |",
        "|---|--:|--:|",
    ]
    lines += [f"| {name} | {t * 1e3:.1f} | {t / first:.2f}× |" for name, t in times.items()]
    lines += [
        "",
        f"- {verdict}: inspector ≤ {INSPECTOR_TARGET_S * 1e3:.0f} ms server time: "
        f"{slowest * 1e3:.1f} ms (the slower sort; median of {rounds} rounds)",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    quick = quick_option(__doc__, argv)
    load_at_start = os.getloadavg()[0]

    model = mobilenet()
    extractor = ActivationExtractor(model)
    pattern = layerviz.random_pattern(model, seed=0)
    print("measuring layer_statistics ...", file=sys.stderr, flush=True)
    part_a = bench_statistics(extractor, pattern, rounds=7 if quick else 21)
    print("measuring model_health ...", file=sys.stderr, flush=True)
    part_b = bench_health(model, extractor, rounds=2 if quick else 4)
    print("measuring the inspector ...", file=sys.stderr, flush=True)
    part_c = bench_inspector(model, rounds=7 if quick else 21)

    print(
        machine_line(
            load_at_start,
            versions=tf_keras_versions(f"NumPy {np.__version__}"),
        )
    )
    print()
    print("\n".join(part_a))
    print()
    print("\n".join(part_b))
    print()
    print("\n".join(part_c))
    return 0


if __name__ == "__main__":
    sys.exit(main())
