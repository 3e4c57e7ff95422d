"""The dashboard's model upload in headless Chromium: upload, see its layers, stay private.

The upload goes through the real checks and the canary child (several seconds on a busy
machine), so waits here are long.
"""

from __future__ import annotations

import keras
import pytest
from dash.testing.wait import until
from selenium.webdriver.common.by import By

from e2e.page import start_default_grid
from layerviz.ui import ids
from layerviz.ui.callbacks import render_grid
from layerviz.ui.recipe import SeedRecipe
from layerviz.ui.store import current_session

pytestmark = pytest.mark.e2e

MODEL = "digits_cnn"


def sel(component_id: str) -> str:
    return f"#{component_id}"


def small_cnn() -> keras.Model:
    inputs = keras.Input((20, 20, 1), name="picture")
    x = keras.layers.Conv2D(4, 3, activation="relu", name="my_conv")(inputs)
    x = keras.layers.MaxPooling2D(name="my_pool")(x)
    x = keras.layers.Flatten(name="flat")(x)
    return keras.Model(inputs, keras.layers.Dense(3, name="scores")(x), name="mine")


def listed_models(dash_duo) -> list[str]:
    """The labels ``model-select`` offers (its menu opened and closed again)."""
    dash_duo.find_element(f"{sel(ids.MODEL_SELECT)}").click()
    labels = [el.text for el in dash_duo.driver.find_elements(By.CSS_SELECTOR, "[role=option]")]
    dash_duo.find_element("body").click()
    return labels


def test_an_uploaded_model_renders_and_only_its_session_lists_it(dash_duo, tmp_path):
    app = start_default_grid(dash_duo)
    path = tmp_path / "mine.keras"
    small_cnn().save(path)

    upload = dash_duo.find_element(f"{sel(ids.MODEL_UPLOAD)} input[type=file]")
    upload.send_keys(str(path))
    # Issue 20: the check shows its steps, one of them current, until it passed them all.
    steps = f"{sel(ids.MODEL_UPLOAD_INFO)} li"
    dash_duo.wait_for_element(f"{steps}[data-status=current] .spinner-border", timeout=30)
    dash_duo.wait_for_contains_text(sel(ids.MODEL_UPLOAD_INFO), "passed the checks", timeout=120)
    shown = [(el.get_attribute("data-step"), el.get_attribute("data-status"))
             for el in dash_duo.find_elements(steps)]  # fmt: skip
    assert shown == [(step, "done") for step in ("queued", "file", "sandbox", "open", "ready")]
    dash_duo.wait_for_contains_text(sel(ids.MODEL_SELECT), "mine.keras (your upload)")
    dash_duo.wait_for_text_to_equal(sel(ids.PATTERN_INFO), "random pattern, seed 0", timeout=30)

    (name,) = app.workbench.user_models.names()
    # The upload is its session's only (issue 25, row 7): render it as that session.
    token = current_session.set(app.workbench.user_models._owners[name])
    try:
        summary = render_grid(app.workbench, SeedRecipe(name, 0).to_store(), 3, 3, 15, 1)[3]
    finally:
        current_session.reset(token)
    dash_duo.wait_for_text_to_equal(sel(ids.GRID_SUMMARY), summary, timeout=30)
    dash_duo.wait_for_contains_text(sel(ids.ACTIVATION_GRAPH), "my_conv")
    assert "mine.keras (your upload)" in listed_models(dash_duo)
    assert dash_duo.get_logs() == []

    # A reload keeps the session (sessionStorage) and so its model.
    dash_duo.driver.refresh()
    dash_duo.wait_for_text_to_equal(sel(ids.GRID_SUMMARY), render_grid(
        app.workbench, app.workbench.default_recipe(MODEL).to_store(), 3, 3, 15, 1)[3],
        timeout=30)  # fmt: skip
    until(lambda: "mine.keras (your upload)" in listed_models(dash_duo), timeout=10)

    # Another browser session (a new tab has its own sessionStorage) does not list it.
    first = dash_duo.driver.current_window_handle
    dash_duo.driver.switch_to.new_window("tab")
    dash_duo.driver.get(dash_duo.server_url)
    dash_duo.wait_for_element(sel(ids.MODEL_SELECT), timeout=30)
    dash_duo.wait_for_contains_text(sel(ids.GRID_SUMMARY), "layers", timeout=30)
    labels = listed_models(dash_duo)
    assert "mine.keras (your upload)" not in labels and len(labels) == len(
        app.workbench.model_names
    )
    assert dash_duo.get_logs() == []
    dash_duo.driver.close()
    dash_duo.driver.switch_to.window(first)


def test_a_refused_upload_says_why_and_the_app_goes_on(dash_duo, tmp_path):
    start_default_grid(dash_duo)
    inputs = keras.Input((4,), name="x")
    path = tmp_path / "evil.keras"
    keras.Model(inputs, keras.layers.Lambda(lambda t: t, name="lambda_1")(inputs)).save(path)
    dash_duo.find_element(f"{sel(ids.MODEL_UPLOAD)} input[type=file]").send_keys(str(path))
    alert = sel(ids.ERROR_ALERT)
    dash_duo.wait_for_element(f"{alert}.show", timeout=60)
    dash_duo.wait_for_contains_text(
        alert, "evil.keras was not loaded: evil.keras: layer 'lambda_1' (Lambda) runs arbitrary"
    )
    assert "evil.keras" not in " ".join(listed_models(dash_duo))
    dash_duo.find_element(sel(ids.SEED_BUTTON)).click()
    dash_duo.wait_for_text_to_equal(sel(ids.PATTERN_INFO), "random pattern, seed 0")
    assert dash_duo.get_logs() == []


def test_the_bundled_two_input_model_opens_with_its_sample(dash_duo):
    app = start_default_grid(dash_duo)
    name = "digits_meta"
    dash_duo.select_dcc_dropdown(sel(ids.MODEL_SELECT), value=app.workbench.entry_title(name))
    recipe = app.workbench.default_recipe(name)
    summary = render_grid(app.workbench, recipe.to_store(), 3, 3, 15, 1)[3]
    dash_duo.wait_for_text_to_equal(sel(ids.GRID_SUMMARY), summary, timeout=30)
    dash_duo.wait_for_text_to_equal(sel(ids.PATTERN_INFO), recipe.describe())
    dash_duo.wait_for_contains_text(sel(ids.MODEL_INFO), "inputs image 16×16×1, meta 16")
    assert not dash_duo.find_elements(f"{sel(ids.ERROR_ALERT)}.show")
    assert dash_duo.get_logs() == []
