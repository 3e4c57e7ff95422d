"""Benchmark: the dashboard's 64-seed health run of digits_cnn, embedded vs through Celery.

Three ways, side by side in one run:

- **in process**: ``model_health`` over the same 64 seeded patterns with the dashboard's batch
  size, in this process (no server): the work itself;
- **embedded**: ``gunicorn --workers 1`` without Redis, the run a background callback on a
  thread of the server, started and polled over HTTP as the browser does;
- **Celery**: ``gunicorn --workers 2`` + a Celery worker (``--pool threads``) on a throwaway
  ``redis-server``; every request on a fresh connection.

A run's wall time is from the start request to the poll that brings the result; the poller
waits 0.3 s between polls, as the page does (``interval=300``), so that is the resolution. The
first run of each server is shown apart: it builds the model's extractor in the process that
runs the job. Prints one Markdown table.

Usage:
    .venv/bin/python bench/health_jobs.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "integration"))

# isort: split
from benchlib import machine_line  # bench/benchlib.py
from dash_http import DashSession, health_values  # tests/integration/dash_http.py
from integration.deploy import (  # tests/integration/deploy.py
    start_celery_worker,
    start_gunicorn,
    wait_until_serving,
)
from servers import redis_server, stop  # tests/servers.py

REPO = Path(__file__).resolve().parent.parent
MODEL = "digits_cnn"
SEEDS = 64
CONTROLS = health_values({"kind": "seed", "model": MODEL, "seed": 0}, SEEDS)


def one_run(base: str) -> float:
    """Seconds for one health run over HTTP (a fresh page each time, as a new tab)."""
    session = DashSession(base)
    session.open_page()
    start = time.perf_counter()
    answer, _ = session.call_background("store-health.data", CONTROLS, "health-button.n_clicks")
    wall = time.perf_counter() - start
    assert answer["response"]["store-health"]["data"]["n_patterns"] == SEEDS, answer
    return wall


def gunicorn(workers: int, env: dict, log: Path) -> tuple[subprocess.Popen, str]:
    process, base, _ = start_gunicorn(["--workers", str(workers), "--threads", "4"], env, log)
    wait_until_serving(process, base, 180)
    return process, base


def timed(base: str, repeats: int) -> tuple[float, list[float]]:
    first = one_run(base)
    return first, [one_run(base) for _ in range(repeats)]


def in_process(repeats: int) -> tuple[float, list[float]]:
    """The work alone; the first run loads the model and builds its extractor."""
    from layerviz.analysis.health import model_health, seeded_patterns
    from layerviz.ui.features.inspector.jobs import BATCH_SIZE
    from layerviz.ui.workbench import Workbench

    workbench = Workbench()

    def run() -> float:
        start = time.perf_counter()
        entry = workbench.entry(MODEL)
        model_health(entry.extractor, seeded_patterns(entry.model, SEEDS), batch_size=BATCH_SIZE)
        return time.perf_counter() - start

    first = run()
    return first, [run() for _ in range(repeats)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    logs = Path(os.environ.get("TMPDIR", "/tmp"))
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("LAYERVIZ_REDIS_URL", None)
    rows = [("in process (`model_health`, batch 8)", *in_process(args.repeats))]
    web, base = gunicorn(1, env, logs / "health-embedded.log")
    try:
        rows.append(("embedded: gunicorn 1 worker, job on a thread", *timed(base, args.repeats)))
    finally:
        stop(web)
    with redis_server() as url:
        team = {**env, "LAYERVIZ_REDIS_URL": url, "LAYERVIZ_SECRET": "bench"}
        worker = start_celery_worker(team, logs / "health-celery.log")
        web, base = gunicorn(2, team, logs / "health-team.log")
        try:
            name = "Celery: gunicorn 2 workers + 1 worker (threads), Redis"
            rows.append((name, *timed(base, args.repeats)))
        finally:
            stop(web)
            stop(worker)
    print(machine_line(load, versions=f"{MODEL}, {SEEDS} seeded patterns"))
    print()
    print("| way | first run | median of next | over in process |")
    print("| --- | ---: | ---: | ---: |")
    reference = statistics.median(rows[0][2])
    for name, first, rest in rows:
        median = statistics.median(rest)
        print(f"| {name} | {first:.2f} s | {median:.2f} s | +{median - reference:.2f} s |")
    print()
    print("Over HTTP the page polls every 0.3 s: a run shorter than that shows after one poll.")


if __name__ == "__main__":
    main()
