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

Usage:
    .venv/bin/python bench/explain.py [--quick]
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

# isort: split
import layerviz  # noqa: F401  before keras: it imports TensorFlow without the log noise

# isort: split

import keras
import numpy as np
import tensorflow as tf

# bench/benchlib.py, beside this script
from benchlib import machine_line, mobilenet, quick_option, tf_keras_versions, time_alternately

from layerviz.analysis.explain import Explainer

#: Targets from the issue: explanation time over the time of the passes it is made of.
MAX_GRADCAM_OVER_FORWARD = 3.0
MAX_SMOOTHGRAD_OVER_BATCH = 2.0
SMOOTH = 16
EARLY_LAYER = "block_3_expand_relu"  # 56×56×144, a quarter of the way in


def bare_passes(model: keras.Model) -> tuple[Callable, Callable]:
    """``forward(x)`` and ``forward_backward(x)`` on the original model, compiled."""
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


def main(argv: list[str] | None = None) -> int:
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
