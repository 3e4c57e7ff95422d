"""Tests for layerviz.draw.export: the article's PNG files, written with matplotlib.

The first test reproduces the article's own run: its Dense model, uniform noise from seed 0,
a 2×2 grid and the 15×15 limit give one file, ``0.png``, with the three layers whose outputs
are wider than 15.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from types import SimpleNamespace

import keras
import numpy as np
import pytest
from helpers import PNG_MAGIC
from PIL import Image

from layerviz.draw import export
from layerviz.draw.export import (
    DPI,
    PANEL_INCHES,
    architecture_png,
    page_png,
    pages_png,
    plot_pattern_process,
)
from layerviz.draw.grid import GridPages, GridSettings
from layerviz.draw.selection import VisibleLayer, paginate, visible_layers
from layerviz.errors import ArgumentError, GraphvizError, PatternError
from layerviz.extract.activations import ActivationExtractor, LayerActivation

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None,
    reason="Graphviz's 'dot' program is not installed (apt-get install graphviz)",
)


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG, read by Pillow (which also checks it is one)."""
    assert data.startswith(PNG_MAGIC)
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        image.load()
        return image.size


def panel_pixels(rows: int, cols: int) -> tuple[int, int]:
    return round(cols * PANEL_INCHES * DPI), round(rows * PANEL_INCHES * DPI)


def fake_layers(n: int, shape: tuple[int, ...] = (20, 20)) -> list[VisibleLayer]:
    rng = np.random.default_rng(0)
    return [
        VisibleLayer(LayerActivation(i, f"l{i}", "Conv2D", rng.random(shape, dtype=np.float32)))
        for i in range(1, n + 1)
    ]


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.fixture
def page_spy(monkeypatch) -> list[list[VisibleLayer]]:
    """Record every page ``plot_pattern_process`` draws, still drawing it."""
    pages: list[list[VisibleLayer]] = []
    real = export.page_png

    def spy(page, grid_size=(3, 3), **options):
        pages.append(list(page))
        return real(page, grid_size, **options)

    monkeypatch.setattr(export, "page_png", spy)
    return pages


def cnn_with_many_maps() -> keras.Model:
    """Five layers with 20×20 or larger maps, then a small one: 5 visible layers."""
    inputs = keras.Input((24, 24, 1), name="image")
    x = inputs
    for i, filters in enumerate([2, 3, 2, 2, 1], start=1):
        x = keras.layers.Conv2D(filters, 1, name=f"conv{i}")(x)
    x = keras.layers.MaxPooling2D(4, name="pool")(x)
    return keras.Model(inputs, x, name="many_maps")


# --- the article -----------------------------------------------------------------------------


def test_article_reproduction(article_model, article_pattern, tmp_path, page_spy):
    out = tmp_path / "article"

    written = plot_pattern_process(
        article_model, article_pattern, out, grid_size=(2, 2), limit_size_layer=(15, 15)
    )

    assert written == [out / "0.png"]
    assert files_in(out) == ["0.png"]
    # The three Dense outputs wider than 15 (75, 50 and 25), not the 10-wide one, the Flatten
    # or the softmax.
    assert len(page_spy) == 1
    assert [(v.index, v.name, v.map_shape) for v in page_spy[0]] == [
        (1, "dense", (50, 75)),
        (2, "my_dense", (50, 50)),
        (3, "dense_1", (50, 25)),
    ]
    acts = ActivationExtractor(article_model).extract(article_pattern)
    selected = visible_layers(acts, (15, 15))
    assert [(v.index, v.name) for v in selected] == [(1, "dense"), (2, "my_dense"), (3, "dense_1")]
    # The file is the page drawn from that selection, byte for byte.
    data = written[0].read_bytes()
    assert data == page_png(selected, (2, 2))
    assert png_size(data) == panel_pixels(2, 2) == (800, 800)


def test_article_model_by_path(saved_article_model, article_pattern, tmp_path):
    written = plot_pattern_process(
        str(saved_article_model), article_pattern, tmp_path / "out", grid_size=(2, 2)
    )
    assert [p.name for p in written] == ["0.png"]


def test_folder_is_created_with_parents(article_model, article_pattern, tmp_path):
    out = tmp_path / "a" / "b" / "c"
    written = plot_pattern_process(article_model, article_pattern, out)
    assert written == [out / "0.png"]


