"""Benchmark: the dashboard's server side, for a new pattern and for a slider move.

For the bundled ``digits_cnn`` and ``keras.applications.MobileNetV2(weights=None)`` (224×224×3,
in memory), each served by ``create_app``, at a 3×3 grid and the default size limit (15):

a. **new pattern**: what the server does when a seed is typed: ``choose_pattern`` (the one
   forward pass), then ``render_pattern`` and ``render_grid`` for it;
b. **slider move**: ``render_grid`` alone, from the cached activations: the size limit moved
   (15 ↔ 31), or another page chosen;
c. **bare forward**: ``tf.function(lambda x: model(x, training=False))`` on the original model,
   ``.numpy()`` on its output: the floor a new pattern cannot beat.

Each step is measured two ways: calling the callbacks' plain functions and serialising their
return values as Dash does (``plotly.io.to_json`` / ``PlotlyJSONEncoder``), and as real
``POST /_dash-update-component`` requests through the Flask test client (Dash's dispatch, the
JSON response the browser gets; no network, no compression). Times are medians over repeats;
a and c are timed in alternating rounds so that drift in the machine's speed hits both alike.
Prints one Markdown table and the targets beneath it, and exits 0 whether they are met or not.

Usage:
    .venv/bin/python bench/dashboard.py [--quick] [--models cnn,mobilenet]
"""

from __future__ import annotations

import itertools
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

# isort: split
import layerviz  # noqa: F401  before keras: it imports TensorFlow without the log noise

# isort: split

import numpy as np
import plotly
import plotly.io as pio
import tensorflow as tf

# bench/benchlib.py, beside this script
from benchlib import machine_line, measure_each, mobilenet, quick_and_models, tf_keras_versions
from dash import Dash

from layerviz.ui import ids
from layerviz.ui.app import create_app
from layerviz.ui.callbacks import choose_pattern, render_grid, render_pattern
from layerviz.ui.recipe import recipe_from_store

MB = 1024 * 1024
GRID = (3, 3)
LIMIT = 15  # the dashboard's default size limit
OTHER_LIMIT = 31  # a slider move that changes which layers pass on MobileNetV2 (drops 28×28)

#: Targets.
MAX_RERENDER_S = 0.100
MAX_PAGE_BYTES = 2 * 1000 * 1000
MAX_NEW_OVER_FORWARD_S = 0.150


# --- what is measured ----------------------------------------------------------------------------


MODELS: dict[str, tuple[str, Callable[[], Dash]]] = {
    "cnn": ("digits_cnn", lambda: create_app("digits_cnn")),
    "mobilenet": ("MobileNetV2", lambda: create_app(mobilenet(), include_bundled=False)),
}


def json_bytes(*values) -> int:
    """Bytes of the values as Dash writes them into a callback response."""
    total = 0
    for value in values:
        if hasattr(value, "to_plotly_json"):
            total += len(pio.to_json(value, validate=False).encode())
        else:
            total += len(json.dumps(value, cls=plotly.utils.PlotlyJSONEncoder).encode())
    return total


class Http:
    """Real callback requests through the Flask test client, built from ``app.callback_map``."""

    def __init__(self, app: Dash):
        self.app = app
        self.client = app.server.test_client()
        self.keys = {key.lstrip(".").split(".")[0]: key for key in app.callback_map}

    def post(self, output_id: str, changed: str, values: dict) -> tuple[dict, int, float]:
        """POST the callback whose first output is ``output_id``; returns (json, bytes, seconds).

        ``values`` maps ``"id.prop"`` to the value the browser would send.
        """
        key = self.keys[output_id]
        spec = self.app.callback_map[key]

        def deps(items):
            return [{**d, "value": values.get(f"{d['id']}.{d['property']}")} for d in items]

        body = {
            "output": key,
            "outputs": [
                {"id": o.component_id, "property": o.component_property.split("@")[0]}
                for o in spec["output"]
            ],
            "inputs": deps(spec["inputs"]),
            "state": deps(spec["state"]),
            "changedPropIds": [changed],
        }
        t0 = time.perf_counter()
        response = self.client.post("/_dash-update-component", json=body)
        seconds = time.perf_counter() - t0
        if response.status_code != 200:
            raise RuntimeError(f"{key}: HTTP {response.status_code}: {response.data[:300]!r}")
        return response.get_json(), len(response.data), seconds


def grid_values(recipe: dict, limit: int, page: int) -> dict:
    return {
        f"{ids.PATTERN_STORE}.data": recipe,
        f"{ids.GRID_ROWS}.value": GRID[0],
        f"{ids.GRID_COLS}.value": GRID[1],
        f"{ids.SIZE_LIMIT}.value": limit,
        f"{ids.PAGE_SELECT}.active_page": page,
        f"{ids.COLORSCALE_SELECT}.value": "Viridis",
        f"{ids.NORM_MODE}.value": "layer",
    }


