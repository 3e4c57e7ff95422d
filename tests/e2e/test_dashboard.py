"""End-to-end tests of the dashboard: headless Chromium driven by ``dash_duo``.

Each test builds its own app with ``create_app()`` and ends by checking that the browser console
holds no errors. Expected texts are computed from the app's own workbench (the callbacks' plain
functions), so they hold whatever input size and layers the bundled model has.

Dash 4 sliders hide their number box in a column this narrow, so sliders are driven the way a
user without a mouse would: focus the thumb and press Home / End / arrow keys (each key commits,
as a mouse-up does), or by clicking a mark.
"""

from __future__ import annotations

import io
import re
import shutil
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from dash.testing.wait import until
from helpers import PNG_MAGIC, hover_grid
from PIL import Image
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from e2e.page import start_default_grid
from layerviz.patterns.readers import MAX_PATTERN_BYTES
from layerviz.ui import ids
from layerviz.ui.callbacks import export_files, render_grid

pytestmark = pytest.mark.e2e

MODEL = "digits_cnn"
SHOT = "/tmp/e2e_shot.png"

# What the activation graph draws: one fingerprint per trace (each panel a coloured PNG).
_GRAPH = f"document.querySelector('#{ids.ACTIVATION_GRAPH} .js-plotly-plot')"
FINGERPRINT_JS = f"""
const gd = {_GRAPH};
if (!gd || !gd.data) {{ return null; }}
return gd.data.map(t => t.source || JSON.stringify(t.z || null)).join('|');
"""
PANELS_JS = f"""
const gd = {_GRAPH};
return (gd && gd.data) ? gd.data.filter(t => t.type === 'image').length : -1;
"""


def sel(component_id: str) -> str:
    return f"#{component_id}"


def start(dash_duo):
    """Serve a fresh app and wait until the default grid is drawn; returns the app."""
    app = start_default_grid(dash_duo)
    until(lambda: panels(dash_duo) > 0, timeout=10, msg="no heatmap drawn")
    return app


def fingerprint(dash_duo) -> str | None:
    return dash_duo.driver.execute_script(FINGERPRINT_JS)


def panels(dash_duo) -> int:
    return dash_duo.driver.execute_script(PANELS_JS)


def wait_for_new_grid(dash_duo, before: str) -> str:
    """Wait until the activation graph draws something other than ``before``."""
    return until(
        lambda: (fp := fingerprint(dash_duo)) not in (None, before) and fp,
        timeout=15,
        msg="the activation grid did not change",
    )


def press(dash_duo, slider_id: str, *keys: str) -> None:
    """Press keys on a slider's thumb (Home = minimum; each key commits a value)."""
    thumb = dash_duo.find_element(f"{sel(slider_id)} [role=slider]")
    for key in keys:
        thumb.send_keys(key)


def click_mark(dash_duo, slider_id: str, label: str) -> None:
    """Click on a slider's mark, as a user does (the slider itself takes the click)."""
    marks = dash_duo.find_elements(f"{sel(slider_id)} .dash-slider-mark")
    mark = next(m for m in marks if m.text == label)
    ActionChains(dash_duo.driver).move_to_element(mark).click().perform()


def slider_value(dash_duo, slider_id: str, which: str = "aria-valuenow") -> int:
    """The slider's value (or ``aria-valuemax``, ``aria-valuemin``), as its thumb reports it."""
    thumb = dash_duo.find_element(f"{sel(slider_id)} [role=slider]")
    return int(thumb.get_attribute(which))


def click(dash_duo, component_id: str) -> None:
    """Scroll a control into view at once and click it.

    Bootstrap turns on smooth scrolling, so the scroll Selenium does before a click is still
    moving when the click lands, and a control below the fold is missed; "instant" avoids it.
    """
    element = dash_duo.find_element(sel(component_id))
    dash_duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element
    )
    element.click()


def upload(dash_duo, path: Path) -> None:
    dash_duo.find_element(f"{sel(ids.PATTERN_UPLOAD)} input[type=file]").send_keys(str(path))


def layer_titles(app, recipe, limit: int) -> list[str]:
    """Panel titles in order for ``limit`` (one per page with a 1×1 grid)."""
    extraction = app.workbench.extraction(recipe).extraction
    titles = []
    for act in extraction.activations:
        h, w = (1, act.shape[0]) if len(act.shape) == 1 else act.shape[:2]
        if h > limit and w > limit:
            titles.append(f"{act.index}: {act.name}")
    return titles


def wait_for_download(folder: str, name: str, timeout: float = 20) -> bytes:
    path = Path(folder) / name
    until(
        lambda: path.exists() and not list(Path(folder).glob("*.crdownload")),
        timeout=timeout,
        msg=f"{name} was not downloaded into {folder}",
    )
    return path.read_bytes()


