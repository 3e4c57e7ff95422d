"""Callback-level tests of layerviz.ui.callbacks: the plain functions, a real Workbench, no browser.

Shapes and layer counts are read from the model (``workbench.input_shape``, the extraction), so
the tests hold whatever input size the bundled ``digits_cnn`` is trained for.
"""

from __future__ import annotations

import base64
import io
import math
import shutil
import zipfile

import numpy as np
import plotly.colors
import pytest
from dash import no_update
from helpers import PNG_MAGIC, npy_bytes
from PIL import Image

from layerviz import plot_pattern_process
from layerviz.draw.grid import GridSettings, grid_pages
from layerviz.draw.selection import VisibleLayer
from layerviz.draw.tile_figures import tile_grid
from layerviz.draw.tiles import grid_palette
from layerviz.errors import PatternError
from layerviz.extract.activations import LayerActivation
from layerviz.patterns.readers import MAX_PATTERN_BYTES
from layerviz.ui import ids
from layerviz.ui.callbacks import (
    PAGE_OUTPUTS,
    PageControls,
    choose_pattern,
    decode_upload,
    export_files,
    export_norm,
    hover_label,
    main_trigger,
    norm_of,
    render_grid,
    render_pattern,
    update_page,
)
from layerviz.ui.recipe import recipe_from_store

MODEL = "digits_cnn"


@pytest.fixture(scope="module")
def shape(workbench) -> tuple[int, ...]:
    return workbench.input_shape(MODEL)


@pytest.fixture(scope="module")
def seed_recipe(workbench) -> dict:
    choice = choose_pattern(workbench, ids.SEED_INPUT, MODEL, seed=3)
    assert choice.error is None
    return choice.recipe


@pytest.fixture(scope="module")
def map_sides(workbench, seed_recipe) -> list[tuple[int, int]]:
    """(h, w) of every layer's maps, read straight from the activation shapes."""
    extraction = workbench.extraction(recipe_from_store(seed_recipe)).extraction
    sides = []
    for act in extraction.activations:
        sides.append((1, act.shape[0]) if len(act.shape) == 1 else act.shape[:2])
    return sides


def n_larger(sides: list[tuple[int, int]], limit: int) -> int:
    return sum(h > limit and w > limit for h, w in sides)


def data_url(data: bytes, mime: str = "application/octet-stream") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def png_bytes(height: int, width: int) -> bytes:
    rng = np.random.default_rng(0)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (height, width), dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def heatmap_count(figure) -> int:
    """The grid's panels: one image trace each (colorbars are scatter traces after them)."""
    return sum(trace.type == "image" for trace in figure.data)


# --- choose_pattern ----------------------------------------------------------------------


def test_page_load_gives_default_sample_and_options(workbench, shape):
    choice = choose_pattern(workbench, None, MODEL)
    entry = workbench.entry(MODEL)
    assert choice.error is None
    assert choice.recipe == workbench.default_recipe(MODEL).to_store()
    assert choice.recipe == {"model": MODEL, "kind": "sample", "sample": entry.default_sample}
    assert [o["value"] for o in choice.sample_options] == [s.name for s in entry.samples]
    assert choice.sample_value == entry.default_sample
    assert choice.seed is no_update
    assert choice.model_info.startswith("input " + "×".join(map(str, shape)))


def test_model_select_switches_model_and_samples(workbench):
    choice = choose_pattern(workbench, ids.MODEL_SELECT, "article_dense", sample="digit_3.png")
    assert choice.error is None
    assert choice.recipe["model"] == "article_dense"
    assert choice.recipe == workbench.default_recipe("article_dense").to_store()
    names = [s.name for s in workbench.entry("article_dense").samples]
    assert [o["value"] for o in choice.sample_options] == names
    assert "input 50×50" in choice.model_info