@dataclass
class Step:
    """Medians for one step: seconds and response bytes, functions and HTTP."""

    fn_s: float = float("nan")
    http_s: float = float("nan")
    fn_bytes: int = 0
    http_bytes: int = 0


@dataclass
class Row:
    label: str
    layers: int = 0
    shown: int = 0
    pages: int = 0
    bare_s: float = float("nan")
    new: Step = field(default_factory=Step)
    limit_move: Step = field(default_factory=Step)
    page_move: Step = field(default_factory=Step)
    max_page_bytes: int = 0
    max_page: int = 0
    forward_passes_in_rerender: int = 0
    repeats: dict[str, int] = field(default_factory=dict)


def median_step(samples: list[tuple[float, float, int, int]]) -> Step:
    columns = list(zip(*samples, strict=True))
    return Step(*(statistics.median(c) for c in columns[:2]), *(max(c) for c in columns[2:]))


def bench_model(key: str, repeats: int) -> Row:
    label, build = MODELS[key]
    app = build()
    workbench = app.workbench
    name = workbench.model_names[0]
    entry = workbench.entry(name)
    http = Http(app)
    row = Row(label)
    seeds = itertools.count(1000)

    # c. the floor, traced once.
    model = entry.model
    bare_fn = tf.function(lambda x: model(x, training=False))
    floor_pattern = np.random.default_rng(0).random(
        (1, *workbench.input_shape(name)), dtype=np.float32
    )

    def bare() -> tuple[float, float, int, int]:
        t0 = time.perf_counter()
        bare_fn(floor_pattern).numpy()
        return (time.perf_counter() - t0,) * 2 + (0, 0)

    # a. a new pattern: functions, then the same three callbacks over HTTP (another seed).
    def new_pattern() -> tuple[float, float, int, int]:
        t0 = time.perf_counter()
        choice = choose_pattern(workbench, ids.SEED_INPUT, name, seed=next(seeds))
        pattern_out = render_pattern(workbench, choice.recipe)
        grid_out = render_grid(workbench, choice.recipe, *GRID, LIMIT, 1)
        fn_bytes = json_bytes(choice.recipe, *pattern_out, *grid_out)
        fn_s = time.perf_counter() - t0

        values = {f"{ids.MODEL_SELECT}.value": name, f"{ids.SEED_INPUT}.value": next(seeds)}
        out, b1, s1 = http.post(ids.PATTERN_STORE, f"{ids.SEED_INPUT}.value", values)
        recipe = out["response"][ids.PATTERN_STORE]["data"]
        store = {f"{ids.PATTERN_STORE}.data": recipe}
        _, b2, s2 = http.post(ids.PATTERN_GRAPH, f"{ids.PATTERN_STORE}.data", store)
        grid = grid_values(recipe, LIMIT, 1)
        _, b3, s3 = http.post(ids.ACTIVATION_GRAPH, f"{ids.PATTERN_STORE}.data", grid)
        return fn_s, s1 + s2 + s3, fn_bytes, b1 + b2 + b3

    for _ in range(2):  # trace the extractor and warm allocators
        bare()
        new_pattern()
    samples: dict[str, list] = {"bare": [], "new": []}
    for i in range(repeats):
        for step in ("bare", "new") if i % 2 == 0 else ("new", "bare"):
            samples[step].append(bare() if step == "bare" else new_pattern())
    row.bare_s = statistics.median(s[0] for s in samples["bare"])
    row.new = median_step(samples["new"])

    # b. slider moves over one cached pattern; count forward passes to prove the cache serves.
    recipe = choose_pattern(workbench, ids.SEED_INPUT, name, seed=7).recipe
    extraction = workbench.extraction(recipe_from_store(recipe)).extraction
    row.layers = len(extraction.activations)
    _, row.pages, _, summary = render_grid(workbench, recipe, *GRID, LIMIT, 1)
    row.shown = int(summary.split()[0])
    runs = []
    run = entry.extractor.run
    entry.extractor.run = lambda pattern: runs.append(1) or run(pattern)
    try:

        def rerender(limit: int, page: int, changed: str) -> tuple[float, float, int, int]:
            t0 = time.perf_counter()
            out = render_grid(workbench, recipe, *GRID, limit, page)
            fn_bytes = json_bytes(*out)
            fn_s = time.perf_counter() - t0
            _, http_bytes, http_s = http.post(
                ids.ACTIVATION_GRAPH, changed, grid_values(recipe, limit, page)
            )
            return fn_s, http_s, fn_bytes, http_bytes

        limits = itertools.cycle([OTHER_LIMIT, LIMIT])
        pages = itertools.cycle(range(1, row.pages + 1) if row.pages > 1 else [1])
        n = 3 * repeats
        moves = [rerender(next(limits), 1, f"{ids.SIZE_LIMIT}.value") for _ in range(n)]
        row.limit_move = median_step(moves)
        turns = [rerender(LIMIT, next(pages), f"{ids.PAGE_SELECT}.active_page") for _ in range(n)]
        row.page_move = median_step(turns)

        # Every page's response at the default limit: the target is per page.
        for page in range(1, row.pages + 1):
            _, size, _ = http.post(
                ids.ACTIVATION_GRAPH,
                f"{ids.PAGE_SELECT}.active_page",
                grid_values(recipe, LIMIT, page),
            )
            if size > row.max_page_bytes:
                row.max_page_bytes, row.max_page = size, page
    finally:
        entry.extractor.run = run
    row.forward_passes_in_rerender = len(runs)
    row.repeats = {"new pattern": repeats, "slider moves": 3 * repeats}
    return row


