"""Work over a second says what it is: choosing a model that takes a while to open shows
"Opening …" at once, then the model's description (headless Chromium, ``dash_duo``)."""

from __future__ import annotations

import time

import keras
import pytest
from dash.testing.wait import until

from layerviz.ui import ids
from layerviz.ui.app import create_app

pytestmark = pytest.mark.e2e


def small_model() -> keras.Model:
    inputs = keras.Input((20, 20, 1))
    outputs = keras.layers.Conv2D(2, 3, name="c")(inputs)
    return keras.Model(inputs, outputs, name="small")


def test_a_slow_model_choice_says_it_is_opening_the_model(dash_duo):
    app = create_app(small_model())
    workbench = app.workbench
    entry = workbench.entry

    def slow_entry(name):  # the first load of a large model, as the server sees it
        if name == "digits_cnn":
            time.sleep(1.5)
        return entry(name)

    workbench.entry = slow_entry
    dash_duo.start_server(app)
    dash_duo.wait_for_contains_text(f"#{ids.MODEL_INFO}", "input 20×20×1", timeout=30)
    dash_duo.find_element(f"#{ids.MODEL_SELECT}").click()
    option = until(
        lambda: [o for o in dash_duo.find_elements("[role=option]") if "digits" in o.text.lower()],
        timeout=5,
        msg="the model list did not open",
    )
    option[0].click()
    dash_duo.wait_for_contains_text(f"#{ids.MODEL_INFO}", "Opening digits_cnn", timeout=5)
    shape = "×".join(map(str, workbench.input_shape("digits_cnn")))
    dash_duo.wait_for_contains_text(f"#{ids.MODEL_INFO}", f"input {shape}", timeout=30)
    info = dash_duo.find_element(f"#{ids.MODEL_INFO}")
    assert info.get_attribute("role") == "status"  # screen readers hear it too
    assert dash_duo.get_logs() == []
