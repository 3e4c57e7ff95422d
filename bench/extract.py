"""Benchmark: every layer's activations, three ways, measured side by side in one run.

For each model, with one random pattern:

a. the bare forward pass (the floor): ``tf.function(lambda x: model(x, training=False))`` on the
   original model, ``.numpy()`` on its output;
b. ``ActivationExtractor.extract`` (the extractor built once, warmed up, then timed); its
   one-off build time (construction + first call) is reported on its own;
c. the article's way: one ``keras.Model(model.input, model.layers[i].output)`` per layer, each
   built and run with ``predict`` (one run: it takes about a minute on MobileNetV2).

a and b are timed alternately (one call of each per round) so that drift in the machine's speed
hits both alike; each figure is the median of the rounds. Prints one Markdown table, ready to
paste into an issue, and the targets beneath it. It is a measurement, not a test: it exits 0
whether the targets are met or not.

Usage:
    .venv/bin/python bench/extract.py [--quick] [--models article,cnn,transformer,mobilenet]
"""

from __future__ import annotations

import gc
import os
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

# isort: split
import layerviz  # noqa: F401  before keras: it imports TensorFlow without the log noise

# isort: split

import keras
import numpy as np
import psutil
import tensorflow as tf
from benchlib import (  # bench/benchlib.py, beside this script
    machine_line,
    measure_each,
    mobilenet,
    quick_and_models,
    tf_keras_versions,
    time_alternately,
    timed,
)

from layerviz.extract.activations import ActivationExtractor

# The article's way retraces a predict function per layer, and TensorFlow warns about it each
# time; the warnings are expected here and would bury the table.
tf.get_logger().setLevel("ERROR")

MB = 1024 * 1024

#: Targets, on MobileNetV2.
MAX_EXTRACT_OVER_BARE = 3.0
AIM_EXTRACT_OVER_BARE = 1.5
MIN_ARTICLE_OVER_EXTRACT = 500.0


# --- models --------------------------------------------------------------------------------------


def article_model() -> keras.Model:
    """The article's model: dense layers over a 50x50 pattern."""
    inputs = keras.Input((50, 50))
    x = keras.layers.Dense(75, activation="relu")(inputs)
    x = keras.layers.Dense(50, activation="relu", name="my_dense")(x)
    x = keras.layers.Dense(25, activation="relu")(x)
    x = keras.layers.Dense(10, activation="relu")(x)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(5, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="article")


def small_cnn() -> keras.Model:
    """A small digits-style CNN: 28x28x1 -> conv/pool x2 -> conv -> GAP -> dense."""
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu")(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="small_cnn")


def transformer() -> keras.Model:
    """Two encoder blocks (4 heads, 128 tokens of width 64), built without attention scores:
    the extractor taps them, so its pass also computes and returns 8 maps of 128x128."""
    inputs = keras.Input((128, 16))
    x = keras.layers.Dense(64)(inputs)
    for _ in range(2):
        h = keras.layers.LayerNormalization()(x)
        h = keras.layers.MultiHeadAttention(4, 16)(h, h)
        x = keras.layers.Add()([x, h])
        h = keras.layers.LayerNormalization()(x)
        h = keras.layers.Dense(128, activation="gelu")(h)
        x = keras.layers.Add()([x, keras.layers.Dense(64)(h)])
    x = keras.layers.GlobalAveragePooling1D()(x)
    outputs = keras.layers.Dense(4, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="transformer")


MODELS: dict[str, tuple[str, Callable[[], keras.Model]]] = {
    "article": ("article (dense)", article_model),
    "cnn": ("small CNN", small_cnn),
    "transformer": ("transformer, 2 blocks (attention tapped)", transformer),
    "mobilenet": ("MobileNetV2", mobilenet),
}


# --- measuring -----------------------------------------------------------------------------------


def rss() -> int:
    return psutil.Process().memory_info().rss


