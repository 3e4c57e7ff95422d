"""Smoke-test a running team deployment (``docker-compose up``) through its front door.

Run it against the published port once the stack is up::

    .venv/bin/python deploy/smoke.py http://127.0.0.1:8050

Every request goes on a fresh connection, as a browser behind a load balancer may send them,
so consecutive requests land on either web worker. It checks, in order: ``/healthz`` answers
200 with Redis uploads and Celery jobs; the page and its stylesheet load; a seed draws the
grid; an upload draws and survives slider moves on fresh connections; a zip export runs on the
Celery worker with progress and comes back as a zip of PNG pages; a seeded model-health run
does the same; and that more than one web worker answered. Prints one line per check with its
time; exits 1 if any check failed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "integration"))

# isort: split
import numpy as np
from dash_http import DashSession, export_zip, health_values, npy_url  # tests/integration/

MODEL = "digits_cnn"
PAGE = "store-pattern-view.data"  # the page callback's recipe output (see ui/callbacks.py)


def health(base: str, workers: set[int]) -> str:
    """``/healthz`` is 200 and names Redis uploads and Celery jobs."""
    status, body = DashSession(base).request("/healthz")
    assert status == 200, (status, body[:200])
    answer = json.loads(body)
    assert answer.get("uploads") == "redis" and answer.get("jobs") == "celery", answer
    workers.add(answer["worker"])
    return json.dumps(answer)


def page(base: str) -> str:
    """The page and the first stylesheet it links load (offline: nothing from a CDN)."""
    session = DashSession(base)
    status, html = session.request("/")
    assert status == 200, status
    text = html.decode()
    sheets = re.findall(r'<link[^>]+href="([^"]+\.css[^"]*)"', text)
    assert sheets and all(s.startswith("/") for s in sheets), sheets
    status, css = session.request(sheets[0])
    assert status == 200 and css, (sheets[0], status)
    return f"{len(html)} B of HTML, {len(sheets)} stylesheets, {sheets[0]} {len(css)} B"


def grid_values(recipe: dict, rows: int) -> dict:
    """What the browser sends when the grid slider moves."""
    return {
        "model-select.value": MODEL,
        PAGE: {"recipe": recipe},
        "grid-rows.value": rows,
        "grid-cols.value": 2,
        "size-limit.value": 15,
        "page-select.active_page": 1,
    }


def drawn(answer: dict) -> dict:
    """The response, once sure it drew the grid with no error."""
    response = answer.get("response")
    assert response, answer
    text = json.dumps(response)
    assert "no longer kept" not in text and "went wrong" not in text, text[:300]
    if "error-alert" in response:
        assert response["error-alert"]["is_open"] is False, response["error-alert"]
    assert response["text-grid-summary"]["children"].startswith("3 of 10 layers"), response
    return response


def seed(session: DashSession) -> str:
    """A seed draws the pattern view and the grid."""
    values = {"model-select.value": MODEL, "seed-input.value": 42}
    response = drawn(session.call(PAGE, values, "seed-input.value"))
    return response["text-grid-summary"]["children"]


def upload(session: DashSession) -> dict:
    """An uploaded ``.npy`` draws, then five slider moves (fresh connections) find it.

    The pattern is new on every run, so the export below is drawn, not served from the
    worker's export cache (which answers a repeated export at once, without page progress).
    """
    values = {
        "model-select.value": MODEL,
        "pattern-upload.contents": npy_url(np.random.default_rng().random((32, 32), np.float32)),
        "pattern-upload.filename": "smoke.npy",
    }
    recipe = drawn(session.call(PAGE, values, "pattern-upload.contents"))[PAGE.split(".")[0]]
    recipe = recipe["data"]["recipe"]
    for rows in (1, 2, 3, 2, 1):
        drawn(session.call(PAGE, grid_values(recipe, rows), "grid-rows.value"))
    return recipe


def export(session: DashSession, recipe: dict) -> str:
    """The zip export runs in the background (Celery), reports progress and sends a zip."""
    sent = export_zip(session, recipe, 180)
    assert sent.pages and sent.first.startswith(b"\x89PNG"), sent.pages
    labels = sent.labels
    assert any(label.endswith(f"of {len(sent.pages)} pages") for label in labels), labels
    return f"{sent.filename}: {len(sent.pages)} PNG pages; progress seen: {labels[-1]!r}"


def health_run(session: DashSession) -> str:
    """A seeded model-health run goes through Celery too, with progress, and counts 16."""
    values = health_values({"kind": "seed", "model": MODEL, "seed": 0}, 16)
    answer, progress = session.call_background(
        "store-health.data", values, "health-button.n_clicks", 180
    )
    result = answer["response"]["store-health"]["data"]
    assert result["n_patterns"] == 16, result
    labels = [p["health-progress.label"] for p in progress]
    assert labels and labels[-1] == "16/16 patterns", labels
    return f"{result['n_patterns']} patterns; progress seen: {labels[-1]!r}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", nargs="?", default="http://127.0.0.1:8050")
    base = parser.parse_args().base.rstrip("/")
    session = DashSession(base, timeout=120)
    workers: set[int] = set()
    state: dict = {}
    checks = [
        ("healthz", lambda: health(base, workers)),
        ("page", lambda: page(base)),
        ("open page", lambda: session.open_page() or "config and callbacks"),
        ("seed", lambda: seed(session)),
        ("upload", lambda: str(state.setdefault("recipe", upload(session)))),
        ("export (Celery)", lambda: export(session, state["recipe"])),
        ("health (Celery)", lambda: health_run(session)),
        ("web workers", lambda: _workers(base, workers)),
    ]
    failures = 0
    for name, check in checks:
        start = time.perf_counter()
        try:
            result, ok = check(), True
        except Exception as exc:  # report every check, then fail
            result, ok = f"{type(exc).__name__}: {str(exc)[:300]}", False
        failures += not ok
        took = time.perf_counter() - start
        print(f"{'ok  ' if ok else 'FAIL'} {name:<16} {took:6.2f} s  {result}")
    return 1 if failures else 0


def _workers(base: str, workers: set[int]) -> str:
    """More than one web worker answered ``/healthz`` (20 fresh connections)."""
    for _ in range(20):
        health(base, workers)
    assert len(workers) > 1, workers
    return f"{len(workers)} distinct worker pids"


if __name__ == "__main__":
    sys.exit(main())
