"""The Dataset view in a real browser: a run, the coloured projection, a click that opens the
pattern in the grid, and cancel (headless Chromium, ``dash_duo``)."""

from __future__ import annotations

import time

import keras
import numpy as np
import pytest
from dash.testing.wait import until
from selenium.webdriver.common.action_chains import ActionChains

from e2e.panes import active_tab, open_tab
from layerviz.ui import ids
from layerviz.ui.app import create_app
from layerviz.ui.features import dataset
from layerviz.ui.features.dataset import jobs

pytestmark = pytest.mark.e2e


CHANNELS_JS = f"""
const gd = document.querySelector('#{ids.CHANNEL_GRAPH} .js-plotly-plot');
if (!gd || !gd.data) {{ return null; }}
return gd.data.filter(t => t.type === 'heatmap').length;
"""


CKA_CORNER_CLICK = f"""
const gd = document.querySelector('#{ids.DATASET_CKA} .js-plotly-plot');
const trace = gd.data[0], row = trace.y[0], col = trace.x[trace.x.length - 1];
gd.emit('plotly_click', {{points: [{{curveNumber: 0, x: col, y: row, z: 0,
    data: trace, fullData: gd._fullData[0]}}]}});
return [row, col];
"""


def emit_click(dash_duo, graph_id: str, curve: int) -> None:
    """Plotly's own click event on trace ``curve`` (as tests/e2e/test_inspector_overlay.py)."""
    dash_duo.driver.execute_script(
        f"""
        const gd = document.querySelector('#{graph_id} .js-plotly-plot');
        gd.emit('plotly_click', {{points: [{{curveNumber: {curve}, pointNumber: [1, 1],
            x: 1, y: 1, z: 0, data: gd.data[{curve}], fullData: gd._fullData[{curve}]}}]}});
        """
    )


def sel(id_: str) -> str:
    return f"#{id_}"


def small_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((12, 12, 1))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(inputs)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="small")


def dataset_file(tmp_path, n: int = 60):
    rng = np.random.default_rng(0)
    y = np.arange(n) % 3
    x = rng.random((n, 12, 12, 1), dtype=np.float32) + y[:, None, None, None]
    path = tmp_path / "three.npz"
    np.savez(path, x=x, y=y)
    return path


def start_with_dataset(dash_duo, tmp_path, n: int = 60):
    app = create_app(small_model(), include_bundled=False)
    dash_duo.start_server(app)
    dash_duo.wait_for_contains_text(sel(ids.MODEL_INFO), "input 12×12×1", timeout=30)
    open_tab(dash_duo, "dataset", sel(ids.DATASET_UPLOAD))
    zone = f"{sel(ids.DATASET_UPLOAD)} input[type=file]"
    dash_duo.find_element(zone).send_keys(str(dataset_file(tmp_path, n)))
    dash_duo.wait_for_contains_text(sel(ids.DATASET_UPLOAD_INFO), f"{n} patterns", timeout=15)
    return app


def click(dash_duo, element) -> None:
    dash_duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element
    )
    ActionChains(dash_duo.driver).move_to_element(element).click().perform()


