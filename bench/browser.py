"""Benchmark: what a person waits for in the dashboard, measured in headless Chromium.

Serves the dashboard with ``layerviz serve`` in a subprocess on a free port, for the bundled
``digits_cnn`` and for ``keras.applications.MobileNetV2(weights=None)`` (224×224×3) saved to a
temporary ``.keras`` file, opens it in headless Chromium (Selenium, Debian's chromedriver) and
times, in the page with ``performance.now()``:

- **open → first grid**: navigation start to the first heatmaps of the activation grid in
  ``gd.data`` and a frame painted after them, in a fresh browser (*cold*: nothing cached)
  and on its second visit (*warm*); for each, the requests that left before the grid was
  drawn (the page itself included; a resource the cache answered without asking the server
  is not a request) and the bytes transferred (headers and bodies as sent: compressed when
  the server compresses) until the grid, and for the whole open (1.5 s later);
- **seed → heatmaps**: a new seed committed in the seed box to new heatmaps drawn, through
  ``set_props`` and **from the keystroke** (Selenium types the seed into the box, then presses
  Enter; the clock starts at that key's ``keydown`` in the page);
- **size limit → redraw**: the size-limit slider moved to a value that changes page 1;
- **page turn → redraw**: page 2, then page 1 (models with one page skip it).

Controls are changed in the page through ``dash_clientside.set_props``, as a committed slider
or seed box does, so the clock starts with the change, not with Selenium's round trip. "Drawn"
is the first animation frame after the graph's ``gd.data`` holds new heatmaps. For each action
the table also gives the ``_dash-update-component`` requests it caused (count and response
bytes, from ``performance.getEntriesByType('resource')``; feature sections' own requests
included) and the time from the last response byte before the frame to the frame (the
browser's share). Medians of ``--repeats`` (5). Prints one Markdown table with the machine's
load; exits 0 whatever the numbers (it measures, it does not test).

Usage:
    .venv/bin/python bench/browser.py [--models cnn,mobilenet] [--repeats 5] [--checkout DIR]

``--checkout`` serves another checkout's ``layerviz`` (e.g. main, for a before/after table:
``git archive main | tar -x -C /tmp/main`` gives one).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # tests/servers.py

# isort: split
import layerviz  # noqa: F401  before keras: it imports TensorFlow without the log noise

# isort: split
from benchlib import chosen_models, machine_line  # bench/benchlib.py
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from servers import free_port, http_status, wait_for  # tests/servers.py

HERE = Path(__file__).resolve().parent
MODELS = {"cnn": "digits_cnn", "mobilenet": "MobileNetV2 224²"}
LIMIT = 15  # the dashboard's default size limit
WINDOW = "1400,1000"

#: Shared page helpers: the activation graph, a cheap fingerprint of its heatmaps, a waiter.
PAGE_JS = """
window.__lv = window.__lv || {
  gd() { return document.querySelector('#activation-graph .js-plotly-plot'); },
  refs() {
    const g = this.gd();
    if (!g || !g.data) { return null; }
    const heat = g.data.filter(t => t.type === 'heatmap' || t.type === 'image');
    return heat.length ? heat.map(t => (t.z && t.z.bdata) || t.z || t.source) : null;
  },
  changed(before) {
    const now = this.refs();
    if (!now) { return false; }
    if (!before || now.length !== before.length) { return true; }
    return now.some((r, i) => r !== before[i]);
  },
  wait(before, done, t0, limitMs) {
    const self = this;
    function poll() {
      if (self.changed(before)) {
        // The frame after the new data: Plotly has drawn synchronously by then.
        requestAnimationFrame(() => setTimeout(() => done(performance.now() - t0), 0));
      } else if (performance.now() - t0 > limitMs) {
        done(-1);
      } else {
        requestAnimationFrame(poll);
      }
    }
    poll();
  },
};
"""

ACTION_JS = (
    PAGE_JS
    + """
