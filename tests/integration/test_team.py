"""A team deployment for real: two gunicorn workers and a Celery worker sharing a redis-server.

Every request goes on a fresh connection, so a session's consecutive requests land on either
worker (as behind a load balancer); before uploads lived in Redis, most sessions were told
their upload was "no longer kept".
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from integration.dash_http import DashSession, data_url, export_zip, npy_url

pytestmark = pytest.mark.integration

MODEL = "digits_cnn"


def pattern_url(seed: int) -> str:
    """A 32×32 pattern drawn from ``seed``, as an uploaded ``.npy``."""
    return npy_url(np.random.default_rng(seed).random((32, 32), np.float32))


#: The core page callback: it chooses the pattern and draws the grid in one round trip; the
#: recipe rides in the pattern-view store (the browser copies it to the pattern store).
PAGE = "store-pattern-view.data"


def upload(session: DashSession, seed: int) -> dict:
    answer = session.call(
        PAGE,
        {
            "model-select.value": MODEL,
            "pattern-upload.contents": pattern_url(seed),
            "pattern-upload.filename": f"p{seed}.npy",
        },
        "pattern-upload.contents",
    )["response"]
    assert answer["error-alert"]["is_open"] is False, answer["error-alert"]
    return answer["store-pattern-view"]["data"]["recipe"]


def grid(session: DashSession, recipe: dict, rows: int, limit: int = 15) -> dict:
    values = {
        "model-select.value": MODEL,
        "store-pattern-view.data": {"recipe": recipe},
        "grid-rows.value": rows,
        "grid-cols.value": 2,
        "size-limit.value": limit,
        "page-select.active_page": 1,
    }
    return session.call(PAGE, values, "grid-rows.value")["response"]


def test_fresh_connections_reach_both_workers(team):
    """Both workers take traffic. The kernel picks which idle worker accepts a connection, and
    with both warm and idle it may hand one worker every connection of a sequential loop (it
    did, 30 of 30, once warming moved before traffic); a burst of concurrent connections keeps
    one worker busy long enough for the other to accept some."""
    from concurrent.futures import ThreadPoolExecutor

    seen: set[int] = set()
    with ThreadPoolExecutor(16) as pool:
        for _ in range(10):
            list(pool.map(lambda _: team.workers_answering(seen, 4), range(16)))
            if len(seen) == 2:
                break
    assert len(seen) == 2, seen


def test_every_worker_warmed_before_it_took_traffic(team):
    """Issue 25, row 17: the team fixture started gunicorn without the project's config, so
    its first ``/healthz`` started the warm-up; now each worker warmed in ``post_worker_init``."""
    warmed: dict[int, str] = {}
    for _ in range(30):
        status, body = DashSession(team.base).request("/healthz")
        answer = json.loads(body)
        assert status == 200, answer
        warmed[answer["worker"]] = answer["warmed"]
    assert len(warmed) == 2 and set(warmed.values()) == {"before traffic"}, warmed


def test_uploads_and_slider_moves_work_on_any_worker(team):
    for seed in range(6):
        session = DashSession(team.base)
        session.open_page()
        recipe = upload(session, seed)
        figures = [grid(session, recipe, rows) for rows in (1, 2, 3, 1)]
        for figure in figures:
            assert "no longer kept" not in json.dumps(figure)
            assert figure["text-grid-summary"]["children"].startswith("3 of 10 layers")
        # The same request answers the same, whichever worker took it.
        assert figures[0] == figures[3]


def test_another_session_cannot_use_an_upload(team):
    alice, mallory = DashSession(team.base), DashSession(team.base)
    alice.open_page()
    mallory.open_page()
    recipe = upload(alice, 99)
    assert "no longer kept" in json.dumps(grid(mallory, recipe, 2))


def test_an_export_through_celery_reports_progress_and_finishes(team):
    session = DashSession(team.base)
    session.open_page()
    recipe = upload(session, 7)
    sent = export_zip(session, recipe)
    assert sent.filename == f"layerviz-{MODEL}.zip"
    assert len(sent.pages) > 1 and sent.pages[0] == "0.png"
    assert any(label.endswith(f"of {len(sent.pages)} pages") for label in sent.labels), sent


def test_redis_away_then_back_without_a_restart(team):
    session = DashSession(team.base)
    session.open_page()
    team.stop_redis()
    try:
        assert session.request("/healthz")[0] == 503
        seed = session.call(
            PAGE, {"model-select.value": MODEL, "seed-input.value": 3}, "seed-input.value"
        )["response"]
        assert seed["store-pattern-view"]["data"]["recipe"]["seed"] == 3
        failed = session.call(
            PAGE,
            {
                "model-select.value": MODEL,
                "pattern-upload.contents": pattern_url(1),
                "pattern-upload.filename": "p.npy",
            },
            "pattern-upload.contents",
        )["response"]["error-alert"]
        assert failed["is_open"] is True and "Redis" in failed["children"]
    finally:
        team.start_redis()
    assert session.request("/healthz")[0] == 200
    recipe = upload(session, 2)
    assert grid(session, recipe, 2)["text-grid-summary"]["children"].startswith("3 of 10")


def batch_url(batch: np.ndarray) -> str:
    buffer = io.BytesIO()
    np.savez(buffer, patterns=batch)
    return data_url(buffer.getvalue())


def run_health(session: DashSession, values: dict) -> tuple[dict, list[str]]:
    """Start a health run and poll it to the end: (its answer, the progress labels seen)."""
    answer, progress = session.call_background(
        "store-health.data", {"health-button.n_clicks": 1, **values}, "health-button.n_clicks"
    )
    return answer["response"], [p["health-progress.label"] for p in progress]


def test_a_health_run_through_celery_reports_progress_and_finishes(team):
    from layerviz.analysis.health import model_health
    from layerviz.load.loading import load_model

    model = load_model(f"models/{MODEL}.keras")
    batch = np.random.default_rng(5).random((20, 32, 32, 1), np.float32)
    session = DashSession(team.base)
    session.open_page()
    recipe = upload(session, 5)
    # The batch is read and kept by whichever web worker takes the upload; the run, on the
    # Celery worker, reads it back from Redis under the same session.
    kept = session.call(
        "store-health-batch.data",
        {
            "health-upload.contents": batch_url(batch),
            "health-upload.filename": "twenty.npz",
            "store-pattern.data": recipe,
        },
        "health-upload.contents",
    )["response"]
    assert kept["text-health-batch"]["children"] == "twenty.npz: 20 patterns", kept
    controls = {
        "store-pattern.data": recipe,
        "radio-health-source.value": "batch",
        "health-threshold.value": 0.05,
        "store-health-batch.data": kept["store-health-batch"]["data"],
    }
    answer, labels = run_health(session, controls)
    expected = model_health(model, batch, threshold=0.05)
    result = answer["store-health"]["data"]
    assert (result["n_patterns"], result["threshold"]) == (20, 0.05)
    assert (result["n_dead"], result["n_saturated"]) == (expected.n_dead, expected.n_saturated)
    assert answer["text-health-summary"]["children"].startswith(f"{expected.n_dead} dead and")
    assert labels and labels[-1] == "20/20 patterns", labels
    # Another session with the same store data has no such batch.
    mallory = DashSession(team.base)
    mallory.open_page()
    refused, _ = run_health(mallory, controls)
    assert "twenty.npz is no longer kept" in refused["text-health-summary"]["children"]


def test_seeded_health_runs_through_celery_from_several_sessions(team):
    sessions = [DashSession(team.base) for _ in range(3)]
    for session in sessions:
        session.open_page()
    controls = {
        "store-pattern.data": {"kind": "seed", "model": MODEL, "seed": 0},
        "radio-health-source.value": "seeds",
        "input-health-seeds.value": 16,
        "health-threshold.value": 0,
    }
    answers = [run_health(session, controls) for session in sessions]
    results = [answer["store-health"]["data"] for answer, _ in answers]
    assert all(r == results[0] for r in results) and results[0]["n_patterns"] == 16
    assert all(labels[-1] == "16/16 patterns" for _, labels in answers)
