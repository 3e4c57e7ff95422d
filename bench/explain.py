"""Benchmark: Grad-CAM and SmoothGrad against the passes they are made of, side by side.

On ``MobileNetV2(weights=None)`` at 224×224×3, with one seeded random pattern:

a. Grad-CAM (``Explainer.grad_cam``, default layer, top class) against one bare forward pass
   (``tf.function(lambda x: model(x, training=False))`` on the original model, ``.numpy()``);
   target ≤ 3×. Grad-CAM at an early layer is listed too: its gradient runs back further.
b. SmoothGrad with 16 noisy copies (``Explainer.saliency(smooth=16)``: one batch of 17, the
   clean pattern included to pick the class) against one batch-16 forward-and-backward pass of
   the bare model (the input's gradient of the top class's summed score); target ≤ 2×.
   Vanilla saliency against a batch-1 forward-and-backward pass is listed too.

Each pair is timed alternately (one call of each per round) after warm-up calls, and the table
gives the medians. It measures and does not test: it exits 0 either way.

With ``--backend tensorflow,jax,torch`` (or ``all``) it runs itself once per Keras backend (a
process each; torch from ``.venv-torch``) and prints one table with a backend column, on
digits_cnn and MobileNetV2: Grad-CAM (default layer) over one ``predict_on_batch``, and
SmoothGrad-16 over one batch-16 forward + backward of the bare model (its input gradient of the
top class's score, through ``layerviz.extract.backends`` on that backend).

Usage:
    .venv/bin/python bench/explain.py [--quick]
    .venv/bin/python bench/explain.py --backend all [--quick]
    LAYERVIZ_BENCH_MODELS=digits_cnn .venv/bin/python bench/explain.py --backend all --quick
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

# isort: split
import layerviz  # before keras: it silences TensorFlow's import

# isort: split

import keras
import numpy as np
from benchlib import (  # bench/benchlib.py, beside this script
    backend_names,
    backend_options,
    backend_version,
    machine_line,
    mobilenet,
    per_backend,
    quick_option,
    tf_keras_versions,
    time_alternately,
)

from layerviz.analysis.explain import Explainer

#: Targets from the issue: explanation time over the time of the passes it is made of.
MAX_GRADCAM_OVER_FORWARD = 3.0
MAX_SMOOTHGRAD_OVER_BATCH = 2.0
SMOOTH = 16
EARLY_LAYER = "block_3_expand_relu"  # 56×56×144, a quarter of the way in


def bare_passes(model: keras.Model) -> tuple[Callable, Callable]:
    """``forward(x)`` and ``forward_backward(x)`` on the original model, compiled."""
    import tensorflow as tf

    forward_fn = tf.function(lambda x: model(x, training=False))

    @tf.function
    def gradient_fn(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = model(x, training=False)
            score = tf.reduce_sum(y[:, tf.argmax(y[0])])
        return tape.gradient(score, x)

    return (lambda x: forward_fn(x).numpy()), (lambda x: gradient_fn(tf.constant(x)).numpy())


def pairs(model: keras.Model, pattern: np.ndarray) -> list[tuple[str, Callable, str, Callable]]:
    """(explanation, its call, baseline, its call) for each row of the table."""
    explainer = Explainer(model)
    forward, forward_backward = bare_passes(model)
    noisy = np.repeat(pattern, SMOOTH, axis=0)
    layer = explainer.default_layer
    return [
        (
            f"Grad-CAM at `{layer}`",
            lambda: explainer.grad_cam(pattern),
            "one forward pass",
            lambda: forward(pattern),
        ),
        (
            f"Grad-CAM at `{EARLY_LAYER}`",
            lambda: explainer.grad_cam(pattern, layer=EARLY_LAYER),
            "one forward pass",
            lambda: forward(pattern),
        ),
        (
            "saliency (vanilla gradient)",
            lambda: explainer.saliency(pattern),
            "batch-1 forward + backward",
            lambda: forward_backward(pattern),
        ),
        (
            f"SmoothGrad, {SMOOTH} copies",
            lambda: explainer.saliency(pattern, smooth=SMOOTH),
            f"batch-{SMOOTH} forward + backward",
            lambda: forward_backward(noisy),
        ),
    ]


# --- per backend ----------------------------------------------------------------------------


def top_class_score(outputs):
    """The summed score of row 0's top class: what the bare backward pass differentiates."""
    y = outputs[0]
    top = keras.ops.argmax(y[0])
    return keras.ops.take(y, top, axis=1)


