"""Benchmark: feature visualisation against the forward-and-backward passes it is made of.

a. digits_cnn, layer ``conv2``: 16 channels × 256 steps as one batch (``layerviz.visualise``)
   against 256 batched forward+backward passes of 16 patterns through the same layer (the
   floor: ``current_backend().gradient_function`` on ``keras.Model(input, conv2)``, each row's
   objective the mean of its channel); targets ≤ 1.5× the floor and ≤ 20 s.
b. ``MobileNetV2(weights=None)`` at 96×96×3, one channel of ``block_13_expand_relu``, 256
   steps, against 256 batch-1 passes timed the same way.

Both sides are compiled before timing (a warm-up call each), then timed alternately (one call
of each per round) and the table gives the medians. The visualisation's extra work over the
floor is the Fourier render, the random affine transform, the penalties, numpy's Adam and
drawing the transforms. Peak RSS growth while each row runs is listed. It measures and does
not test: it exits 0 either way.

Usage:
    .venv/bin/python bench/visualise.py [--quick]
"""

from __future__ import annotations

import os
import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

# isort: split
import layerviz

# isort: split

import keras
import numpy as np
from benchlib import alternating_medians, machine_line, quick_option  # bench/benchlib.py

from layerviz.analysis.visualise import Visualiser, VisualiseSettings
from layerviz.extract.backends import current_backend

MAX_OVER_FLOOR = 1.5
MAX_SECONDS = 20.0
STEPS = 256


def floor_passes(extractor, layer: str, batch: np.ndarray, channels: list[int]):
    """``run()``: ``STEPS`` forward+backward passes of ``batch`` to ``layer``, compiled."""
    full = extractor.gradient_model([layer])
    trunk = keras.Model(full.input, full.outputs[0])
    count = trunk.outputs[0].shape[-1]
    onehot = np.zeros((len(batch), count), np.float32)
    onehot[np.arange(len(batch)), channels] = 1.0

    def objective(outputs, mask):
        spatial = tuple(range(1, len(outputs[0].shape) - 1))
        return keras.ops.sum(keras.ops.mean(outputs[0], axis=spatial) * mask, axis=1)

    fn = current_backend().gradient_function(trunk, objective)
    fn([batch], onehot)  # compile

    def run():
        for _ in range(STEPS):
            fn([batch], onehot)

    return run


def row(name, visualiser, layer, channels, value_range, rounds) -> tuple:
    """``(name, visualise s, floor s, ratio, rounds, RSS growth MB)`` for one case."""
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    settings = VisualiseSettings(steps=STEPS, value_range=value_range)
    shape = visualiser.input_shape
    rng = np.random.default_rng(0)
    batch = (rng.random((len(channels), *shape)) * (value_range[1] - value_range[0])).astype(
        np.float32
    ) + np.float32(value_range[0])
    floor = floor_passes(visualiser.extractor, layer, batch, channels)
    warm = VisualiseSettings(steps=1, value_range=value_range)
    visualiser.visualise(layer, channels, warm)  # compile the step for this batch

    def optimise():
        visualiser.visualise(layer, channels, settings, batch_size=len(channels))

    t_vis, t_floor = alternating_medians([optimise, floor], rounds)
    n = rounds
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
    return name, t_vis, t_floor, t_vis / t_floor, n, grown


def main() -> int:
    rounds = 1 if quick_option(__doc__, help="one round each") else 3
    load = os.getloadavg()[0]
    rows = []
    digits = Visualiser(layerviz.load_model("digits_cnn"))
    rows.append(
        row("digits_cnn conv2, 16 channels", digits, "conv2", list(range(16)), (0, 1), rounds)
    )
    keras.utils.set_random_seed(0)
    mobile = keras.applications.MobileNetV2(input_shape=(96, 96, 3), weights=None)
    rows.append(
        row(
            "MobileNetV2 96², 1 channel",
            Visualiser(mobile),
            "block_13_expand_relu",
            [7],
            (-1, 1),
            rounds,
        )
    )
    backend = keras.backend.backend()
    print(machine_line(load, f"Keras backend {backend}", f"Keras {keras.__version__}"))
    print()
    header = f"| case ({STEPS} steps) | visualise | floor: {STEPS} fwd+bwd | ratio | rounds |"
    print(header + " peak RSS growth |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, t_vis, t_floor, ratio, n, grown in rows:
        print(f"| {name} | {t_vis:.2f} s | {t_floor:.2f} s | {ratio:.2f}× | {n} | {grown:.0f} MB |")
    print()
    first = rows[0]
    print(
        f"Targets (digits_cnn): ≤ {MAX_OVER_FLOOR}× the floor: {first[3]:.2f}× "
        f"({'met' if first[3] <= MAX_OVER_FLOOR else 'missed'}); ≤ {MAX_SECONDS:.0f} s: "
        f"{first[1]:.2f} s ({'met' if first[1] <= MAX_SECONDS else 'missed'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
