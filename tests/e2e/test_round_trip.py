"""A new pattern reaches the screen in one round trip, and hover reads the original map
(headless Chromium, ``dash_duo``)."""

from __future__ import annotations

import re
import time

import keras
import numpy as np
import pytest
from dash.testing.wait import until
from helpers import hover_grid
from selenium.webdriver.common.keys import Keys

from e2e.page import GRID_JS
from layerviz.draw.grid import GridSettings, grid_pages
from layerviz.draw.tiles import tile_step
from layerviz.ui import ids
from layerviz.ui.app import create_app
from layerviz.ui.callbacks import MAX_TILE_PIXELS
from layerviz.ui.recipe import SeedRecipe

pytestmark = pytest.mark.e2e

MODEL = "digits_cnn"
#: Records the outputs named by each callback request from now on (``window.__outputs``).
RECORD_JS = """
window.__outputs = [];
if (!window.__fetchWrapped) {
  const fetch0 = window.fetch;
  window.fetch = function (url, options) {
    if (String(url).includes('_dash-update-component') && options && options.body) {
      window.__outputs.push(JSON.parse(options.body).output);
    }
    return fetch0.apply(this, arguments);
  };
  window.__fetchWrapped = true;
}
"""
GRID_OUTPUT = f"{ids.ACTIVATION_GRAPH}.figure"
STORE_OUTPUT = f"{ids.PATTERN_VIEW_STORE}.data"  # the new recipe, then the pattern store


def requests_with(dash_duo, output: str) -> list[str]:
    """The recorded requests whose outputs include ``output``."""
    recorded = dash_duo.driver.execute_script("return window.__outputs")
    return [r for r in recorded if output in r]


def wait_for_grid(dash_duo, before=None) -> str:
    return until(
        lambda: (z := dash_duo.driver.execute_script(GRID_JS)) not in (None, before) and z,
        timeout=30,
        msg="the activation grid was not (re)drawn",
    )


def count_forward_passes(app, model: str) -> list:
    """Wrap the model's extractor so that each forward pass appends to the returned list."""
    extractor = app.workbench.entry(model).extractor
    calls, run = [], extractor.run

    def counted(pattern):
        calls.append(pattern.shape)
        return run(pattern)

    extractor.run = counted
    return calls


def test_a_typed_seed_is_one_request_with_one_forward_pass(dash_duo):
    app = create_app()
    dash_duo.start_server(app)
    before = wait_for_grid(dash_duo)
    dash_duo.wait_for_contains_text(f"#{ids.PREDICTION_GRAPH}", "prediction:")
    time.sleep(0.5)  # the page load's requests are over
    passes = count_forward_passes(app, MODEL)
    driver = dash_duo.driver
    driver.execute_script(RECORD_JS)
    seed = dash_duo.find_element(f"#{ids.SEED_INPUT}")
    seed.send_keys("5", Keys.ENTER)
    wait_for_grid(dash_duo, before)
    dash_duo.wait_for_text_to_equal(
        f"#{ids.PATTERN_INFO}", SeedRecipe(MODEL, 5).describe(), timeout=10
    )
    time.sleep(1.0)  # room for a second request, were there one
    # One request chose the pattern (the forward pass) and brought the grid back with it;
    # feature sections that read the pattern store ask for their own, from the cache.
    carrying = requests_with(dash_duo, STORE_OUTPUT)
    assert len(carrying) == 1 and GRID_OUTPUT in carrying[0]
    assert len(requests_with(dash_duo, GRID_OUTPUT)) == 1
    assert len(passes) == 1
    # A grid control redraws from the cache: one grid request, no forward pass.
    before = driver.execute_script(GRID_JS)
    driver.execute_script(RECORD_JS)
    dash_duo.find_element(f"#{ids.SIZE_LIMIT} [role=slider]").send_keys(Keys.HOME)
    wait_for_grid(dash_duo, before)
    time.sleep(0.5)
    assert len(requests_with(dash_duo, GRID_OUTPUT)) == 1
    assert len(passes) == 1
    assert dash_duo.get_logs() == []


def wide_model() -> keras.Model:
    """16 maps of 100×100: a montage of 403 px, over the 320 sent, so each map is sent at 1/2."""
    inputs = keras.Input((100, 100, 1))
    outputs = keras.layers.Conv2D(16, 3, padding="same", name="wide")(inputs)
    return keras.Model(inputs, outputs, name="wide_model")


HOVER = re.compile(r"(\d+: wide): channel (\d+), row (\d+), col (\d+): value (\S+)")


def test_hover_on_a_downsampled_panel_reports_original_coordinates(dash_duo):
    app = create_app(wide_model(), include_bundled=False)
    dash_duo.start_server(app)
    wait_for_grid(dash_duo)
    recipe = app.workbench.default_recipe("wide_model")
    acts = app.workbench.extraction(recipe).extraction.activations
    shown = grid_pages(acts, GridSettings(3, 3, 15)).page(1)
    panel = next(i for i, lay in enumerate(shown) if lay.name == "wide")
    layer = shown[panel]
    assert tile_step(layer, MAX_TILE_PIXELS) == 2  # the panel is sent at 1/2
    dash_duo.wait_for_contains_text(f"#{ids.ACTIVATION_GRAPH}", "shown at 1/2")
    suffix = "" if panel == 0 else str(panel + 1)
    subplot = f"x{suffix}y{suffix}"
    seen = []
    # Two pixels of the sent image (its maps are 50 px, 1 px apart): in the first map, and in
    # the sixth (second row of maps, second column).
    for row, col in ((20.2, 30.2), (51 + 12.2, 51 + 40.2)):
        point = hover_grid(dash_duo.driver, ids.ACTIVATION_GRAPH, subplot, row, col)
        assert point and point[0] == panel, point
        col, row = round(point[1]), round(point[2])  # the pixel Plotly picked
        text = until(
            lambda: (
                (m := HOVER.search(dash_duo.find_element(f"#{ids.GRID_TOOLTIP}").text))
                and m[0] not in seen
                and m
            ),
            timeout=10,
            msg="no hover label",
        )
        seen.append(text[0])
        # The label names the map and the place in it: the original map's coordinates
        # (every other pixel from the second is sent), not the montage's or the image's.
        channel = (row // 51) * 4 + col // 51
        expected = (channel, 2 * (row % 51) + 1, 2 * (col % 51) + 1)
        assert (int(text[2]), int(text[3]), int(text[4])) == expected
        exact = layer.activation.array[expected[1], expected[2], channel]
        assert text[1] == layer.title and text[5] == f"{exact:.6g}"
        np.testing.assert_allclose(float(text[5]), exact, rtol=1e-5)
    assert dash_duo.get_logs() == []
