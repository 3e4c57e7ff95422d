"""Benchmark: worker RSS over 1,000 distinct patterns, against gunicorn over HTTP on loopback.

The "serve a team" issue asks that a worker's memory stay bounded however many patterns pass
through it. Two deployments, started here and stopped after (``serve`` from ``load.py``):

- **1 worker**: ``gunicorn --workers 1 --threads 4``, uploads in the process;
- **2 workers + Redis**: ``--workers 2 --threads 4`` with ``LAYERVIZ_REDIS_URL`` on a throwaway
  ``redis-server``.

``--clients`` sessions at once push ``--patterns`` distinct patterns through each deployment:
pattern ``i`` is seed ``i``, or every ``--upload-every``-th one a distinct uploaded ``.npy``;
each is one new-pattern request and one slider move (every request on a fresh connection).
After every ``--every`` patterns, each worker's RSS is read from ``/proc/PID/status``. Prints
one Markdown table (patterns done → RSS per worker) and, under it, the level each worker
settles at (the mean of its last three samples) and its growth over the second half of the
run. Exits 0 whether RSS stays bounded or not.

Usage:
    .venv/bin/python bench/rss.py [--patterns 1000] [--every 100] [--model digits_cnn]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# isort: split
import numpy as np
import psutil
from benchlib import machine_line  # bench/benchlib.py
from load import VIEW, failed, recipe_of, serve  # bench/load.py (it puts tests/ on sys.path)

# isort: split
from dash_http import DashSession, npy_url  # tests/integration/dash_http.py
from servers import redis_server, stop  # tests/servers.py

from layerviz.ui.workbench import CACHE_BYTES

UPLOAD_SEED = 10_000  # uploads draw from seeds no seed request uses
PATTERN = "store-pattern.data"  # the recipe the sections read (copied from VIEW in the browser)


def rss_mib(pid: int) -> float:
    """The process's resident set size now, in MiB (``VmRSS`` in ``/proc/PID/status``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def upload_url(index: int, shape: tuple[int, ...]) -> str:
    """A distinct ``.npy`` pattern as the upload component sends it (a data URL)."""
    return npy_url(np.random.default_rng(UPLOAD_SEED + index).random(shape, np.float32))


def layout_values(session: DashSession) -> dict:
    """Every component prop of the page's layout as ``{"id.prop": value}`` (what a fresh tab
    holds before anything is chosen)."""
    status, body = session.request("/_dash-layout")
    assert status == 200, status
    values: dict = {}

    def walk(node) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict) and "props" in node:
            props = node["props"]
            if isinstance(props.get("id"), str):
                values.update({f"{props['id']}.{k}": v for k, v in props.items()})
            for value in props.values():
                walk(value)

    walk(json.loads(body))
    return values


def follow_ups(session: DashSession) -> list[dict]:
    """The server callbacks a new recipe in ``store-pattern.data`` fires in the browser."""
    return [
        dep
        for dep in session.dependencies
        if not dep.get("clientside_function")
        and any(f"{i['id']}.{i['property']}" == PATTERN for i in dep["inputs"])
    ]


def one_pattern(tab: dict, model: str, index: int, args) -> tuple[int, int]:
    """Pattern ``index`` as a browser tab shows it: the page update (a seed, or an upload),
    each section's request for the new recipe, then one slider move.

    Returns:
        ``(requests, failures)``: a failure is a non-200, or a page answer that opened the
        error alert or said the upload is gone.
    """
    session, values = tab["session"], dict(tab["values"])
    values["model-select.value"] = model
    if args.upload_every and index % args.upload_every == 0:
        values["pattern-upload.contents"] = upload_url(index, args.upload_shape)
        values["pattern-upload.filename"] = f"p{index}.npy"
        trigger = "pattern-upload.contents"
    else:
        values["seed-input.value"] = index
        trigger = "seed-input.value"
    answer = session.call_dependency(tab["page"], values, trigger)
    recipe = recipe_of(answer)
    values.pop("pattern-upload.contents", None)
    values.update({VIEW: {"recipe": recipe}, PATTERN: recipe})
    answers = [answer] + [session.call_dependency(d, values, PATTERN) for d in tab["follow"]]
    values["grid-rows.value"] = 2
    answers.append(session.call_dependency(tab["page"], values, "grid-rows.value"))
    return len(answers), sum("status" in a for a in answers) + failed(answer)


def open_tab(base: str) -> dict:
    """A browser tab: its session (cookie), the layout's values and the callbacks it fires."""
    session = DashSession(base, timeout=120)
    session.open_page()
    page = next(d for d in session.dependencies if VIEW in d["output"])
    return {
        "session": session,
        "values": layout_values(session),
        "page": page,
        "follow": follow_ups(session),
    }


def worker_pids(base: str, workers: int) -> list[int]:
    """The workers' pids in a fixed order (as ``/healthz`` names them)."""
    seen: set[int] = set()
    while len(seen) < workers:
        seen.add(json.loads(DashSession(base).request("/healthz")[1])["worker"])
    return sorted(seen)


