"""Benchmark: scrubbing a recorded run in the browser, from the key press to new heatmaps drawn.

Serves ``layerviz serve digits_cnn --run models/runs/digits_cnn`` (the bundled run, 26 records)
in a subprocess, opens it in headless Chromium, opens the *Training run* tab and moves the
epoch slider with the keyboard, as a person does: the handle has focus, ArrowLeft / ArrowRight
is pressed (Selenium ``send_keys``), and the clock starts in the page at that key's ``keydown``
and stops at the first animation frame after the run grid's ``gd.data`` holds new images (the
rule ``bench/browser.py`` uses for seed → heatmaps). Timed at the default size limit (15: three
panels) and at 0 (a full 3×3 page of nine panels). In the same session, for comparison, the
main grid's seed → heatmaps from the keystroke (``bench/browser.py``'s way).

Each row: median (min–max) of ``--repeats`` presses, the callback requests a press caused
(the grid's and the curves'), their response bytes, and the time from the last response byte
before the frame to the frame (the browser's share). Prints one Markdown table with the
machine's load; exits 0 whatever the numbers (it measures, it does not test).

Usage:
    .venv/bin/python bench/scrub.py [--repeats 10]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # tests/servers.py

# isort: split
import layerviz  # noqa: F401  before keras: it imports TensorFlow without the log noise

# isort: split
from benchlib import machine_line  # bench/benchlib.py
from browser import (  # bench/browser.py
    ACTION_JS,
    KEY_WAIT_JS,
    _chromium_version,
    _requests,
    browser,
    measure_keystroke,
    open_page,
    row,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from servers import free_port, http_status, wait_for  # tests/servers.py

from layerviz.ui import ids

HERE = Path(__file__).resolve().parent
RUN = HERE.parent / "models" / "runs" / "digits_cnn"

#: The run grid's fingerprint (its images' sources) and a waiter, beside bench/browser.py's.
RUN_JS = f"""
window.__run = window.__run || {{
  refs() {{
    const g = document.querySelector('#{ids.RUN_GRID} .js-plotly-plot');
    if (!g || !g.data || !g.data.length) {{ return null; }}
    return g.data.map(t => t.source || (t.z && t.z.bdata) || t.z);
  }},
}};
"""

#: Arms a listener: the next arrow key starts the clock, new run-grid images stop it.
ARM_JS = (
    RUN_JS
    + """
const before = window.__run.refs();
window.__lv = window.__lv || {};
window.__lv.keyMs = null;
performance.clearResourceTimings();
document.addEventListener('keydown', function armed(e) {
  if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') { return; }
  document.removeEventListener('keydown', armed, true);
  const t0 = performance.now();
  window.__lv.t0 = t0;
  (function poll() {
    const now = window.__run.refs();
    const changed = now && (!before || now.length !== before.length
                            || now.some((r, i) => r !== before[i]));
    if (changed) {
      requestAnimationFrame(() => setTimeout(() => {
        window.__lv.keyMs = performance.now() - t0; }, 0));
    } else if (performance.now() - t0 > 30000) { window.__lv.keyMs = -1; }
    else { requestAnimationFrame(poll); }
  })();
}, true);
"""
)

TAB_JS = f"""
const link = Array.from(document.querySelectorAll('#{ids.DETAIL_TABS} .nav-link'))
    .find(a => a.textContent.trim() === 'Training run');
if (link) {{ link.click(); }}
return !!link;
"""


def serve(port: int) -> subprocess.Popen:
    """``layerviz serve digits_cnn --run RUN`` from this checkout on ``port``, once it answers."""
    env = dict(os.environ, PYTHONPATH=str(HERE.parent), TF_CPP_MIN_LOG_LEVEL="3")
    command = [sys.executable, "-m", "layerviz", "serve", "digits_cnn", "--run", str(RUN)]
    proc = subprocess.Popen(
        [*command, "--port", str(port)],
        cwd=HERE.parent,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/"
    wait_for(lambda: http_status(url) == 200, 180, "layerviz serve", proc)
    return proc


def wait_until(driver, script: str, timeout: float = 60.0) -> None:
    """Poll ``script`` (returning true when ready) every 100 ms for up to ``timeout`` s."""
    end = time.monotonic() + timeout
    while not driver.execute_script(RUN_JS + script):
        if time.monotonic() > end:
            raise TimeoutError(f"not ready after {timeout} s: {script}")
        time.sleep(0.1)


def scrub(driver, repeats: int) -> list:
    """``repeats`` arrow presses on the epoch slider's handle, alternately left and right."""
    handle = driver.find_element(By.CSS_SELECTOR, f"#{ids.RUN_EPOCH_SLIDER} [role=slider]")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", handle)
    samples = []
    for i in range(repeats):
        driver.execute_script(ARM_JS)
        handle.send_keys(Keys.ARROW_LEFT if i % 2 == 0 else Keys.ARROW_RIGHT)
        ms = driver.execute_async_script(KEY_WAIT_JS)
        time.sleep(0.6)  # let the curves' request land before counting
        t0 = driver.execute_script("return window.__lv.t0")
        samples.append((ms, *_requests(driver, t0, ms)))
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    lines = [
        "| model | action | ms, median (min–max) | requests (all) | response bytes (all) | "
        "last byte before the frame → frame, ms |",
        "|---|---|--:|--:|--:|--:|",
    ]
    driver = browser()
    port = free_port()
    proc = serve(port)
    try:
        open_page(driver, f"http://127.0.0.1:{port}/")
        wait_until(driver, "return !!document.querySelector('#activation-graph .js-plotly-plot');")
        time.sleep(1.0)
        lines.append(row("digits_cnn", "seed → heatmaps (keystroke)", measure_keystroke(driver, 5)))
        wait_until(driver, TAB_JS)
        wait_until(driver, "return window.__run.refs() !== null;")
        time.sleep(1.0)
        rows = [("epoch slider key → run grid (limit 15: 3 panels)", scrub(driver, args.repeats))]
        driver.execute_async_script(ACTION_JS, ids.SIZE_LIMIT, "value", 0)
        wait_until(driver, "const r = window.__run.refs(); return r && r.length === 9;")
        time.sleep(1.0)
        rows.append(
            ("epoch slider key → run grid (limit 0: 9 panels)", scrub(driver, args.repeats))
        )
        lines += [row("digits_cnn run", label, samples) for label, samples in rows]
    finally:
        driver.quit()
        proc.terminate()
        proc.wait(10)
    print("\n".join(lines))
    print(machine_line(load, extra="headless Chromium " + _chromium_version()))
    print("Target: scrubbing one epoch in the browser ≤ 200 ms (issue 22, seed → heatmaps rule).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