@pytest.mark.parametrize(("before", "after"), [(None, 0), (0, 1), (41, 42)])
def test_seed_button_increments_seed(workbench, before, after):
    choice = choose_pattern(workbench, ids.SEED_BUTTON, MODEL, sample="digit_3.png", seed=before)
    assert choice.error is None
    assert choice.seed == after
    assert choice.recipe == {"model": MODEL, "kind": "seed", "seed": after}
    assert choice.sample_value is None  # the sample dropdown no longer names the pattern


def test_typed_seed_gives_seed_recipe(workbench):
    choice = choose_pattern(workbench, ids.SEED_INPUT, MODEL, seed=1234)
    assert choice.error is None
    assert choice.recipe == {"model": MODEL, "kind": "seed", "seed": 1234}
    assert choice.seed is no_update  # the input already shows it


def test_cleared_seed_input_changes_nothing(workbench):
    choice = choose_pattern(workbench, ids.SEED_INPUT, MODEL, seed=None)
    assert choice.recipe is no_update
    assert choice.error is None


def test_seed_out_of_range_is_an_error(workbench):
    choice = choose_pattern(workbench, ids.SEED_INPUT, MODEL, seed=2**32)
    assert choice.recipe is no_update
    assert "seed" in choice.error


def test_sample_choice_gives_sample_recipe(workbench):
    sample = workbench.entry(MODEL).samples[-1].name
    choice = choose_pattern(workbench, ids.SAMPLE_SELECT, MODEL, sample=sample)
    assert choice.error is None
    assert choice.recipe == {"model": MODEL, "kind": "sample", "sample": sample}


def test_good_npy_upload_gives_upload_recipe(workbench, shape):
    array = np.random.default_rng(5).random(shape, dtype=np.float32)
    choice = choose_pattern(
        workbench, ids.PATTERN_UPLOAD, MODEL, upload=data_url(npy_bytes(array)), filename="a.npy"
    )
    assert choice.error is None
    assert choice.recipe["kind"] == "upload"
    assert choice.recipe["filename"] == "a.npy"
    np.testing.assert_array_equal(workbench.pattern(recipe_from_store(choice.recipe))[0], array)
    assert workbench.extraction(recipe_from_store(choice.recipe)).cached  # choose_pattern ran it
    assert render_pattern(workbench, choice.recipe)[2] == "uploaded a.npy"


def test_good_png_upload_is_resized_to_the_input(workbench, shape):
    url = data_url(png_bytes(2 * shape[0] + 3, 2 * shape[1] + 3), "image/png")
    choice = choose_pattern(workbench, ids.PATTERN_UPLOAD, MODEL, upload=url, filename="d.png")
    assert choice.error is None
    assert workbench.pattern(recipe_from_store(choice.recipe)).shape == (1, *shape)


def _wrong_shape_npy(shape: tuple[int, ...]) -> str:
    return data_url(npy_bytes(np.zeros((shape[0] + 1, shape[1] + 1), dtype=np.float32)))


