"""Benchmark: concurrent dashboard sessions against gunicorn, over HTTP on loopback.

Each session does what the "serve a team" issue measured: open the page, choose a seed, move
the grid slider three times, upload a ``.npy``, and re-render twice; every request on a fresh
connection (as behind a load balancer). Three deployments, started here and stopped after:

- **1 worker**: ``gunicorn --workers 1 --threads 4``, state in the process (the embedded store);
- **2 workers, in process**: the same state per worker, as before Redis (uploads go missing);
- **2 workers + Redis**: ``--workers 2 --threads 4`` with ``LAYERVIZ_REDIS_URL`` on a throwaway
  ``redis-server`` (no Celery worker is needed: no export is made).

Columns: requests, errors (a non-200, an open error alert, a "no longer kept"), answers that
differ from the same request made alone first, p50 and p95 latency, and the largest worker
RSS. Sessions run on threads of this process, ``--sessions`` at once. Prints one Markdown
table; exits 0 whether the targets are met or not.

Usage:
    .venv/bin/python bench/load.py [--sessions 50]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "integration"))

# isort: split
import numpy as np
import psutil
from benchlib import machine_line  # bench/benchlib.py
from dash_http import DashSession, export_values, npy_url  # tests/integration/dash_http.py
from integration.deploy import start_gunicorn, wait_until_serving  # tests/integration/deploy.py
from servers import redis_server, stop  # tests/servers.py

REPO = Path(__file__).resolve().parent.parent
MODEL = "digits_cnn"
VARIANTS = 5  # session i uses seed / upload i % VARIANTS, so answers can be compared


def variant_url(variant: int) -> str:
    """Upload ``variant``: a 32×32 pattern drawn from that seed, as a ``.npy``."""
    return npy_url(np.random.default_rng(variant).random((32, 32), np.float32))


#: The page callback's output that carries the new recipe (``{"recipe": ..., figures}``); the
#: browser copies it into ``store-pattern.data`` a frame later (a clientside callback).
VIEW = "store-pattern-view.data"


def recipe_of(answer) -> dict | None:
    """The recipe a page answer chose (None when it failed)."""
    view = (answer or {}).get("response", {}).get("store-pattern-view", {}).get("data")
    return view.get("recipe") if isinstance(view, dict) else None


def grid_values(recipe, rows) -> dict:
    """What the browser sends when the grid slider moves, the recipe in the pattern view."""
    return {
        VIEW: {"recipe": recipe},
        "grid-rows.value": rows,
        "grid-cols.value": 3,
        "size-limit.value": 15,
        "page-select.active_page": 1,
    }


def one_session(base: str, variant: int) -> list[tuple[str, float, dict | None]]:
    """The session's requests: ``(step, seconds, answer or None when it failed)``."""
    session = DashSession(base, timeout=120)
    log = []

    def step(name, fn):
        start = time.perf_counter()
        try:
            answer = fn()
        except Exception:
            answer = None
        log.append((name, time.perf_counter() - start, answer))
        return answer

    step("page", lambda: session.open_page() or {})
    seed = step(
        "seed",
        lambda: session.call(
            VIEW,
            {"model-select.value": MODEL, "seed-input.value": variant},
            "seed-input.value",
        ),
    )
    recipe = recipe_of(seed)
    for rows in (1, 2, 4):
        step(
            f"slider {rows}",
            lambda r=rows: session.call(
                "activation-graph.figure", grid_values(recipe, r), "grid-rows.value"
            ),
        )
    up = step(
        "upload",
        lambda: session.call(
            VIEW,
            {
                "model-select.value": MODEL,
                "pattern-upload.contents": variant_url(variant),
                "pattern-upload.filename": "p.npy",
            },
            "pattern-upload.contents",
        ),
    )
    recipe = recipe_of(up)
    for rows in (2, 3):
        step(
            f"upload grid {rows}",
            lambda r=rows: session.call(
                "activation-graph.figure", grid_values(recipe, r), "grid-rows.value"
            ),
        )
    return log


def failed(answer) -> bool:
    if not answer:
        return True
    if "status" in answer:  # no JSON: a non-200 or an empty answer
        return True
    text = json.dumps(answer)
    alert = answer.get("response", {}).get("error-alert", {})
    return alert.get("is_open") is True or "no longer kept" in text or "went wrong" in text


def comparable(answer) -> str:
    return json.dumps((answer or {}).get("response"), sort_keys=True)


def serve(
    workers: int, env: dict, log: Path, target: str = "app:server"
) -> tuple[subprocess.Popen, str]:
    """gunicorn serving ``target`` on a free loopback port, once every worker answers."""
    args = ["--workers", str(workers), "--threads", "4"]
    process, base, _ = start_gunicorn(args, env, log, target)
    wait_until_serving(process, base, 180, workers)  # every worker imports TensorFlow
    return process, base


