"""Every callback of the whole page, sent values no browser of ours would send.

An adversarial probe sent recipes that were lists, strings, numbers or ``true``, model names
that were lists, seeds of ±Infinity, pages of 1e999: 47 tracebacks in the log and "Something
went wrong (TypeError)" on screen. Each callback, core or feature, must answer with its own
message (or nothing), never a 500 and never a traceback in the log.
"""

from __future__ import annotations

import logging

import pytest

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