# --- pages and files -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grid", "limit", "files"),
    [
        ((2, 2), (15, 15), ["0.png", "1.png"]),  # 5 visible layers: 4 + 1
        ((1, 1), (15, 15), ["0.png", "1.png", "2.png", "3.png", "4.png"]),
        ((2, 3), (15, 15), ["0.png"]),
        ((3, 3), (6, 6), ["0.png"]),  # the 6x6 pool output is not larger than 6x6
        ((1, 2), (5, 5), ["0.png", "1.png", "2.png"]),  # ... but is larger than 5x5
        ((3, 3), (24, 24), []),  # nothing is larger than 24x24
        ((3, 3), (1000, 1000), []),
    ],
)
def test_files_per_grid_and_limit(grid, limit, files, keras_session, tmp_path):
    model = cnn_with_many_maps()
    pattern = np.random.default_rng(1).random((24, 24, 1))

    written = plot_pattern_process(model, pattern, tmp_path, grid_size=grid, limit_size_layer=limit)

    assert [p.name for p in written] == files
    assert files_in(tmp_path) == sorted(files)
    for path in written:
        assert png_size(path.read_bytes()) == panel_pixels(*grid)


def test_files_hold_pages_in_model_order(keras_session, tmp_path, page_spy):
    model = cnn_with_many_maps()
    plot_pattern_process(model, np.ones((24, 24, 1)), tmp_path, grid_size=(2, 2))
    assert [[v.name for v in page] for page in page_spy] == [
        ["conv1", "conv2", "conv3", "conv4"],
        ["conv5"],
    ]


def test_nothing_visible_writes_nothing(article_model, article_pattern, tmp_path):
    progress = []
    written = plot_pattern_process(
        article_model,
        article_pattern,
        tmp_path / "out",
        limit_size_layer=(50, 50),
        progress=lambda *a: progress.append(a),
    )
    assert written == []
    assert files_in(tmp_path / "out") == []
    assert progress == []


def pages_of(layers, grid) -> GridPages:
    """The pages of ``layers`` as the grid pipeline cuts them (every layer already visible)."""
    return GridPages(GridSettings(*grid, 0), layers, paginate(layers, grid), len(layers))


def test_pages_png_equals_page_png_per_page():
    layers = fake_layers(7)
    pages = pages_png(pages_of(layers, (2, 2)))
    assert len(pages) == 2
    assert pages[0] == page_png(layers[:4], (2, 2))
    assert pages[1] == page_png(layers[4:], (2, 2))


def test_pages_png_of_nothing_is_empty():
    assert pages_png(pages_of([], (3, 3))) == []


@pytest.mark.parametrize(
    ("shape", "grid"),
    [((20, 20), (3, 3)), ((20, 20, 6), (1, 2)), ((1, 40), (2, 1)), ((40,), (1, 1))],
)
def test_page_png_size_is_panels_at_dpi(shape, grid):
    data = page_png(fake_layers(2, shape)[: grid[0] * grid[1]], grid)
    assert png_size(data) == panel_pixels(*grid)


def test_page_png_is_deterministic():
    assert page_png(fake_layers(3), (2, 2)) == page_png(fake_layers(3), (2, 2))


def test_page_png_draws_the_maps():
    """A page with layers is not the blank page: something was drawn in the panels."""
    blank = np.asarray(Image.open(io.BytesIO(page_png([], (1, 1)))).convert("RGB"))
    drawn = np.asarray(Image.open(io.BytesIO(page_png(fake_layers(1), (1, 1)))).convert("RGB"))
    assert (blank == 255).all()
    assert (drawn != 255).any(axis=-1).mean() > 0.3  # the viridis map fills most of the panel


def test_page_png_symmetric_range_puts_zero_at_the_middle_colour():
    """Values in [0, 1] on RdBu_r: with a range symmetric around 0 nothing is drawn blue."""
    ramp = np.tile(np.linspace(0, 1, 20, dtype=np.float32), (20, 1))
    layer = [VisibleLayer(LayerActivation(1, "diff", "Conv2D", ramp))]

    def blue_pixels(**options) -> int:
        rgb = np.asarray(Image.open(io.BytesIO(page_png(layer, (1, 1), **options))).convert("RGB"))
        rgb = rgb.astype(int)
        return int(((rgb[..., 2] - rgb[..., 0]) > 60).sum())

    assert blue_pixels(cmap="RdBu_r") > 1000  # 0 is the low end: dark blue
    assert blue_pixels(cmap="RdBu_r", symmetric=True) == 0


