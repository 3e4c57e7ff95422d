"""Benchmark: one ← / → step through the inspector's channels, the overlay included.

On ``keras.applications.MobileNetV2(weights=None)`` at 224×224×3, a cached extraction, for the
largest layer, the first convolution and the last (7×7×1280), the server's work for one step,
callback by callback as Dash runs them (each figure then as JSON, as Dash sends it):

- ``select``: the step's own callback (the ranking, the next channel, its page);
- ``overlay``: the selected channel stretched onto the input and drawn over it;
- ``grid``: the inspector's page redrawn with the new channel outlined;

side by side with opening the inspector on that layer (the issue's target there: ≤ 100 ms).
Rounds alternate between the contenders; each figure is a median. Prints a Markdown table.
It measures and does not test: it exits 0 whatever the times.

Usage:
    .venv/bin/python bench/channel_step.py [--quick]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

# isort: split
import layerviz  # noqa: F401  (before keras: it imports TensorFlow without the log noise)

# isort: split

# bench/benchlib.py, beside this script
from benchlib import alternating_medians, machine_line, mobilenet, quick_option, tf_keras_versions
from plotly.io.json import to_json_plotly  # what Dash's JSON encoder calls for figures

from layerviz.ui.features.inspector.overlay_view import layer_ranking, overlay_view, select
from layerviz.ui.features.inspector.views import inspector_view
from layerviz.ui.recipe import SeedRecipe
from layerviz.ui.workbench import Workbench


def bench_layer(workbench: Workbench, store: dict, layer: str, rounds: int) -> list[str]:
    """One table row: a step's three callbacks and opening the inspector, on ``layer``."""
    picked = {"model": "mobilenet", "layer": layer}
    stored = select(layer_ranking(workbench, store, picked, "mean"), None, "next", 16, 1)[0]

    def step_select():
        return select(layer_ranking(workbench, store, picked, "mean"), None, "next", 16, 1)

    def step_overlay():
        ranking = layer_ranking(workbench, store, picked, "mean")
        return to_json_plotly(overlay_view(ranking, stored, 0.5)[0])

    def step_grid():
        view = inspector_view(workbench, store, picked, "mean", 16, 1, "map", None, None, stored)
        return to_json_plotly(view.figure)

    def open_inspector():
        return to_json_plotly(inspector_view(workbench, store, picked, "mean", 16, 1, "map").figure)

    fns = [step_select, step_overlay, step_grid, open_inspector]
    for fn in fns:
        fn()
    sel, over, grid, opened = alternating_medians(fns, rounds)
    step = sel + over + grid
    kb = len(step_overlay()) / 1024
    return [
        f"| {layer} | {sel * 1e3:.1f} | {over * 1e3:.1f} ({kb:.0f} kB) | {grid * 1e3:.1f} | "
        f"{step * 1e3:.1f} | {opened * 1e3:.1f} | {step / opened:.2f}× |"
    ]


def main(argv: list[str] | None = None) -> int:
    quick = quick_option(__doc__, argv)
    load_at_start = os.getloadavg()[0]
    rounds = 5 if quick else 15

    model = mobilenet()
    workbench = Workbench({"mobilenet": model}, include_bundled=False)
    store = SeedRecipe("mobilenet", 0).to_store()
    run = workbench.extraction(SeedRecipe("mobilenet", 0))  # the cache now holds it
    largest = max(run.extraction.activations, key=lambda a: a.array.size).name
    rows = []
    for layer in dict.fromkeys([largest, "Conv1", "out_relu"]):
        print(f"measuring {layer} ...", file=sys.stderr, flush=True)
        rows += bench_layer(workbench, store, layer, rounds)
    print(machine_line(load_at_start, versions=tf_keras_versions()))
    print()
    print(
        "| layer | select ms | overlay ms (JSON) | grid ms | one step ms | open inspector ms "
        "| step / open |"
    )
    print("|---|--:|--:|--:|--:|--:|--:|")
    print("\n".join(rows))
    print(f"\nServer work per callback, median of {rounds} rounds; a step runs all three.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
