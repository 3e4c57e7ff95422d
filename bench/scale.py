"""Benchmark: what the reduced pass costs as models grow, side by side in one run.

For each model (``keras.applications``, ``weights=None``, one random pattern), in a fresh
subprocess of its own so that its memory is its own:

- **outputs**: drawable layer outputs; **act GiB**: their float32 bytes for one pattern (what
  ``ActivationExtractor.extract`` keeps);
- **bare**: ``predict_on_batch`` on the original model (the floor);
- **reduced**: ``ActivationExtractor.extract_reduced`` (display maps + per-channel numbers);
  bare and reduced are timed alternately, the median (and the fastest) of the rounds given;
- **RSS growth**: the peak resident memory while the reduced pass runs (its first, tracing
  call included), above the resident memory once the model was built and run bare; peak read
  from ``VmHWM`` after resetting it (``/proc/self/clear_refs``, 5);
- **kept MiB**: what the reduced pass hands to the host for one pattern.

Targets (issue 26): reduced <= 1.3x bare on every model; RSS growth <= 1 GiB on EfficientNetB7
600². It is a measurement, not a test: it exits 0 whatever it finds. The machine is shared:
the load average is printed with the table.

Usage:
    .venv/bin/python bench/scale.py [--models mobilenet,resnet152,...] [--rounds 5]
    KERAS_BACKEND=jax .venv/bin/python bench/scale.py ...   # the same on JAX (backend column)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: name -> (keras.applications builder, input side)
MODELS = {
    "mobilenet": ("MobileNetV2", 224),
    "resnet152": ("ResNet152", 224),
    "convnext": ("ConvNeXtBase", 224),
    "effv2l": ("EfficientNetV2L", 480),
    "b7": ("EfficientNetB7", 600),
}


def _status(key: str) -> int:
    """A ``/proc/self/status`` memory figure in bytes (``VmRSS``, ``VmHWM``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(key)


def child(name: str, rounds: int) -> dict:
    """Measure one model in this process (run as ``scale.py --child NAME``)."""
    sys.path.insert(0, str(ROOT))
    import keras
    import numpy as np

    import layerviz  # noqa: F401  quiets TensorFlow before keras
    from layerviz.extract.activations import ActivationExtractor

    builder, side = MODELS[name]
    model = getattr(keras.applications, builder)(weights=None, input_shape=(side, side, 3))
    x = np.random.default_rng(0).random((1, side, side, 3), dtype=np.float32)
    model.predict_on_batch(x)
    model.predict_on_batch(x)
    extractor = ActivationExtractor(model)
    before = _status("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
    start = time.perf_counter()
    reduced = extractor.extract_reduced(x)
    first = time.perf_counter() - start
    bare, red = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        model.predict_on_batch(x)
        bare.append(time.perf_counter() - start)
        start = time.perf_counter()
        extractor.extract_reduced(x)
        red.append(time.perf_counter() - start)
    growth = _status("VmHWM") - before
    return {
        "model": f"{builder} {side}²",
        "backend": keras.backend.backend(),
        "outputs": len(extractor.layers),
        "act_gib": extractor.activation_bytes / 2**30,
        "bare_ms": 1e3 * statistics.median(bare),
        "bare_min_ms": 1e3 * min(bare),
        "reduced_ms": 1e3 * statistics.median(red),
        "reduced_min_ms": 1e3 * min(red),
        "first_s": first,
        "rss_growth_gib": growth / 2**30,
        "kept_mib": reduced.nbytes / 2**20,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.rounds)))
        return 0
    rows = []
    for name in args.models.split(","):
        load = Path("/proc/loadavg").read_text().split()[0]
        done = subprocess.run(
            [sys.executable, __file__, "--child", name, "--rounds", str(args.rounds)],
            capture_output=True,
            text=True,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        )
        if done.returncode != 0:
            print(f"{name}: failed ({done.returncode}): {done.stderr[-2000:]}", file=sys.stderr)
            continue
        row = json.loads(done.stdout.strip().splitlines()[-1])
        row["load"] = load
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    print(
        "| backend | model | outputs | act GiB/pattern | bare ms (min) | reduced ms (min) "
        "| reduced/bare | first reduced call s | RSS growth GiB | kept MiB | load at start |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r.get('backend', '')} | {r['model']} | {r['outputs']} | {r['act_gib']:.2f} "
            f"| {r['bare_ms']:.0f} ({r['bare_min_ms']:.0f}) "
            f"| {r['reduced_ms']:.0f} ({r['reduced_min_ms']:.0f}) "
            f"| {r['reduced_ms'] / r['bare_ms']:.2f} | {r['first_s']:.1f} "
            f"| {r['rss_growth_gib']:.2f} | {r['kept_mib']:.1f} | {r['load']} |"
        )
    print(f"\nload average after: {Path('/proc/loadavg').read_text().strip()}")
    print("targets: reduced/bare <= 1.3 on every model; RSS growth <= 1 GiB on B7 600²")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