def test_page_png_symmetric_all_zero_map_is_drawn():
    zeros = [VisibleLayer(LayerActivation(1, "diff", "Conv2D", np.zeros((20, 20), np.float32)))]
    assert png_size(page_png(zeros, (1, 1), cmap="RdBu_r", symmetric=True)) == panel_pixels(1, 1)


def test_progress_is_called_after_each_page(tmp_path, keras_session):
    calls = []
    written = plot_pattern_process(
        cnn_with_many_maps(),
        np.ones((24, 24, 1)),
        tmp_path,
        grid_size=(1, 2),
        progress=lambda done, total: calls.append((done, total)),
    )
    assert len(written) == 3
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_pages_png_progress():
    calls = []
    pages_png(pages_of(fake_layers(5), (2, 2)), progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 2), (2, 2)]


# --- errors: nothing is written --------------------------------------------------------------


def test_pattern_that_does_not_fit_writes_nothing(article_model, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(PatternError, match=r"\(49, 50\).*\(50, 50\)"):
        plot_pattern_process(article_model, np.zeros((49, 50)), out)
    assert not out.exists()


@pytest.mark.parametrize(
    ("grid", "limit", "message"),
    [
        ((0, 3), (15, 15), r"grid rows must be a whole number from 1 to 6, got 0"),
        ((3, 0), (15, 15), r"grid columns must be a whole number from 1 to 6, got 0"),
        ((1000, 1000), (15, 15), r"grid rows .* got 1000"),
        ((2.5, 2), (15, 15), r"grid rows .* got 2\.5"),
        ((3, 3), (-1, 15), r"size limit must be a whole number from 0 to 4096, got -1"),
    ],
)
def test_grid_settings_out_of_range_are_refused(
    grid, limit, message, article_model, article_pattern, tmp_path
):
    with pytest.raises(ArgumentError, match=message):
        plot_pattern_process(
            article_model, article_pattern, tmp_path / "out", grid_size=grid, limit_size_layer=limit
        )
    assert files_in(tmp_path / "out") == []


# --- the architecture ------------------------------------------------------------------------


@needs_dot
def test_plot_model_writes_model_png_last(article_model, article_pattern, tmp_path):
    written = plot_pattern_process(
        article_model, article_pattern, tmp_path, grid_size=(2, 2), plot_model=True
    )
    assert [p.name for p in written] == ["0.png", "model.png"]
    width, height = png_size((tmp_path / "model.png").read_bytes())
    assert height > width > 0  # a chain of layers is drawn top to bottom


@needs_dot
def test_architecture_of_a_nested_model(build_model):
    png_size(architecture_png(build_model("nested")))


def test_without_graphviz_plot_model_fails_before_writing(
    article_model, article_pattern, tmp_path, monkeypatch
):
    monkeypatch.setattr(export, "shutil", SimpleNamespace(which=lambda name: None))
    out = tmp_path / "out"
    with pytest.raises(GraphvizError, match="Graphviz"):
        plot_pattern_process(article_model, article_pattern, out, plot_model=True)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_without_graphviz_plain_export_still_works(
    article_model, article_pattern, tmp_path, monkeypatch
):
    monkeypatch.setattr(export, "shutil", SimpleNamespace(which=lambda name: None))
    written = plot_pattern_process(article_model, article_pattern, tmp_path, grid_size=(2, 2))
    assert [p.name for p in written] == ["0.png"]


# --- attention maps ------------------------------------------------------------------------


def test_export_pattern_draws_attention_heads_as_panels(keras_session, tmp_path):
    inputs = keras.Input((20, 3), name="sequence")
    x = keras.layers.Dense(18, name="embed")(inputs)
    x = keras.layers.MultiHeadAttention(2, 4, name="mha")(x, x, use_causal_mask=True)
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling1D(name="gap")(x))
    pattern = np.random.default_rng(0).random((20, 3), dtype=np.float32)

    exported = export.export_pattern(model, pattern, tmp_path, GridSettings(2, 2, (15, 15)))

    titles = [[panel.title for panel in page] for page in exported.pages.pages]
    assert titles == [["1: embed", "2: mha", "2: mha:attention head 0", "2: mha:attention head 1"]]
    assert exported.paths == [tmp_path / "0.png"]
    assert png_size(exported.paths[0].read_bytes()) == panel_pixels(2, 2)
    # plot_pattern_process is the same run, giving the paths only.
    again = plot_pattern_process(model, pattern, tmp_path / "b", (2, 2), (15, 15))
    assert again == [tmp_path / "b" / "0.png"]


