"""End-to-end tests of the layer inspector, the statistics table and the health run.

Headless Chromium through ``dash_duo``, a fresh app per test; expected texts come from the
feature's own plain functions (``views``) and the library, so they hold for whatever layers the
bundled model has. Every test ends with an empty browser console.
"""

from __future__ import annotations

import numpy as np
import pytest
from dash.testing.wait import until
from selenium.webdriver.common.keys import Keys

from e2e.panes import click_panel, open_tab
from layerviz.analysis.health import model_health, seeded_patterns
from layerviz.ui import ids
from layerviz.ui.app import create_app
from layerviz.ui.features.inspector import views
from layerviz.ui.features.inspector.jobs import BATCH_FILE_BYTES

pytestmark = pytest.mark.e2e

MODEL = "digits_cnn"

CHANNELS_JS = f"""
const gd = document.querySelector('#{ids.CHANNEL_GRAPH} .js-plotly-plot');
if (!gd || !gd.data) {{ return null; }}
return gd.data.filter(t => t.type === 'heatmap').map(t => t.meta.channel);
"""
ROWS_JS = f"""
return Array.from(document.querySelectorAll('#{ids.STATS_TABLE} .ag-center-cols-container .ag-row'))
    .map(r => r.getAttribute('row-id'));
"""


def sel(component_id: str) -> str:
    return f"#{component_id}"


def start(dash_duo, tab: str | None = None):
    """Serve a fresh app; open ``tab`` of the detail pane (the Inspector shows by default)."""
    app = create_app()
    dash_duo.start_server(app)
    dash_duo.wait_for_contains_text(sel(ids.ACTIVATION_GRAPH), "conv1", timeout=30)
    if tab:
        open_tab(dash_duo, tab)
    return app


def shown_channels(dash_duo) -> list[int] | None:
    return dash_duo.driver.execute_script(CHANNELS_JS)


def scroll_to(dash_duo, selector: str):
    """Scroll an element into view at once: Bootstrap scrolls smoothly, and a click made while
    the page still moves misses."""
    element = dash_duo.find_element(selector)
    dash_duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element
    )
    return element


def click(dash_duo, selector: str):
    """Scroll an element into view and click it."""
    element = scroll_to(dash_duo, selector)
    element.click()
    return element


def expected_view(app, layer: str, by: str = "mean", k: int = 16):
    store = app.workbench.default_recipe(MODEL).to_store()
    selected = {"model": MODEL, "layer": layer}
    return views.inspector_view(app.workbench, store, selected, by, k, 1, "map")


def test_click_a_panel_opens_its_layer_in_the_inspector(dash_duo):
    app = start(dash_duo)
    click_panel(dash_duo)
    view = expected_view(app, "conv1")
    dash_duo.wait_for_text_to_equal(sel(ids.INSPECTOR_TITLE), view.title, timeout=15)
    dash_duo.wait_for_text_to_equal(sel(ids.INSPECTOR_SUMMARY), view.summary)
    expected = [t["meta"]["channel"] for t in view.figure.to_plotly_json()["data"]]
    until(lambda: shown_channels(dash_duo) == expected, timeout=10, msg="k tiles not drawn")
    assert len(expected) == 16
    assert dash_duo.get_logs() == []


def test_channel_sort_changes_the_order(dash_duo):
    app = start(dash_duo)
    click_panel(dash_duo)
    by_mean = [t["meta"]["channel"] for t in expected_view(app, "conv1").figure.data]
    by_std = [t["meta"]["channel"] for t in expected_view(app, "conv1", "std").figure.data]
    assert by_mean != by_std  # the test means something only if the orders differ
    until(lambda: shown_channels(dash_duo) == by_mean, timeout=15, msg="inspector not drawn")
    scroll_to(dash_duo, sel(ids.CHANNEL_SORT))
    dash_duo.select_dcc_dropdown(sel(ids.CHANNEL_SORT), value="rank by standard deviation")
    until(lambda: shown_channels(dash_duo) == by_std, timeout=10, msg="order did not change")
    assert dash_duo.get_logs() == []


