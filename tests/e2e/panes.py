"""What the browser tests share about the workspace: opening a tab of the detail pane, clicking
a panel of the grid, and whether the page has scrolled."""

from __future__ import annotations

from dash.testing.wait import until

from layerviz.ui import ids
from layerviz.ui.features import TABS, tab_body_id, tab_key

#: A tab's title by its key (``"architecture"`` → ``"Architecture"``).
TITLES = {tab_key(f): f.TAB[0] for f in TABS}

#: The nav link of a tab, by its title; null when there is none.
TAB_LINK_JS = f"""
return Array.from(document.querySelectorAll('#{ids.DETAIL_TABS} .nav-link'))
    .find(a => a.textContent.trim() === arguments[0]) || null;
"""
#: The title of the tab shown.
ACTIVE_TAB_JS = f"""
const a = document.querySelector('#{ids.DETAIL_TABS} .nav-link.active');
return a ? a.textContent.trim() : null;
"""


def open_tab(dash_duo, key: str, ready: str | None = None) -> None:
    """Click tab ``key``'s link and wait until its body is built (``ready``: a CSS selector
    inside it to wait for; by default anything but the "opening…" placeholder)."""
    # The page may still be rendering its layout when the test starts: wait for the link.
    until(
        lambda: dash_duo.driver.execute_script(TAB_LINK_JS, TITLES[key]) is not None,
        timeout=20,
        msg=f"no tab titled {TITLES[key]!r}",
    )
    link = dash_duo.driver.execute_script(TAB_LINK_JS, TITLES[key])
    link.click()
    body = f"#{tab_body_id(key)}"
    if ready is None:
        until(
            lambda: dash_duo.driver.execute_script(
                "const b = document.querySelector(arguments[0]);"
                "return !!b && b.children.length > 0 && b.textContent.trim() !== 'opening…';",
                body,
            ),
            timeout=20,
            msg=f"tab {key} was not built",
        )
    else:
        dash_duo.wait_for_element(f"{body} {ready}", timeout=20)


def active_tab(dash_duo) -> str | None:
    """The title of the tab the pane shows."""
    return dash_duo.driver.execute_script(ACTIVE_TAB_JS)


def click_panel(dash_duo, number: int = 0) -> None:
    """Click panel ``number`` of the grid: Plotly's own click event on that panel.

    Selenium's synthetic pointer does not raise Plotly's hover in headless Chromium here (so a
    real click reports no point); the event is the one Plotly emits for a click, with the point
    it reports, and dcc.Graph turns it into ``clickData`` as for a user's click.
    """
    dash_duo.driver.execute_script(
        f"""
        const gd = document.querySelector('#{ids.ACTIVATION_GRAPH} .js-plotly-plot');
        gd.emit('plotly_click', {{points: [{{curveNumber: {number}, pointNumber: [2, 2],
            x: 2, y: 2, z: 0, data: gd.data[{number}], fullData: gd._fullData[{number}]}}]}});
        """
    )


def scroll_y(dash_duo) -> float:
    """How far the page itself is scrolled."""
    return dash_duo.driver.execute_script("return window.scrollY")


def outlined_layer(dash_duo) -> str | None:
    """The layer whose panel the grid outlines (``assets/workspace.js``), when it shows."""
    return dash_duo.driver.execute_script(
        f"""
        const holder = document.getElementById('{ids.ACTIVATION_GRAPH}');
        const box = holder && holder.querySelector('.grid-outline');
        if (!box || box.style.display !== 'block') {{ return null; }}
        return holder.getAttribute('data-outlined-layer');
        """
    )