# --- norm: the on-screen normalisation, when asked for --------------------------------------


def two_ranges() -> list[VisibleLayer]:
    """A panel in [0, 1] and one in [100, 101]: under one range for the page, each uses only
    one end of the colour map."""
    rng = np.random.default_rng(1)
    low = rng.random((20, 20, 4), dtype=np.float32)
    high = rng.random((20, 20), dtype=np.float32) + 100
    return [
        VisibleLayer(LayerActivation(1, "low", "Conv2D", low)),
        VisibleLayer(LayerActivation(2, "high", "Conv2D", high)),
    ]


def mid_colour_pixels(png: bytes) -> int:
    """Pixels in the middle of viridis (palette rows 20–235): none when every panel sits at
    one end of a shared range."""
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3)
    mid = export._palette(export.CMAP)[20:236]
    colours = {tuple(c) for c in mid.tolist()}
    return sum(tuple(p) in colours for p in np.unique(pixels, axis=0).tolist())


def test_default_export_is_the_article_per_panel_range():
    page = two_ranges()
    article = page_png(page, (1, 2))
    assert page_png(page, (1, 2), norm="layer") == article
    assert pages_png(GridPages(GridSettings(1, 2, 0), page, [page], 2)) == [article]
    assert mid_colour_pixels(article) > 100


def test_page_norm_uses_one_range_for_the_page():
    page = two_ranges()
    shared = page_png(page, (1, 2), norm="page")
    assert shared != page_png(page, (1, 2))
    assert mid_colour_pixels(shared) == 0
    assert pages_png(GridPages(GridSettings(1, 2, 0), page, [page], 2), norm="page") == [shared]


def test_map_norm_scales_each_channel_to_its_own_range():
    page = two_ranges()
    a = page[0].activation.array.copy()
    a[..., 3] *= 1000  # one loud channel: per layer it drowns the others, per map it does not
    loud = [VisibleLayer(LayerActivation(1, "low", "Conv2D", a)), page[1]]
    assert page_png(loud, (1, 2), norm="map") != page_png(loud, (1, 2))
    assert page_png(page[1:], (1, 1), norm="map") == page_png(page[1:], (1, 1))  # one map


def test_an_unknown_norm_is_refused_before_drawing():
    with pytest.raises(ArgumentError, match="unknown normalisation 'global'"):
        pages_png(GridPages(GridSettings(1, 2, 0), two_ranges(), [two_ranges()], 2), norm="global")


@pytest.mark.parametrize("norm", [None, "map", "page"])
def test_streamed_export_writes_the_same_bytes_holding_one_page(
    tmp_path, keras_session, monkeypatch, norm
):
    from tiny_models import image_batch, make_image_model

    import layerviz.draw.export as export

    model = make_image_model()
    pattern = image_batch(1)
    settings = GridSettings(1, 2, (0, 0))
    whole = export.export_pattern(model, pattern, tmp_path / "whole", settings, norm=norm)
    loaded = []
    original = export.page_layers

    def spy(extractor, pattern, page):
        loaded.append([panel.name for panel in page])
        return original(extractor, pattern, page)

    monkeypatch.setattr(export, "STREAM_BYTES", 0)
    monkeypatch.setattr(export, "page_layers", spy)
    streamed = export.export_pattern(model, pattern, tmp_path / "streamed", settings, norm=norm)

    assert len(streamed.paths) == len(whole.paths) > 2
    assert [p.read_bytes() for p in streamed.paths] == [p.read_bytes() for p in whole.paths]
    assert loaded == [[panel.name for panel in page] for page in whole.pages.pages]
