"""Benchmark: comparing two patterns and the occlusion sweep, each against its floor, side by side.

On the bundled ``digits_cnn`` (32×32×1) with its default sample as A:

a. **occlusion sweep** (4×4 box, stride 2: 15×15 = 225 positions, batches of 64) through the
   extractor's one compiled pass, against **one batch forward pass of the same size**: the bare
   model as ``tf.function(lambda x: model(x, training=False))`` on 225 patterns at once,
   ``.numpy()`` on its output. Target: the sweep within 3× of it.
   ``ActivationExtractor.extract_batch`` on the same 225 patterns is shown as a breakdown.
b. **compare** A against a noisy B (``compare_patterns``: one batch of two, differences and
   divergences for every layer) against **two single passes** (``extract(a)``, ``extract(b)``),
   the way a caller would get both without it.
c. **a new B in the dashboard** (A cached): what the server does when B's noise seed changes:
   the compare section's ``CompareView.comparison`` (the batch of two, a cache miss each time)
   and ``render`` (divergence graph, one 3-row page of A | B | B − A, both predictions), its
   figures serialised as Dash sends them (``plotly.io.to_json``), against the forward pass it
   cannot avoid (``extract_batch`` on the same two patterns). Target: the rest within 150 ms.

Each pair is timed in alternating rounds (one call of each per round) after warm-up, so that
drift in the machine's speed hits both alike; figures are medians. Prints one Markdown table
and the targets beneath it; exits 0 whether they are met or not (it measures, not tests).

Usage:
    .venv/bin/python bench/compare.py [--quick]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

# isort: split
import layerviz  # before keras: it imports TensorFlow without the log noise

# isort: split

import numpy as np
import plotly.io as pio
import tensorflow as tf

# bench/benchlib.py, beside this script
from benchlib import machine_line, quick_option, tf_keras_versions, time_alternately
from extract import fmt_ms, fmt_ratio  # bench/extract.py, beside this script

from layerviz import ActivationExtractor, compare_patterns, get_bundled, occlusion_sweep, perturb
from layerviz.patterns.readers import read_pattern
from layerviz.ui.features.compare_state import CompareView
from layerviz.ui.workbench import Workbench

MODEL = "digits_cnn"
BOX, STRIDE, BATCH = 4, 2, 64
#: Target: the occlusion sweep within this many times one batch forward pass of the same size.
MAX_SWEEP_OVER_BATCH = 3.0
#: Target: a new B shown within its forward pass plus this much server time.
MAX_NEW_B_SERVER_S = 0.150


def sample_a():
    """The bundled model and its default sample, as a pattern."""
    bundled = get_bundled(MODEL)
    path = bundled.default_sample_path
    model = layerviz.load_model(MODEL)
    return model, read_pattern(path.read_bytes(), path.name, bundled.input_shape)


def measure(quick: bool) -> list[tuple[str, float, str, float, int]]:
    """Rows of (what, seconds, floor, floor seconds, rounds)."""
    model, a = sample_a()
    extractor = ActivationExtractor(model)
    b = perturb(a, "noise", seed=0, sigma=0.1)
    n_positions = len(range(0, 32 - BOX + 1, STRIDE)) ** 2
    batch = np.repeat(a, n_positions, axis=0)
    bare_fn = tf.function(lambda x: model(x, training=False))

    def sweep():
        return occlusion_sweep(extractor, a, size=BOX, stride=STRIDE, batch_size=BATCH)

    def bare_batch():
        return bare_fn(batch).numpy()

    def taps_batch():
        return extractor.extract_batch(batch)

    def compared():
        return compare_patterns(extractor, a, b)

    def two_singles():
        return extractor.extract(a), extractor.extract(b)

    budget, max_n = (0.5, 100) if quick else (2.0, 1000)
    for fn in (sweep, bare_batch, taps_batch, compared, two_singles):  # trace, then warm up
        fn(), fn(), fn()
    (sweep_s, bare_s, taps_s), n1 = time_alternately(
        [sweep, bare_batch, taps_batch], budget, 5, max_n
    )
    (compare_s, singles_s), n2 = time_alternately([compared, two_singles], budget, 5, max_n)
    return [
        (f"occlusion sweep ({n_positions} positions)", sweep_s, "bare batch forward", bare_s, n1),
        (f"extract_batch ({n_positions} patterns)", taps_s, "bare batch forward", bare_s, n1),
        ("compare A/B (batch of 2)", compare_s, "two extract calls", singles_s, n2),
    ]


def measure_new_b(quick: bool) -> tuple[float, float, int]:
    """(seconds for a new B, seconds for its batch-of-two forward pass, rounds)."""
    view = CompareView(Workbench())
    a_store = view.workbench.default_recipe(MODEL).to_store()
    run = view.workbench.extraction(view.workbench.default_recipe(MODEL))  # A cached
    extractor = view.workbench.entry(MODEL).extractor
    seeds = iter(range(10**6))

    def new_b():
        b_data = {"source": "perturb", "spec": "noise:sigma=0.1", "seed": next(seeds)}
        view.comparison(a_store, b_data)  # the choice callback
        r = view.render(a_store, b_data, 3, 15, 1)  # the render callback
        for figure in (r.divergence, r.grid, r.prediction_a, r.prediction_b):
            pio.to_json(figure, validate=False)

    pair = np.concatenate([run.pattern, perturb(run.pattern, "noise", seed=1, sigma=0.1)])

    def forward():
        return extractor.extract_batch(pair)

    for fn in (new_b, forward, new_b, forward):
        fn()
    budget, max_n = (0.5, 50) if quick else (2.0, 300)
    (new_s, forward_s), n = time_alternately([new_b, forward], budget, 5, max_n)
    return new_s, forward_s, n


def main(argv: list[str] | None = None) -> int:
    quick = quick_option(__doc__, argv, "time fewer repeats")
    load = os.getloadavg()[0]
    rows = measure(quick)
    new_s, forward_s, new_n = measure_new_b(quick)
    rows.append(("new B in the dashboard (A cached)", new_s, "its forward pass", forward_s, new_n))

    print(
        machine_line(
            load, versions=tf_keras_versions(
                f"NumPy {np.__version__}; model {MODEL}, box {BOX}×{BOX}, stride {STRIDE}, "
                f"batches of {BATCH}"
            ),
        )
    )  # fmt: skip
    print()
    print("| what | ms | floor | floor ms | ratio | rounds |")
    print("|---|--:|---|--:|--:|--:|")
    for what, seconds, floor, floor_s, rounds in rows:
        ratio = fmt_ratio(seconds / floor_s)
        print(f"| {what} | {fmt_ms(seconds)} | {floor} | {fmt_ms(floor_s)} | {ratio} | {rounds} |")
    print()
    sweep_ratio = rows[0][1] / rows[0][3]
    verdict = "PASS" if sweep_ratio <= MAX_SWEEP_OVER_BATCH else "MISS"
    print(
        f"- {verdict}: occlusion sweep within {MAX_SWEEP_OVER_BATCH:g}× of one batch forward "
        f"pass of the same size: {sweep_ratio:.2f}×"
    )
    print(f"- compare A/B as one batch of two vs two single passes: {rows[2][1] / rows[2][3]:.2f}×")
    extra = new_s - forward_s
    verdict = "PASS" if extra <= MAX_NEW_B_SERVER_S else "MISS"
    print(
        f"- {verdict}: a new B within its forward pass + {MAX_NEW_B_SERVER_S * 1000:.0f} ms "
        f"server time: forward {fmt_ms(forward_s)} ms + {fmt_ms(extra)} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
