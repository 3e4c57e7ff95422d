"""Browser tests of the explain and architecture features (issue 10), headless Chromium.

Expected texts come from the app's own workbench and the features' plain functions, so they
hold whatever the bundled model predicts.
"""

from __future__ import annotations

import pytest
from dash.testing.errors import TestingTimeoutError
from dash.testing.wait import until
from selenium.webdriver.common.action_chains import ActionChains

from e2e.panes import open_tab
from layerviz.analysis.architecture import layer_values
from layerviz.analysis.explain import Explainer
from layerviz.ui import ids
from layerviz.ui.app import create_app
from layerviz.ui.features.architecture import STATISTIC_LABELS
from layerviz.ui.features.compare_state import DEFAULT_B, compare_view
from layerviz.ui.features.explain import LABELS, target_class

pytestmark = pytest.mark.e2e

MODEL = "digits_cnn"

TITLE_JS = f"""
const gd = document.querySelector('#{ids.EXPLAIN_GRAPH} .js-plotly-plot');
return (gd && gd.layout && gd.layout.title) ? gd.layout.title.text : null;
"""
#: A node's centre relative to the graph container's centre, and the container itself.
NODE_JS = f"""
const cy = document.getElementById('{ids.ARCHITECTURE_GRAPH}')._cyreg.cy;
const node = cy.getElementById(arguments[0]);
if (!node || node.empty()) {{ return null; }}
const box = cy.container().getBoundingClientRect();
const p = node.renderedPosition();
return [cy.container(), p.x - box.width / 2, p.y - box.height / 2];
"""
#: The heat band's shape (rows, steps) in explain-graph, or null when there is none.
BAND_JS = f"""
const gd = document.querySelector('#{ids.EXPLAIN_GRAPH} .js-plotly-plot');
const band = (gd && gd.data) ? gd.data.find(t => t.type === 'heatmap' && t.yaxis === 'y2') : null;
if (!band) {{ return null; }}
const z = band.z;
return z.shape ? z.shape.split(',').map(Number) : [z.length, z[0].length];
"""
#: The value a node is coloured by (null when it has none, or before the graph is drawn).
NODE_VALUE_JS = f"""
const el = document.getElementById('{ids.ARCHITECTURE_GRAPH}');
const cy = (el && el._cyreg) ? el._cyreg.cy : null;
const node = cy ? cy.getElementById(arguments[0]) : null;
return (node && !node.empty()) ? node.data('value') : null;
"""
NODE_COUNT_JS = f"""
const el = document.getElementById('{ids.ARCHITECTURE_GRAPH}');
return (el && el._cyreg && el._cyreg.cy) ? el._cyreg.cy.nodes('[kind = "layer"]').length : -1;
"""


def start(dash_duo, tab: str = "explain"):
    """Serve a fresh app and open ``tab`` of the detail pane (the explain graph drawn)."""
    app = create_app()
    dash_duo.start_server(app)
    dash_duo.wait_for_contains_text(f"#{ids.ACTIVATION_GRAPH}", "conv1", timeout=30)
    open_tab(dash_duo, tab)
    if tab == "explain":
        until(lambda: explain_title(dash_duo), timeout=30, msg="explain-graph was not drawn")
    return app


def explain_title(dash_duo) -> str | None:
    return dash_duo.driver.execute_script(TITLE_JS)


def click_bar_row(dash_duo, position: int) -> None:
    """Click the row of the ``position``-th bar of ``prediction-graph``, a little right of the
    axis: a user aims at the row, as a bar of a near-zero probability has no width to hit."""
    bars = dash_duo.find_elements(f"#{ids.PREDICTION_GRAPH} g.point path")
    assert len(bars) > position
    plot = dash_duo.find_element(f"#{ids.PREDICTION_GRAPH} .nsewdrag")
    bar, box = bars[position].rect, plot.rect
    dx = bar["x"] + 10 - (box["x"] + box["width"] / 2)
    dy = bar["y"] + bar["height"] / 2 - (box["y"] + box["height"] / 2)
    ActionChains(dash_duo.driver).move_to_element(plot).move_by_offset(
        int(dx), int(dy)
    ).click().perform()


def choose(dash_duo, dropdown_id: str, label: str) -> None:
    """Pick a dropdown's option by its label, scrolled into view first (the control panel
    scrolls on its own, and the explain controls sit at its bottom)."""
    element = dash_duo.find_element(f"#{dropdown_id}")
    dash_duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element
    )
    dash_duo.select_dcc_dropdown(f"#{dropdown_id}", label)


def toggle_compare(dash_duo) -> None:
    """Click ``compare-switch`` in the Compare tab, scrolled into view first."""
    open_tab(dash_duo, "compare")
    switch = dash_duo.find_element(f"#{ids.COMPARE_SWITCH}")
    dash_duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", switch
    )
    switch.click()


def current(app):
    recipe = app.workbench.default_recipe(MODEL)
    run = app.workbench.extraction(recipe)
    entry = app.workbench.entry(MODEL)
    return run, entry, Explainer(entry.extractor)


