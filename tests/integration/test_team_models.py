"""Uploaded models in a team deployment: two gunicorn workers and a Celery worker on redis-server.

A session uploads a ``.keras`` file (checked, then the canary, on whichever worker took the
request); its later requests, each on a fresh connection and so on either worker, open the
model, draw it with a seed and move a slider. Another session can neither open nor list it.
Last, with Redis stopped, an export answers 200 with a message in the page, not a 500.
"""

from __future__ import annotations

import json

import keras
import pytest
import redis

from integration.dash_http import DashSession, data_url, export_values, upload_model

pytestmark = pytest.mark.integration

#: The core page callback (see test_team.py); the upload callback is found by its store.
PAGE = "store-pattern-view.data"


@pytest.fixture(scope="module")
def model_url(tmp_path_factory) -> str:
    inputs = keras.Input((12, 12, 1), name="picture")
    x = keras.layers.Conv2D(3, 3, activation="relu", name="team_conv")(inputs)
    x = keras.layers.MaxPooling2D(name="team_pool")(x)
    x = keras.layers.Flatten(name="flat")(x)
    model = keras.Model(inputs, keras.layers.Dense(2, name="scores")(x), name="team_model")
    path = tmp_path_factory.mktemp("model") / "team.keras"
    model.save(path)
    return data_url(path.read_bytes())


@pytest.fixture(scope="module")
def alice(team, model_url) -> tuple[DashSession, dict]:
    """A session that uploaded the model: the session and its dropdown option."""
    session = DashSession(team.base, timeout=120)
    session.open_page()
    answer = upload_model(session, model_url, "team.keras")
    assert "error-alert" not in answer, answer.get("error-alert")
    (option,) = answer["store-model-uploads"]["data"]["models"]
    assert option["label"] == "team.keras (your upload)"
    return session, option


def page(session: DashSession, values: dict, trigger: str) -> dict:
    return session.call(PAGE, {"grid-rows.value": 2, "grid-cols.value": 2, **values}, trigger)[
        "response"
    ]


def listed(session: DashSession, option: dict) -> list[dict]:
    """What the page-load callback lists in ``model-select`` for a session store holding
    ``option`` (the callback whose only output is the options; the browser relays the session's
    kept uploads to it, ``store-model-uploads-kept``, only when there are some)."""
    (dep,) = [d for d in session.dependencies if d["output"] == "model-select.options"]
    store = {"models": [option]}
    assert [i["id"] for i in dep["inputs"]] == ["store-model-uploads-kept"], dep["inputs"]
    body = {
        "output": dep["output"],
        "outputs": {"id": "model-select", "property": "options"},
        "inputs": [{**i, "value": store} for i in dep["inputs"]],
        "state": [{**s, "value": store} for s in dep["state"]],
        "changedPropIds": [],
    }
    status, data = session.request(session._url(), body)
    assert status == 200, data[:300]
    return json.loads(data)["response"]["model-select"]["options"]


def open_model(session: DashSession, name: str) -> dict:
    return page(session, {"model-select.value": name}, "model-select.value")


def test_a_sessions_model_works_whichever_worker_answers(team, alice):
    session, option = alice
    name = option["value"]
    keys = redis.Redis(port=team.redis_port).keys("layerviz:models:file:*")
    assert len(keys) == 1 and name.encode() not in keys[0]
    summaries = set()
    for seed in range(4):  # 12 requests on fresh connections: both workers answer some
        opened = open_model(session, name)
        assert opened["error-alert"]["is_open"] is False, opened["error-alert"]
        assert opened["text-model-info"]["children"].startswith("input 12×12×1")
        drawn = page(
            session, {"model-select.value": name, "seed-input.value": seed}, "seed-input.value"
        )
        recipe = drawn["store-pattern-view"]["data"]["recipe"]
        assert recipe == {"model": name, "kind": "seed", "seed": seed}
        moved = page(
            session,
            {"model-select.value": name, "store-pattern-view.data": {"recipe": recipe},
             "grid-rows.value": 1},
            "grid-rows.value",
        )  # fmt: skip
        assert "no longer kept" not in json.dumps(moved)
        summaries.add(moved["text-grid-summary"]["children"])
    assert len(summaries) == 1, summaries  # the same answer, whichever worker gave it
    assert option in listed(session, option)


def test_another_session_can_neither_open_nor_list_it(team, alice):
    _, option = alice
    mallory = DashSession(team.base)
    mallory.open_page()
    for _ in range(4):
        opened = open_model(mallory, option["value"])
        assert opened["error-alert"]["is_open"] is True
        assert "no longer kept" in opened["error-alert"]["children"]
        assert option not in listed(mallory, option)


def test_the_celery_worker_exports_it_from_the_shared_store(team, alice):
    # The Celery worker never saw the upload: it can only have the model from Redis.
    session, option = alice
    values = export_values({"model": option["value"], "kind": "seed", "seed": 0})
    answer, _ = session.call_background(
        "download-export-zip.data", values, "export-button.n_clicks"
    )
    assert "sideUpdate" not in answer, answer.get("sideUpdate")
    sent = answer["response"]["download-export-zip"]["data"]
    assert sent["filename"] == f"layerviz-{option['value']}.zip"


def test_an_export_while_redis_is_away_is_a_message_not_a_500(team, alice):
    session, option = alice
    values = export_values({"model": "digits_cnn", "kind": "seed", "seed": 1})
    team.stop_redis()
    try:
        dep = session._callback("download-export-zip.data")
        body = {
            "output": dep["output"],
            "outputs": {"id": "download-export-zip", "property": "data"},
            "inputs": [{**i, "value": values.get(f"{i['id']}.{i['property']}")}
                       for i in dep["inputs"]],
            "state": [{**s, "value": values.get(f"{s['id']}.{s['property']}")}
                      for s in dep["state"]],
            "changedPropIds": ["export-button.n_clicks"],
        }  # fmt: skip
        status, data = session.request(session._url(), body)
        assert status == 200, data[:300]
        handles = json.loads(data)
        for _ in range(2):  # the poll may land on either worker: both say the same
            url = session._url(cacheKey=handles["cacheKey"], job=handles["job"])
            status, data = session.request(url, body)
            assert status == 200 and b"Traceback" not in data
            alert = json.loads(data)["sideUpdate"]["error-alert"]
            assert alert["is_open"] is True and "(Redis) cannot be reached" in alert["children"]
        # The bundled models keep working; opening an upload says where the trouble is.
        assert open_model(session, "digits_cnn")["error-alert"]["is_open"] is False
        opened = open_model(session, option["value"])
        if opened["error-alert"]["is_open"]:  # a worker that had not loaded it yet
            assert "Redis" in opened["error-alert"]["children"]
    finally:
        team.start_redis()
    assert session.request("/healthz")[0] == 200
    answer, _ = session.call_background(
        "download-export-zip.data", {**values, "export-button.n_clicks": 2},
        "export-button.n_clicks",
    )  # fmt: skip
    assert answer["response"]["download-export-zip"]["data"]["filename"].endswith(".zip")
