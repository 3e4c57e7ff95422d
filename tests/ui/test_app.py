"""Tests of layerviz.ui.app.create_app: in-memory models, request limits, no debug, no CDN.

Everything here goes through the Flask test client or plain Python: no browser.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
from html.parser import HTMLParser

import keras
import numpy as np
import pytest

from layerviz.config import assets_dir
from layerviz.errors import ArgumentError, ModelLoadError, PatternError
from layerviz.patterns.readers import MAX_PATTERN_BYTES
from layerviz.ui import ids
from layerviz.ui.app import (
    CACHE_MB_VARIABLE,
    MAX_REQUEST_BYTES,
    cache_bytes_from_environment,
    create_app,
)
from layerviz.ui.callbacks import backend_text, choose_pattern, render_grid
from layerviz.ui.recipe import SeedRecipe, recipe_from_store

ASSETS_DIR = assets_dir()
TINY_SHAPE = (12, 12, 1)
EXTERNAL = re.compile(r"""(?:https?:)?//[^\s"'<>]+""", re.IGNORECASE)


def tiny_model() -> keras.Model:
    inputs = keras.Input(TINY_SHAPE)
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="c1")(inputs)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="out")(x)
    return keras.Model(inputs, outputs, name="tiny")


@pytest.fixture(scope="module")
def tiny_pattern() -> np.ndarray:
    return np.random.default_rng(1).random(TINY_SHAPE, dtype=np.float32)


@pytest.fixture(scope="module")
def tiny_app(tiny_pattern):
    return create_app(tiny_model(), tiny_pattern)


def component(app, component_id: str):
    """The layout's component with this id."""
    for item in app.layout._traverse():
        if getattr(item, "id", None) == component_id:
            return item
    raise LookupError(component_id)


def callback_body(app, output_prefix: str, changed: str, values: dict) -> dict:
    """A ``/_dash-update-component`` body as the browser sends it, for the callback whose
    output key starts with ``output_prefix``; ``values`` maps "id.prop" to a value."""
    key = next(k for k in app.callback_map if k.startswith(output_prefix))
    spec = app.callback_map[key]

    def items(deps):
        return [{**d, "value": values.get(f"{d['id']}.{d['property']}")} for d in deps]

    outputs = [
        {"id": o.component_id, "property": o.component_property.split("@")[0]}
        for o in spec["output"]
    ]
    return {
        "output": key,
        "outputs": outputs,
        "inputs": items(spec["inputs"]),
        "state": items(spec["state"]),
        "changedPropIds": [changed],
    }


# --- in-memory model -----------------------------------------------------------------------


def test_in_memory_model_is_offered_first(tiny_app):
    workbench = tiny_app.workbench
    assert workbench.model_names[0] == "tiny"
    assert set(workbench.model_names) >= {"tiny", "digits_cnn"}
    select = component(tiny_app, ids.MODEL_SELECT)
    assert select.value == "tiny"
    assert select.options[0]["value"] == "tiny"


def test_in_memory_model_opens_with_its_pattern(tiny_app, tiny_pattern):
    workbench = tiny_app.workbench
    choice = choose_pattern(workbench, None, "tiny")
    assert choice.error is None
    assert choice.recipe["kind"] == "code"
    assert choice.sample_options == []
    info, backend, cost = choice.model_info.split(" · ")
    assert info == "input 12×12×1"
    assert backend == backend_text() == "Keras on TensorFlow"  # the dashboard's tests run on TF
    full = sum(
        a.array.nbytes
        for a in workbench.extraction(recipe_from_store(choice.recipe)).extraction.activations
    )
    assert cost.startswith(f"one pattern: {full / 2**10:.1f} KiB of activations, ")
    assert cost.endswith(" kept for the views")
    recipe = recipe_from_store(choice.recipe)
    np.testing.assert_array_equal(workbench.pattern(recipe)[0], tiny_pattern)
    figure, n_pages, _, summary = render_grid(workbench, choice.recipe, 3, 3, 0, 1)
    assert figure.layout.annotations[0].text.startswith("1: c1")
    assert n_pages == 1
    assert summary.startswith("3 of 3 layers")


def test_in_memory_model_alone():
    app = create_app(tiny_model(), include_bundled=False)
    assert app.workbench.model_names == ["tiny"]
    assert app.workbench.default_recipe("tiny") == SeedRecipe("tiny", 0)


