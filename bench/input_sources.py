"""What one source per input costs next to one source for all inputs (bundled ``digits_meta``).

For the two-input ``digits_meta`` (``image`` 16×16×1 and ``meta`` 16), it times what the server
does for a new pattern, as the dashboard's page callback does it (``choose_pattern``: the forward
pass; then the pattern view: ``render_pattern`` and ``input_rows``), three ways, side by side in
alternating rounds:

a. **whole seed**: a seed typed in the seed box draws every input (as before this change);
b. **meta's seed**: a seed typed in meta's row, the image kept from sample ``digit_3.npz``;
c. **meta's file**: a ``.npy`` uploaded for meta alone (decoded, checked, kept), the image kept.

Each call uses a new seed or a new file, so each runs the model. It also gives the size of the
pattern figure as JSON: the first input only (the panel before) and every input side by side.
Run: ``.venv/bin/python bench/input_sources.py [--quick]``; it measures and exits 0.
"""

from __future__ import annotations

import base64
import io
import itertools
import os
import sys

import numpy as np
from benchlib import machine_line, quick_option, time_alternately  # bench/benchlib.py

from layerviz.draw.figures import pattern_figure
from layerviz.ui import ids
from layerviz.ui.callbacks import choose_pattern, render_pattern
from layerviz.ui.input_sources import InputControls, input_rows
from layerviz.ui.recipe import SampleRecipe
from layerviz.ui.workbench import Workbench

MODEL = "digits_meta"


def npy_url(array: np.ndarray) -> str:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return "data:application/octet-stream;base64," + base64.b64encode(buffer.getvalue()).decode()


def new_pattern(workbench: Workbench, trigger: str, **kw) -> None:
    """The server's work for a new pattern: the choice (forward pass), then its view."""
    choice = choose_pattern(workbench, trigger, MODEL, **kw)
    assert choice.error is None, choice.error
    render_pattern(workbench, choice.recipe)
    input_rows(workbench, choice.recipe)


def main(argv: list[str] | None = None) -> int:
    quick = quick_option(__doc__, argv)
    load_at_start = os.getloadavg()[0]
    workbench = Workbench()
    sample = SampleRecipe(MODEL, "digit_3.npz").to_store()
    seeds, rng = itertools.count(1000), np.random.default_rng(0)

    def whole_seed():
        new_pattern(workbench, ids.SEED_INPUT, seed=next(seeds))

    def meta_seed():
        rows = InputControls(seeds=(None, next(seeds)), current=sample)
        new_pattern(workbench, ids.INPUT_SEEDS[1], inputs=rows)

    def meta_file():
        url = npy_url(rng.random(16, dtype=np.float32))
        rows = InputControls(uploads=(None, url), filenames=(None, "meta.npy"), current=sample)
        new_pattern(workbench, ids.INPUT_UPLOADS[1], inputs=rows)

    fns = [whole_seed, meta_seed, meta_file]
    for fn in fns:  # warm-up: the model loads and traces once
        fn()
    budget, min_n = (0.5, 5) if quick else (2.0, 15)
    medians, rounds = time_alternately(fns, budget, min_n, 500)
    run = workbench.extraction(SampleRecipe(MODEL, "digit_3.npz"))
    first = len(pattern_figure(run.pattern[0][0]).to_json())
    every = len(render_pattern(workbench, sample)[0].to_json())

    print(machine_line(load_at_start))
    print()
    print("| new pattern (digits_meta) | server ms | vs whole seed |")
    print("| --- | --- | --- |")
    labels = (
        "a. whole seed (every input)",
        "b. meta's seed, image kept",
        "c. meta's file, image kept",
    )
    for label, seconds in zip(labels, medians, strict=True):
        print(f"| {label} | {seconds * 1e3:.1f} | {seconds / medians[0]:.2f} |")
    print()
    print(
        f"Medians over {rounds} alternating rounds. Pattern figure as JSON: first input only "
        f"{first / 1024:.1f} KiB, every input side by side {every / 1024:.1f} KiB "
        f"({every / first:.2f}×)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