def run(name: str, workers: int, env: dict, sessions: int, log: Path) -> dict:
    process, base = serve(workers, env, log)
    try:
        reference = {v: one_session(base, v) for v in range(VARIANTS)}  # each alone
        start = time.perf_counter()
        with ThreadPoolExecutor(sessions) as pool:
            logs = list(pool.map(lambda i: one_session(base, i % VARIANTS), range(sessions)))
        wall = time.perf_counter() - start
        rss = max(child.memory_info().rss for child in psutil.Process(process.pid).children())
    finally:
        stop(process)
    times = [t for log_ in logs for _, t, _ in log_]
    errors = sum(failed(a) for log_ in logs for step, _, a in log_ if step != "page")
    differ = sum(
        comparable(a) != comparable(reference[i % VARIANTS][k][2])
        for i, log_ in enumerate(logs)
        for k, (step, _, a) in enumerate(log_)
        if step != "page" and not failed(a)
    )
    q = statistics.quantiles(times, n=20)
    return {
        "name": name,
        "requests": len(times),
        "errors": errors,
        "differ": differ,
        "p50": statistics.median(times),
        "p95": q[18],
        "rss": rss / 2**20,
        "wall": wall,
    }


def sliders_during_exports(base: str, exports: int) -> dict:
    """Slider moves (p50, max) while ``exports`` zip exports of 6×6 pages run at once."""
    done = []

    def export(seed: int) -> None:
        session = DashSession(base, timeout=120)
        session.open_page()
        recipe = {"kind": "seed", "model": MODEL, "seed": 100 + seed}
        values = {**export_values(recipe), "grid-rows.value": 6, "grid-cols.value": 6}
        start = time.perf_counter()
        session.call_background("download-export-zip.data", values, "export-button.n_clicks", 600)
        done.append(time.perf_counter() - start)

    mover = DashSession(base)
    mover.open_page()
    recipe = {"kind": "seed", "model": MODEL, "seed": 1}
    moves = []
    with ThreadPoolExecutor(exports) as pool:
        futures = [pool.submit(export, i) for i in range(exports)]
        time.sleep(1.0)  # let them start
        rows = 1
        while not all(f.done() for f in futures) and len(moves) < 200:
            rows = rows % 6 + 1
            start = time.perf_counter()
            mover.call("activation-graph.figure", grid_values(recipe, rows), "grid-rows.value")
            moves.append(time.perf_counter() - start)
            time.sleep(0.2)
        for f in futures:
            f.result()
    return {"moves": moves, "exports": done}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--exports", type=int, default=12, help="0 skips the export phase")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("LAYERVIZ_REDIS_URL", None)
    logs = Path(os.environ.get("TMPDIR", "/tmp"))
    contention = None
    if args.exports:
        process, base = serve(1, env, logs / "load-exports.log")
        try:
            contention = sliders_during_exports(base, args.exports)
        finally:
            stop(process)
    rows = [
        run("gunicorn, 1 worker (in process)", 1, env, args.sessions, logs / "load-1.log"),
        # What a team got before: two workers, each with its own uploads.
        run("gunicorn, 2 workers, in process", 2, env, args.sessions, logs / "load-2p.log"),
    ]
    with redis_server() as url:
        team_env = {**env, "LAYERVIZ_REDIS_URL": url, "LAYERVIZ_SECRET": "bench"}
        rows.append(
            run("gunicorn, 2 workers + Redis", 2, team_env, args.sessions, logs / "load-2.log")
        )
    print(machine_line(load, versions=f"{args.sessions} concurrent sessions, {MODEL}"))
    print()
    print(
        "| deployment | requests | errors | differ from alone | p50 | p95 | worker RSS (max) "
        "| wall |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(
            f"| {r['name']} | {r['requests']} | {r['errors']} | {r['differ']} | "
            f"{r['p50'] * 1000:.0f} ms | {r['p95'] * 1000:.0f} ms | {r['rss']:.0f} MiB | "
            f"{r['wall']:.1f} s |"
        )
    print()
    print("Targets: 0 errors, 0 answers that differ, p95 ≤ 1.5 s with 2 workers.")
    if contention:
        moves, done = contention["moves"], contention["exports"]
        print()
        print(
            f"Slider moves while {args.exports} exports of 6×6 pages ran at once (1 worker, "
            f"jobs on its threads, {len(moves)} moves): p50 {statistics.median(moves):.2f} s, "
            f"max {max(moves):.2f} s; the exports took {min(done):.1f} to {max(done):.1f} s. "
            "Target: interactive requests under 3 s."
        )


if __name__ == "__main__":
    main()