const [id, prop, value, done] = arguments;
const before = window.__lv.refs();
performance.clearResourceTimings();
const t0 = performance.now();
window.__lv.t0 = t0;
window.dash_clientside.set_props(id, {[prop]: value});
window.__lv.wait(before, done, t0, 30000);
"""
)

FIRST_GRID_JS = (
    PAGE_JS
    + """
const done = arguments[0];
window.__lv.wait(null, done, 0, 60000);
"""
)

#: Arms a listener: the next Enter or Tab pressed starts the clock, new heatmaps stop it.
KEY_ARM_JS = (
    PAGE_JS
    + """
const before = window.__lv.refs();
window.__lv.keyMs = null;
performance.clearResourceTimings();
document.addEventListener('keydown', function armed(e) {
  if (e.key !== 'Enter' && e.key !== 'Tab') { return; }
  document.removeEventListener('keydown', armed, true);
  const t0 = performance.now();
  window.__lv.t0 = t0;
  window.__lv.wait(before, ms => { window.__lv.keyMs = ms; }, t0, 30000);
}, true);
"""
)

KEY_WAIT_JS = """
const done = arguments[0];
const start = performance.now();
(function poll() {
  if (window.__lv.keyMs !== null) { done(window.__lv.keyMs); }
  else if (performance.now() - start > 40000) { done(-1); }  // the key never armed the clock
  else { setTimeout(poll, 5); }
})();
"""

#: Every request of the open so far: [start ms, response end ms, transferred bytes, name].
#: The page itself first; a resource from the memory or disk cache transfers 0 bytes, and
#: images drawn from ``data:`` URLs are no requests.
OPEN_ENTRIES_JS = """
const nav = performance.getEntriesByType('navigation')[0];
const rows = [[0, nav.responseEnd, nav.transferSize, nav.name]];
for (const e of performance.getEntriesByType('resource')) {
  if (e.name.startsWith('http')) {
    rows.push([e.startTime, e.responseEnd, e.transferSize, e.name]);
  }
}
return rows;
"""

REQUESTS_JS = """
const t0 = arguments[0];
return performance.getEntriesByType('resource')
  .filter(e => e.name.includes('_dash-update-component'))
  .map(e => [e.encodedBodySize || e.transferSize, e.responseEnd - t0]);
"""


def serve(model: str, checkout: Path, port: int) -> subprocess.Popen:
    """``layerviz serve model`` from ``checkout`` on ``port``, once it answers."""
    env = dict(os.environ, PYTHONPATH=str(checkout), TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.Popen(
        [sys.executable, "-m", "layerviz", "serve", model, "--port", str(port)],
        cwd=checkout,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/"
    wait_for(lambda: http_status(url) == 200, 180, "layerviz serve", proc)
    return proc


def browser() -> webdriver.Chrome:
    """Headless Debian Chromium, the window as wide as the end-to-end tests'."""
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", f"--window-size={WINDOW}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_script_timeout(90)
    return driver


def open_page(driver, url: str) -> None:
    """``driver.get(url)``, once more when a loaded machine makes Chromium's renderer miss
    chromedriver's deadline (``Timed out receiving message from renderer``)."""
    from selenium.common.exceptions import TimeoutException

    try:
        driver.get(url)
    except TimeoutException:
        time.sleep(2.0)
        driver.get("about:blank")
        driver.get(url)


def limits_that_change(model_ref: str) -> tuple[int, int]:
    """Two size limits whose page 1 (3×3) shows different layers: the default and the nearest."""
    from layerviz.draw.grid import GridSettings, grid_pages
    from layerviz.extract.activations import ActivationExtractor
    from layerviz.load.loading import load_model
    from layerviz.patterns.inputs import random_pattern

    model = load_model(model_ref)
    acts = ActivationExtractor(model).extract(random_pattern(model, 0))

    def titles(limit):
        pages = grid_pages(acts, GridSettings(3, 3, limit))
        return [layer.title for layer in pages.page(1)] if pages.layers else []

    base = titles(LIMIT)
    for delta in range(1, 129):
        for other in (LIMIT - delta, LIMIT + delta):
            if 0 <= other <= 128 and titles(other) and titles(other) != base:
                return LIMIT, other
    raise RuntimeError("no size limit changes page 1")