# --- tests -------------------------------------------------------------------------------


def test_page_loads_with_default_grid(dash_duo):
    app = start(dash_duo)
    recipe = app.workbench.default_recipe(MODEL)
    first = layer_titles(app, recipe, 15)[0]
    dash_duo.wait_for_contains_text(sel(ids.ACTIVATION_GRAPH), first)
    dash_duo.wait_for_text_to_equal(sel(ids.PATTERN_INFO), recipe.describe())
    dash_duo.wait_for_contains_text(sel(ids.PREDICTION_GRAPH), "prediction:")
    shape = "×".join(map(str, app.workbench.input_shape(MODEL)))
    dash_duo.wait_for_contains_text(sel(ids.PATTERN_GRAPH), f"input {shape}")
    dash_duo.wait_for_contains_text(sel(ids.MODEL_INFO), f"input {shape}")
    assert dash_duo.find_elements(f"{sel(ids.ERROR_ALERT)}.show") == []
    # Production mode: no dev-tools menu, and Bootstrap came from assets/ (it styles .navbar).
    assert dash_duo.find_elements(".dash-debug-menu") == []
    navbar = dash_duo.find_element(".navbar")
    assert navbar.value_of_css_property("display") == "flex"
    assert dash_duo.get_logs() == []


def test_new_seed_changes_the_heatmaps(dash_duo):
    start(dash_duo)
    before = fingerprint(dash_duo)

    click(dash_duo, ids.SEED_BUTTON)
    dash_duo.wait_for_text_to_equal(sel(ids.PATTERN_INFO), "random pattern, seed 0")
    seed0 = wait_for_new_grid(dash_duo, before)

    click(dash_duo, ids.SEED_BUTTON)
    dash_duo.wait_for_text_to_equal(sel(ids.PATTERN_INFO), "random pattern, seed 1")
    until(lambda: dash_duo.find_element(sel(ids.SEED_INPUT)).get_attribute("value") == "1", 5)
    seed1 = wait_for_new_grid(dash_duo, seed0)

    seed_input = dash_duo.find_element(sel(ids.SEED_INPUT))
    dash_duo.clear_input(seed_input)
    seed_input.send_keys("42", Keys.ENTER)
    dash_duo.wait_for_text_to_equal(sel(ids.PATTERN_INFO), "random pattern, seed 42")
    wait_for_new_grid(dash_duo, seed1)
    assert dash_duo.get_logs() == []


def test_size_limit_changes_how_many_panels_show(dash_duo):
    app = start(dash_duo)
    recipe = app.workbench.default_recipe(MODEL)
    assert panels(dash_duo) == min(9, len(layer_titles(app, recipe, 15)))

    press(dash_duo, ids.SIZE_LIMIT, Keys.HOME)
    summary = render_grid(app.workbench, recipe.to_store(), 3, 3, 0, 1)[3]
    dash_duo.wait_for_text_to_equal(sel(ids.GRID_SUMMARY), summary)
    every = len(layer_titles(app, recipe, 0))
    until(lambda: panels(dash_duo) == min(9, every), timeout=10, msg="panels at limit 0")
    dash_duo.driver.save_screenshot(SHOT)

    press(dash_duo, ids.SIZE_LIMIT, Keys.END)
    top = slider_value(dash_duo, ids.SIZE_LIMIT, "aria-valuemax")
    summary = render_grid(app.workbench, recipe.to_store(), 3, 3, top, 1)[3]
    dash_duo.wait_for_text_to_equal(sel(ids.GRID_SUMMARY), summary)
    dash_duo.wait_for_contains_text(
        sel(ids.ACTIVATION_GRAPH), f"no layer output is larger than {top}×{top}"
    )
    until(lambda: panels(dash_duo) == 0, timeout=10, msg=f"panels at limit {top}")

    # A click on a mark sets exactly the marked value (assets/slider-marks.js): Dash's own
    # slider maps the click point, a few steps off the mark.
    for mark in ("32", "15"):
        click_mark(dash_duo, ids.SIZE_LIMIT, mark)
        until(lambda m=mark: slider_value(dash_duo, ids.SIZE_LIMIT) == int(m), 5, msg=mark)
    limit = 15
    dash_duo.wait_for_text_to_equal(
        sel(ids.GRID_SUMMARY), render_grid(app.workbench, recipe.to_store(), 3, 3, limit, 1)[3]
    )
    until(lambda: panels(dash_duo) == len(layer_titles(app, recipe, limit)), 10, msg="panels")
    assert dash_duo.get_logs() == []


