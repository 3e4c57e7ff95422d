"""Benchmark: what vetting a model file costs, next to loading it, measured side by side.

For each model, saved as ``.keras`` once:

a. ``keras.saving.load_model(path, safe_mode=True, compile=False)``: the load itself (the floor);
b. ``check_model_file(path, canary=False)``: the static checks (zip, config walk), which
   ``layerviz.load_model`` adds to every load;
c. ``check_model_file(path)``: the static checks plus the canary child (a fresh Python that
   imports TensorFlow, loads the model under limits and runs it once); one run per model.

a and b alternate (one call of each per round, the medians reported). Prints one Markdown
table; a measurement, not a test: it exits 0.

Usage:
    .venv/bin/python bench/modelcheck.py [--quick] [--models small,cnn,mobilenet]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

# isort: split
import layerviz  # noqa: F401  before keras: it imports TensorFlow without the log noise

# isort: split

import keras
from benchlib import machine_line, quick_and_models, timed  # bench/benchlib.py

from layerviz.load.modelcheck import check_model_file

MODELS = {
    "small": lambda: keras.Sequential(
        [keras.Input((50, 50)), keras.layers.Dense(75), keras.layers.Dense(5)], name="small"
    ),
    "cnn": lambda: keras.saving.load_model(
        Path(__file__).resolve().parent.parent / "models" / "digits_cnn.keras", compile=False
    ),
    "mobilenet": lambda: keras.applications.MobileNetV2(weights=None),
}


def measure(name: str, rounds: int, folder: Path) -> dict:
    model = MODELS[name]()
    path = folder / f"{name}.keras"
    model.save(path)
    loads, checks = [], []
    for _ in range(rounds):
        loads.append(timed(lambda: keras.saving.load_model(path, safe_mode=True, compile=False)))
        checks.append(timed(lambda: check_model_file(path, canary=False)))
    canary = timed(lambda: check_model_file(path))
    report = check_model_file(path, canary=False)
    return {
        "model": name,
        "size": path.stat().st_size / 1e6,
        "layers": len(report.layers),
        "load": statistics.median(loads),
        "check": statistics.median(checks),
        "canary": canary,
    }


def models_to_run(doc: str) -> tuple[bool, list[str]]:
    """``--quick`` and ``--models`` of this script and of ``shared_models.py``: quick runs
    fewer rounds and leaves MobileNetV2 out."""
    quick, names = quick_and_models(doc, MODELS, quick_help="fewer rounds, no MobileNetV2")
    return quick, [n for n in names if not (quick and n == "mobilenet")]


def main() -> None:
    quick, names = models_to_run(__doc__)
    load_at_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        rows = [measure(n, 3 if quick else 7, Path(folder)) for n in names]
    print(machine_line(load_at_start, versions=f"Keras {keras.__version__}"))
    print()
    print(
        "| model | file | layers | load (a) | static check (b) | b / a "
        "| check + canary (c) | c / a |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(
            f"| {r['model']} | {r['size']:.2f} MB | {r['layers']} | {r['load'] * 1e3:.0f} ms "
            f"| {r['check'] * 1e3:.1f} ms | {r['check'] / r['load']:.3f} "
            f"| {r['canary']:.1f} s | {r['canary'] / r['load']:.0f} |"
        )


if __name__ == "__main__":
    main()