def measure_opens(url: str, repeats: int) -> dict:
    """Cold and warm opens, ``repeats`` each: (ms, requests before the grid, bytes before the
    grid, bytes of the whole open). Each cold open is a fresh browser (an empty profile: no
    cache at all); the warm open is that browser's second visit."""
    results: dict[str, list] = {"cold": [], "warm": []}
    from selenium.common.exceptions import TimeoutException

    for _ in range(repeats):
        driver = browser()
        try:
            for kind in ("cold", "warm"):
                try:
                    open_page(driver, url)
                except TimeoutException:  # a machine too loaded to load the page: noted
                    results[kind].append((-1, 0, 0, 0))
                    continue
                ms = driver.execute_async_script(FIRST_GRID_JS)
                time.sleep(1.5)  # what the page still asks for after the grid
                entries = driver.execute_script(OPEN_ENTRIES_JS)
                before = [e for e in entries if e[0] <= ms and e[2] > 0]
                results[kind].append(
                    (ms, len(before), sum(e[2] for e in before), sum(e[2] for e in entries))
                )
        finally:
            driver.quit()
    return results


def measure_keystroke(driver, repeats: int) -> list:
    """A seed typed into the seed box and committed with Enter, ``repeats`` times: (ms,
    requests, bytes, last byte → frame ms), the clock started by the Enter key's keydown."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    box = driver.find_element(By.ID, "seed-input")
    samples = []
    for i in range(repeats):
        box.click()
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(str(200 + i))
        driver.execute_script(KEY_ARM_JS)
        box.send_keys(Keys.ENTER)
        ms = driver.execute_async_script(KEY_WAIT_JS)
        time.sleep(0.6)
        t0 = driver.execute_script("return window.__lv.t0")
        samples.append((ms, *_requests(driver, t0, ms)))
    return samples


def measure(driver, url: str, limits: tuple[int, int], repeats: int, pages: bool) -> dict:
    """Each action ``repeats`` times: a list of (ms, requests, bytes, last byte → frame ms)."""
    results: dict[str, list] = {"open": [], "seed": [], "key": [], "limit": [], "page": []}
    for _ in range(repeats):
        open_page(driver, url)
        ms = driver.execute_async_script(FIRST_GRID_JS)
        results["open"].append((ms, *_requests(driver, 0.0, ms)))
    time.sleep(1.0)
    results["key"] = measure_keystroke(driver, repeats)
    plan = [("seed", "seed-input", "value", lambda i: 100 + i)]
    plan.append(("limit", "size-limit", "value", lambda i: limits[(i + 1) % 2]))
    if pages:
        plan.append(("page", "page-select", "active_page", lambda i: 2 if i % 2 == 0 else 1))
    for name, id_, prop, value in plan:
        for i in range(repeats):
            ms = driver.execute_async_script(ACTION_JS, id_, prop, value(i))
            time.sleep(0.6)  # let any later request land before counting
            t0 = driver.execute_script("return window.__lv.t0")
            results[name].append((ms, *_requests(driver, t0, ms)))
        if name == "limit" and repeats % 2:  # back to the default limit
            driver.execute_async_script(ACTION_JS, id_, prop, limits[0])
            time.sleep(0.6)
    return results


def _requests(driver, t0: float, ms: float) -> tuple[int, int, float]:
    """Callback requests since ``t0``: count, response bytes, and the time from the last
    response that came before the frame (the one the grid waited for) to the frame, in ms.
    Feature sections' own requests that end later are counted but do not move that time."""
    entries = driver.execute_script(REQUESTS_JS, t0)
    if not entries:
        return 0, 0, float("nan")
    waited = [e[1] for e in entries if e[1] <= ms]
    gap = ms - max(waited) if waited else float("nan")
    return len(entries), sum(e[0] for e in entries), gap