def test_stats_table_has_one_row_per_layer_and_picks_a_layer(dash_duo):
    app = start(dash_duo, "statistics")
    store = app.workbench.default_recipe(MODEL).to_store()
    names = [row["name"] for row in views.stats_rows(app.workbench, store)]
    until(
        lambda: dash_duo.driver.execute_script(ROWS_JS) == names,
        timeout=15,
        msg="the statistics table does not list every layer",
    )
    click(dash_duo, f'{sel(ids.STATS_TABLE)} .ag-row[row-id="conv2"] [col-id="name"]')
    view = expected_view(app, "conv2")
    dash_duo.wait_for_text_to_equal(sel(ids.INSPECTOR_TITLE), view.title, timeout=15)
    open_tab(dash_duo, "statistics")  # the pick turned the pane to the Inspector
    dash_duo.wait_for_contains_text(sel(ids.STATS_HISTOGRAM), "conv2")
    assert dash_duo.get_logs() == []


#: Records, in order, each new progress label and health summary the page shows.
WATCH_HEALTH_JS = f"""
window.healthSeen = [];
const watch = (id, kind) => new MutationObserver(() => {{
    const text = document.getElementById(id).textContent;
    const last = window.healthSeen[window.healthSeen.length - 1];
    if (text && (!last || last[1] !== text)) {{ window.healthSeen.push([kind, text]); }}
}}).observe(document.getElementById(id), {{childList: true, subtree: true, characterData: true}});
watch('{ids.HEALTH_PROGRESS}', 'progress');
watch('{ids.HEALTH_SUMMARY}', 'summary');
"""


def type_into(dash_duo, component_id: str, text: str) -> None:
    """Replace an input's value; it commits on blur (debounce)."""
    element = click(dash_duo, sel(component_id))
    element.send_keys(Keys.CONTROL, "a")
    element.send_keys(Keys.DELETE, text, Keys.TAB)


def expected_summary(report) -> str:
    return (
        f"{report.n_dead} dead and {report.n_saturated} saturated channels over "
        f"{report.n_patterns} patterns (threshold {report.threshold:g})"
    )


def test_health_run_shows_progress_then_counts(dash_duo):
    app = start(dash_duo, "statistics")
    n = 24  # three batches of the dashboard's 8: progress comes in steps
    model = app.workbench.entry(MODEL).model
    report = model_health(model, seeded_patterns(model, n))
    type_into(dash_duo, ids.HEALTH_SEEDS, str(n))
    dash_duo.driver.execute_script(WATCH_HEALTH_JS)
    click(dash_duo, sel(ids.HEALTH_BUTTON))
    dash_duo.wait_for_text_to_equal(sel(ids.HEALTH_SUMMARY), expected_summary(report), timeout=60)
    seen = dash_duo.driver.execute_script("return window.healthSeen")
    kinds = [kind for kind, _ in seen]
    assert "progress" in kinds and kinds.index("progress") < kinds.index("summary"), seen
    dash_duo.wait_for_text_to_equal(sel(ids.HEALTH_PROGRESS), f"{n}/{n} patterns")
    conv2 = report.layer("conv2")
    cell = f'{sel(ids.STATS_TABLE)} .ag-row[row-id="conv2"] [col-id="health_dead"]'
    dash_duo.wait_for_text_to_equal(cell, str(conv2.n_dead), timeout=10)
    until(lambda: dash_duo.find_element(sel(ids.HEALTH_BUTTON)).is_enabled(), timeout=10)
    assert dash_duo.get_logs() == []


def test_a_wrong_shape_batch_is_named_and_a_good_one_runs(dash_duo, tmp_path):
    app = start(dash_duo, "statistics")
    wrong, good = tmp_path / "rgb.npy", tmp_path / "good.npz"
    np.save(wrong, np.zeros((5, 32, 32, 3), np.float32))
    batch = np.random.default_rng(1).random((6, 32, 32, 1), np.float32)
    np.savez(good, patterns=batch)
    upload = f"{sel(ids.HEALTH_UPLOAD)} input[type=file]"
    dash_duo.find_element(upload).send_keys(str(wrong))
    dash_duo.wait_for_text_to_equal(
        sel(ids.HEALTH_BATCH_INFO),
        "rgb.npy: batch shape (5, 32, 32, 3) does not fit input (32, 32, 1): "
        "expected (n, 32, 32, 1)",
        timeout=15,
    )
    # Over the size cap: dcc.Upload drops the file, assets/upload-guard.js says why.
    huge = tmp_path / "huge.npy"
    huge.write_bytes(b"\0" * (BATCH_FILE_BYTES + 1))
    dash_duo.find_element(upload).send_keys(str(huge))
    dash_duo.wait_for_contains_text(sel(ids.ERROR_ALERT), "huge.npy: 16.0 MB is over the 16.0 MB")
    # The page goes on: a good batch is taken, chosen as the source, and runs.
    dash_duo.find_element(upload).send_keys(str(good))
    dash_duo.wait_for_text_to_equal(sel(ids.HEALTH_BATCH_INFO), "good.npz: 6 patterns")
    type_into(dash_duo, ids.HEALTH_THRESHOLD, "0.05")
    click(dash_duo, sel(ids.HEALTH_BUTTON))
    report = model_health(app.workbench.entry(MODEL).model, batch, threshold=0.05)
    dash_duo.wait_for_text_to_equal(sel(ids.HEALTH_SUMMARY), expected_summary(report), timeout=60)
    # A threshold out of range is named; the counts shown stay.
    type_into(dash_duo, ids.HEALTH_THRESHOLD, "5000000")
    click(dash_duo, sel(ids.HEALTH_BUTTON))
    dash_duo.wait_for_contains_text(
        sel(ids.HEALTH_SUMMARY),
        "the threshold must be a number from -1,000,000 to 1,000,000, got ",
        timeout=30,
    )
    assert dash_duo.get_logs() == []