def test_clicking_a_prediction_bar_changes_the_target_class(dash_duo):
    app = start(dash_duo)
    run, entry, explainer = current(app)
    top = explainer.grad_cam(run.pattern).class_index
    assert explain_title(dash_duo).endswith(f"{entry.class_names[top]} (top class)")

    click_bar_row(dash_duo, 1)
    second = target_class(
        {"points": [{"pointNumber": 1}]}, run.extraction.outputs[0], explainer.n_outputs
    )
    until(
        lambda: explain_title(dash_duo).endswith(f"{entry.class_names[second]} (clicked)"),
        timeout=15,
        msg=f"explain-graph still says {explain_title(dash_duo)!r}",
    )
    dash_duo.find_element(f"#{ids.EXPLAIN_TOP_BUTTON}").click()
    until(lambda: explain_title(dash_duo).endswith("(top class)"), timeout=15)
    assert dash_duo.get_logs() == []


def test_method_and_layer_change_the_explanation(dash_duo):
    app = start(dash_duo)
    _, _, explainer = current(app)
    choose(dash_duo, ids.EXPLAIN_METHOD, LABELS["saliency"])
    until(lambda: explain_title(dash_duo).startswith("Saliency:"), timeout=15)
    choose(dash_duo, ids.EXPLAIN_METHOD, LABELS["gradcam"])
    first = explainer.spatial_layers[0]
    choose(dash_duo, ids.EXPLAIN_LAYER, first)
    until(lambda: explain_title(dash_duo).startswith(f"Grad-CAM at {first}:"), timeout=15)
    assert dash_duo.get_logs() == []


def test_the_graph_has_a_node_per_layer_and_a_click_selects_one(dash_duo):
    app = start(dash_duo, "architecture")
    run, _, _ = current(app)
    model = app.workbench.entry(MODEL).model
    until(lambda: dash_duo.driver.execute_script(NODE_COUNT_JS) == len(model.layers), timeout=20)

    target = run.extraction.activations[1]

    def click_node() -> bool:
        container, dx, dy = dash_duo.driver.execute_script(NODE_JS, target.name)
        dash_duo.driver.execute_script(
            "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", container
        )
        container, dx, dy = dash_duo.driver.execute_script(NODE_JS, target.name)
        ActionChains(dash_duo.driver).move_to_element(container).move_by_offset(
            int(dx), int(dy)
        ).click().perform()
        try:
            until(lambda: target.name in dash_duo.find_element(f"#{ids.SELECTION_TEXT}").text, 8)
        except TestingTimeoutError:
            return False
        return True

    # A real click on the node's position; on a loaded machine the graph's layout may still be
    # settling when the position is read, so a click that hit nothing is made again.
    assert any(click_node() for _ in range(3)), f"a click on {target.name} selected nothing"
    # The pick turns the pane to the Inspector; the graph's own panel names it too.
    dash_duo.wait_for_contains_text(f"#{ids.SELECTION_TEXT}", target.name, timeout=15)
    open_tab(dash_duo, "architecture")
    dash_duo.wait_for_contains_text(
        f"#{ids.ARCHITECTURE_LAYER_INFO}", f"layer {target.index}: {target.name}", timeout=15
    )
    assert dash_duo.get_logs() == []


def test_a_sequence_model_gets_a_heat_band_under_its_waveform(dash_duo):
    app = start(dash_duo)
    title = app.workbench.entry("signals_conv1d").title
    choose(dash_duo, ids.MODEL_SELECT, title)
    until(
        lambda: dash_duo.driver.execute_script(BAND_JS) == [1, 128],
        timeout=30,
        msg="explain-graph drew no heat band under the waveform",
    )
    assert dash_duo.get_logs() == []


def test_in_compare_mode_nodes_are_coloured_by_divergence(dash_duo):
    app = start(dash_duo, "architecture")
    run, _, _ = current(app)
    store = app.workbench.default_recipe(MODEL).to_store()
    mean = layer_values(run.extraction.activations, "mean")["conv2"]

    def node_value():
        return dash_duo.driver.execute_script(NODE_VALUE_JS, "conv2")

    until(lambda: node_value() == pytest.approx(mean), timeout=20, msg="no mean on conv2")
    toggle_compare(dash_duo)
    dash_duo.wait_for_contains_text(f"#{ids.COMPARE_SUMMARY}", "noise:sigma=0.1", timeout=20)
    # The compare section's own view: the browser's request ran the comparison it caches.
    comparison = compare_view(app.workbench).comparison(store, DEFAULT_B)[1]
    cosine = next(d.cosine for d in comparison.layers if d.name == "conv2")
    assert cosine != pytest.approx(mean)
    open_tab(dash_duo, "architecture")
    choose(dash_duo, ids.ARCHITECTURE_STATISTIC, STATISTIC_LABELS["cosine"])
    until(lambda: node_value() == pytest.approx(cosine), timeout=20, msg="no divergence")

    toggle_compare(dash_duo)  # compare off: back to a statistic of the pattern itself
    open_tab(dash_duo, "architecture")
    dash_duo.wait_for_contains_text(
        f"#{ids.ARCHITECTURE_STATISTIC}", STATISTIC_LABELS["mean"], timeout=15
    )
    until(lambda: node_value() == pytest.approx(mean), timeout=20, msg="still a divergence")
    assert dash_duo.get_logs() == []
