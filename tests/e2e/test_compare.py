"""Browser tests of the compare section: three panels per layer, a divergence point opens its
layer, bad input keeps the page working, and the console stays clean."""

from __future__ import annotations

import numpy as np
import pytest
from dash.testing.wait import until
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from e2e.page import start_default_grid
from e2e.panes import open_tab
from layerviz.ui import ids
from layerviz.ui.app import create_app
from layerviz.ui.features.compare_state import DEFAULT_B, CompareView
from layerviz.ui.features.inspector import views

pytestmark = pytest.mark.e2e

MODEL = "digits_cnn"


def sel(component_id: str) -> str:
    return f"#{component_id}"


def heatmaps(dash_duo, graph_id: str) -> int:
    return dash_duo.driver.execute_script(
        f"const gd = document.querySelector('#{graph_id} .js-plotly-plot');"
        "return (gd && gd.data) ? gd.data.filter(t => t.type === 'heatmap').length : -1;"
    )


def click(dash_duo, selector: str) -> None:
    """Scroll into view at once (Bootstrap's smooth scrolling makes clicks miss), then click."""
    element = dash_duo.find_element(selector)
    dash_duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element
    )
    element.click()


def start_compare(dash_duo):
    """Serve a fresh app, wait for the default grid, switch compare mode on; returns the app."""
    app = start_default_grid(dash_duo)
    open_tab(dash_duo, "compare")
    click(dash_duo, sel(ids.COMPARE_SWITCH))
    dash_duo.wait_for_contains_text(sel(ids.COMPARE_SUMMARY), "noise:sigma=0.1", timeout=20)
    return app


def test_compare_mode_renders_three_panels_per_layer(dash_duo):
    start_compare(dash_duo)
    # The default grid has 3 rows: three layers on the first page, A | B | B − A each.
    until(lambda: heatmaps(dash_duo, ids.COMPARE_GRAPH) == 9, timeout=15, msg="not 3×3 panels")
    graph = dash_duo.find_element(sel(ids.COMPARE_GRAPH)).text
    for column in ("1: conv1 · A", "1: conv1 · B", "1: conv1 · B − A"):
        assert column in graph
    dash_duo.wait_for_contains_text(sel(ids.COMPARE_PREDICTION_A), "prediction: ")
    dash_duo.wait_for_contains_text(sel(ids.COMPARE_PREDICTION_B), "prediction: ")
    assert dash_duo.get_logs() == []


def test_clicking_a_divergence_point_opens_that_layer(dash_duo):
    app = start_compare(dash_duo)
    store = app.workbench.default_recipe(MODEL).to_store()
    layers = CompareView(app.workbench).comparison(store, DEFAULT_B)[1].layers
    target = next(i for i, d in enumerate(layers) if d.name == "conv2")
    traces = f"{sel(ids.DIVERGENCE_GRAPH)} .scatterlayer .trace"
    until(lambda: len(dash_duo.find_elements(traces)) == 2, timeout=15, msg="no divergence")
    cosine = dash_duo.find_elements(traces)[0]  # the cosine-distance curve, one point a layer
    until(lambda: len(cosine.find_elements("css selector", ".points path")) == len(layers), 10)
    point = cosine.find_elements("css selector", ".points path")[target]
    dash_duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", point
    )
    ActionChains(dash_duo.driver).move_to_element(point).click().perform()

    # The pick turns the pane to the Inspector: conv2's channels, the most changed first
    picked = {"model": MODEL, "layer": "conv2"}
    view = views.inspector_view(
        app.workbench, store, picked, views.CHANGE, 16, 1, "map", None, DEFAULT_B
    )
    dash_duo.wait_for_text_to_equal(sel(ids.INSPECTOR_TITLE), view.title, timeout=15)
    expected = [t.meta["channel"] for t in view.figure.data]
    until(lambda: channels(dash_duo) == expected, timeout=15, msg="not ranked by change")
    assert "rank by change (B − A)" in dash_duo.find_element(sel(ids.CHANNEL_SORT)).text
    # ... and the compare tab names the point picked
    open_tab(dash_duo, "compare")
    dash_duo.wait_for_contains_text(sel(ids.COMPARE_SELECTED), "3: conv2 — cosine distance")
    assert "most changed channels" in dash_duo.find_element(sel(ids.COMPARE_SELECTED)).text
    assert dash_duo.get_logs() == []


def channels(dash_duo) -> list[int] | None:
    """The channels the inspector shows, in its order."""
    return dash_duo.driver.execute_script(
        f"const gd = document.querySelector('#{ids.CHANNEL_GRAPH} .js-plotly-plot');"
        "return (gd && gd.data) ? gd.data.filter(t => t.type === 'heatmap')"
        ".map(t => t.meta.channel) : null;"
    )