# --- shareable links -------------------------------------------------------------------------


def open_link(dash_duo, query: str):
    app = create_app()
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/{query}")
    return app


def test_a_shared_link_opens_the_same_view(dash_duo):
    app = open_link(dash_duo, "?model=digits_cnn&seed=5&grid=2x2&layer=conv2&sort=max&k=8")
    dash_duo.wait_for_text_to_equal(sel(ids.PATTERN_INFO), "random pattern, seed 5", timeout=30)
    store = {"kind": "seed", "model": MODEL, "seed": 5}
    view = views.inspector_view(
        app.workbench, store, {"model": MODEL, "layer": "conv2"}, "max", 8, 1, "map"
    )
    dash_duo.wait_for_text_to_equal(sel(ids.INSPECTOR_TITLE), view.title, timeout=15)
    dash_duo.wait_for_text_to_equal(sel(ids.INSPECTOR_SUMMARY), view.summary)
    expected = [t["meta"]["channel"] for t in view.figure.to_plotly_json()["data"]]
    until(lambda: shown_channels(dash_duo) == expected, timeout=10, msg="not the linked view")
    until(lambda: "seed=5" in dash_duo.driver.current_url, timeout=10, msg="URL rewritten")
    assert dash_duo.get_logs() == []


def test_a_link_with_bad_fields_says_so_and_the_page_works(dash_duo):
    open_link(dash_duo, "?model=digits_cnn&layer=nope&k=1000")
    dash_duo.wait_for_contains_text(
        sel(ids.ERROR_ALERT), "this link's k: k must be a whole number from 1 to 64, got '1000'"
    )
    dash_duo.wait_for_contains_text(
        sel(ids.CHANNEL_GRAPH), "model 'digits_cnn' has no layer 'nope'", timeout=15
    )
    click_panel(dash_duo)  # the page goes on: a click opens a real layer
    dash_duo.wait_for_contains_text(sel(ids.INSPECTOR_TITLE), "1: conv1", timeout=15)
    assert dash_duo.get_logs() == []


def test_back_and_forward_move_between_views(dash_duo):
    app = open_link(dash_duo, "?model=digits_cnn&seed=2&layer=conv1&sort=mean&k=16")
    store = {"kind": "seed", "model": MODEL, "seed": 2}
    by_mean, by_max = (
        [t.meta["channel"] for t in views.inspector_view(
            app.workbench, store, {"model": MODEL, "layer": "conv1"}, by, 16, 1, "map"
        ).figure.data]
        for by in ("mean", "max")
    )  # fmt: skip
    assert by_mean != by_max
    until(lambda: shown_channels(dash_duo) == by_mean, timeout=30, msg="link not opened")
    scroll_to(dash_duo, sel(ids.CHANNEL_SORT))
    dash_duo.select_dcc_dropdown(sel(ids.CHANNEL_SORT), value="rank by largest value")
    until(lambda: "sort=max" in dash_duo.driver.current_url, timeout=10, msg="URL not updated")
    until(lambda: shown_channels(dash_duo) == by_max, timeout=10, msg="order did not change")
    dash_duo.driver.back()
    until(lambda: shown_channels(dash_duo) == by_mean, timeout=15, msg="back did not restore")
    dash_duo.driver.forward()
    until(lambda: shown_channels(dash_duo) == by_max, timeout=15, msg="forward did not redo")
    assert dash_duo.get_logs() == []
