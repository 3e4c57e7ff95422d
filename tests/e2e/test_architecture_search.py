"""Browser test of the architecture tab's search box (issue 20): Enter on a layer's name
selects it as a node click does (the pane turns to the Inspector on it); an unknown name says
so in one line."""

from __future__ import annotations

import pytest
from dash.testing.wait import until
from selenium.webdriver.common.keys import Keys

from e2e.panes import active_tab, open_tab
from layerviz.ui import ids
from layerviz.ui.app import create_app

pytestmark = pytest.mark.e2e

OPTIONS_JS = f"return document.querySelectorAll('#{ids.ARCHITECTURE_SEARCH_LIST} option').length"


def test_enter_on_a_name_selects_the_layer_and_an_unknown_name_says_so(dash_duo):
    app = create_app()
    dash_duo.start_server(app)
    dash_duo.wait_for_contains_text(f"#{ids.ACTIVATION_GRAPH}", "conv1", timeout=30)
    open_tab(dash_duo, "architecture")
    graph = app.workbench.entry("digits_cnn").model
    until(lambda: dash_duo.driver.execute_script(OPTIONS_JS) > 0, timeout=20, msg="no names")
    box = dash_duo.find_element(f"#{ids.ARCHITECTURE_SEARCH}")
    box.send_keys("no_such_layer", Keys.ENTER)
    dash_duo.wait_for_contains_text(f"#{ids.ARCHITECTURE_SEARCH_INFO}", "'no_such_layer'", 10)
    assert "layers" in dash_duo.find_element(f"#{ids.ARCHITECTURE_SEARCH_INFO}").text
    assert dash_duo.driver.execute_script(OPTIONS_JS) >= len(graph.layers)
    box.clear()
    box.send_keys("conv2", Keys.ENTER)
    dash_duo.wait_for_contains_text(f"#{ids.SELECTION_TEXT}", "conv2", timeout=20)
    until(lambda: active_tab(dash_duo) == "Inspector", timeout=10, msg="not on the Inspector")
    assert dash_duo.get_logs() == []
