"""The server's edge (layerviz.ui.guard): headers, and malformed requests refused as 4xx."""

import io
import json
import logging

import pytest

from layerviz.ui.app import MAX_REQUEST_BYTES, create_app
from layerviz.ui.guard import MAX_JSON_DEPTH, json_depth


@pytest.fixture(scope="module")
def app():
    return create_app("article_dense")


@pytest.fixture
def client(app):
    return app.server.test_client()


def test_security_headers_on_every_response(client):
    for path in ("/", "/_dash-layout", "/assets/layerviz.css"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "'unsafe-eval'" not in policy and "script-src 'self' 'sha256-" in policy


def test_an_embeddable_app_may_be_framed():
    client = create_app("article_dense", embeddable=True).server.test_client()
    response = client.get("/")
    assert "X-Frame-Options" not in response.headers
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]


def test_the_page_does_not_tell_the_python_version(client):
    page = client.get("/").get_data(as_text=True)
    assert "_dash-config" in page and "dash_version" in page
    assert "python_version" not in page


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("[" * 10_000 + "]" * 10_000, "nests deeper"),
        ('{"a":' * 10_000 + "1" + "}" * 10_000, "nests deeper"),
        (
            json.dumps({"output": "x", "outputs": [], "inputs": [], "changedPropIds": [None]}),
            "changedPropIds",
        ),
        (json.dumps({"output": 3, "inputs": []}), "output must be a string"),
        (json.dumps({"output": "x", "inputs": {"a": 1}}), "inputs must be a list"),
        (json.dumps([1, 2]), "a JSON object"),
        ("{not json", "not JSON"),
    ],
)
def test_malformed_callback_requests_are_400_with_a_short_log_line(client, body, reason, caplog):
    with caplog.at_level(logging.WARNING, logger="layerviz.ui"):
        response = client.post(
            "/_dash-update-component", data=body, content_type="application/json"
        )
    assert response.status_code == 400
    assert reason in response.get_data(as_text=True)
    assert all(r.exc_info is None and len(r.getMessage()) < 300 for r in caplog.records)


@pytest.mark.parametrize(
    "path",
    [
        "/_dash-component-suites/dash/__init__.py",
        "/_dash-component-suites/dash/../../etc/passwd",
        "/_dash-component-suites/plotly/__init__.pyc",
    ],
)
def test_component_suites_serve_only_front_end_files(client, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize(("size", "status"), [(MAX_REQUEST_BYTES + 1, 413), (100, 400)])
def test_a_body_without_a_length_is_capped_too(client, size, status):
    # What a server hands the app for a chunked body: a stream, and no Content-Length.
    response = client.post(
        "/_dash-update-component",
        input_stream=io.BytesIO(b"x" * size),
        headers={"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
        environ_overrides={"CONTENT_LENGTH": ""},
    )
    assert response.status_code == status  # 400: a small body that is not JSON


def test_json_depth_skips_strings():
    assert json_depth(b'{"a": "[[[[[[", "b": [[1]]}') == 3
    assert json_depth(b'["\\\\", ["\\"["]]') == 2
    assert json_depth(b"[" * (MAX_JSON_DEPTH + 1)) == MAX_JSON_DEPTH + 1