def test_a_link_with_b_opens_compare_mode_with_that_b(dash_duo):
    app = create_app()
    dash_duo.start_server(app)
    query = "?model=digits_cnn&seed=5&b_seed=1&b_perturb=shift:2,0"
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/{query}")
    open_tab(dash_duo, "compare")
    summary = sel(ids.COMPARE_SUMMARY)
    dash_duo.wait_for_contains_text(summary, "B: A perturbed by shift:dx=2,dy=0", timeout=30)
    until(lambda: heatmaps(dash_duo, ids.COMPARE_GRAPH) == 9, timeout=15, msg="no panels")
    assert dash_duo.find_element(sel(ids.COMPARE_SWITCH)).is_selected()
    until(lambda: "b_perturb=shift" in dash_duo.driver.current_url, timeout=10, msg="URL lost B")
    assert "seed=5" in dash_duo.driver.current_url
    assert dash_duo.get_logs() == []


def test_a_link_with_a_b_that_does_not_fit_says_so(dash_duo):
    app = create_app()
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/?model=digits_cnn&b_perturb=noise:-2")
    alert = sel(ids.ERROR_ALERT)
    dash_duo.wait_for_contains_text(alert, "this link's pattern B: ", timeout=30)
    assert "sigma must be a number from 0 to 100, got -2" in dash_duo.find_element(alert).text
    open_tab(dash_duo, "compare")
    click(dash_duo, sel(ids.COMPARE_SWITCH))  # the page goes on: compare mode still works
    dash_duo.wait_for_contains_text(sel(ids.COMPARE_SUMMARY), "noise:sigma=0.1", timeout=20)
    assert dash_duo.get_logs() == []


def test_bad_perturbation_is_marked_in_place_and_keeps_the_page_working(dash_duo):
    start_compare(dash_duo)
    feedback = sel(ids.PERTURB_FEEDBACK)
    values = dash_duo.find_element(sel(ids.PERTURB_VALUES))
    dash_duo.clear_input(values)
    values.send_keys("-2", Keys.ENTER)
    dash_duo.wait_for_element(f"{sel(ids.PERTURB_VALUES)}.is-invalid")
    dash_duo.wait_for_contains_text(feedback, "sigma must be a number from 0 to 100, got -2")
    assert "noise:sigma=0.1" in dash_duo.find_element(sel(ids.COMPARE_SUMMARY)).text
    dash_duo.wait_for_no_elements(f"{sel(ids.ERROR_ALERT)}.show")  # nothing said far away

    dash_duo.clear_input(values)
    values.send_keys("0.3", Keys.ENTER)
    dash_duo.wait_for_contains_text(sel(ids.COMPARE_SUMMARY), "noise:sigma=0.3")
    dash_duo.wait_for_no_elements(f"{sel(ids.PERTURB_VALUES)}.is-invalid")
    assert dash_duo.find_element(feedback).text == ""
    until(lambda: heatmaps(dash_duo, ids.COMPARE_GRAPH) == 9, timeout=15)
    assert dash_duo.get_logs() == []


def test_b_from_an_upload_of_another_shape_is_refused_then_a_good_one_shows(dash_duo, tmp_path):
    app = start_compare(dash_duo)
    shape = app.workbench.input_shape(MODEL)
    alert = sel(ids.ERROR_ALERT)
    field = f"{sel(ids.PATTERN_B_UPLOAD)} input[type=file]"

    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.zeros((shape[0] + 3, shape[1]), dtype=np.float32))
    dash_duo.find_element(field).send_keys(str(wrong))
    dash_duo.wait_for_element(f"{alert}.show")
    dash_duo.wait_for_contains_text(alert, "wrong.npy")
    assert "does not fit input" in dash_duo.find_element(alert).text
    assert "noise:sigma=0.1" in dash_duo.find_element(sel(ids.COMPARE_SUMMARY)).text

    good = tmp_path / "good.npy"
    np.save(good, np.ones(shape, dtype=np.float32))
    dash_duo.find_element(field).send_keys(str(good))
    dash_duo.wait_for_contains_text(sel(ids.COMPARE_SUMMARY), "B: uploaded good.npy")
    dash_duo.wait_for_no_elements(f"{alert}.show")
    checked = dash_duo.find_element(f"{sel(ids.PATTERN_B_SOURCE)} input:checked")
    assert checked.get_attribute("value") == "upload"
    assert dash_duo.get_logs() == []


def test_b_as_the_same_pattern_at_an_epoch_of_the_bundled_run(dash_duo):
    start_compare(dash_duo)
    epoch = dash_duo.find_element(sel(ids.PATTERN_B_EPOCH))
    dash_duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", epoch
    )
    dash_duo.clear_input(epoch)
    epoch.send_keys("3", Keys.ENTER)
    dash_duo.wait_for_contains_text(sel(ids.COMPARE_SUMMARY), "recorded it after epoch 3")
    checked = f"{sel(ids.PATTERN_B_SOURCE)} input[value='epoch']"
    assert dash_duo.find_element(checked).is_selected()
    until(lambda: heatmaps(dash_duo, ids.COMPARE_GRAPH) == 9, timeout=15)
    dash_duo.wait_for_contains_text(sel(ids.COMPARE_PREDICTION_B), "prediction: ")
    assert dash_duo.get_logs() == []
