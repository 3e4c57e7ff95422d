"""Browser set-up for the dashboard's end-to-end tests (``dash_duo``, headless Chromium).

``make test`` runs ``DASH_TEST_CHROMEPATH=/usr/bin/chromium pytest --headless``. This file makes a
plain ``pytest`` work too: it names Debian's Chromium when the variable is unset and turns on
headless mode where there is no display (Chromium cannot open a window there anyway).
dash.testing already adds ``--no-sandbox``, which Chromium needs when run as root.
"""

from __future__ import annotations

import os
import shutil

from selenium.webdriver.chrome.options import Options

# Read by dash.testing when it starts the browser, so it must be set before any test runs.
if shutil.which("chromium") and "DASH_TEST_CHROMEPATH" not in os.environ:
    os.environ["DASH_TEST_CHROMEPATH"] = shutil.which("chromium")

#: Wide enough for the two-column layout (``lg``): controls on the left, results on the right.
WINDOW_SIZE = "1400,1000"


def pytest_configure(config):
    # selenium 4.2 (pinned by dash[testing]) calls a urllib3 method that urllib3 2.x deprecates,
    # once per WebDriver command: hundreds of identical warnings that are not ours to fix.
    config.addinivalue_line(
        "filterwarnings",
        "ignore:HTTPResponse.getheader:DeprecationWarning:selenium.webdriver.remote.remote_connection",
    )
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        config.option.headless = True


def pytest_setup_options():
    """Chrome options for ``dash_duo`` (a dash.testing hook); dash adds its own on top."""
    options = Options()
    options.add_argument(f"--window-size={WINDOW_SIZE}")
    return options
