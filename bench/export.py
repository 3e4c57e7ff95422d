"""Benchmark: the PNG export, before and after, side by side in one run.

``plot_pattern_process`` on ``keras.applications.MobileNetV2(weights=None)`` (224×224×3), grid
3×3, limit 15 (57 layers → 7 PNGs), and the page drawing alone, for:

- **before**: ``layerviz/draw/export.py`` as it was at ``--before`` (default ``d388b86``), read with
  ``git show`` and loaded beside today's module: matplotlib ``imshow`` per panel,
  ``tight_layout``, ``savefig`` at zlib level 6, one page after another;
- **after, 1 thread** / **after, 2 threads**: today's module with ``PAGE_THREADS`` 1 and 2
  (its default is half the cores, at least 1 and at most 4).

Rounds alternate (before, after with 1 thread, after with 2), and the table gives the
medians. Prints one Markdown table; exits 0 whether the 3 s target is met or not.

Usage:
    .venv/bin/python bench/export.py [--rounds 3] [--before REF]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

# isort: split
import layerviz  # before keras: it imports TensorFlow without the log noise

# isort: split
import keras
from benchlib import machine_line, timed  # bench/benchlib.py

from layerviz.draw import export
from layerviz.draw.grid import GridSettings, grid_pages
from layerviz.extract.activations import ActivationExtractor

REPO = Path(__file__).resolve().parent.parent


#: Where the flat modules an old export.py imports live now (issue 19's move).
_MOVED = {
    "activations": "extract.activations",
    "compare": "analysis.compare",
    "grid": "draw.grid",
    "loading": "load.loading",
    "normalise": "draw.normalise",
    "selection": "draw.selection",
}


def old_export(ref: str) -> types.ModuleType:
    """``layerviz/export.py`` as it was at ``ref``, as a module of its own.

    Its imports name the flat modules of that time; they are pointed at today's subpackages.
    """
    source = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{ref}:layerviz/export.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for old, new in _MOVED.items():
        source = source.replace(f"from layerviz.{old} import", f"from layerviz.{new} import")
    module = types.ModuleType("layerviz_export_before")
    exec(compile(source, f"{ref}:layerviz/export.py", "exec"), module.__dict__)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", default="d388b86")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    before = old_export(args.before)
    model = keras.applications.MobileNetV2(weights=None, input_shape=(224, 224, 3))
    pattern = layerviz.random_pattern(model, 0)
    pages = grid_pages(ActivationExtractor(model).extract(pattern), GridSettings(3, 3, 15))
    threads = export.PAGE_THREADS
    rows: dict[str, dict[str, list[float]]] = {}
    sizes = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.rounds):
            for name, module, n_threads in (
                ("before", before, None),
                ("after, 1 thread", export, 1),
                ("after, 2 threads", export, 2),
            ):
                if n_threads:
                    export.PAGE_THREADS = n_threads
                out = Path(tmp) / name
                row = rows.setdefault(name, {"pages": [], "plot": []})
                row["pages"].append(timed(lambda m=module: m.pages_png(pages)))
                row["plot"].append(
                    timed(lambda m=module, o=out: m.plot_pattern_process(model, pattern, o))
                )
                sizes[name] = sum(p.stat().st_size for p in out.glob("*.png"))
    export.PAGE_THREADS = threads
    base = statistics.median(rows["before"]["plot"])
    print(machine_line(load, versions=f"{args.rounds} rounds, medians"))
    print()
    print("MobileNetV2 224², grid 3×3, limit 15: 7 PNGs")
    print()
    print("| way | draw 7 pages | plot_pattern_process | vs before | PNG bytes |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, row in rows.items():
        plot = statistics.median(row["plot"])
        print(
            f"| {name} | {statistics.median(row['pages']):.2f} s | {plot:.2f} s | "
            f"{base / plot:.1f}× | {sizes[name] / 2**20:.1f} MiB |"
        )
    print()
    print(f"Target: plot_pattern_process ≤ 3 s (from about 9 s). PAGE_THREADS here: {threads}.")


if __name__ == "__main__":
    main()
