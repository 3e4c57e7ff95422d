"""Every callback of the whole page, sent values no browser of ours would send.

An adversarial probe sent recipes that were lists, strings, numbers or ``true``, model names
that were lists, seeds of ±Infinity, pages of 1e999: 47 tracebacks in the log and "Something
went wrong (TypeError)" on screen. Each callback, core or feature, must answer with its own
message (or nothing), never a 500 and never a traceback in the log.
"""

from __future__ import annotations

import base64
import json
import logging

import pytest
from helpers import post_callback

from layerviz.ui import ids

#: What a crafted request can carry where a value is expected (JSON has no Infinity; 1e999 is
#: how a probe sends it: Python's json reads it as inf).
HOSTILE = {
    "list": [1, [2, 3]],
    "string": "A" * 5000,
    "number": -(10**30),
    "true": True,
    "null": None,
    "infinity": float("inf"),
    "object": {"model": ["digits_cnn"], "kind": "seed", "seed": float("-inf")},
}


def bodies(app, value):
    """One request body per callback, every input and state set to ``value``."""
    # A snapshot: Dash finishes its callback map on the first request it serves.
    for key, spec in list(app.callback_map.items()):
        if spec.get("background") or not spec["inputs"]:
            continue
        if "callback" not in spec:  # a clientside callback: the browser runs it, not the server
            continue

        def items(deps):
            return [{**d, "value": value} for d in deps]

        many = isinstance(spec["output"], (list, tuple))
        outputs = [
            {"id": o.component_id, "property": o.component_property.split("@")[0]}
            for o in (spec["output"] if many else [spec["output"]])
        ]
        first = spec["inputs"][0]
        yield (
            key,
            {
                "output": key,
                "outputs": outputs if many else outputs[0],
                "inputs": items(spec["inputs"]),
                "state": items(spec.get("state", [])),
                "changedPropIds": [f"{first['id']}.{first['property']}"],
            },
        )


@pytest.mark.parametrize("kind", HOSTILE)
def test_every_callback_answers_hostile_values_without_a_traceback(app, client, kind, caplog):
    sent = 0
    with caplog.at_level(logging.WARNING):
        for key, body in bodies(app, HOSTILE[kind]):
            text = __import__("json").dumps(body, allow_nan=True)
            response = client.post(
                "/_dash-update-component", data=text, content_type="application/json"
            )
            assert response.status_code in (200, 204, 400), (key, response.status_code)
            sent += 1
    assert sent >= 10
    tracebacks = [r for r in caplog.records if r.exc_info is not None]
    assert tracebacks == [], [(r.name, r.getMessage()[:200]) for r in tracebacks]
    errors = [r.getMessage()[:200] for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []


# --- one bad value in an otherwise valid view (issue 25, row 10) ------------------------------

VIEW = {
    f"{ids.PATTERN_STORE}.data": {"kind": "seed", "model": "digits_cnn", "seed": 0},
    f"{ids.SELECTED_LAYER_STORE}.data": {"model": "digits_cnn", "layer": "conv1"},
    f"{ids.CHANNEL_SORT}.value": "mean",
    f"{ids.NORM_MODE}.value": "layer",
    f"{ids.TOPK_SLIDER}.value": 8,
    f"{ids.CHANNEL_PAGE}.active_page": 1,
}


STORE = f"{ids.PATTERN_STORE}.data"


@pytest.mark.parametrize(
    ("first_input", "trigger", "output", "bad"),
    [
        (STORE, f"{ids.CHANNEL_SORT}.value", f"{ids.INSPECTOR_TITLE}.children", ["mean"]),
        (STORE, f"{ids.NORM_MODE}.value", f"{ids.INSPECTOR_TITLE}.children", ["map"]),
        (STORE, f"{ids.CHANNEL_SORT}.value", f"{ids.URL_VIEW}.search", ["max"]),
        (
            f"{ids.PREDICTION_GRAPH}.clickData",
            f"{ids.PREDICTION_GRAPH}.clickData",
            f"{ids.EXPLAIN_CLASS_STORE}.data",
            {"points": [{"pointNumber": float("inf")}]},
        ),
    ],
    ids=["channel-sort-list", "norm-mode-list", "link-sort-list", "class-click-infinity"],
)
def test_one_bad_value_in_a_valid_view_is_no_generic_error(
    app, client, first_input, trigger, output, bad, caplog
):
    values = {**VIEW, trigger: bad}
    with caplog.at_level(logging.WARNING):
        answer = post_callback(client, app, first_input, values, values, output, trigger)
    assert "Something went wrong" not in json.dumps(answer)
    assert [r.getMessage()[:200] for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_a_health_batch_with_a_negative_npy_side_says_so(app, client):
    from patterns.test_readers import negative_header_npy

    contents = (
        "data:application/octet-stream;base64,"
        + base64.b64encode(negative_header_npy((-3, 28, 28, 1))).decode()
    )
    values = {
        **VIEW,
        f"{ids.HEALTH_UPLOAD}.contents": contents,
        f"{ids.HEALTH_UPLOAD}.filename": "neg.npy",
    }
    answer = post_callback(
        client,
        app,
        f"{ids.HEALTH_UPLOAD}.contents",
        values,
        values,
        f"{ids.HEALTH_BATCH_INFO}.children",
    )
    assert "negative dimension" in answer[f"{ids.HEALTH_BATCH_INFO}.children"]