def test_projection_is_coloured_and_a_click_opens_the_pattern(dash_duo, tmp_path):
    start_with_dataset(dash_duo, tmp_path)
    click(dash_duo, dash_duo.find_element(sel(ids.DATASET_RUN)))
    dash_duo.wait_for_contains_text(sel(ids.DATASET_SUMMARY), "60 patterns", timeout=60)

    traces = f"{sel(ids.DATASET_PROJECTION)} .scatterlayer .trace"
    until(lambda: len(dash_duo.find_elements(traces)) == 3, timeout=20, msg="no 3 classes")
    points = dash_duo.find_elements(f"{traces} .points path")
    assert len(points) == 60
    colours = {
        trace.find_element("css selector", ".points path").value_of_css_property("fill")
        for trace in dash_duo.find_elements(traces)
    }
    assert len(colours) == 3  # one colour per label
    # The probe curve and the CKA heatmap are drawn from the same run.
    assert len(dash_duo.find_elements(f"{sel(ids.DATASET_PROBE)} .points path")) == 3
    assert dash_duo.find_elements(f"{sel(ids.DATASET_CKA)} .heatmaplayer image")

    before = dash_duo.find_element(sel(ids.PATTERN_INFO)).get_attribute("textContent")
    click(dash_duo, points[7])
    thumb = dash_duo.find_element(sel(ids.DATASET_THUMBNAIL))
    until(lambda: (thumb.get_attribute("src") or "").startswith("data:image/png"), timeout=10)
    info = dash_duo.find_element(sel(ids.PATTERN_INFO))
    # textContent, not .text: in the workspace the strip may truncate the line out of view.
    until(lambda: "uploaded dataset #" in (info.get_attribute("textContent") or ""), timeout=20)
    assert info.get_attribute("textContent") != before
    row = info.get_attribute("textContent").split("#")[1].split(".")[0]
    caption = dash_duo.find_element(sel(ids.DATASET_THUMBNAIL_TEXT))
    assert f"pattern #{row}" in caption.get_attribute("textContent")

    # A click on the CKA heatmap selects two layers: one inspected, one projected. A real
    # click lands on the centre cell (the diagonal: one layer twice), so first a real click,
    # then Plotly's own click event on the first row's last cell.
    heatmap = dash_duo.find_element(f"{sel(ids.DATASET_CKA)} .nsewdrag")
    click(dash_duo, heatmap)
    cka_text = dash_duo.find_element(sel(ids.DATASET_CKA_TEXT))
    # textContent: the pick turns the pane to the Inspector (as any picked layer does), so the
    # Dataset tab's line is out of view.
    until(lambda: "CKA" in (cka_text.get_attribute("textContent") or ""), timeout=10)
    until(lambda: active_tab(dash_duo) == "Inspector", timeout=10, msg="pane not on Inspector")
    inspected, projected = dash_duo.driver.execute_script(CKA_CORNER_CLICK)
    assert inspected != projected
    shown = f"{inspected} ↔ {projected}"
    until(lambda: cka_text.get_attribute("textContent").startswith(shown), timeout=10)
    title = dash_duo.find_element(sel(ids.INSPECTOR_TITLE))
    until(lambda: inspected in title.get_attribute("textContent"), timeout=15)
    title_js = f"return document.querySelector('#{ids.DATASET_PROJECTION} .gtitle').textContent"
    until(lambda: dash_duo.driver.execute_script(title_js).startswith(f"{projected}:"), 10)

    # A channel picked in the inspector shows its dataset examples inside the inspector card.
    until(lambda: dash_duo.driver.execute_script(CHANNELS_JS), timeout=15, msg="no channels")
    emit_click(dash_duo, ids.CHANNEL_GRAPH, 0)
    examples = sel(ids.INSPECTOR_EXAMPLES)
    block = dash_duo.find_element(examples)  # textContent: the pane may be scrolled
    until(lambda: "excite it least" in block.get_attribute("textContent"), timeout=15)
    figures = dash_duo.find_elements(f"{examples} figure")
    assert len(figures) == 2 * dataset.EXAMPLES_K
    assert all("peak" in f.get_attribute("title") for f in figures)
    assert dash_duo.get_logs() == []


def test_cancel_stops_the_pass(dash_duo, tmp_path, monkeypatch):
    batches = []
    real = jobs.dataset_features

    def slow(extractor, x, batch_size, progress):
        def tick(done, total):
            batches.append(done)
            time.sleep(0.3)
            progress(done, total)

        return real(extractor, x, batch_size=batch_size, progress=tick)

    monkeypatch.setattr(jobs, "dataset_features", slow)
    monkeypatch.setattr(jobs, "BATCH_SIZE", 2)
    start_with_dataset(dash_duo, tmp_path, n=90)
    click(dash_duo, dash_duo.find_element(sel(ids.DATASET_RUN)))
    until(lambda: len(batches) > 3, timeout=20, msg="the run did not start")
    cancel = dash_duo.find_element(sel(ids.DATASET_CANCEL))
    until(lambda: cancel.is_enabled(), timeout=5)
    click(dash_duo, cancel)
    run = dash_duo.find_element(sel(ids.DATASET_RUN))
    until(lambda: run.is_enabled(), timeout=10, msg="the run button stayed disabled")
    time.sleep(1.0)  # the job sees the flag at its next batch
    seen = len(batches)
    time.sleep(1.5)
    assert len(batches) == seen and max(batches) < 90  # stopped, and before the end
    assert "90 patterns of" not in dash_duo.find_element(sel(ids.DATASET_SUMMARY)).text
    assert dash_duo.get_logs() == []