# --- report --------------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def kb(n: int) -> str:
    return f"{n / 1000:,.0f} kB" if n < 10**6 else f"{n / 10**6:.2f} MB"


def header(load_at_start: float) -> str:
    import dash

    return machine_line(
        load_at_start,
        versions=tf_keras_versions(f"Dash {dash.__version__}", f"Plotly {plotly.__version__}"),
    )


def table(rows: list[Row]) -> str:
    cols = [
        "model",
        "step",
        "server, functions + JSON (ms)",
        "server, HTTP (ms)",
        "response, JSON",
        "response, HTTP",
    ]
    lines = ["| " + " | ".join(cols) + " |", "|---|---|--:|--:|--:|--:|"]
    for r in rows:
        steps = [
            ("bare forward pass", Step(r.bare_s, r.bare_s)),
            ("new pattern (forward + pattern + grid)", r.new),
            (f"slider move: size limit {LIMIT}↔{OTHER_LIMIT}, cached", r.limit_move),
            (f"page move: pages 1–{r.pages}, cached", r.page_move),
        ]
        for i, (step, s) in enumerate(steps):
            model = f"{r.label} ({r.shown}/{r.layers} layers, {r.pages} pages)" if i == 0 else ""
            sizes = ["—", "—"] if s.fn_bytes == 0 else [kb(s.fn_bytes), kb(s.http_bytes)]
            http_s = "—" if i == 0 else ms(s.http_s)
            lines.append("| " + " | ".join([model, step, ms(s.fn_s), http_s, *sizes]) + " |")
        lines.append(
            f"| | largest page (page {r.max_page} of {r.pages}) | | | | {kb(r.max_page_bytes)} |"
        )
    return "\n".join(lines)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def targets(rows: list[Row]) -> list[str]:
    lines = []
    for r in rows:
        worst = max(r.limit_move.http_s, r.page_move.http_s)
        lines.append(
            f"- {verdict(worst < MAX_RERENDER_S)}: re-render from cache < "
            f"{ms(MAX_RERENDER_S)} ms server time on {r.label}: {ms(worst)} ms (HTTP, the slower "
            f"of slider and page moves; {r.forward_passes_in_rerender} forward passes during "
            "re-renders)"
        )
    net = next((r for r in rows if r.label == MODELS["mobilenet"][0]), None)
    if net is None:
        lines.append("- n/a: MobileNetV2 not run (see --models)")
        return lines
    lines.append(
        f"- {verdict(net.max_page_bytes < MAX_PAGE_BYTES)}: response < "
        f"{kb(MAX_PAGE_BYTES)} per page on MobileNetV2: largest page {kb(net.max_page_bytes)}"
    )
    over = net.new.http_s - net.bare_s
    lines.append(
        f"- {verdict(over <= MAX_NEW_OVER_FORWARD_S)}: new pattern within forward pass + "
        f"{ms(MAX_NEW_OVER_FORWARD_S)} ms on MobileNetV2: {ms(net.new.http_s)} ms = forward "
        f"{ms(net.bare_s)} ms + {ms(over)} ms (HTTP; functions + JSON: +"
        f"{ms(net.new.fn_s - net.bare_s)} ms)"
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    quick, keys = quick_and_models(__doc__, MODELS, argv, "fewer repeats")

    load_at_start = os.getloadavg()[0]
    repeats = 3 if quick else 9
    rows = measure_each(
        keys, lambda key: MODELS[key][0], lambda key: bench_model(key, repeats=repeats)
    )

    print(header(load_at_start))
    print()
    print(table(rows))
    print()
    reps = "; ".join(
        f"{r.label}: " + ", ".join(f"{k} {v}" for k, v in r.repeats.items()) for r in rows
    )
    print(
        f"Grid {GRID[0]}×{GRID[1]}, size limit {LIMIT}. Medians over repeats ({reps}), after two "
        "warm-up rounds; a new pattern uses a new seed each time, so it always runs the model. "
        "HTTP: POST /_dash-update-component through Flask's test client; a new pattern is its "
        "three requests (pattern choice, pattern + prediction, grid) added up. Response sizes are "
        "the largest seen (JSON of the callbacks' return values / HTTP body bytes, uncompressed)."
    )
    print()
    print("Targets:")
    for line in targets(rows):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
