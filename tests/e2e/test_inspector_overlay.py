"""End-to-end tests of the inspector's selected channel: a click selects it and the overlay
draws it over the input; → in the focused inspector steps to the next rank; a waveform model
shows a heat band. Headless Chromium through ``dash_duo``; expected texts come from the
feature's plain functions; every test ends with an empty browser console.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dash.testing.wait import until
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from layerviz.ui import ids
from layerviz.ui.app import create_app
from layerviz.ui.features.inspector.overlay_view import layer_ranking, overlay_view

pytestmark = pytest.mark.e2e

AXE = Path(__file__).parent / "vendor" / "axe.min.js"

OVERLAY_JS = f"""
const gd = document.querySelector('#{ids.CHANNEL_OVERLAY} .js-plotly-plot');
if (!gd || !gd.data || !gd.data.length) {{ return null; }}
return {{types: gd.data.map(t => t.type), title: gd.layout.title && gd.layout.title.text,
         heat: JSON.stringify(gd.data[gd.data.length - 1].z)}};
"""
CHANNELS_JS = f"""
const gd = document.querySelector('#{ids.CHANNEL_GRAPH} .js-plotly-plot');
if (!gd || !gd.data) {{ return null; }}
return gd.data.filter(t => t.type === 'heatmap').map(t => t.meta.channel);
"""


def emit_click(dash_duo, graph_id: str, curve: int) -> None:
    """Plotly's own click event on trace ``curve`` of a graph (Selenium's pointer raises no
    Plotly hover in headless Chromium, so a real click reports no point; see test_inspector)."""
    dash_duo.driver.execute_script(
        f"""
        const gd = document.querySelector('#{graph_id} .js-plotly-plot');
        gd.emit('plotly_click', {{points: [{{curveNumber: {curve}, pointNumber: [1, 1],
            x: 1, y: 1, z: 0, data: gd.data[{curve}], fullData: gd._fullData[{curve}]}}]}});
        """
    )


def open_inspector(dash_duo, model: str | None, layer: str):
    """A fresh app on ``model``; a click on the grid's first panel opens ``layer``."""
    app = create_app(model)
    dash_duo.start_server(app)
    dash_duo.wait_for_contains_text(f"#{ids.ACTIVATION_GRAPH}", layer, timeout=30)
    emit_click(dash_duo, ids.ACTIVATION_GRAPH, 0)
    dash_duo.wait_for_contains_text(f"#{ids.INSPECTOR_TITLE}", layer, timeout=15)
    until(lambda: dash_duo.driver.execute_script(CHANNELS_JS), timeout=15, msg="no channels")
    return app


def expected(app, model: str, layer: str, stored=None):
    """The overlay's caption and title for a selection, from the feature's own functions."""
    store = app.workbench.default_recipe(model).to_store()
    ranking = layer_ranking(app.workbench, store, {"model": model, "layer": layer}, "mean")
    figure, caption = overlay_view(ranking, stored, 0.5)
    return ranking, caption, figure.layout.title.text


def selection(model: str, layer: str, channel: int) -> dict:
    return {"model": model, "layer": layer, "by": "mean", "channel": channel}


def overlay(dash_duo):
    return dash_duo.driver.execute_script(OVERLAY_JS)


def test_click_a_channel_then_step_with_the_arrow_key(dash_duo):
    app = open_inspector(dash_duo, None, "conv1")  # digits_cnn
    order = expected(app, "digits_cnn", "conv1")[0].scores.order.tolist()

    def shows(rank: int) -> str:
        """Wait until the overlay shows the channel of ``rank`` (from 0); its heat."""
        chosen = selection("digits_cnn", "conv1", order[rank])
        _, caption, title = expected(app, "digits_cnn", "conv1", chosen)
        assert caption.startswith(f"channel {order[rank]} (rank {rank + 1} of ")
        dash_duo.wait_for_text_to_equal(f"#{ids.OVERLAY_CAPTION}", caption, timeout=15)
        until(lambda: (overlay(dash_duo) or {}).get("title") == title, timeout=10)
        assert overlay(dash_duo)["types"] == ["heatmap", "heatmap"]  # the input, the heat
        return overlay(dash_duo)["heat"]

    top = shows(0)  # the top-ranked channel is selected until another is
    emit_click(dash_duo, ids.CHANNEL_GRAPH, 2)  # a click on the third tile
    assert shows(2) != top
    emit_click(dash_duo, ids.CHANNEL_GRAPH, 0)
    shows(0)
    # → sent to the focused inspector region: the next rank, and the overlay follows.
    region = dash_duo.find_element(f"#{ids.CHANNEL_KEYS}")
    dash_duo.driver.execute_script("arguments[0].focus()", region)
    assert dash_duo.driver.execute_script("return document.activeElement.id") == ids.CHANNEL_KEYS
    ActionChains(dash_duo.driver).send_keys(Keys.ARROW_RIGHT).perform()
    assert shows(1) != top
    ActionChains(dash_duo.driver).send_keys(Keys.ARROW_LEFT).perform()
    assert shows(0) == top
    assert dash_duo.get_logs() == []


