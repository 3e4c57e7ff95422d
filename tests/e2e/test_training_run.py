"""End-to-end test of the Training run section: scrub, play, and a channel's strip.

A tiny model trained in the test for three epochs with the Recorder gives the run; the app is
built with ``create_app(runs=[...])`` as ``layerviz serve --run DIR`` builds it.
"""

from __future__ import annotations

import pytest
from dash.testing.wait import until
from record.training import train
from selenium.webdriver.common.keys import Keys

from e2e.panes import open_tab
from layerviz.record.run import Run
from layerviz.ui import ids
from layerviz.ui.app import create_app

pytestmark = pytest.mark.e2e

EPOCHS = 3

SOURCES_JS = f"""
const gd = document.querySelector('#{ids.RUN_GRID} .js-plotly-plot');
if (!gd || !gd.data) {{ return null; }}
return gd.data.map(t => t.source);
"""


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("e2e-run") / "tiny"
    train(folder, epochs=EPOCHS)
    return folder


def press(dash_duo, slider: str, key: str) -> None:
    handle = dash_duo.find_element(f"#{slider} [role=slider]")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", handle)
    handle.send_keys(key)


def sources(dash_duo):
    return dash_duo.driver.execute_script(SOURCES_JS)


def test_slider_scrubs_play_advances_a_click_shows_the_strip(dash_duo, run_folder):
    app = create_app(runs=[run_folder])
    dash_duo.start_server(app)
    open_tab(dash_duo, "training_run", f"#{ids.RUN_EPOCH_LABEL}")  # built on first view
    label = f"#{ids.RUN_EPOCH_LABEL}"
    # The run opens at its last record; no map of the tiny model is over the default 15x15.
    dash_duo.wait_for_contains_text(label, f"epoch {EPOCHS}", timeout=30)
    dash_duo.wait_for_contains_text(f"#{ids.RUN_GRID}", "size limit", timeout=10)
    # The shared size-limit slider applies: at 0 every layer shows (c1, p1, c2, gap, out).
    press(dash_duo, ids.SIZE_LIMIT, Keys.HOME)
    until(lambda: len(sources(dash_duo) or []) == 5, timeout=10)
    last = sources(dash_duo)
    # The epoch slider's handle moves with the keyboard, as a person moves it.
    press(dash_duo, ids.RUN_EPOCH_SLIDER, Keys.HOME)
    dash_duo.wait_for_contains_text(label, "epoch 0", timeout=10)
    until(lambda: sources(dash_duo) != last, timeout=10)
    first = sources(dash_duo)
    assert first != last
    # Play steps through the epochs on its own; pause stops it.
    dash_duo.find_element(f"#{ids.RUN_PLAY}").click()
    dash_duo.wait_for_contains_text(f"#{ids.RUN_PLAY}", "pause", timeout=10)
    until(lambda: dash_duo.find_element(label).text.startswith("epoch 1"), timeout=30)
    until(lambda: sources(dash_duo) not in (first, None), timeout=30)
    dash_duo.find_element(f"#{ids.RUN_PLAY}").click()
    dash_duo.wait_for_contains_text(f"#{ids.RUN_PLAY}", "play", timeout=10)
    # A click on channel 0's tile of c1 (Plotly's own click event) shows its strip.
    dash_duo.driver.execute_script(
        f"""
        const gd = document.querySelector('#{ids.RUN_GRID} .js-plotly-plot');
        gd.emit('plotly_click', {{points: [{{curveNumber: 0, pointNumber: [1, 1], x: 1, y: 1,
            data: gd.data[0], fullData: gd._fullData[0]}}]}});
        """
    )
    records = len(Run(run_folder))
    dash_duo.wait_for_contains_text(
        f"#{ids.RUN_STRIP}", f"c1 channel 0 over {records} records", timeout=10
    )
    dash_duo.wait_for_contains_text(f"#{ids.RUN_CURVES}", "dead channels", timeout=10)
    assert dash_duo.get_logs() == []
