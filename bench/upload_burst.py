"""Benchmark: ``/healthz`` while 8 browser sessions upload a model at once (issue 25, row 2).

The probe found that 8 concurrent uploads of a tiny valid model made ``/healthz`` take 27.5 s on
1 worker × 4 threads: each upload's request waited for one of two canary slots. Side by side in
one run, the same burst against two trees of this repository:

- **before**: a commit given by ``--before`` (default: the one before the check queue), its
  upload callback running the canary in the request;
- **after**: this working tree, where the callback answers "checking…" at once and the page
  polls (``tests/integration/dash_http.upload_model``).

Each server is ``gunicorn -c python:layerviz.ui.gunicorn_conf --workers 1 --threads 4``. While the
8 uploads run (each from its own session, each on fresh connections), ``/healthz`` is asked every
0.25 s on a fresh connection; the table gives its latency and each upload's time until listed.

Usage:
    .venv/bin/python bench/upload_burst.py [--before COMMIT] [--uploads 8]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "integration"))

# isort: split
from benchlib import machine_line  # bench/benchlib.py
from dash_http import DashSession, data_url, upload_model  # tests/integration/dash_http.py
from servers import free_port, http_status, stop, wait_for  # tests/servers.py

REPO = Path(__file__).resolve().parent.parent
#: The last commit whose upload callback ran the canary in the request thread.
BEFORE = "6941727"


def tiny_model_url(folder: Path) -> str:
    """A small valid ``.keras`` file, as the upload zone sends it."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    inputs = keras.Input((12, 12, 1), name="picture")
    x = keras.layers.Conv2D(3, 3, activation="relu", name="conv")(inputs)
    x = keras.layers.Flatten(name="flat")(x)
    model = keras.Model(inputs, keras.layers.Dense(2, name="scores")(x), name="tiny")
    model.save(folder / "tiny.keras")
    return data_url((folder / "tiny.keras").read_bytes())


def serve(tree: Path, log: Path) -> tuple[subprocess.Popen, str]:
    """gunicorn on ``tree``'s app, as the Dockerfile starts it, on a free loopback port."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "LAYERVIZ_REDIS_URL"}
    env.update(PYTHONPATH=str(tree), TF_CPP_MIN_LOG_LEVEL="3")
    args = ["-c", "python:layerviz.ui.gunicorn_conf", "--workers", "1", "--threads", "4"]
    command = [sys.executable, "-m", "gunicorn", *args, "--bind", f"127.0.0.1:{port}", "app:server"]
    process = subprocess.Popen(
        command, cwd=tree, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: http_status(base + "/healthz") == 200, 180, "gunicorn")
    return process, base


def upload_once(base: str, url: str) -> tuple[float, bool]:
    """One session's upload until listed (or refused): seconds, and whether it was listed."""
    session = DashSession(base, timeout=300)
    session.open_page()
    start = time.perf_counter()
    if any("store-model-upload-pending" in d["output"] for d in session.dependencies):
        answer = upload_model(session, url, "tiny.keras", limit_s=300)
    else:  # before the queue: the callback answers when the canary has run
        values = {"model-upload.contents": url, "model-upload.filename": "tiny.keras"}
        answer = session.call("store-model-uploads.data", values, "model-upload.contents")
        answer = answer["response"]
    return time.perf_counter() - start, "store-model-uploads" in answer


def burst(base: str, url: str, n: int) -> dict:
    """``n`` uploads at once while ``/healthz`` is timed; the numbers of the table."""
    results: list[tuple[float, bool]] = []
    threads = [
        threading.Thread(target=lambda: results.append(upload_once(base, url))) for _ in range(n)
    ]
    for thread in threads:
        thread.start()
    health: list[float] = []
    while any(t.is_alive() for t in threads):
        start = time.perf_counter()
        request = urllib.request.Request(base + "/healthz", headers={"Connection": "close"})
        with urllib.request.urlopen(request, timeout=300) as response:
            response.read()
        health.append(time.perf_counter() - start)
        time.sleep(0.25)
    for thread in threads:
        thread.join()
    walls = [wall for wall, _ in results]
    return {
        "healthz p50 ms": statistics.median(health) * 1000,
        "healthz max ms": max(health) * 1000,
        "healthz asked": len(health),
        "uploads listed": sum(listed for _, listed in results),
        "upload max s": max(walls),
        "upload median s": statistics.median(walls),
    }


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.0f}" if value >= 10 else f"{value:.2f}"
    return str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=BEFORE)
    parser.add_argument("--uploads", type=int, default=8)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="layerviz-burst-") as folder:
        folder = Path(folder)
        old = folder / "before"
        old.mkdir()
        archive = subprocess.run(
            ["git", "archive", args.before], cwd=REPO, capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
        url = tiny_model_url(folder)
        rows = []
        for label, tree in (("before", old), ("after", REPO)):
            process, base = serve(tree, folder / f"{label}.log")
            try:
                rows.append((label, burst(base, url, args.uploads)))
            finally:
                stop(process)
    print(machine_line(load))
    keys = list(rows[0][1])
    print("| tree | " + " | ".join(keys) + " |")
    print("|---|" + "--:|" * len(keys))
    for label, found in rows:
        cells = [_cell(v) for v in found.values()]
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
