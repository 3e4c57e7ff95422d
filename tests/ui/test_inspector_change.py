"""A divergence click opens its layer in the inspector ranked by change (B − A): the plain
functions, then the two real callbacks through the app's server (no browser)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from layerviz.errors import ArgumentError, PatternError
from layerviz.ui import ids
from layerviz.ui.common import current_run
from layerviz.ui.features.compare_state import DEFAULT_B, compare_view
from layerviz.ui.features.inspector import views
from layerviz.ui.recipe import SeedRecipe

MODEL = "digits_cnn"
CONV2 = {"model": MODEL, "layer": "conv2"}


@pytest.fixture(scope="module")
def bench(app):
    """The app's own workbench: the callbacks and the plain functions share its caches."""
    return app.workbench


@pytest.fixture(scope="module")
def store() -> dict:
    return SeedRecipe(MODEL, 3).to_store()


def _changes(workbench, store, layer="conv2"):
    _, result = compare_view(workbench).comparison(store, DEFAULT_B)
    return next(d for d in result.layers if d.name == layer).channel_change


def _conv2(workbench, store):
    _, run = current_run(workbench, store)
    return views.find_layer(run.extraction.activations, "conv2", MODEL)


def test_change_scores_rank_the_most_changed_first(bench, store):
    act = _conv2(bench, store)
    scores = views.change_scores(bench, store, DEFAULT_B, act)
    change = _changes(bench, store)
    assert scores.by == views.CHANGE and scores.n_channels == 32
    np.testing.assert_array_equal(scores.scores, change)
    assert list(scores.order) == sorted(range(32), key=lambda c: (-change[c], c))


def test_inspector_view_by_change_shows_the_most_changed_channels(bench, store):
    view = views.inspector_view(bench, store, CONV2, views.CHANGE, 8, 1, "map", None, DEFAULT_B)
    most = np.argsort(-_changes(bench, store), kind="stable")[:8]
    assert [trace.name for trace in view.figure.data] == [f"channel {c}" for c in most]
    assert "(rank 1, change " in view.figure.data[0].hovertemplate
    assert view.summary.startswith("showing 8 of 32 (ranks 1-8, page 1 of 4)")


@pytest.mark.parametrize(
    ("b_data", "error", "fragment"),
    [
        (None, ArgumentError, "needs compare mode on, with a pattern B"),
        ({"source": "nowhere"}, PatternError, "unknown source"),
    ],
)
def test_change_without_a_good_b_is_a_clear_error(bench, store, b_data, error, fragment):
    with pytest.raises(error, match=fragment):
        views.inspector_view(bench, store, CONV2, views.CHANGE, 8, 1, "map", None, b_data)


def test_a_layer_without_per_channel_change_is_a_clear_error(bench, store):
    act = _conv2(bench, store)
    other = type(act)(act.index, "not_compared", act.class_name, act.array)
    with pytest.raises(ArgumentError, match="no change per channel"):
        views.change_scores(bench, store, DEFAULT_B, other)


# --- the callbacks, through the server -----------------------------------------------------


def _post(client, app, first_input: str, inputs: dict, state: dict, output: str) -> dict:
    """Post to the callback whose first input is ``first_input`` and that writes ``output``;
    its answer by ``id.prop``."""

    def outs(spec) -> list:
        many = isinstance(spec["output"], (list, tuple))
        return list(spec["output"]) if many else [spec["output"]]

    def writes(spec) -> bool:
        return any(
            f"{o.component_id}.{o.component_property.split('@')[0]}" == output for o in outs(spec)
        )

    key, spec = next(
        (k, s)
        for k, s in list(app.callback_map.items())
        if "callback" in s
        and s["inputs"]
        and f"{s['inputs'][0]['id']}.{s['inputs'][0]['property']}" == first_input
        and writes(s)
    )
    outputs = [
        {"id": o.component_id, "property": o.component_property.split("@")[0]} for o in outs(spec)
    ]

    def items(deps, values):
        return [{**d, "value": values.get(f"{d['id']}.{d['property']}")} for d in deps]

    body = {
        "output": key,
        "outputs": outputs,
        "inputs": items(spec["inputs"], inputs),
        "state": items(spec.get("state", []), state),
        "changedPropIds": [first_input],
    }
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200, response.data[:300]
    answer = json.loads(response.data)["response"]
    return {f"{i}.{p}": v for i, props in answer.items() for p, v in props.items()}


def test_a_divergence_click_selects_the_layer_and_the_change_order(app, store):
    click = {"points": [{"curveNumber": 0, "customdata": 2}]}  # conv1, pool1, conv2
    out = _post(
        app.server.test_client(),
        app,
        f"{ids.DIVERGENCE_GRAPH}.clickData",
        {f"{ids.DIVERGENCE_GRAPH}.clickData": click},
        {
            f"{ids.PATTERN_STORE}.data": store,
            f"{ids.COMPARE_STORE}.data": DEFAULT_B,
            f"{ids.GRID_ROWS}.value": 1,
            f"{ids.GRID_COLS}.value": 1,
            f"{ids.SIZE_LIMIT}.value": 15,
        },
        f"{ids.CHANNEL_SORT}.value",
    )
    assert out[f"{ids.SELECTED_LAYER_STORE}.data"] == CONV2
    assert out[f"{ids.CHANNEL_SORT}.value"] == views.CHANGE


def test_the_inspector_callback_ranks_by_change_in_compare_mode(app, bench, store):
    inputs = {
        f"{ids.PATTERN_STORE}.data": store,
        f"{ids.SELECTED_LAYER_STORE}.data": CONV2,
        f"{ids.CHANNEL_SORT}.value": views.CHANGE,
        f"{ids.TOPK_SLIDER}.value": 4,
        f"{ids.CHANNEL_PAGE}.active_page": 1,
        f"{ids.NORM_MODE}.value": "map",
        f"{ids.COMPARE_SWITCH}.value": True,
        f"{ids.COMPARE_STORE}.data": DEFAULT_B,
    }
    client = app.server.test_client()
    graph = f"{ids.CHANNEL_GRAPH}.figure"
    out = _post(client, app, f"{ids.PATTERN_STORE}.data", inputs, {}, graph)
    figure = out[graph]
    most = np.argsort(-_changes(bench, store), kind="stable")[:4]
    assert [t["name"] for t in figure["data"]] == [f"channel {c}" for c in most]
    off_inputs = {**inputs, f"{ids.COMPARE_SWITCH}.value": False}
    off = _post(client, app, f"{ids.PATTERN_STORE}.data", off_inputs, {}, graph)
    message = off[graph]["layout"]["annotations"][0]["text"]
    assert "needs compare mode on" in message  # said in the inspector; the page keeps working


def test_the_change_order_is_offered_and_a_link_may_name_it():
    from layerviz.ui.features.inspector import url

    assert views.SORTS[views.CHANGE] == "change (B − A)"
    assert url.parse_view("?sort=change", [MODEL]) == ({"sort": "change"}, [])
    view = url.view_of(None, None, views.CHANGE, None, None, None, None)
    assert view == {}  # no pattern, no link; with one, the order rides along
    store = SeedRecipe(MODEL, 3).to_store()
    assert url.view_of(store, None, views.CHANGE, None, None, None, None)["sort"] == "change"
