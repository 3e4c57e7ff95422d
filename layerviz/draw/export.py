"""The article's PNG files: pages of viridis panels, titled with matplotlib, saved by Pillow.

Only matplotlib's object API is used (``Figure`` + the Agg canvas), never ``pyplot``: no global
state, safe in a server thread, no window ever opened. The same function draws the dashboard's
page download, its zip and ``plot_pattern_process``'s files, so they are the same bytes.
"""

from __future__ import annotations

import functools
import io
import os
import shutil
import tempfile
import zipfile
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import keras
import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from layerviz.analysis.compare import Comparison
from layerviz.draw.grid import GridPages, GridSettings, grid_pages
from layerviz.draw.normalise import ARTICLE_NORM, check_norm, colour_ranges, normalised_image
from layerviz.draw.selection import VisibleLayer
from layerviz.errors import GraphvizError
from layerviz.extract.activations import ActivationExtractor
from layerviz.load.loading import load_model

__all__ = [
    "ExportedPages",
    "architecture_png",
    "coloured",
    "comparison_pngs",
    "export_pattern",
    "page_layers",
    "page_png",
    "pages_png",
    "plot_pattern_process",
    "streamed_pages_png",
    "zip_of",
]

#: Size of one panel in inches; at ``DPI`` a 3×3 page is 1200×1200 pixels.
PANEL_INCHES = 4.0
DPI = 100
CMAP = "viridis"
#: The diverging map for differences B − A: blue below 0, white at 0, red above.
DIFF_CMAP = "RdBu_r"
#: One panel's side in pixels, and the margins inside it: a title band on top.
PANEL_PX = round(PANEL_INCHES * DPI)
_SIDE_PX, _TITLE_PX, _BOTTOM_PX = 10, 26, 8
#: zlib level of the PNGs. Activation maps are noise-like: level 1 makes files about 2% larger
#: than level 6 and encodes about twice as fast (encoding was a third of the export's time).
PNG_LEVEL = 1
#: Pages drawn at once. Most of a page's time is zlib and numpy, which release the GIL, so
#: threads pay, without a process pool, when a core is free: on this project's shared 2-core
#: machine (load about 3) two threads drew MobileNetV2's 7 pages in 1.43 s against 1.08 s for
#: one, so small machines draw one page at a time (the dashboard already runs two exports at
#: once).
PAGE_THREADS = max(1, min(4, (os.cpu_count() or 1) // 2))
#: Above this many bytes of activations per pattern (full resolution), an export holds one
#: page's layers at a time (a sub-pass per page) instead of every layer's output at once.
STREAM_BYTES = 256 * 2**20


@functools.cache
def _palette(name: str) -> np.ndarray:
    """A colour map as its N RGB rows, then white for NaN (the gaps between montage tiles)."""
    cmap = matplotlib.colormaps[name]
    colours = cmap(np.arange(cmap.N), bytes=True)[:, :3]
    return np.vstack([colours, [[255, 255, 255]]]).astype(np.uint8)


def _fitted_size(h: int, w: int) -> tuple[int, int]:
    """Pixels a ``h × w`` map gets in its panel: aspect kept, a ``1 × n`` strip fills it."""
    box_w, box_h = PANEL_PX - 2 * _SIDE_PX, PANEL_PX - _TITLE_PX - _BOTTOM_PX
    if h == 1:
        return box_h, box_w
    scale = min(box_w / w, box_h / h)
    return max(1, round(h * scale)), max(1, round(w * scale))


def coloured(
    image: np.ndarray,
    out_h: int,
    out_w: int,
    cmap: str = CMAP,
    symmetric: bool = False,
    limits: tuple[float, float] | None = None,
) -> np.ndarray:
    """``image`` resampled (nearest) to ``out_h × out_w`` and coloured: uint8 RGB.

    Colours span the image's own finite range, as ``imshow`` does, or ``±max|value|`` when
    ``symmetric`` (0 in the middle colour, for differences), or ``limits`` when given (a
    range shared with other panels, :mod:`layerviz.draw.normalise`); NaN and ±Inf are white.
    """
    h, w = image.shape
    rows = ((np.arange(out_h) + 0.5) * (h / out_h)).astype(np.intp)
    cols = ((np.arange(out_w) + 0.5) * (w / out_w)).astype(np.intp)
    if limits is not None:
        low, high = (float(v) for v in limits)
    elif symmetric:
        limits = _symmetric_range(image)
        low, high = limits["vmin"], limits["vmax"]
    else:
        finite = np.isfinite(image)
        low = float(np.min(image, where=finite, initial=np.inf))
        high = float(np.max(image, where=finite, initial=-np.inf))
    small = image[rows[:, None], cols[None, :]]
    palette = _palette(cmap)
    n = len(palette) - 1
    span = high - low if high > low else 1.0
    with np.errstate(invalid="ignore"):
        index = np.clip((small - low) * (n / span), 0, n - 1)
    index = np.where(np.isfinite(small), index, n).astype(np.intp)
    return palette[index]


def page_png(
    page: Sequence[VisibleLayer],
    grid_size: Sequence[int] = (3, 3),
    cmap: str = CMAP,
    symmetric: bool = False,
    norm: str | None = None,
) -> bytes:
    """Draw one page as a PNG: a ``rows × cols`` grid of panels titled ``"{index}: {name}"``.

    Cells past the last layer stay blank, as in the article. matplotlib draws only the titles;
    the maps are coloured and placed with numpy, as matplotlib's own ``imshow`` resampling and
    layout took about 80% of the time for the same picture.

    Args:
        page: the layers to draw, in order.
        grid_size: ``(rows, cols)`` of panels.
        cmap: a matplotlib colour map name (the article's viridis by default).
        symmetric: give each panel a colour range symmetric around 0, ``±max|value|`` of
            its own image, so that 0 is the map's middle colour: for differences with a
            diverging map such as ``"RdBu_r"``.
        norm: a normalisation mode of :mod:`layerviz.draw.normalise` (``"map"``, ``"layer"``,
            ``"page"``); None or ``"layer"`` is the article's per-panel range, byte for byte
            the same PNG. Ignored when ``symmetric``.

    Raises:
        ArgumentError: an unknown ``norm``.
    """
    rows, cols = (int(v) for v in grid_size)
    drawn = _drawn_images(page[: rows * cols], None if symmetric else norm)
    height, width = rows * PANEL_PX, cols * PANEL_PX
    fig = Figure(figsize=(PANEL_INCHES * cols, PANEL_INCHES * rows), dpi=DPI)
    canvas = FigureCanvasAgg(fig)
    panels = []
    for cell, layer in enumerate(page[: rows * cols]):
        r, c = divmod(cell, cols)
        out_h, out_w = _fitted_size(*layer.image.shape)
        x0 = c * PANEL_PX + (PANEL_PX - out_w) // 2
        y0 = r * PANEL_PX + _TITLE_PX + (PANEL_PX - _TITLE_PX - _BOTTOM_PX - out_h) // 2
        image, limits = drawn[cell]
        panels.append((y0, x0, coloured(image, out_h, out_w, cmap, symmetric, limits)))
        centre, baseline = (x0 + out_w / 2) / width, 1 - (y0 - 6) / height
        fig.text(centre, baseline, layer.title, ha="center", va="baseline", fontsize=10)
    canvas.draw()
    pixels = np.array(np.asarray(canvas.buffer_rgba())[..., :3])
    for y0, x0, panel in panels:
        pixels[y0 : y0 + panel.shape[0], x0 : x0 + panel.shape[1]] = panel
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="png", compress_level=PNG_LEVEL)
    return buffer.getvalue()


def _drawn_images(page: Sequence[VisibleLayer], norm: str | None) -> list:
    """Each panel's image and colour range under ``norm`` (None: its own, as ``imshow``)."""
    if norm is None or check_norm(norm) == ARTICLE_NORM:
        return [(layer.image, None) for layer in page]  # the article's path, unchanged
    ranges = colour_ranges(page, norm)
    return [normalised_image(layer, r) for layer, r in zip(page, ranges, strict=True)]


def _symmetric_range(image: np.ndarray) -> dict[str, float]:
    """``vmin``/``vmax`` at ``±max|image|`` (NaN gaps ignored; ±1 for an all-zero image)."""
    finite = image[np.isfinite(image)]
    half = float(np.abs(finite).max()) if finite.size else 0.0
    half = half or 1.0
    return {"vmin": -half, "vmax": half}


def pages_png(
    pages: GridPages,
    progress: Callable[[int, int], None] | None = None,
    cmap: str = CMAP,
    symmetric: bool = False,
    norm: str | None = None,
) -> list[bytes]:
    """Draw every page as a PNG, ``PAGE_THREADS`` at once, in page order.

    ``progress(done, total)`` is called after each page, from the calling thread; ``cmap``,
    ``symmetric`` and ``norm`` are passed to :func:`page_png` (``"page"`` is one range per
    PNG page, the panels drawn together).

    Raises:
        ArgumentError: an unknown ``norm`` (before any page is drawn).
    """
    if norm is not None:
        check_norm(norm)
    total = len(pages.pages)
    out = []
    with ThreadPoolExecutor(PAGE_THREADS) as pool:
        futures = [
            pool.submit(
                page_png, page, pages.settings.grid, cmap=cmap, symmetric=symmetric, norm=norm
            )
            for page in pages.pages
        ]
        for number, future in enumerate(futures, start=1):
            out.append(future.result())
            if progress:
                progress(number, total)
    return out


def page_layers(extractor: ActivationExtractor, pattern, page: Sequence[VisibleLayer]):
    """A page's panels at full resolution: only its layers' outputs, from a sub-pass."""
    names = list(dict.fromkeys(panel.name for panel in page))
    found = {act.name: act for act in extractor.extract_layers(pattern, names)}
    return [VisibleLayer(found[panel.name], panel.head) for panel in page]


def streamed_pages_png(
    pages: GridPages,
    load: Callable[[list[VisibleLayer]], list[VisibleLayer]],
    progress: Callable[[int, int], None] | None = None,
    norm: str | None = None,
) -> Iterator[bytes]:
    """:func:`pages_png` holding only a few pages' layers at a time: ``load(page)`` gives a
    page's panels at full resolution (``page_layers``), drawn and dropped before the next
    ``PAGE_THREADS`` are loaded. Same bytes, page for page.

    Raises:
        ArgumentError: an unknown ``norm`` (before any page is drawn).
    """
    if norm is not None:
        check_norm(norm)
    total, done = len(pages.pages), 0
    with ThreadPoolExecutor(PAGE_THREADS) as pool:
        waiting: deque = deque()
        for number, page in enumerate(pages.pages):
            full = load(page)
            waiting.append(pool.submit(page_png, full, pages.settings.grid, norm=norm))
            while waiting and (len(waiting) >= PAGE_THREADS or number == total - 1):
                yield waiting.popleft().result()
                done += 1
                if progress:
                    progress(done, total)


def comparison_pngs(
    comparison: Comparison,
    settings: GridSettings,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, list[bytes]]:
    """The article's pages of A, of B and of B − A, cut alike by ``settings``.

    A and B are drawn as ``plot_pattern_process`` draws one pattern; B − A with the diverging
    ``DIFF_CMAP``, each panel's range symmetric around 0.

    Returns:
        ``{"a": [...], "b": [...], "diff": [...]}``: page PNGs, the same number in each.
    """
    diffs = [d.activation("diff") for d in comparison.layers]
    sets = {
        "a": (comparison.a.activations, CMAP, False),
        "b": (comparison.b.activations, CMAP, False),
        "diff": (diffs, DIFF_CMAP, True),
    }
    return {
        name: pages_png(grid_pages(acts, settings), progress, cmap, symmetric)
        for name, (acts, cmap, symmetric) in sets.items()
    }


def zip_of(pngs: Sequence[bytes], architecture: bytes | None = None) -> bytes:
    """Pages as ``0.png, 1.png, …`` (then ``model.png`` when given) in one stored zip.

    Entries carry a fixed timestamp, so the same export is the same bytes; PNGs are compressed
    already, so they are stored.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for number, png in enumerate(pngs):
            archive.writestr(_zip_entry(f"{number}.png"), png)
        if architecture is not None:
            archive.writestr(_zip_entry("model.png"), architecture)
    return buffer.getvalue()


def _zip_entry(name: str) -> zipfile.ZipInfo:
    return zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))


def architecture_png(model) -> bytes:
    """Draw the model's architecture (nested models expanded) with ``keras.utils.plot_model``.

    Raises:
        GraphvizError: Graphviz's ``dot`` program or the ``pydot`` package is missing.
    """
    if shutil.which("dot") is None:
        raise GraphvizError(
            "drawing the architecture needs Graphviz's 'dot' program, which is not installed "
            "(Debian/Ubuntu: apt-get install graphviz)"
        )
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "model.png"
        try:
            keras.utils.plot_model(
                model,
                to_file=str(target),
                show_shapes=True,
                show_layer_names=True,
                expand_nested=True,
                dpi=96,
            )
        except ImportError as exc:
            raise GraphvizError(
                f"drawing the architecture needs pydot and Graphviz: {exc}"
            ) from exc
        if not target.exists():
            raise GraphvizError("keras.utils.plot_model wrote no file (is Graphviz installed?)")
        return target.read_bytes()


def plot_pattern_process(
    model,
    pattern: np.ndarray,
    folder_to_save: str | Path,
    grid_size: Sequence[int] = (3, 3),
    limit_size_layer: Sequence[int] = (15, 15),
    plot_model: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """The article's function, done right: write ``0.png``, ``1.png``, ... for one pattern.

    Runs the pattern through the model once, keeps the outputs larger than
    ``limit_size_layer`` on both sides, and writes them ``grid_size`` panels per file.

    Args:
        model: a Keras model, or a path / bundled name for ``load_model``.
        pattern: an array of the model's input shape (with or without the batch axis).
        folder_to_save: created if missing.
        grid_size: ``(rows, cols)`` of panels per file.
        limit_size_layer: ``(height, width)``; a layer shows when its maps are larger.
        plot_model: also write ``model.png``, the architecture (needs Graphviz).
        progress: called as ``progress(done, total)`` after each page.

    Returns:
        The paths written, pages first, then ``model.png`` if asked for.

    Raises:
        PatternError: the pattern does not fit the model.
        ArgumentError: a grid side outside 1–6, or a negative limit (``layerviz.draw.grid``).
        GraphvizError: ``plot_model=True`` and Graphviz is missing (checked before any file is
            written).
        ModelLoadError: ``model`` is a path or name that cannot be loaded.
    """
    settings = GridSettings.checked(grid_size, limit_size_layer)
    return export_pattern(model, pattern, folder_to_save, settings, plot_model, progress).paths


@dataclass(frozen=True, eq=False)
class ExportedPages:
    """What ``export_pattern`` wrote: the files, and the pages of panels they draw.

    Attributes:
        paths: the page PNGs in order (``0.png``, ...), then ``model.png`` if asked for.
        pages: the panels of each page (``pages.pages[n]`` is drawn in ``n.png``).
    """

    paths: list[Path]
    pages: GridPages


def export_pattern(
    model,
    pattern: np.ndarray,
    folder: str | Path,
    settings: GridSettings,
    plot_model: bool = False,
    progress: Callable[[int, int], None] | None = None,
    norm: str | None = None,
) -> ExportedPages:
    """``plot_pattern_process`` with settings already checked, also giving back the pages.

    Same arguments (``settings`` in place of ``grid_size`` and ``limit_size_layer``) and
    errors as ``plot_pattern_process``; a caller that lists what each file shows (the CLI)
    reads ``pages`` instead of running the pattern through the model again. ``norm`` is
    :func:`pages_png`'s (None: the article's per-panel range; an unknown one raises
    ``ArgumentError`` before the model runs).
    """
    if norm is not None:
        check_norm(norm)
    if isinstance(model, (str, Path)):
        model = load_model(model)
    architecture = architecture_png(model) if plot_model else None
    extractor = ActivationExtractor(model)
    if extractor.activation_bytes <= STREAM_BYTES:
        pages = grid_pages(extractor.extract(pattern), settings)
        pngs = pages_png(pages, progress, norm=norm)
    else:  # hold one page's layers at a time, not the network's
        pages = grid_pages(extractor.extract_reduced(pattern).item(0), settings)
        load = functools.partial(page_layers, extractor, pattern)
        pngs = streamed_pages_png(pages, load, progress, norm)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for number, png in enumerate(pngs):
        path = folder / f"{number}.png"
        path.write_bytes(png)
        written.append(path)
    if architecture is not None:
        path = folder / "model.png"
        path.write_bytes(architecture)
        written.append(path)
    return ExportedPages(written, pages)