def child(quick: bool) -> int:
    """In one backend's process: each explanation and its baseline, alternately; JSON out."""
    import json

    from layerviz.extract.backends import current_backend

    builds = {
        "digits_cnn": lambda: layerviz.load_model("digits_cnn"),
        "mobilenet": lambda: keras.applications.MobileNetV2(
            input_shape=(224, 224, 3), weights=None
        ),
    }
    if os.environ.get("LAYERVIZ_BENCH_MODELS"):  # e.g. "digits_cnn": a shorter run
        keep = os.environ["LAYERVIZ_BENCH_MODELS"].split(",")
        builds = {key: build for key, build in builds.items() if key in keep}
    rows = []
    for key, build in builds.items():
        keras.backend.clear_session()
        keras.utils.set_random_seed(0)
        model = build()
        shape = tuple(int(d) for d in model.inputs[0].shape[1:])
        pattern = np.random.default_rng(0).random((1, *shape), dtype=np.float32)
        noisy = np.repeat(pattern, SMOOTH, axis=0)
        explainer = Explainer(model)
        backward = current_backend().gradient_function(model, top_class_score)
        pairs = [
            ("Grad-CAM", lambda e=explainer, x=pattern: e.grad_cam(x), "forward",
             lambda m=model, x=pattern: m.predict_on_batch(x)),
            (f"SmoothGrad-{SMOOTH}", lambda e=explainer, x=pattern: e.saliency(x, smooth=SMOOTH),
             f"batch-{SMOOTH} fwd+bwd", lambda b=backward, x=noisy: b([x])),
        ]  # fmt: skip
        for label, explain, base_label, base in pairs:
            for _ in range(2):  # compile, then past the first calls' one-off costs
                explain(), base()
            (explain_s, base_s), rounds = time_alternately(
                [explain, base], budget_s=1.0 if quick else 3.0, min_n=3, max_n=100
            )
            rows.append(
                {"model": key, "explanation": label, "seconds": explain_s,
                 "baseline": base_label, "baseline_seconds": base_s, "rounds": rounds}
            )  # fmt: skip
    print(json.dumps({"backend": backend_version(), "rows": rows}))
    return 0


def backend_table(backends: list[str], quick: bool) -> int:
    load_at_start = os.getloadavg()[0]
    results = per_backend(__file__, backends, ["--quick"] if quick else [])
    print(machine_line(load_at_start, versions=f"Keras {keras.__version__}"))
    print()
    print("| backend | model | explanation | ms | baseline | ms | ratio | rounds |")
    print("|---|---|---|--:|---|--:|--:|--:|")
    for result in results:
        if "error" in result:
            print(f"| {result['backend']} | — | failed: {result['error']} | | | | | |")
            continue
        for r in result["rows"]:
            print(
                f"| {result['backend']} | {r['model']} | {r['explanation']} | "
                f"{r['seconds'] * 1000:.1f} | {r['baseline']} | {r['baseline_seconds'] * 1000:.1f}"
                f" | {r['seconds'] / r['baseline_seconds']:.2f}× | {r['rounds']} |"
            )
    print()
    print(
        f"Targets: Grad-CAM ≤ {MAX_GRADCAM_OVER_FORWARD:g}× one forward pass, SmoothGrad-"
        f"{SMOOTH} ≤ {MAX_SMOOTHGRAD_OVER_BATCH:g}× one batch-{SMOOTH} forward + backward. Each "
        "backend in its own process, one after the other; medians of alternating rounds."
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    backend, child_mode, quick = backend_options(argv)
    if child_mode:
        return child(quick)
    if backend:
        return backend_table(backend_names(backend), quick)
    import tensorflow as tf

    quick = quick_option(__doc__, argv, "time fewer repeats")
    load_at_start = os.getloadavg()[0]
    model = mobilenet()
    pattern = np.random.default_rng(0).random((1, 224, 224, 3), dtype=np.float32)

    rows = []
    for label, explain, base_label, base in pairs(model, pattern):
        for _ in range(2):  # trace, then past the first calls' one-off costs
            explain(), base()
        (explain_s, base_s), rounds = time_alternately(
            [explain, base], budget_s=1.0 if quick else 3.0, min_n=3 if quick else 5,
            max_n=100,
        )  # fmt: skip
        rows.append((label, explain_s, base_label, base_s, rounds))

    print(
        machine_line(
            load_at_start,
            extra=f"{len(tf.config.list_physical_devices('GPU'))} GPU",
            versions=tf_keras_versions(),
        )
    )
    print("MobileNetV2(weights=None), 224×224×3, one random pattern; medians of alternating rounds")
    print()
    print("| explanation | ms | baseline | ms | ratio | rounds |")
    print("|---|--:|---|--:|--:|--:|")
    for label, explain_s, base_label, base_s, rounds in rows:
        print(
            f"| {label} | {explain_s * 1000:.1f} | {base_label} | {base_s * 1000:.1f} | "
            f"{explain_s / base_s:.2f}× | {rounds} |"
        )
    print()
    gradcam, smoothgrad = rows[0][1] / rows[0][3], rows[3][1] / rows[3][3]
    for ratio, target, what in [
        (gradcam, MAX_GRADCAM_OVER_FORWARD, "Grad-CAM over one forward pass"),
        (smoothgrad, MAX_SMOOTHGRAD_OVER_BATCH, f"SmoothGrad {SMOOTH} over one batch pass"),
    ]:
        verdict = "PASS" if ratio <= target else "MISS"
        print(f"- {verdict}: {what} ≤ {target:g}×: {ratio:.2f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