def test_turning_the_channel_page_moves_the_overlay_onto_that_page(dash_duo):
    app = open_inspector(dash_duo, None, "conv1")
    emit_click(dash_duo, ids.ACTIVATION_GRAPH, 2)  # conv2: 32 channels, pages of 16
    dash_duo.wait_for_contains_text(f"#{ids.INSPECTOR_TITLE}", "conv2", timeout=15)
    order = expected(app, "digits_cnn", "conv2")[0].scores.order.tolist()
    dash_duo.wait_for_contains_text(f"#{ids.OVERLAY_CAPTION}", f"channel {order[0]} (rank 1 ")
    link = next(
        a for a in dash_duo.find_elements(f"#{ids.CHANNEL_PAGE} .page-link") if a.text == "2"
    )
    dash_duo.driver.execute_script("arguments[0].click()", link)
    # Page 2 shows ranks 17-32: the overlay follows to its first channel, and the page's
    # tiles outline it as the selected one.
    dash_duo.wait_for_contains_text(
        f"#{ids.OVERLAY_CAPTION}", f"channel {order[16]} (rank 17 of 32", timeout=15
    )
    until(lambda: dash_duo.driver.execute_script(CHANNELS_JS) == order[16:], timeout=10)
    outlined = f"""
    const gd = document.querySelector('#{ids.CHANNEL_GRAPH} .js-plotly-plot');
    return gd.layout.annotations.findIndex(a => a.text.includes('selected'));
    """
    until(lambda: dash_duo.driver.execute_script(outlined) == 0, timeout=10, msg="not outlined")
    assert dash_duo.get_logs() == []


def test_the_buttons_step_and_the_grid_outlines_the_selection(dash_duo):
    app = open_inspector(dash_duo, None, "conv1")
    order = expected(app, "digits_cnn", "conv1")[0].scores.order.tolist()
    button = dash_duo.find_element(f"#{ids.CHANNEL_NEXT}")
    dash_duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", button
    )
    button.click()
    dash_duo.wait_for_contains_text(
        f"#{ids.OVERLAY_CAPTION}", f"channel {order[1]} (rank 2 of", timeout=20
    )
    outlined = f"""
    const gd = document.querySelector('#{ids.CHANNEL_GRAPH} .js-plotly-plot');
    return gd.layout.annotations.findIndex(a => a.text.includes('selected'));
    """
    until(lambda: dash_duo.driver.execute_script(outlined) == 1, timeout=10, msg="not outlined")
    # With the inspector open and the overlay drawn, axe finds nothing critical or serious.
    dash_duo.driver.execute_script(AXE.read_text(encoding="utf-8"))
    violations = dash_duo.driver.execute_async_script(
        """
        const done = arguments[0];
        axe.run(document, {resultTypes: ['violations']}).then(
          r => done(r.violations.map(v => ({id: v.id, impact: v.impact,
                                             nodes: v.nodes.map(n => n.target.join(' '))}))),
          e => done([{id: 'axe failed: ' + e, impact: 'critical', nodes: []}]));
        """
    )
    assert [v for v in violations if v["impact"] in ("critical", "serious")] == []
    assert dash_duo.get_logs() == []


def test_a_waveform_model_shows_a_heat_band_under_the_signal(dash_duo):
    app = open_inspector(dash_duo, "signals_conv1d", "conv1")
    _, caption, _ = expected(app, "signals_conv1d", "conv1")
    dash_duo.wait_for_text_to_equal(f"#{ids.OVERLAY_CAPTION}", caption, timeout=15)
    until(lambda: overlay(dash_duo) is not None, timeout=10, msg="no overlay drawn")
    shown = overlay(dash_duo)
    assert shown["types"] == ["scatter", "heatmap"]  # one channel's curve, then the band
    assert json.loads(shown["heat"])["shape"].replace(" ", "") == "1,128"
    assert dash_duo.get_logs() == []