def test_grid_size_repages(dash_duo):
    app = start(dash_duo)
    recipe = app.workbench.default_recipe(MODEL)
    titles = layer_titles(app, recipe, 0)
    assert len(titles) > 2

    press(dash_duo, ids.SIZE_LIMIT, Keys.HOME)
    press(dash_duo, ids.GRID_ROWS, Keys.HOME)
    press(dash_duo, ids.GRID_COLS, Keys.HOME)
    dash_duo.wait_for_contains_text(sel(ids.GRID_SUMMARY), f"page 1 of {len(titles)}")
    until(lambda: panels(dash_duo) == 1, timeout=10, msg="one panel on a 1×1 grid")
    dash_duo.wait_for_contains_text(sel(ids.PAGE_SELECT), str(len(titles)))

    pager = sel(ids.PAGE_SELECT)
    dash_duo.find_element(f"{pager} li:nth-last-child(2) .page-link").click()  # ›, next
    dash_duo.wait_for_contains_text(sel(ids.GRID_SUMMARY), f"page 2 of {len(titles)}")
    dash_duo.wait_for_contains_text(sel(ids.ACTIVATION_GRAPH), titles[1])

    dash_duo.find_element(f"{pager} li:last-child .page-link").click()  # », last
    last = len(titles)
    dash_duo.wait_for_contains_text(sel(ids.GRID_SUMMARY), f"page {last} of {last}")
    dash_duo.wait_for_contains_text(sel(ids.ACTIVATION_GRAPH), titles[-1])

    # A new layout starts again at page 1; a click on a mark sets exactly its value.
    press(dash_duo, ids.GRID_ROWS, Keys.END)
    dash_duo.wait_for_contains_text(sel(ids.GRID_SUMMARY), "page 1 of")
    for slider, mark in ((ids.GRID_COLS, "2"), (ids.GRID_ROWS, "5"), (ids.GRID_COLS, "6")):
        click_mark(dash_duo, slider, mark)
        until(lambda s=slider, m=mark: slider_value(dash_duo, s) == int(m), 5, msg=mark)
    assert dash_duo.get_logs() == []


def test_npy_and_png_uploads_render(dash_duo, tmp_path):
    app = start(dash_duo)
    shape = app.workbench.input_shape(MODEL)

    npy = tmp_path / "pattern.npy"
    np.save(npy, np.random.default_rng(3).random(shape, dtype=np.float32))
    before = fingerprint(dash_duo)
    upload(dash_duo, npy)
    dash_duo.wait_for_text_to_equal(sel(ids.PATTERN_INFO), "uploaded pattern.npy")
    after_npy = wait_for_new_grid(dash_duo, before)

    png = tmp_path / "stroke.png"
    pixels = np.zeros((2 * shape[0], 2 * shape[1]), dtype=np.uint8)
    pixels[:, shape[1] - 4 : shape[1] + 4] = 255  # a vertical stroke, drawn larger than the input
    Image.fromarray(pixels).save(png)
    upload(dash_duo, png)
    dash_duo.wait_for_text_to_equal(sel(ids.PATTERN_INFO), "uploaded stroke.png")
    wait_for_new_grid(dash_duo, after_npy)
    dash_duo.wait_for_contains_text(sel(ids.PATTERN_GRAPH), "input " + "×".join(map(str, shape)))
    assert not dash_duo.find_elements(f"{sel(ids.ERROR_ALERT)}.show")
    assert dash_duo.get_logs() == []


def test_bad_upload_shows_a_helpful_error_and_the_app_goes_on(dash_duo, tmp_path):
    app = start(dash_duo)
    shape = app.workbench.input_shape(MODEL)
    alert = sel(ids.ERROR_ALERT)

    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.zeros((shape[0] + 3, shape[1] + 3), dtype=np.float32))
    upload(dash_duo, wrong)
    dash_duo.wait_for_element(f"{alert}.show")
    dash_duo.wait_for_contains_text(alert, "wrong.npy")
    text = dash_duo.find_element(alert).text
    assert "does not fit input" in text and str(shape) in text, text
    recipe = app.workbench.default_recipe(MODEL)
    assert dash_duo.find_element(sel(ids.PATTERN_INFO)).text == recipe.describe()

    # Over the upload limit: dcc.Upload drops the file, assets/upload-guard.js says why.
    big = tmp_path / "huge.npy"
    big.write_bytes(b"\0" * (MAX_PATTERN_BYTES + 1))
    upload(dash_duo, big)
    dash_duo.wait_for_contains_text(alert, "huge.npy")
    dash_duo.wait_for_contains_text(alert, "upload limit")

    before = fingerprint(dash_duo)
    click(dash_duo, ids.SEED_BUTTON)
    dash_duo.wait_for_text_to_equal(sel(ids.PATTERN_INFO), "random pattern, seed 0")
    wait_for_new_grid(dash_duo, before)
    dash_duo.wait_for_no_elements(f"{alert}.show")

    good = tmp_path / "good.npy"
    np.save(good, np.ones(shape, dtype=np.float32))
    upload(dash_duo, good)
    dash_duo.wait_for_text_to_equal(sel(ids.PATTERN_INFO), "uploaded good.npy")
    assert dash_duo.get_logs() == []