def app_target(cache_mb: int | None, folder: Path) -> str:
    """What gunicorn serves: ``app:server``, or the same app with another activation cache
    budget (a module written into ``folder``, which must be on the workers' path)."""
    if cache_mb is None:
        return "app:server"
    (folder / "rss_app.py").write_text(
        "from layerviz.ui.app import create_app\n\n"
        f"server = create_app(cache_bytes={cache_mb} * 2**20).server\n"
    )
    return "rss_app:server"


def drive(name: str, workers: int, env: dict, args, log: Path) -> dict:
    """Serve, push the patterns through, and sample each worker's RSS every ``args.every``."""
    process, base = serve(workers, env, log, args.target)
    try:
        pids = worker_pids(base, workers)
        tabs = [open_tab(base) for _ in range(args.clients)]
        samples = [(0, [rss_mib(p) for p in pids])]
        requests, errors, start = 0, 0, time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            for first in range(0, args.patterns, args.every):
                chunk = range(first, min(first + args.every, args.patterns))
                for sent, failures in pool.map(
                    lambda i: one_pattern(tabs[i % args.clients], args.model, i, args), chunk
                ):
                    requests, errors = requests + sent, errors + failures
                samples.append((chunk[-1] + 1, [rss_mib(p) for p in pids]))
        wall = time.perf_counter() - start
        alive = {c.pid for c in psutil.Process(process.pid).children()}
    finally:
        stop(process)
    return {
        "name": name,
        "pids": pids,
        "samples": samples,
        "requests": requests,
        "errors": errors,
        "wall": wall,
        "restarted": sorted(set(pids) - alive),
    }


def print_table(runs: list[dict], args) -> None:
    """One Markdown table: patterns done, then one column per worker of each deployment."""
    columns = [(r, w) for r in runs for w in range(len(r["pids"]))]
    head = [f"{r['name']}: worker {w + 1}" if len(r["pids"]) > 1 else r["name"] for r, w in columns]
    print("| patterns done | " + " | ".join(head) + " |")
    print("| ---: | " + " | ".join("---:" for _ in head) + " |")
    for k, (done, _) in enumerate(runs[0]["samples"]):
        cells = [f"{r['samples'][k][1][w]:.0f} MiB" for r, w in columns]
        print(f"| {done} | " + " | ".join(cells) + " |")
    print()
    half = len(runs[0]["samples"]) // 2
    for r, w in columns:
        values = [s[1][w] for s in r["samples"]]
        settled = sum(values[-3:]) / len(values[-3:])
        per_100 = (values[-1] - values[half]) / (r["samples"][-1][0] - r["samples"][half][0]) * 100
        print(
            f"- {r['name']}, worker {w + 1}: settles at {settled:.0f} MiB "
            f"(peak {max(values):.0f}); {per_100:+.1f} MiB per 100 patterns over the second half"
        )
    for r in runs:
        print(
            f"- {r['name']}: {args.patterns} patterns ({r['requests']} requests) in "
            f"{r['wall']:.0f} s, {r['errors']} failed; "
            f"workers restarted: {r['restarted'] or 'none'}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patterns", type=int, default=1000)
    parser.add_argument("--every", type=int, default=100, help="sample RSS every N patterns")
    parser.add_argument("--clients", type=int, default=4, help="sessions at once")
    parser.add_argument("--upload-every", type=int, default=10, help="0: seeds only")
    parser.add_argument("--model", default="digits_cnn")
    parser.add_argument("--only", choices=["1", "2"], help="one deployment only")
    parser.add_argument(
        "--cache-mb", type=int, help="activation cache budget per worker (default: the app's)"
    )
    args = parser.parse_args()
    args.upload_shape = (32, 32)  # digits_cnn's input without its channel axis
    load = os.getloadavg()[0]
    logs = Path(os.environ.get("TMPDIR", "/tmp"))
    args.target = app_target(args.cache_mb, logs)
    repo = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": f"{repo}{os.pathsep}{logs}", "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("LAYERVIZ_REDIS_URL", None)
    runs = []
    if args.only != "2":
        runs.append(drive("1 worker", 1, env, args, logs / "rss-1.log"))
    if args.only != "1":
        with redis_server() as url:
            team = {**env, "LAYERVIZ_REDIS_URL": url, "LAYERVIZ_SECRET": "bench"}
            runs.append(drive("2 workers + Redis", 2, team, args, logs / "rss-2.log"))
    budget = f"{args.cache_mb} MiB" if args.cache_mb else f"{CACHE_BYTES // 2**20} MiB (default)"
    extra = f"{args.patterns} patterns, {args.model}, activation cache {budget} per worker"
    print(machine_line(load, versions=extra))
    print(f"1-minute load average at the end: {os.getloadavg()[0]:.1f}")
    print()
    print_table(runs, args)


if __name__ == "__main__":
    main()
