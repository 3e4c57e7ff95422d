"""One pattern source per input, in the browser (headless Chromium, ``dash_duo``): the bundled
``digits_meta`` (``image`` 16×16×1 and ``meta`` 16) gets a row per input."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from dash.testing.wait import until
from selenium.webdriver.common.keys import Keys

from layerviz.ui import ids
from layerviz.ui.app import create_app
from layerviz.ui.callbacks import render_grid
from layerviz.ui.recipe import MultiRecipe, SampleRecipe, SeedRecipe

pytestmark = pytest.mark.e2e

MODEL = "digits_meta"
#: Each trace of a graph as a fingerprint: its z (an image) or its y (a curve), as sent.
TRACES_JS = """
const gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
if (!gd || !gd.data) { return null; }
// z or y of heatmaps and lines; the PNG source of the grid's image tiles.
return gd.data.map(t => JSON.stringify(
  (t.z && t.z.bdata) || (t.y && t.y.bdata) || t.source || t.z || t.y));
"""

#: Records the outputs named by each callback request from now on (``window.__outputs``).
RECORD_JS = """
window.__outputs = [];
const fetch0 = window.fetch;
window.fetch = function (url, options) {
  if (String(url).includes('_dash-update-component') && options && options.body) {
    window.__outputs.push(JSON.parse(options.body).output);
  }
  return fetch0.apply(this, arguments);
};
"""

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
AXE_RUN_JS = """
const done = arguments[1];
axe.run(document.querySelector(arguments[0]), {resultTypes: ['violations']}).then(
  r => done(r.violations.map(v => ({id: v.id, impact: v.impact,
                                     nodes: v.nodes.map(n => n.target.join(' '))}))),
  e => done([{id: 'axe failed: ' + e, impact: 'critical', nodes: []}]));