def mobilenet_file(folder: Path) -> Path:
    """``MobileNetV2(weights=None)`` saved as a ``.keras`` file in ``folder``."""
    import keras

    path = folder / "mobilenetv2.keras"
    keras.applications.MobileNetV2(weights=None).save(path)
    return path


def row(model: str, action: str, samples: list, last_in_kb: bool = False) -> str:
    """One table row: medians of time, requests, bytes, and the last column: last byte →
    frame in ms (the actions' table), or bytes of the whole open (``last_in_kb``)."""
    good = [s for s in samples if s[0] >= 0]
    if not good:
        return f"| {model} | {action} | timed out | | | |"
    med = [statistics.median(s[k] for s in good) for k in range(4)]
    spread = f"{min(s[0] for s in good):.0f}–{max(s[0] for s in good):.0f}"
    last = f"{med[3] / 1024:.0f} KB" if last_in_kb else f"{med[3]:.0f}"
    return (
        f"| {model} | {action} | {med[0]:.0f} ({spread}) | {med[1]:.0f} | "
        f"{med[2] / 1024:.0f} KB | {last} |"
    )


ACTIONS = {
    "open": "open → first grid",
    "seed": "seed → heatmaps (set_props)",
    "key": "seed → heatmaps (keystroke: type, Enter)",
    "limit": "size limit → redraw",
    "page": "page turn → redraw",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="cnn,mobilenet", help="cnn, mobilenet")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--checkout", type=Path, default=HERE.parent, help="layerviz to serve")
    args = parser.parse_args()
    keys = chosen_models(parser, args.models, MODELS)
    load = os.getloadavg()[0]
    lines = [
        f"Checkout served: {args.checkout.resolve()}",
        "",
        "| model | action | ms, median (min–max) | requests (all) | response bytes (all) | "
        "last byte before the frame → frame, ms |",
        "|---|---|--:|--:|--:|--:|",
    ]
    open_lines = [
        "",
        "| model | open | ms to first grid, median (min–max) | requests before the grid | "
        "bytes transferred before the grid | bytes transferred, whole open |",
        "|---|---|--:|--:|--:|--:|",
    ]
    notes = []
    with tempfile.TemporaryDirectory() as tmp:
        driver = browser()
        try:
            for key in keys:
                ref = "digits_cnn" if key == "cnn" else str(mobilenet_file(Path(tmp)))
                port = free_port()
                proc = serve(ref, args.checkout.resolve(), port)
                try:
                    limits = limits_that_change(ref)
                    notes.append(f"{MODELS[key]}: size limit {limits[0]} ↔ {limits[1]}")
                    url = f"http://127.0.0.1:{port}/"
                    res = measure(driver, url, limits, args.repeats, key != "cnn")
                    opens = measure_opens(url, args.repeats)
                    for kind, samples in opens.items():
                        open_lines.append(row(MODELS[key], kind, samples, last_in_kb=True))
                finally:
                    proc.terminate()
                    proc.wait(10)
                for action, label in ACTIONS.items():
                    if res[action]:
                        lines.append(row(MODELS[key], label, res[action]))
        finally:
            driver.quit()
    print("\n".join(lines + open_lines))
    print(
        f"\nSize limit moves alternate {LIMIT} and the nearest limit that changes page 1 "
        f"({'; '.join(notes)})."
    )
    print(machine_line(load, extra="headless Chromium " + _chromium_version()))
    print(
        "Targets: MobileNetV2 seed → heatmaps ≤ 350 ms, size limit or page turn → redraw "
        "≤ 200 ms; digits_cnn seed → heatmaps ≤ 200 ms (from the keystroke too); open → first "
        "grid ≤ 1.0 s digits_cnn, ≤ 1.5 s MobileNetV2, ≤ 6 requests before the grid."
    )
    return 0


def _chromium_version() -> str:
    out = subprocess.run(["chromium", "--version"], capture_output=True, text=True).stdout
    return out.split()[1] if len(out.split()) > 1 else "?"


if __name__ == "__main__":
    sys.exit(main())