# (case, file name, data URL for the model's input shape, words the error must hold)
BAD_UPLOADS = [
    ("wrong-shape", "w.npy", _wrong_shape_npy, ["w.npy", "shape"]),
    ("garbage-npy", "g.npy", lambda _: data_url(b"this is not numpy" * 10), ["g.npy", ".npy"]),
    ("garbage-png", "g.png", lambda _: data_url(b"\x00\x01garbage" * 10), ["g.png", "PNG"]),
    ("unknown-type", "a.txt", lambda _: data_url(b"1,2,3"), ["a.txt", "unknown file type"]),
    ("empty", "e.npy", lambda _: data_url(b""), ["e.npy", "empty"]),
    (
        "oversized",
        "big.npy",
        lambda _: "data:application/octet-stream;base64," + "A" * (MAX_PATTERN_BYTES * 4 // 3 + 8),
        ["big.npy", "limit"],
    ),
    ("not-base64", "b.npy", lambda _: "data:x;base64,@@@@", ["b.npy", "base64"]),
    ("not-a-data-url", "u.npy", lambda _: "just some text", ["u.npy", "data URL"]),
]


@pytest.mark.parametrize(
    ("filename", "make_url", "words"),
    [case[1:] for case in BAD_UPLOADS],
    ids=[case[0] for case in BAD_UPLOADS],
)
def test_bad_upload_names_the_problem_and_keeps_the_pattern(
    workbench, shape, filename, make_url, words
):
    url = make_url(shape)
    choice = choose_pattern(workbench, ids.PATTERN_UPLOAD, MODEL, upload=url, filename=filename)
    assert choice.recipe is no_update
    assert choice.error
    for word in words:
        assert word in choice.error
    assert "Traceback" not in choice.error


def test_decode_upload_refuses_oversize_before_decoding():
    # Not valid base64 either: the size check must answer first, without decoding.
    url = "data:x;base64," + "!" * (MAX_PATTERN_BYTES * 4 // 3 + 8)
    with pytest.raises(PatternError, match="limit"):
        decode_upload(url, "big.npy")


def test_decode_upload_round_trips():
    assert decode_upload(data_url(b"\x00\x01abc"), "x.npy") == b"\x00\x01abc"


def test_unknown_trigger_changes_nothing(workbench):
    choice = choose_pattern(workbench, "something-else", MODEL)
    assert choice.recipe is no_update
    assert choice.error is None


# --- render_pattern / render_grid --------------------------------------------------------


def test_render_pattern_gives_figures_and_label(workbench, seed_recipe, shape):
    pattern_fig, prediction_fig, label = render_pattern(workbench, seed_recipe)
    assert label == "random pattern, seed 3"
    assert pattern_fig.layout.title.text.startswith("input " + "×".join(map(str, shape)))
    assert prediction_fig.layout.title.text.startswith("prediction: ")


def test_size_limit_changes_how_many_layers_pass(workbench, seed_recipe, map_sides):
    total = len(map_sides)
    largest = max(min(h, w) for h, w in map_sides)
    counts = {}
    for limit in (0, largest - 1):
        figure, _, _, summary = render_grid(workbench, seed_recipe, 6, 6, limit, 1)
        counts[limit] = n_larger(map_sides, limit)
        assert summary.startswith(f"{counts[limit]} of {total} layers larger than {limit}×{limit}")
        assert heatmap_count(figure) == counts[limit]
    assert counts[0] == total
    assert 0 < counts[largest - 1] < total


def test_default_limit_panels_are_titled_with_index_and_name(workbench, seed_recipe):
    figure, *_ = render_grid(workbench, seed_recipe, 3, 3, 15, 1)
    extraction = workbench.extraction(recipe_from_store(seed_recipe)).extraction
    first = extraction.activations[0]
    titles = [a.text for a in figure.layout.annotations]
    assert titles[0].startswith(f"{first.index}: {first.name}")


@pytest.mark.parametrize(("rows", "cols"), [(1, 1), (2, 2), (3, 3), (1, 4)])
def test_grid_size_changes_page_count(workbench, seed_recipe, map_sides, rows, cols):
    figure, n_pages, page, summary = render_grid(workbench, seed_recipe, rows, cols, 0, 1)
    n = len(map_sides)
    assert n_pages == math.ceil(n / (rows * cols))
    assert page == 1
    assert summary.endswith(f"page 1 of {n_pages}")
    assert heatmap_count(figure) == min(n, rows * cols)


def test_last_page_holds_the_rest(workbench, seed_recipe, map_sides):
    n = len(map_sides)
    _, n_pages, _, _ = render_grid(workbench, seed_recipe, 2, 2, 0, 1)
    figure, _, page, _ = render_grid(workbench, seed_recipe, 2, 2, 0, n_pages)
    assert page == n_pages
    assert heatmap_count(figure) == n - 4 * (n_pages - 1)


@pytest.mark.parametrize("asked", [99, 0, None, -3])
def test_page_out_of_range_is_clamped(workbench, seed_recipe, asked):
    _, n_pages, page, summary = render_grid(workbench, seed_recipe, 1, 1, 0, asked)
    expected = n_pages if asked == 99 else 1
    assert page == expected
    assert summary.endswith(f"page {expected} of {n_pages}")


def test_limit_above_every_map_gives_empty_state(workbench, seed_recipe, map_sides):
    # A layer shows when both sides are larger than the limit: its shorter side decides.
    limit = max(min(h, w) for h, w in map_sides)
    figure, n_pages, page, summary = render_grid(workbench, seed_recipe, 3, 3, limit, 1)
    assert (n_pages, page) == (1, 1)
    assert heatmap_count(figure) == 0
    message = figure.layout.annotations[0].text
    assert f"no layer output is larger than {limit}×{limit}" in message
    assert summary == f"0 of {len(map_sides)} layers shown"


def tile_grid_legend(colorscale: str) -> str:
    """The range legend's image for ``colorscale``, as ``tile_grid`` draws it."""
    layer = VisibleLayer(LayerActivation(1, "x", "Dense", np.eye(20, dtype=np.float32)))
    return tile_grid([layer], (1, 1), colorscale=colorscale).layout.images[0].source


@pytest.mark.parametrize(
    ("colorscale", "norm", "drawn", "bars"),
    [
        ("Magma", "layer", "Magma", 4),  # one range legend per panel
        ("RdBu", "page", "RdBu", 1),  # one for the page
        ("Cividis", "map", "Cividis", 1),  # one reading "min" to "max" (of each map)
        ("A" * 100_000, "layer", "Viridis", 4),  # not offered: the default, not an echo
        (["Magma"], ["page"], "Viridis", 4),  # garbage norm: the default, per layer
    ],
)
def test_colour_scale_and_norm_reach_the_figure(
    workbench, seed_recipe, colorscale, norm, drawn, bars
):
    figure, *_ = render_grid(workbench, seed_recipe, 2, 2, 0, 1, colorscale, norm)
    assert [t.type for t in figure.data] == ["image"] * 4  # trace i is panel i (clicks)
    assert len(figure.layout.images) == bars
    # Tiles and legends are coloured with the scale chosen: their palettes are drawn from it.
    legend = figure.layout.images[0].source
    assert legend == tile_grid_legend(drawn)
    first = plotly.colors.sample_colorscale(plotly.colors.get_colorscale(drawn), [0.0])[0]
    assert grid_palette(drawn)[0].tolist() == [round(v) for v in plotly.colors.unlabel_rgb(first)]


def test_norm_mode_changes_the_grid_colouring(workbench, seed_recipe):
    def sources(norm):
        figure = render_grid(workbench, seed_recipe, 2, 2, 0, 1, "Viridis", norm)[0]
        return [t.source for t in figure.data if t.type == "image"]

    assert sources("map") != sources("layer") != sources("page") != sources("map")


@pytest.mark.parametrize(
    "store",
    [[1, 2], "seed", 7, True, None, {"model": ["digits_cnn"], "kind": "seed", "seed": 1}],
)
def test_malformed_recipes_from_a_browser_are_clear_errors(workbench, store, caplog):
    with pytest.raises(PatternError, match="malformed pattern recipe"):
        render_grid(workbench, store, 3, 3, 15, 1)
    with pytest.raises(PatternError, match="malformed pattern recipe"):
        export_files(workbench, store, 3, 3, 15)
    assert caplog.records == []


@pytest.mark.parametrize(
    "values",
    [
        (float("inf"), float("-inf"), float("nan"), float("inf")),
        ("3", [3], {"a": 1}, True),
        (None, None, None, None),
        (-5, 99, 10**30, -(10**30)),
    ],
)
def test_grid_values_from_a_browser_never_reach_the_core_unchecked(workbench, seed_recipe, values):
    rows, cols, limit, page = values
    figure, n_pages, shown, _ = render_grid(workbench, seed_recipe, rows, cols, limit, page)
    assert 1 <= shown <= n_pages
    assert figure.layout.height > 0


@pytest.mark.parametrize(
    ("model", "seed"), [(["digits_cnn"], 1), ("digits_cnn", True), ("digits_cnn", float("inf"))]
)
def test_malformed_choices_are_messages(workbench, model, seed, caplog):
    choice = choose_pattern(workbench, ids.SEED_INPUT, model, seed=seed)
    assert choice.error and "Something went wrong" not in choice.error
    assert choice.recipe is no_update
    assert caplog.records == []


def test_rerender_is_served_from_cache(workbench, monkeypatch):
    extractor = workbench.entry(MODEL).extractor
    calls = []
    run = extractor.run

    def counting_run(pattern):
        calls.append(1)
        return run(pattern)

    monkeypatch.setattr(extractor, "run", counting_run)
    choice = choose_pattern(workbench, ids.SEED_INPUT, MODEL, seed=987_654)
    assert choice.error is None
    assert len(calls) == 1  # the one forward pass
    render_pattern(workbench, choice.recipe)
    for rows, cols, limit, page in [(3, 3, 15, 1), (3, 3, 0, 1), (2, 2, 0, 2), (1, 1, 5, 3)]:
        render_grid(workbench, choice.recipe, rows, cols, limit, page)
    export_files(workbench, choice.recipe, 3, 3, 0, page=1)
    assert len(calls) == 1  # sliders, pages and exports never run the model again
    assert workbench.extraction(recipe_from_store(choice.recipe)).cached


# --- hover_label ---------------------------------------------------------------------------


def hover_at(curve, x, y) -> dict:
    return {"points": [{"curveNumber": curve, "x": x, "y": y, "bbox": {"x0": 1}}]}


def test_hover_reads_the_exact_value_in_the_map_coordinates(workbench, seed_recipe):
    render_grid(workbench, seed_recipe, 3, 3, 0, 1)
    run = workbench.extraction(recipe_from_store(seed_recipe)).extraction
    shown = grid_pages(run.activations, GridSettings(3, 3, 0)).page(1)
    panel = next(i for i, layer in enumerate(shown) if layer.n_maps > 1)
    layer = shown[panel]
    w = layer.map_shape[1]
    cols = layer.tiles[1]
    # Second tile, row 2, col 3 (no downsampling: the tiny model's maps are small).
    text = hover_label(workbench, seed_recipe, hover_at(panel, (w + 1) + 3, 2), 3, 3, 0, 1)
    value = layer.activation.array[2, 3, 1]
    assert text == f"{layer.title}: channel 1, row 2, col 3: value {value:.6g}"
    assert cols > 1
    gap = hover_at(panel, w, 0)  # the blank column between the first two tiles
    assert hover_label(workbench, seed_recipe, gap, 3, 3, 0, 1) is None


@pytest.mark.parametrize(
    "hover",
    [None, [], {"points": []}, {"points": [{"curveNumber": 99, "x": 0, "y": 0}]},
     {"points": [{"curveNumber": True, "x": 0, "y": 0}]},
     {"points": [{"curveNumber": 0, "x": float("inf"), "y": 0}]},
     {"points": [{"curveNumber": 0, "x": "1", "y": 0}]},
     {"points": [{"curveNumber": 0, "x": -5, "y": 10**9}]}],
)  # fmt: skip
def test_hover_ignores_what_is_not_a_grid_point(workbench, seed_recipe, hover):
    assert hover_label(workbench, seed_recipe, hover, 3, 3, 0, 1) is None


# --- export_files --------------------------------------------------------------------------


def test_export_norm_follows_the_screen_only_when_asked():
    assert export_norm(False, "page") is None
    assert export_norm("yes", "page") is None
    assert export_norm(True, "page") == "page"
    assert export_norm(True, ["map"]) == "layer"
    assert norm_of("map") == "map" and norm_of(None) == "layer"


def test_export_with_the_screen_norm_differs_from_the_article(workbench, seed_recipe):
    _, article = export_files(workbench, seed_recipe, 2, 2, 0, page=1)
    _, layer = export_files(workbench, seed_recipe, 2, 2, 0, page=1, norm="layer")
    _, page = export_files(workbench, seed_recipe, 2, 2, 0, page=1, norm="page")
    assert layer == article != page
    _, zipped = export_files(workbench, seed_recipe, 2, 2, 0, norm="page")
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        assert archive.read("0.png") == page


def test_export_zip_matches_plot_pattern_process(workbench, seed_recipe, map_sides, tmp_path):
    rows, cols, limit = 2, 2, 0
    name, data = export_files(workbench, seed_recipe, rows, cols, limit)
    assert name == f"layerviz-{MODEL}.zip"
    n_pages = math.ceil(n_larger(map_sides, limit) / (rows * cols))
    assert n_pages > 1

    written = plot_pattern_process(
        workbench.entry(MODEL).model,
        workbench.pattern(recipe_from_store(seed_recipe)),
        tmp_path,
        grid_size=(rows, cols),
        limit_size_layer=(limit, limit),
    )
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == [f"{i}.png" for i in range(n_pages)]
        assert [p.name for p in written] == archive.namelist()
        for path in written:
            assert archive.read(path.name) == path.read_bytes(), path.name


def test_one_page_export_is_that_page(workbench, seed_recipe):
    _, zipped = export_files(workbench, seed_recipe, 2, 2, 0)
    name, data = export_files(workbench, seed_recipe, 2, 2, 0, page=2)
    assert name.endswith(".png")
    assert data.startswith(PNG_MAGIC)
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        assert data == archive.read("1.png")


def test_one_page_export_clamps_the_page(workbench, seed_recipe, map_sides):
    n_pages = math.ceil(len(map_sides) / 4)
    _, last = export_files(workbench, seed_recipe, 2, 2, 0, page=n_pages)
    _, beyond = export_files(workbench, seed_recipe, 2, 2, 0, page=n_pages + 5)
    assert beyond == last


def test_one_page_export_with_no_visible_layer_is_an_error(workbench, seed_recipe, map_sides):
    limit = max(max(h, w) for h, w in map_sides)
    with pytest.raises(PatternError, match="no layer"):
        export_files(workbench, seed_recipe, 3, 3, limit, page=1)


def test_zip_export_with_no_visible_layer_is_an_error(workbench, seed_recipe, map_sides):
    # An empty zip downloads as if something worked; the user should be told instead.
    limit = max(max(h, w) for h, w in map_sides)
    with pytest.raises(PatternError, match="no layer"):
        export_files(workbench, seed_recipe, 3, 3, limit)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_export_zip_with_model_png(workbench, seed_recipe):
    pytest.importorskip("pydot")
    _, data = export_files(workbench, seed_recipe, 3, 3, 15, plot_model=True)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert names[-1] == "model.png"
        assert names[:-1] == [f"{i}.png" for i in range(len(names) - 1)]
        assert archive.read("model.png").startswith(PNG_MAGIC)


def test_the_server_clamps_grid_and_limit_whatever_the_request_says(workbench, seed_recipe):
    # The sliders stop at 6×6 and 128, but a crafted request can carry any number.
    _, n_pages, _, summary = render_grid(workbench, seed_recipe, 200, 200, -5, 1)
    assert "larger than 0×0" in summary
    clamped = render_grid(workbench, seed_recipe, 6, 6, 0, 1)
    assert n_pages == clamped[1]
    name, data = export_files(workbench, seed_recipe, 10**6, 10**6, 0, page=1)
    assert name.endswith("-0.png")
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (2400, 2400)  # 6 × 4 in × 100 dpi, not a million panels


# --- update_page: one response per control change ------------------------------------------


def page_controls(**kw) -> PageControls:
    return PageControls(**{"model": MODEL, "rows": 3, "cols": 3, "limit": 15, "page": 1, **kw})


def outputs(result: tuple) -> dict:
    """``update_page``'s answer keyed by ``"id.property"``."""
    pairs = zip(PAGE_OUTPUTS, result, strict=True)
    return {f"{o.component_id}.{o.component_property}": v for o, v in pairs}


@pytest.mark.parametrize("trigger", [None, ids.SEED_INPUT])
def test_a_new_pattern_comes_back_with_its_figures_and_grid(workbench, trigger):
    out = outputs(update_page(workbench, trigger, page_controls(seed=4, page=2), None))
    assert len(out) == len(PAGE_OUTPUTS)
    recipe = recipe_from_store(out[f"{ids.PATTERN_VIEW_STORE}.data"]["recipe"])
    expected = render_grid(workbench, recipe.to_store(), 3, 3, 15, 1)
    assert out[f"{ids.ACTIVATION_GRAPH}.figure"] == expected[0]
    assert out[f"{ids.PAGE_SELECT}.active_page"] == 1  # a new pattern starts at page 1
    pattern = render_pattern(workbench, recipe.to_store())
    view = out[f"{ids.PATTERN_VIEW_STORE}.data"]
    assert (view["pattern"], view["prediction"], view["info"]) == pattern
    assert view["info"] == recipe.describe()
    assert out[f"{ids.ERROR_ALERT}.is_open"] is False


def test_a_grid_control_redraws_the_grid_only_from_the_cache(workbench, seed_recipe, monkeypatch):
    calls = []
    extractor = workbench.entry(MODEL).extractor
    monkeypatch.setattr(extractor, "run", lambda p: calls.append(p))
    out = outputs(update_page(workbench, ids.SIZE_LIMIT, page_controls(limit=5), seed_recipe))
    assert calls == []
    assert out[f"{ids.PATTERN_VIEW_STORE}.data"] is no_update
    assert (
        out[f"{ids.ACTIVATION_GRAPH}.figure"] == render_grid(workbench, seed_recipe, 3, 3, 5, 1)[0]
    )


def test_a_page_turn_keeps_the_page(workbench, seed_recipe):
    out = outputs(
        update_page(
            workbench, ids.PAGE_SELECT, page_controls(limit=0, rows=1, cols=1, page=2), seed_recipe
        )
    )
    assert out[f"{ids.PAGE_SELECT}.active_page"] == 2


def test_a_bad_seed_is_a_message_and_nothing_redraws(workbench, seed_recipe):
    out = outputs(update_page(workbench, ids.SEED_INPUT, page_controls(seed=-1), seed_recipe))
    assert out[f"{ids.ERROR_ALERT}.is_open"] is True
    assert out[f"{ids.ACTIVATION_GRAPH}.figure"] is no_update
    assert out[f"{ids.PATTERN_VIEW_STORE}.data"] is no_update


def test_an_unknown_model_says_it_could_not_open(workbench, seed_recipe):
    out = outputs(
        update_page(workbench, ids.MODEL_SELECT, page_controls(model="no-such"), seed_recipe)
    )
    assert out[f"{ids.ERROR_ALERT}.is_open"] is True
    assert out[f"{ids.MODEL_INFO}.children"] == "could not open this model"


@pytest.mark.parametrize(
    "triggered, expected",
    [
        ([], None),
        ([ids.SIZE_LIMIT], ids.SIZE_LIMIT),
        ([ids.GRID_ROWS, ids.MODEL_SELECT, ids.SIZE_LIMIT], ids.MODEL_SELECT),
        ([ids.PAGE_SELECT, ids.SEED_INPUT], ids.SEED_INPUT),
    ],
)
def test_several_controls_at_once_answer_the_pattern_one(triggered, expected):
    assert main_trigger(triggered) == expected
