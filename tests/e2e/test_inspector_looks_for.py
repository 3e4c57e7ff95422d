"""End-to-end test of the inspector's "what it looks for" row: progress, tiles, cancel.

Headless Chromium through ``dash_duo``; the job runs on a thread of the test's server
(``ThreadJobManager``), so the module's settings can be shortened or lengthened here.
"""

from __future__ import annotations

import pytest
from dash.testing.wait import until
from selenium.webdriver.common.keys import Keys

from layerviz.analysis.visualise import VisualiseSettings
from layerviz.ui import ids
from layerviz.ui.features.inspector import looks_for

from .test_inspector import WATCH_HEALTH_JS, click, click_panel, expected_view, sel, start

pytestmark = pytest.mark.e2e

#: The progress and status watcher of the health test, pointed at this row.
WATCH_JS = (
    WATCH_HEALTH_JS.replace(ids.HEALTH_PROGRESS, ids.LOOKS_FOR_PROGRESS)
    .replace(ids.HEALTH_SUMMARY, ids.LOOKS_FOR_STATUS)
    .replace("healthSeen", "looksSeen")
)
TILES_JS = f"return document.querySelectorAll('#{ids.LOOKS_FOR_ROW} img').length"


@pytest.fixture(autouse=True)
def fresh_tiles(monkeypatch):
    monkeypatch.setattr(looks_for, "_tiles", type(looks_for._tiles)())


def open_conv1(dash_duo):
    app = start(dash_duo)
    click_panel(dash_duo)
    view = expected_view(app, "conv1")
    dash_duo.wait_for_text_to_equal(sel(ids.INSPECTOR_TITLE), view.title, timeout=15)
    dash_duo.driver.execute_script(WATCH_JS)
    return app


def test_the_row_appears_after_the_jobs_progress(dash_duo, monkeypatch):
    monkeypatch.setattr(looks_for, "SETTINGS", VisualiseSettings(steps=48))
    open_conv1(dash_duo)
    click(dash_duo, sel(ids.LOOKS_FOR_BUTTON))
    dash_duo.wait_for_text_to_equal(sel(ids.LOOKS_FOR_STATUS), "16 patterns of conv1", timeout=180)
    until(lambda: dash_duo.driver.execute_script(TILES_JS) == 16, timeout=10, msg="no tiles")
    seen = dash_duo.driver.execute_script("return window.looksSeen")
    kinds = [kind for kind, _ in seen]
    assert "progress" in kinds and kinds.index("progress") < kinds.index("summary"), seen
    dash_duo.wait_for_text_to_equal(sel(ids.LOOKS_FOR_PROGRESS), "48/48 steps")
    alts = dash_duo.driver.execute_script(
        f"return Array.from(document.querySelectorAll('#{ids.LOOKS_FOR_ROW} img')).map(i => i.alt)"
    )
    assert all(alt.startswith("the pattern ch ") for alt in alts)
    # digits_cnn's card states its input range: the boxes show it, not to be edited.
    dash_duo.wait_for_text_to_equal(
        sel(ids.LOOKS_FOR_RANGE_NOTE), "input range from the model's card"
    )
    assert dash_duo.find_element(sel(ids.LOOKS_FOR_MIN)).get_attribute("disabled")
    # A step count out of range is said in the status line, with the range.
    steps = dash_duo.find_element(sel(ids.LOOKS_FOR_STEPS))
    dash_duo.clear_input(steps)
    steps.send_keys("0", Keys.ENTER)
    click(dash_duo, sel(ids.LOOKS_FOR_BUTTON))
    dash_duo.wait_for_contains_text(
        sel(ids.LOOKS_FOR_STATUS), "steps must be a whole number from 1 to 4096, got 0"
    )
    assert dash_duo.get_logs() == []


def test_cancel_stops_the_job(dash_duo, monkeypatch):
    monkeypatch.setattr(looks_for, "SETTINGS", VisualiseSettings(steps=4096))  # minutes
    open_conv1(dash_duo)
    click(dash_duo, sel(ids.LOOKS_FOR_BUTTON))
    dash_duo.wait_for_contains_text(sel(ids.LOOKS_FOR_PROGRESS), "/4096 steps", timeout=120)
    click(dash_duo, sel(ids.LOOKS_FOR_CANCEL))
    dash_duo.wait_for_text_to_equal(sel(ids.LOOKS_FOR_STATUS), "cancelled", timeout=60)
    assert dash_duo.driver.execute_script(TILES_JS) == 0
    until(lambda: dash_duo.find_element(sel(ids.LOOKS_FOR_BUTTON)).is_enabled(), timeout=10)
    assert dash_duo.get_logs() == []