"""


def sel(component_id: str) -> str:
    return f"#{component_id}"


def traces(dash_duo, graph: str) -> list[str] | None:
    return dash_duo.driver.execute_script(TRACES_JS, graph)


def open_meta(dash_duo):
    """Serve a fresh app, open ``digits_meta`` and wait for its rows; returns the app."""
    app = create_app()
    dash_duo.start_server(app)
    dash_duo.wait_for_element(sel(ids.ACTIVATION_GRAPH) + " .js-plotly-plot", timeout=30)
    assert not dash_duo.find_element(sel(ids.INPUT_SOURCES)).is_displayed()  # one input
    dash_duo.select_dcc_dropdown(sel(ids.MODEL_SELECT), value=app.workbench.entry_title(MODEL))
    recipe = app.workbench.default_recipe(MODEL)
    summary = render_grid(app.workbench, recipe.to_store(), 3, 3, 15, 1)[3]
    dash_duo.wait_for_text_to_equal(sel(ids.GRID_SUMMARY), summary, timeout=30)
    dash_duo.wait_for_text_to_equal(sel(ids.PATTERN_INFO), recipe.describe(), timeout=10)
    dash_duo.wait_for_text_to_equal(sel(ids.INPUT_LABELS[0]), "image — (16, 16, 1)")
    dash_duo.wait_for_text_to_equal(sel(ids.INPUT_LABELS[1]), "meta — (16,)")
    until(lambda: len(traces(dash_duo, ids.PATTERN_GRAPH) or []) == 2, timeout=10)
    assert not dash_duo.find_element(sel(ids.INPUT_ROWS[2])).is_displayed()
    return app


def test_a_seed_for_meta_changes_meta_and_the_grid_not_the_image(dash_duo):
    app = open_meta(dash_duo)
    # Size limit 0: every layer on page 1, meta's branch (meta_dense) and the image's (conv1).
    dash_duo.find_element(f"{sel(ids.SIZE_LIMIT)} [role=slider]").send_keys(Keys.HOME)
    dash_duo.wait_for_contains_text(sel(ids.GRID_SUMMARY), "9 of 9 layers", timeout=15)
    names = [
        layer.name
        for layer in app.workbench.extraction(
            app.workbench.default_recipe(MODEL)
        ).extraction.activations
    ]
    until(lambda: len(traces(dash_duo, ids.ACTIVATION_GRAPH) or []) >= len(names), timeout=10)
    image, meta = traces(dash_duo, ids.PATTERN_GRAPH)
    grid = traces(dash_duo, ids.ACTIVATION_GRAPH)
    time.sleep(0.5)  # the slider's requests are over
    dash_duo.driver.execute_script(RECORD_JS)
    dash_duo.find_element(sel(ids.INPUT_SEEDS[1])).send_keys("7", Keys.ENTER)
    mixed = MultiRecipe(MODEL, (SampleRecipe(MODEL, "digit_3.npz"), SeedRecipe(MODEL, 7)))
    dash_duo.wait_for_text_to_equal(
        sel(ids.PATTERN_INFO), app.workbench.describe(mixed), timeout=15
    )
    dash_duo.wait_for_text_to_equal(sel(ids.INPUT_NOW[1]), "now: random pattern, seed 7")
    assert dash_duo.find_element(sel(ids.INPUT_NOW[0])).text == "now: sample digit_3.npz"
    image_after, meta_after = traces(dash_duo, ids.PATTERN_GRAPH)
    assert image_after == image
    assert meta_after != meta
    until(lambda: traces(dash_duo, ids.ACTIVATION_GRAPH) != grid, timeout=10)
    after = dict(zip(names, traces(dash_duo, ids.ACTIVATION_GRAPH), strict=False))
    before = dict(zip(names, grid, strict=False))
    assert after["conv1"] == before["conv1"]  # the image's branch saw the same image
    assert after["meta_dense"] != before["meta_dense"]
    time.sleep(1.0)  # room for a second request, were there one
    recorded = dash_duo.driver.execute_script("return window.__outputs")
    new_patterns = [r for r in recorded if f"{ids.PATTERN_VIEW_STORE}.data" in r]
    assert len(new_patterns) == 1  # one round trip, and the rows' update sends nothing back
    assert not dash_duo.find_elements(f"{sel(ids.ERROR_ALERT)}.show")
    assert dash_duo.get_logs() == []


def test_a_wrong_shape_upload_for_meta_is_named_and_the_page_goes_on(dash_duo, tmp_path):
    open_meta(dash_duo)
    wrong = tmp_path / "short.npy"
    np.save(wrong, np.ones(5, np.float32))
    zone = f"{sel(ids.INPUT_UPLOADS[1])} input[type=file]"
    dash_duo.find_element(zone).send_keys(str(wrong))
    alert = sel(ids.ERROR_ALERT)
    dash_duo.wait_for_element(f"{alert}.show", timeout=15)
    dash_duo.wait_for_contains_text(alert, "input 'meta': short.npy")
    text = dash_duo.find_element(alert).text
    assert "(5,)" in text and "(16,)" in text
    # The page goes on: the image row takes a seed, and a good file for meta is read.
    dash_duo.find_element(sel(ids.INPUT_SEEDS[0])).send_keys("3", Keys.ENTER)
    dash_duo.wait_for_text_to_equal(sel(ids.INPUT_NOW[0]), "now: random pattern, seed 3")
    good = tmp_path / "good.npy"
    np.save(good, np.linspace(0, 1, 16, dtype=np.float32))
    dash_duo.find_element(zone).send_keys(str(good))
    dash_duo.wait_for_text_to_equal(sel(ids.INPUT_NOW[1]), "now: uploaded good.npy", timeout=15)
    assert dash_duo.get_logs() == []


def test_the_rows_are_labelled_for_everyone(dash_duo):
    open_meta(dash_duo)
    driver = dash_duo.driver
    until(  # assets/a11y.js has named the rows' file inputs
        lambda: driver.execute_script(
            f"return !!document.querySelector('#{ids.INPUT_UPLOADS[1]} input[aria-label]')"
        ),
        timeout=10,
    )
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    violations = driver.execute_async_script(AXE_RUN_JS, sel(ids.INPUT_SOURCES))
    assert [v for v in violations if v["impact"] in ("critical", "serious")] == []
    label = dash_duo.find_element(f"label[for={ids.INPUT_SEEDS[1]}]")
    assert label.text == "seed"
    assert dash_duo.get_logs() == []
