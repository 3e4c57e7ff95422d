"""Benchmark: the dataset lens's streamed pass against bare batched forward passes.

For each model, over ``--n`` patterns (random, in the model's input range) in batches of
``--batch``:

- **bare**: the model alone as one compiled function (``tf.function`` over ``model(x)``), the
  same batches: the cost of the forward passes themselves;
- **lens pass**: ``layerviz.dataset_features`` (the reduced multi-output pass, per-layer pooled
  features, peaks and moments kept);
- **full pass**: ``ActivationExtractor.extract_batch`` over the same batches (every output to
  the host), for reference;

timed alternately (median of ``--repeats`` rounds), then the peak RSS growth during one lens
pass (RSS sampled every 5 ms by a thread) against the bound the issue sets: twice the pooled
features plus one batch's activations; then PCA of one layer (the widest) and the whole CKA
matrix over every layer. Prints one Markdown table.

Usage:
    .venv/bin/python bench/lens.py [--models digits_cnn,mobilenetv2_96] [--n 1000] [--batch 32]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# isort: split
import numpy as np
import psutil
from benchlib import chosen_models, machine_line

import layerviz
from layerviz.lens.probes import project


def mobilenet_96():
    import keras

    return keras.applications.MobileNetV2(input_shape=(96, 96, 3), weights=None)


MODELS = {
    "digits_cnn": lambda: layerviz.load_model("digits_cnn"),
    "mobilenetv2_96": mobilenet_96,
}


def bare_forward(model):
    import tensorflow as tf

    fn = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    return lambda x: [np.asarray(o) for o in tf.nest.flatten(fn(x))]


def batches(x, size):
    return [x[i : i + size] for i in range(0, len(x), size)]


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def peak_rss_growth(fn) -> float:
    """Bytes the process's RSS rose above its level at the start, at its highest, during fn."""
    process = psutil.Process()
    start = process.memory_info().rss
    peak = [start]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            time.sleep(0.005)

    thread = threading.Thread(target=sample)
    thread.start()
    try:
        fn()
    finally:
        done.set()
        thread.join()
    return peak[0] - start


def bench_model(key: str, n: int, batch: int, repeats: int) -> dict:
    model = MODELS[key]()
    shape = layerviz.input_shape_of(model)
    x = np.random.default_rng(0).random((n, *shape), dtype=np.float32)
    extractor = layerviz.ActivationExtractor(model)
    bare = bare_forward(model)
    chunks = batches(x, batch)

    def run_bare():
        for chunk in chunks:
            bare(chunk)

    def run_lens():
        return layerviz.dataset_features(extractor, x, batch_size=batch)

    def run_full():
        for chunk in chunks:
            extractor.extract_batch(chunk)

    for fn in (run_bare, run_lens, run_full):  # trace and warm every path once
        fn()
    times = {"bare": [], "lens": [], "full": []}
    for r in range(repeats):
        order = [("bare", run_bare), ("lens", run_lens), ("full", run_full)]
        for name, fn in order if r % 2 == 0 else order[::-1]:
            times[name].append(timed(fn))
    median = {k: statistics.median(v) for k, v in times.items()}

    one_batch = sum(a.nbytes for a in extractor.extract_batch(chunks[0]).arrays)
    features = run_lens()
    growth = peak_rss_growth(run_lens)
    pooled_bytes = sum(lay.pooled.nbytes for lay in features.layers)
    widest = max(features.layers, key=lambda lay: lay.n_channels)
    pca_s = min(timed(lambda: project(widest.pooled)) for _ in range(3))
    cka_s = timed(lambda: layerviz.layer_similarity(features))
    return {
        "model": key,
        "layers": len(features.layers),
        "bare_s": median["bare"],
        "lens_s": median["lens"],
        "full_s": median["full"],
        "growth": growth,
        "bound": 2 * pooled_bytes + one_batch,
        "pooled": pooled_bytes,
        "batch_bytes": one_batch,
        "pca": (widest.name, widest.n_channels, pca_s),
        "cka_s": cka_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    mib = 2**20
    print(f"\n{args.n} patterns, batches of {args.batch}, median of {args.repeats} rounds\n")
    print(
        "| model | layers | bare forward s | lens pass s | lens ÷ bare | full pass s | "
        "full ÷ bare | peak RSS growth MiB | bound (2×pooled + 1 batch) MiB | "
        "PCA of widest layer | CKA matrix s | load |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|", flush=True)
    for key in chosen_models(parser, args.models, MODELS):
        r = bench_model(key, args.n, args.batch, args.repeats)
        name, width, pca_s = r["pca"]
        print(
            f"| {r['model']} | {r['layers']} | {r['bare_s']:.2f} | {r['lens_s']:.2f} | "
            f"{r['lens_s'] / r['bare_s']:.2f} | {r['full_s']:.2f} | "
            f"{r['full_s'] / r['bare_s']:.2f} | {r['growth'] / mib:.1f} | "
            f"{r['bound'] / mib:.1f} ({r['pooled'] / mib:.1f} + {r['batch_bytes'] / mib:.1f}) | "
            f"{name} ({width} ch) {pca_s * 1000:.0f} ms | {r['cka_s']:.2f} | "
            f"{os.getloadavg()[0]:.1f} |",
            flush=True,
        )
    print()
    print(machine_line(load))


if __name__ == "__main__":
    main()