def test_pattern_that_does_not_fit_fails_at_once():
    with pytest.raises(PatternError, match="does not fit"):
        create_app(tiny_model(), np.zeros((5, 5), dtype=np.float32))


def test_a_bundled_model_by_path_opens_as_the_bundled_model():
    from layerviz.config import models_dir

    app = create_app(models_dir() / "digits_cnn.keras")
    assert app.workbench.model_names.count("digits_cnn") == 1
    assert app.workbench.entry_title("digits_cnn") == app.workbench.entry("digits_cnn").title
    assert "in memory" not in app.workbench.entry_title("digits_cnn")
    assert component(app, ids.MODEL_SELECT).value == "digits_cnn"


def test_unknown_model_name_fails_at_once():
    with pytest.raises(ModelLoadError):
        create_app("no_such_model")


# --- request limits ------------------------------------------------------------------------


def test_max_content_length_fits_an_upload_at_the_pattern_limit(app):
    limit = app.server.config["MAX_CONTENT_LENGTH"]
    assert limit == MAX_REQUEST_BYTES
    assert MAX_PATTERN_BYTES * 4 // 3 < limit < 64 * 2**20


def test_request_over_the_limit_gets_413(app, client):
    limit = app.server.config["MAX_CONTENT_LENGTH"]
    response = client.post(
        "/_dash-update-component", data=b"x" * (limit + 1), content_type="application/json"
    )
    assert response.status_code == 413


def test_real_callback_request_is_served(app, client):
    body = callback_body(
        app,
        f"..{ids.SAMPLE_SELECT}.options",  # the core page callback
        f"{ids.SEED_INPUT}.value",
        {f"{ids.MODEL_SELECT}.value": "digits_cnn", f"{ids.SEED_INPUT}.value": 11},
    )
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200
    # The new recipe rides in the pattern-view store (the browser copies it to the pattern store).
    store = response.get_json()["response"][ids.PATTERN_VIEW_STORE]["data"]["recipe"]
    assert store == {"model": "digits_cnn", "kind": "seed", "seed": 11}


def test_upload_request_under_the_limit_is_served(app, client):
    shape = app.workbench.input_shape("digits_cnn")
    buffer = io.BytesIO()
    np.save(buffer, np.ones(shape, dtype=np.float32))
    url = "data:application/octet-stream;base64," + base64.b64encode(buffer.getvalue()).decode()
    body = callback_body(
        app,
        f"..{ids.SAMPLE_SELECT}.options",  # the core page callback
        f"{ids.PATTERN_UPLOAD}.contents",
        {
            f"{ids.MODEL_SELECT}.value": "digits_cnn",
            f"{ids.PATTERN_UPLOAD}.contents": url,
            f"{ids.PATTERN_UPLOAD}.filename": "ones.npy",
        },
    )
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200
    outputs = response.get_json()["response"]
    assert outputs[ids.PATTERN_VIEW_STORE]["data"]["recipe"]["kind"] == "upload"
    assert outputs[ids.PATTERN_UPLOAD]["contents"] is None  # the same file can be sent again


# --- no debug, no CDN ----------------------------------------------------------------------


def _dash_config(client) -> dict:
    page = client.get("/").get_data(as_text=True)
    match = re.search(r'<script id="_dash-config" type="application/json">(.*?)</script>', page)
    assert match, "no _dash-config in the index page"
    return json.loads(match.group(1))


def test_debug_is_off(app, client):
    tools = app._dev_tools
    for flag in ("ui", "props_check", "hot_reload", "serve_dev_bundles", "validate_callbacks"):
        assert not tools[flag], flag
    config = _dash_config(client)
    assert config["ui"] is False
    assert config["props_check"] is False
    assert "hot_reload" not in config


