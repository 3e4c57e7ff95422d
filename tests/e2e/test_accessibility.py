"""The dashboard for everyone: axe-core finds no critical or serious problem, and the control
panel works from the keyboard alone (headless Chromium, ``dash_duo``).

axe-core (the engine browsers' own audits use) is vendored for tests only in
``tests/e2e/vendor/axe.min.js`` and injected into the page by Selenium; Dash never serves it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from dash.testing.wait import until
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from e2e.page import GRID_JS
from e2e.panes import TITLES, open_tab
from layerviz.ui import ids
from layerviz.ui.app import create_app

pytestmark = pytest.mark.e2e

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
#: What the focused element is, for a keyboard walk: its id, or its accessible name.
FOCUSED_JS = """
const e = document.activeElement;
if (!e || e === document.body) { return null; }
const r = e.getBoundingClientRect();
const style = getComputedStyle(e);
return {
  id: e.id, label: e.getAttribute('aria-label') || e.textContent.trim().slice(0, 40),
  visible: r.width > 0 && r.height > 0, outline: style.outlineStyle, shadow: style.boxShadow,
};
"""


def start(dash_duo):
    app = create_app()
    dash_duo.start_server(app)
    until(lambda: dash_duo.driver.execute_script(GRID_JS), timeout=30, msg="no grid drawn")
    return app


def test_axe_finds_no_critical_or_serious_violation(dash_duo):
    start(dash_duo)
    driver = dash_duo.driver
    until(  # assets/a11y.js has named the sliders' inputs
        lambda: driver.execute_script(
            f"return !!document.querySelector('#{ids.SIZE_LIMIT} [role=slider][aria-label]')"
        ),
        timeout=10,
    )
    for key in TITLES:  # every tab of the detail pane open, its body built
        open_tab(dash_duo, key)
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    violations = driver.execute_async_script(
        """
        const done = arguments[0];
        axe.run(document, {resultTypes: ['violations']}).then(
          r => done(r.violations.map(v => ({id: v.id, impact: v.impact,
                                             nodes: v.nodes.map(n => n.target.join(' '))}))),
          e => done([{id: 'axe failed: ' + e, impact: 'critical', nodes: []}]));
        """
    )
    bad = [v for v in violations if v["impact"] in ("critical", "serious")]
    assert bad == []
    # The page's skeleton: its language, one h1, a main landmark.
    assert driver.execute_script("return document.documentElement.lang") == "en"
    assert len(dash_duo.find_elements("h1")) == 1
    assert len(dash_duo.find_elements("main")) == 1
    assert dash_duo.get_logs() == []


def tab_until(dash_duo, wanted, limit: int = 60) -> list[dict]:
    """Press Tab until ``wanted(focused)`` holds; the focused elements on the way."""
    seen = []
    for _ in range(limit):
        ActionChains(dash_duo.driver).send_keys(Keys.TAB).perform()
        focused = dash_duo.driver.execute_script(FOCUSED_JS)
        if focused:
            seen.append(focused)
            if wanted(focused):
                return seen
    raise AssertionError(f"not reached with {limit} Tabs; focused on the way: {seen}")


def test_keyboard_alone_reaches_every_control_and_a_typed_seed_redraws(dash_duo):
    start(dash_duo)
    driver = dash_duo.driver
    # No click first: the Tab order starts at the top of the page, as for a keyboard user.
    seen = tab_until(dash_duo, lambda f: f["id"] == ids.SEED_INPUT)
    assert all(f["visible"] for f in seen)
    # Keyboard focus is visible: an outline (assets/layerviz.css) on the seed box.
    assert seen[-1]["outline"] != "none"
    before = driver.execute_script(GRID_JS)
    ActionChains(driver).send_keys("42", Keys.ENTER).perform()
    until(
        lambda: driver.execute_script(GRID_JS) not in (None, before),
        timeout=15,
        msg="typing a seed did not change the grid",
    )
    dash_duo.wait_for_contains_text(f"#{ids.PATTERN_INFO}", "42")
    # Onwards: the slider thumbs and the export buttons are all in the Tab order, named.
    rest = tab_until(dash_duo, lambda f: f["id"] == ids.PAGE_EXPORT_BUTTON)
    labels = [f["label"] for f in rest]
    for name in ("grid rows", "grid columns", "size limit"):
        assert name in labels
    # Onwards, past the grid: every tab of the detail pane is in the Tab order.
    last = list(TITLES.values())[-1]
    # (each figure's mode bar buttons are on the way: 300 Tabs at most)
    tabs = tab_until(dash_duo, lambda f: f["label"] == last, limit=300)
    assert set(TITLES.values()) <= {f["label"] for f in tabs}
    # A slider moves by keyboard: End puts the size limit at its maximum.
    thumb = dash_duo.find_element(f"#{ids.SIZE_LIMIT} [role=slider]")
    before = driver.execute_script(GRID_JS)
    thumb.send_keys(Keys.END)
    until(
        lambda: driver.execute_script(GRID_JS) != before,
        timeout=15,
        msg="the size limit did not redraw the grid",
    )
    assert dash_duo.get_logs() == []
