"""Tests for the dashboard's model upload without a browser: vetting, keeping, listing."""

from __future__ import annotations

import base64
import json
import threading
import time

import keras
import pytest
from dash import html, no_update
from helpers import post_callback

from layerviz.errors import ModelLoadError, UnsafeModelError
from layerviz.load.canary_queue import CheckQueue
from layerviz.ui import ids
from layerviz.ui.callbacks import choose_pattern, render_grid
from layerviz.ui.features import model_upload
from layerviz.ui.features.model_upload import (
    add_uploaded_model,
    decode_model_upload,
    poll_upload,
    session_options,
)
from layerviz.ui.features.upload_steps import STEPS
from layerviz.ui.recipe import SeedRecipe
from layerviz.ui.shared_models import MAX_MODEL_FILE_BYTES
from layerviz.ui.store import current_session


def saved(model: keras.Model, tmp_path) -> bytes:
    path = tmp_path / "m.keras"
    model.save(path)
    return path.read_bytes()


def data_url(data: bytes) -> str:
    return "data:application/octet-stream;base64," + base64.b64encode(data).decode()


def test_decode_refuses_oversized_and_malformed_uploads():
    assert decode_model_upload(data_url(b"abc"), "m.keras") == b"abc"
    too_big = "data:x;base64," + "A" * (MAX_MODEL_FILE_BYTES * 4 // 3 + 8)
    with pytest.raises(UnsafeModelError, match=r"^big\.keras: \d+ bytes is over the 16 MB upload"):
        decode_model_upload(too_big, "big.keras")
    for bad in (None, "no data url", "data:x;base64,!!!"):
        with pytest.raises(UnsafeModelError, match=r"m\.keras"):
            decode_model_upload(bad, "m.keras")


def test_a_lambda_upload_is_refused_and_nothing_is_kept(workbench, keras_session, tmp_path):
    inputs = keras.Input((4,), name="x")
    model = keras.Model(inputs, keras.layers.Lambda(lambda t: t, name="lambda_1")(inputs))
    before = len(workbench.user_models)
    with pytest.raises(UnsafeModelError, match=r"layer 'lambda_1' \(Lambda\) runs arbitrary code"):
        add_uploaded_model(workbench, saved(model, tmp_path), "evil.keras")
    assert len(workbench.user_models) == before


@pytest.mark.slow
def test_an_upload_is_vetted_kept_and_renders_with_a_random_pattern(
    workbench, build_model, tmp_path
):
    data = saved(build_model("functional_cnn"), tmp_path)
    option = add_uploaded_model(workbench, data, "m.keras")
    name = option["value"]
    assert option["label"] == "m.keras (your upload)" and name not in workbench.model_names
    entry = workbench.entry(name)
    assert "parameters, checked in a sandbox" in entry.description

    choice = choose_pattern(workbench, ids.MODEL_SELECT, name)
    assert choice.error is None
    assert choice.recipe == SeedRecipe(name, 0).to_store()
    summary = render_grid(workbench, choice.recipe, 3, 3, 1, 1)[3]
    assert "layers" in summary

    store = {"models": [option, {"label": "gone", "value": "upload-forgotten"}, "junk"]}
    assert session_options(workbench, store) == [option]
    assert session_options(workbench, None) == session_options(workbench, [1]) == []
    two = add_uploaded_model(workbench, saved(build_model("multi_input"), tmp_path), "two.keras")
    choice = choose_pattern(workbench, ids.MODEL_SELECT, two["value"])
    assert choice.error is None and choice.model_info.startswith("inputs vector 8, image 6×6×1")


def test_a_forgotten_upload_says_so(workbench):
    with pytest.raises(ModelLoadError, match=r"no longer kept on the server .*; upload it again"):
        workbench.entry("upload-forgotten")
    choice = choose_pattern(workbench, ids.MODEL_SELECT, "upload-forgotten")
    assert "upload it again" in choice.error


def upload_request(client, app, data: bytes, name: str) -> dict:
    """What the upload callback answers for ``data`` dropped as ``name``."""
    values = {"model-upload.contents": data_url(data), "model-upload.filename": name}
    return post_callback(
        client, app, "model-upload.contents", values, values, "text-model-upload-info.children"
    )


def test_the_upload_callback_returns_before_the_check_ends(app, client, tmp_path, monkeypatch):
    """Issue 25, row 2: the canary waited for a slot in the request thread (8 uploads took
    every thread). Now the callback answers "checking…" at once and a poll brings the result."""
    gate = threading.Event()
    real = model_upload.add_uploaded_model

    def held_check(*args, **kwargs):  # the check cannot end before the test lets it
        gate.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(model_upload, "add_uploaded_model", held_check)
    monkeypatch.setattr(model_upload, "CHECKS", CheckQueue(running=1, waiting=0, per_owner=1))
    inputs = keras.Input((6, 6, 1), name="picture")
    x = keras.layers.Conv2D(2, 3, name="conv")(inputs)
    data = saved(keras.Model(inputs, keras.layers.Flatten(name="flat")(x), name="m"), tmp_path)
    try:
        answer = upload_request(client, app, data, "held.keras")
        pending = answer["store-model-upload-pending.data"]
        assert model_upload.CHECKS.ticket(pending["ticket"]).state == "checking"
        assert answer["interval-model-upload-poll.disabled"] is False
        shown = json.dumps(answer)  # issue 20: its steps, running (its work held before its first)
        assert "held.keras" in shown and "checking the file" in shown
        # Meanwhile the app serves, and a second check of the session is refused by its bound.
        assert client.get("/healthz").status_code in (200, 503)
        busy = upload_request(client, app, data, "again.keras")
        assert busy["error-alert.is_open"] is True
        assert "at most 1 per session" in busy["error-alert.children"]
    finally:
        gate.set()

    deadline = time.monotonic() + 180
    polled: dict = {}
    while "model-select.value" not in polled:
        assert time.monotonic() < deadline, polled
        time.sleep(0.5)
        polled = post_callback(
            client,
            app,
            "interval-model-upload-poll.n_intervals",
            {"interval-model-upload-poll.n_intervals": 1},
            {"store-model-upload-pending.data": pending, "store-model-uploads.data": None},
            "model-select.value",
        )
    assert polled["interval-model-upload-poll.disabled"] is True
    (option,) = polled["store-model-uploads.data"]["models"]
    assert option["label"] == "held.keras (your upload)"
    assert option in polled["model-select.options"]
    assert "passed the checks" in json.dumps(polled["text-model-upload-info.children"])
    # Issue 20: each step was told by the code that did it, in order.
    ticket = model_upload.CHECKS.ticket(pending["ticket"])
    assert [step for step, _ in ticket.steps_done] == ["queued", "file", "sandbox", "open"]
    # The check's thread opened it too (traced its first view's pass): its view starts warm.
    name = option["value"]
    token = current_session.set(app.workbench.user_models._owners[name])
    try:
        assert app.workbench.reduced(app.workbench.default_recipe(name)).cached
    finally:
        current_session.reset(token)


@pytest.mark.parametrize(
    "pending", [None, "x", {"ticket": ["x"], "file": "m", "since": 0}, {"ticket": "x"}]
)
def test_a_malformed_pending_check_stops_the_poll(workbench, pending):
    assert poll_upload(workbench, pending, None)[-2:] == (None, True)


def steps_shown(info) -> list[tuple[str, str, str]]:
    """(step, status, text) of each step the status line lists, in order."""
    found = []

    def walk(node):
        if isinstance(node, list | tuple):
            for child in node:
                walk(child)
        elif isinstance(node, html.Li):
            props = node.to_plotly_json()["props"]
            text = "".join(c for c in node.children if isinstance(c, str))
            found.append((props["data-step"], props["data-status"], text))
        elif hasattr(node, "children"):
            walk(node.children)

    walk(info)
    return found


PENDING = {"ticket": "t-render", "file": "m.keras", "since": time.time()}


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (
            {"state": "queued", "step": "queued", "ahead": 2, "step_since": 3},
            [("queued", "current", "queued (2 checks ahead) · {s} s")]
            + [(key, "pending", text) for key, text in STEPS[1:]],
        ),
        (
            {
                "state": "checking",
                "step": "sandbox",
                "step_since": 4,
                "done": ["queued", "file"],
                "estimate": {"seconds": 9, "basis": "typical"},
            },
            [
                ("queued", "done", "queued"),
                ("file", "done", "checking the file"),
                ("sandbox", "current", "loading it in a sandbox (≈9 s) · {s} s"),
                ("open", "pending", "opening it for the dashboard"),
                ("ready", "pending", "ready"),
            ],
        ),
        (
            {
                "state": "checking",
                "step": "open",
                "step_since": 1,
                "estimate": {"seconds": 120, "basis": "limit"},
            },
            [
                ("queued", "done", "queued"),
                ("file", "done", "checking the file"),
                ("sandbox", "done", "loading it in a sandbox (up to 120 s)"),
                ("open", "current", "opening it for the dashboard · {s} s"),
                ("ready", "pending", "ready"),
            ],
        ),
    ],
    ids=["queued", "sandbox-typical", "open-after-limit-estimate"],
)
def test_the_poll_shows_the_steps_with_the_current_one_marked(workbench, state, expected):
    ago = state["step_since"]
    state = {**state, "step_since": time.time() - ago}  # began ``ago`` seconds before the poll
    workbench.uploads.put_bytes("local", "model-check-t-render", json.dumps(state).encode())
    answer = poll_upload(workbench, PENDING, None)
    assert answer[-2:] == (no_update, no_update)  # still polling
    shown = steps_shown(answer[3])
    assert [s[:2] for s in shown] == [e[:2] for e in expected]
    for (_, _, text), (_, _, want) in zip(shown, expected, strict=True):
        # The poll's own clock may have ticked one more second.
        assert text in (want.format(s=ago), want.format(s=ago + 1)), (text, want)


def test_a_refusal_stops_the_steps_at_the_failing_one_with_its_reason(workbench):
    state = {
        "state": "failed",
        "step": "sandbox",
        "done": ["queued", "file"],
        "error": "loading the model in a sandbox did not finish within 0.5 s; it was stopped",
    }
    workbench.uploads.put_bytes("local", "model-check-t-render", json.dumps(state).encode())
    _, value, _, info, alert, is_open, pending, disabled = poll_upload(workbench, PENDING, None)
    assert [s[:2] for s in steps_shown(info)] == [
        ("queued", "done"),
        ("file", "done"),
        ("sandbox", "failed"),
        ("open", "pending"),
        ("ready", "pending"),
    ]
    assert alert == f"m.keras was not loaded: {state['error']}" and is_open is True
    assert (pending, disabled) == (None, True) and value is no_update