def peak_rss() -> int:
    """The process's RSS high-water mark, in bytes (``ru_maxrss`` is in KiB on Linux)."""
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def reset_peak_rss() -> bool:
    """Reset the kernel's RSS high-water mark to the current RSS (Linux >= 4.0), if allowed."""
    try:
        with open(f"/proc/{os.getpid()}/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def current_hwm() -> int:
    """VmHWM from /proc (reset by ``reset_peak_rss``, unlike ``ru_maxrss``); 0 if unknown."""
    try:
        with open(f"/proc/{os.getpid()}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@dataclass
class Row:
    label: str
    layers: int = 0
    skipped: int = 0
    bare_s: float = float("nan")
    extract_s: float = float("nan")
    build_s: float = float("nan")
    article_s: float | None = None
    rounds: int = 0
    activations_bytes: int = 0
    extract_peak_growth: int | None = None
    graph_s: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def extract_over_bare(self) -> float:
        return self.extract_s / self.bare_s

    @property
    def article_over_extract(self) -> float | None:
        return None if self.article_s is None else self.article_s / self.extract_s


def article_way(model: keras.Model, pattern: np.ndarray) -> None:
    """Exactly as the article did it: one sub-model per layer, built and run with predict."""
    for num_layer in range(1, len(model.layers)):
        sub = keras.Model(inputs=model.input, outputs=model.layers[num_layer].output)
        sub.predict(pattern, verbose=0)


def bench_model(key: str, *, quick: bool) -> Row:
    label, build = MODELS[key]
    row = Row(label)
    keras.utils.set_random_seed(0)
    model = build()
    shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    pattern = np.random.default_rng(0).random((1, *shape), dtype=np.float32)

    # a. the floor: the original model as one tf.function.
    bare_fn = tf.function(lambda x: model(x, training=False))

    def bare():
        return bare_fn(pattern).numpy()

    bare()  # trace

    # b. the extractor: build time is construction + first call (the trace).
    gc.collect()
    can_reset = reset_peak_rss()
    rss_before = rss()
    t0 = time.perf_counter()
    extractor = ActivationExtractor(model)
    acts = extractor.extract(pattern)
    row.build_s = time.perf_counter() - t0
    row.layers = len(extractor.layers)
    row.skipped = len(extractor.skipped)
    row.activations_bytes = sum(a.array.nbytes for a in acts)
    del acts

    def extract():
        return extractor.extract(pattern)

    fns = [bare, extract]
    # Breakdown, not a target: the extractor's multi-output model as a tf.function, its outputs
    # left as tensors, shows what extract costs before any conversion to numpy. It reads a
    # private attribute, so it is measured only while that attribute exists.
    multi = getattr(extractor, "_multi", None)
    if isinstance(multi, keras.Model):
        graph_fn = tf.function(lambda x: multi(x, training=False))
        fns.append(lambda: graph_fn(pattern))
        fns[-1]()  # trace

    for _ in range(2):  # past the first calls' one-off costs (allocator, oneDNN primitives)
        for fn in fns:
            fn()

    budget = 0.5 if quick else 2.0
    medians, row.rounds = time_alternately(
        fns, budget_s=budget, min_n=5, max_n=200 if quick else 2000
    )
    row.bare_s, row.extract_s = medians[:2]
    row.graph_s = medians[2] if len(medians) > 2 else None
    if can_reset and current_hwm():
        row.extract_peak_growth = current_hwm() - rss_before

    # c. the article's way, last (it leaves many traced functions behind).
    if quick and key == "mobilenet":
        row.notes.append("article way skipped (--quick)")
    else:
        row.article_s = timed(lambda: article_way(model, pattern))
    return row


# --- report --------------------------------------------------------------------------------------


def fmt_ms(seconds: float) -> str:
    ms = seconds * 1000
    return f"{ms:.3f}" if ms < 1 else f"{ms:.2f}" if ms < 100 else f"{ms:.1f}"


def fmt_ratio(ratio: float | None) -> str:
    if ratio is None:
        return "—"
    return f"{ratio:.2f}×" if ratio < 10 else f"{ratio:,.0f}×"


def header(load_at_start: float) -> str:
    onednn = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on)")
    gpus = len(tf.config.list_physical_devices("GPU"))
    return machine_line(
        load_at_start,
        extra=f"{gpus} GPU",
        versions=tf_keras_versions(f"NumPy {np.__version__}; TF_ENABLE_ONEDNN_OPTS={onednn}"),
    )


def table(rows: list[Row]) -> str:
    cols = [
        "model",
        "layers",
        "bare forward (ms)",
        "extract (ms)",
        "extract / bare",
        "extractor build (s)",
        "article way (s)",
        "article / extract",
        "activations (MB)",
        "extract peak RSS growth (MB)",
    ]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join(["---"] + ["--:"] * 9) + "|"]
    for r in rows:
        layers = f"{r.layers}" + (f" (+{r.skipped} skipped)" if r.skipped else "")
        growth = "—" if r.extract_peak_growth is None else f"{r.extract_peak_growth / MB:.1f}"
        cells = [
            r.label,
            layers,
            fmt_ms(r.bare_s),
            fmt_ms(r.extract_s),
            fmt_ratio(r.extract_over_bare),
            f"{r.build_s:.2f}",
            "skipped" if r.article_s is None else f"{r.article_s:.2f}",
            fmt_ratio(r.article_over_extract),
            f"{r.activations_bytes / MB:.2f}",
            growth,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def targets(rows: list[Row]) -> list[str]:
    net = next((r for r in rows if r.label == MODELS["mobilenet"][0]), None)
    if net is None:
        return ["- n/a: MobileNetV2 not run (see --models)"]
    ratio = net.extract_over_bare
    verdict = "PASS" if ratio <= MAX_EXTRACT_OVER_BARE else "MISS"
    aim = "met" if ratio <= AIM_EXTRACT_OVER_BARE else "not met"
    lines = [
        f"- {verdict}: extract within {MAX_EXTRACT_OVER_BARE:g}× of the bare forward pass on "
        f"MobileNetV2: {ratio:.2f}× (aim {AIM_EXTRACT_OVER_BARE:g}×: {aim})"
    ]
    speedup = net.article_over_extract
    if speedup is None:
        lines.append(
            f"- n/a: ≥{MIN_ARTICLE_OVER_EXTRACT:,.0f}× faster than the article's way on "
            "MobileNetV2: article way skipped (--quick)"
        )
    else:
        verdict = "PASS" if speedup >= MIN_ARTICLE_OVER_EXTRACT else "MISS"
        lines.append(
            f"- {verdict}: ≥{MIN_ARTICLE_OVER_EXTRACT:,.0f}× faster than the article's way on "
            f"MobileNetV2: {speedup:,.0f}×"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    quick_help = "skip MobileNetV2's article way and time fewer repeats"
    quick, keys = quick_and_models(__doc__, MODELS, argv, quick_help)

    load_at_start = os.getloadavg()[0]
    rows = measure_each(keys, lambda key: MODELS[key][0], lambda key: bench_model(key, quick=quick))

    print(header(load_at_start))
    print()
    print(table(rows))
    print()
    rounds = ", ".join(f"{r.label} {r.rounds}" for r in rows)
    print(
        "Bare forward, extract (and the breakdown's multi-output function): medians over "
        f"alternating rounds, one call of each per round ({rounds} rounds), after a trace and "
        "two warm-up calls. Article way: one run, sub-model "
        "builds + predict for every layer. Activations: sum of the returned arrays' nbytes. "
        "Peak RSS growth: VmHWM during extractor build + timed extract calls, over RSS before."
    )
    print()
    print("Where extract's time goes (medians, same rounds):")
    for r in rows:
        if r.graph_s is None:
            print(f"- {r.label}: n/a (the extractor has no `_multi` model to time)")
            continue
        print(
            f"- {r.label}: bare {fmt_ms(r.bare_s)} ms → multi-output tf.function, outputs left "
            f"as tensors {fmt_ms(r.graph_s)} ms ({r.graph_s / r.bare_s:.2f}× bare) → extract "
            f"{fmt_ms(r.extract_s)} ms (+{fmt_ms(r.extract_s - r.graph_s)} ms converting "
            f"{r.activations_bytes / MB:.1f} MB to numpy and wrapping)"
        )
    for r in rows:
        for note in r.notes:
            print(f"{r.label}: {note}.")
    print(f"Peak RSS of the whole process: {peak_rss() / MB:,.0f} MB")
    print()
    print("Targets (MobileNetV2):")
    for line in targets(rows):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
