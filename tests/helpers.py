"""Small file-building helpers the tests share (conftest modules are not importable by name).

``pyproject.toml`` puts ``tests/`` on the path, so any test module can ``from helpers import ...``.
"""

from __future__ import annotations

import io
import time

import numpy as np

#: The eight bytes every PNG file starts with.
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def npy_bytes(array, *, allow_pickle: bool = False) -> bytes:
    """``array`` as the bytes of a ``.npy`` file."""
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def npz_bytes(**arrays) -> bytes:
    """The named arrays as the bytes of a ``.npz`` file."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    """``layerviz`` run in this process on ``argv`` (each made a string): its exit code and
    what it printed to stdout and stderr (read through pytest's ``capsys``)."""
    from layerviz.cli import main

    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


#: Moves the pointer over pixel ``(row, col)`` of a subplot's image with a real ``mousemove``
#: on Plotly's drag layer (Selenium's own pointer raises no Plotly hover in headless
#: Chromium), and returns the point Plotly reported: ``[curveNumber, x, y]``, or null.
_HOVER_JS = """
const [graph, subplot, row, col] = arguments;
const gd = document.querySelector('#' + graph + ' .js-plotly-plot');
const drag = gd.querySelector(`.nsewdrag[data-subplot='${subplot}']`);
const box = drag.getBoundingClientRect();
const s = subplot.slice(1, subplot.indexOf('y'));
const xa = gd._fullLayout['xaxis' + s], ya = gd._fullLayout['yaxis' + s];
let seen = null;
const record = e => { seen = [e.points[0].curveNumber, e.points[0].x, e.points[0].y]; };
gd.on('plotly_hover', record);
drag.dispatchEvent(new MouseEvent('mousemove', {
  clientX: box.left + xa.d2p(col), clientY: box.top + ya.d2p(row), bubbles: true}));
gd.removeListener('plotly_hover', record);
return seen;
"""


def hover_grid(driver, graph: str, subplot: str, row: float, col: float) -> list | None:
    """Hover pixel ``(row, col)`` of ``subplot`` (``"x2y2"``) in graph ``graph``; the point
    Plotly reported (``[curveNumber, x, y]``), or None when it reported none.

    Plotly throttles hover events (one per ~50 ms) and a grid may still be redrawn by a
    follow-up response, so a move that reported nothing is tried again for up to 3 s.
    """
    deadline = time.monotonic() + 3.0
    while True:
        point = driver.execute_script(_HOVER_JS, graph, subplot, row, col)
        if point is not None or time.monotonic() > deadline:
            return point
        time.sleep(0.1)