class _Links(HTMLParser):
    """Every src and href in a page."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def test_index_page_loads_nothing_from_outside(app, client):
    assert app.config.external_stylesheets == []
    assert app.config.external_scripts == []
    assert app.config.serve_locally is True
    response = client.get("/")
    assert response.status_code == 200
    links = _Links()
    links.feed(response.get_data(as_text=True))
    assert any("bootstrap" in url for url in links.urls)
    assert any(url.startswith("/_dash-component-suites/") for url in links.urls)
    for url in links.urls:
        assert url.startswith("/") and not url.startswith("//"), url
        assert client.get(url).status_code == 200, url


def test_layout_names_no_external_url(client):
    layout = client.get("/_dash-layout").get_data(as_text=True)
    assert EXTERNAL.findall(layout) == []


def test_assets_hold_bootstrap_and_fetch_nothing_from_outside():
    bootstrap = sorted(ASSETS_DIR.glob("*bootstrap-5*.min.css"))
    assert bootstrap, f"no Bootstrap CSS in {ASSETS_DIR}"
    assert "Bootstrap  v5" in bootstrap[0].read_text(encoding="utf-8")[:200]
    assert sorted(ASSETS_DIR.glob("*bootstrap-icons*.css"))
    assert sorted((ASSETS_DIR / "fonts").glob("bootstrap-icons.woff2"))
    for css in ASSETS_DIR.glob("*.css"):
        text = css.read_text(encoding="utf-8")
        assert "@import" not in text, css.name
        assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", text), css.name


def test_icon_font_is_served(client):
    name = sorted(ASSETS_DIR.glob("*bootstrap-icons*.css"))[0].name
    css = client.get(f"/assets/{name}").get_data(as_text=True)
    font = re.search(r'url\("?(fonts/[^")?]+)', css).group(1)
    assert client.get(f"/assets/{font}").status_code == 200


def test_first_visit_gets_a_session_cookie_and_keeps_it(app):
    client = app.server.test_client()
    first = client.get("/")
    cookie = first.headers.get("Set-Cookie", "")
    assert cookie.startswith("layerviz_session=") and "HttpOnly" in cookie
    assert "Set-Cookie" not in client.get("/").headers  # the browser's id is kept


def test_healthz_says_what_it_checked(app, client):
    app.warmup.run()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "uploads": "in process",
        "jobs": "threads",
        "worker": os.getpid(),
        "warmed": "before traffic",
    }


def test_healthz_says_warming_until_the_default_model_is_warm():
    """Issue 25, row 17: a cold worker opened and traced its model on users' requests."""
    app = create_app(tiny_model(), include_bundled=False)
    client = app.server.test_client()
    first = client.get("/healthz")
    assert first.status_code == 503 and first.get_json()["status"] == "warming"
    assert app.warmup.done.wait(60)  # that request started it in the background
    answer = client.get("/healthz").get_json()
    assert answer["status"] == "ok" and answer["warmed"] == "in background"
    assert len(app.workbench.extractions) >= 1  # the default pattern's pass is cached


def test_export_progress_and_cancel_are_on_the_page(app):
    assert component(app, ids.EXPORT_PROGRESS) is not None
    assert component(app, ids.EXPORT_CANCEL).disabled is True


# --- the activation cache's budget from the environment ----------------------------------


def test_cache_budget_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(CACHE_MB_VARIABLE, "3")
    app = create_app(tiny_model(), include_bundled=False)
    assert app.workbench.extractions.max_bytes == 3 * 2**20
    monkeypatch.delenv(CACHE_MB_VARIABLE)
    assert cache_bytes_from_environment() is None


@pytest.mark.parametrize("raw", ["0", "-5", "1.5", "lots", "99999999999", "7" * 500])
def test_a_bad_cache_budget_is_refused_by_name(monkeypatch, raw):
    monkeypatch.setenv(CACHE_MB_VARIABLE, raw)
    with pytest.raises(ArgumentError, match=CACHE_MB_VARIABLE) as caught:
        create_app(tiny_model(), include_bundled=False)
    assert len(str(caught.value)) < 120


def test_the_zip_s_progress_and_cancel_sit_under_the_export_buttons(app):
    """The export feature's controls follow the Export section, before any other feature's."""
    order = [
        item.id
        for item in app.layout._traverse()
        if getattr(item, "id", None)
        in (ids.PAGE_EXPORT_BUTTON, ids.EXPORT_PROGRESS, ids.EXPORT_CANCEL, ids.MODEL_UPLOAD)
    ]
    assert order == [
        ids.PAGE_EXPORT_BUTTON,
        ids.EXPORT_PROGRESS,
        ids.EXPORT_CANCEL,
        ids.MODEL_UPLOAD,
    ]