def test_export_downloads_the_pages(dash_duo):
    app = start(dash_duo)
    recipe = app.workbench.default_recipe(MODEL)
    folder = dash_duo.download_path

    name, expected = export_files(app.workbench, recipe.to_store(), 3, 3, 15)
    click(dash_duo, ids.EXPORT_BUTTON)
    data = wait_for_download(folder, name)
    # Member by member: the zip's headers carry the time it was written.
    with zipfile.ZipFile(io.BytesIO(data)) as archive, zipfile.ZipFile(io.BytesIO(expected)) as ref:
        names = archive.namelist()
        assert names == ref.namelist() == [f"{i}.png" for i in range(len(names))] and names
        for member in names:
            assert archive.read(member) == ref.read(member), member

    page_name, page = export_files(app.workbench, recipe.to_store(), 3, 3, 15, page=1)
    click(dash_duo, ids.PAGE_EXPORT_BUTTON)
    assert wait_for_download(folder, page_name) == page
    time.sleep(0.2)  # let Chromium settle the file list before the final check
    assert sorted(p.name for p in Path(folder).iterdir()) == sorted([name, page_name])

    if shutil.which("dot"):  # the architecture needs Graphviz
        click(dash_duo, ids.PLOT_MODEL_SWITCH)
        click(dash_duo, ids.EXPORT_BUTTON)
        # Downloaded into this folder, a file of the same name is replaced, not renamed.
        path = Path(folder) / name
        until(lambda: path.read_bytes() != data, timeout=40, msg="no second zip downloaded")
        data = wait_for_download(folder, name)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            assert archive.namelist() == [*names, "model.png"]
            assert archive.read("model.png").startswith(PNG_MAGIC)
    assert dash_duo.get_logs() == []


def test_the_transformer_opens_with_its_attention_heads(dash_duo):
    app = start(dash_duo)
    transformer = "signals_transformer"
    before = fingerprint(dash_duo)

    # The dropdown offers models under their titles; pick it as a user does, by its label.
    label = app.workbench.entry_title(transformer)
    dash_duo.select_dcc_dropdown(sel(ids.MODEL_SELECT), value=label)
    recipe = app.workbench.default_recipe(transformer)
    summary = render_grid(app.workbench, recipe.to_store(), 3, 3, 15, 1)[3]
    dash_duo.wait_for_text_to_equal(sel(ids.GRID_SUMMARY), summary, timeout=30)
    wait_for_new_grid(dash_duo, before)

    for head in range(4):
        dash_duo.wait_for_contains_text(sel(ids.ACTIVATION_GRAPH), f"3: mha:attention head {head}")
    names = dash_duo.driver.execute_script(f"return {_GRAPH}.data.map(t => t.name || '');")
    panel = names.index("3: mha:attention head 2")
    label = hover_panel(dash_duo, panel)
    assert re.fullmatch(r"3: mha:attention head 2: query \d+ attends to key \d+: \S+", label)
    assert dash_duo.get_logs() == []


def hover_panel(dash_duo, panel: int) -> str:
    """Point at pixel (3, 4) of grid panel ``panel``; the server's hover label."""
    suffix = "" if panel == 0 else str(panel + 1)
    point = hover_grid(dash_duo.driver, ids.ACTIVATION_GRAPH, f"x{suffix}y{suffix}", 3.2, 4.2)
    assert point and point[0] == panel, point
    return until(
        lambda: dash_duo.find_element(f"#{ids.GRID_TOOLTIP}").text.strip(),
        timeout=10,
        msg="no hover label",
    )


def test_norm_mode_changes_the_grid_colouring(dash_duo):
    start(dash_duo)
    before = fingerprint(dash_duo)
    legends = f"return ({_GRAPH}.layout.images || []).length;"  # colour range legends
    per_layer = dash_duo.driver.execute_script(legends)
    assert per_layer == panels(dash_duo)  # one colour range per panel
    for mode, bars in (("page", 1), ("map", 1), ("layer", per_layer)):
        radio = dash_duo.find_element(f"#{ids.NORM_MODE} input[value='{mode}']")
        dash_duo.driver.execute_script("arguments[0].click();", radio)
        after = wait_for_new_grid(dash_duo, before)
        assert dash_duo.driver.execute_script(legends) == bars
        before = after
    assert dash_duo.get_logs() == []
