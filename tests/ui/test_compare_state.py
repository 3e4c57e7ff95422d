"""The compare section's server side without a browser: B's recipe, renders, jumps, the zip."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from helpers import PNG_MAGIC, npy_bytes

from layerviz.analysis.perturb import perturb
from layerviz.errors import ArgumentError, LayervizError, PatternError
from layerviz.ui.features.compare_state import DEFAULT_B, CompareView, b_pattern, b_store
from layerviz.ui.recipe import recipe_from_store

MODEL = "digits_cnn"


@pytest.fixture(scope="module")
def view(workbench) -> CompareView:
    return CompareView(workbench)


@pytest.fixture(scope="module")
def a_store(default_store) -> dict:
    return default_store  # A: the page's default pattern


# --- B's recipe --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "store"),
    [
        (dict(source="perturb", kind="noise", values="0.1"), DEFAULT_B),
        (
            dict(source="perturb", kind="shift", values="2,-1", seed=5),
            {"source": "perturb", "spec": "shift:dx=2,dy=-1", "seed": 5},
        ),
        (dict(source="perturb", kind="scale", values=" "), {"source": "perturb",
                                                            "spec": "scale:factor=1", "seed": 0}),
        (dict(source="seed", seed=7), {"source": "seed", "seed": 7}),
        (dict(source="seed", seed=None), {"source": "seed", "seed": 0}),
        (dict(source="sample", sample="digit_7.png"),
         {"source": "sample", "sample": "digit_7.png"}),
    ],
)  # fmt: skip
def test_b_store_from_the_controls(kwargs, store):
    assert b_store(**kwargs) == store


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        (dict(source="perturb", kind="blur", values="1"), ArgumentError, "got 'blur'"),
        (dict(source="perturb", kind="noise", values="a lot"), ArgumentError, "sigma must be"),
        (dict(source="seed", seed=-3), PatternError, "seed"),
        (dict(source="sample", sample=None), PatternError, "choose one of the model's samples"),
        (dict(source=["x"]), ArgumentError, "perturb, seed, sample, upload, epoch; got 'list'"),
    ],
)
def test_b_store_refuses(kwargs, error, fragment):
    with pytest.raises(error) as info:
        b_store(**kwargs)
    assert fragment in str(info.value)


def test_b_pattern_of_each_source(view, a_store):
    recipe, run = recipe_from_store(a_store), view.workbench.extraction(recipe_from_store(a_store))
    a = run.pattern
    noisy = b_pattern(view.workbench, recipe, a, DEFAULT_B)
    np.testing.assert_array_equal(noisy, perturb(a, "noise", seed=0, sigma=0.1))
    seeded = b_pattern(view.workbench, recipe, a, {"source": "seed", "seed": 4})
    assert seeded.shape == a.shape and not np.array_equal(seeded, a)
    sample = b_pattern(view.workbench, recipe, a, {"source": "sample", "sample": "digit_7.png"})
    assert sample.shape == a.shape
    shape = view.workbench.input_shape(MODEL)
    upload = view.workbench.add_upload(MODEL, npy_bytes(np.ones(shape, np.float32)), "b.npy")
    data = {"source": "upload", "digest": upload.digest, "filename": "b.npy"}
    np.testing.assert_array_equal(b_pattern(view.workbench, recipe, a, data), np.ones((1, *shape)))


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (None, "expected an object"),
        ({"source": "magic"}, "unknown source"),
        ({"source": "perturb", "spec": 3}, "'spec' is not a perturbation"),
        ({"source": "perturb", "spec": "shift:dx=500"}, "dx must be a whole number"),
        ({"source": "perturb", "spec": "noise:0.1", "seed": "x"}, "seed"),
        ({"source": "sample", "sample": "nope.png"}, "has no sample 'nope.png'"),
        ({"source": "upload", "digest": "0" * 24, "filename": "b.npy"}, "no longer kept"),
        ({"source": "seed"}, "seed"),
    ],
)
def test_b_pattern_refuses_what_a_browser_may_send(view, a_store, data, fragment):
    recipe = recipe_from_store(a_store)
    a = view.workbench.extraction(recipe).pattern
    with pytest.raises(LayervizError) as info:
        b_pattern(view.workbench, recipe, a, data)
    assert fragment in str(info.value)


# --- renders -------------------------------------------------------------------------------


def test_render_shows_three_panels_per_visible_layer(view, a_store):
    r = view.render(a_store, DEFAULT_B, rows=2, limit=15, page=1)
    assert len(r.grid.data) == 6  # two layers, A | B | B − A each
    titles = [a.text.split("<br>")[0] for a in r.grid.layout.annotations]
    assert titles[:3] == [f"1: conv1 · {c}" for c in ("A", "B", "B − A")]
    _, result = view.comparison(a_store, DEFAULT_B)
    visible = [d for d in result.layers if d.shape[0] > 15 and len(d.shape) == 3]
    assert r.n_pages == -(-len(visible) // 2)
    assert list(r.divergence.data[0].customdata) == list(range(len(result.layers)))
    assert "A perturbed by noise:sigma=0.1 (seed 0)" in r.summary
    assert r.prediction_a.layout.title.text.startswith("prediction: ")
    assert r.prediction_b.layout.title.text.startswith("prediction: ")
    assert r.selected_info == "click a point to open its layer"


def test_render_shows_b_s_input_beside_a_s_where_the_occlusion_landed(view, a_store):
    b = b_store("perturb", kind="occlude", values="4,2,3,0")
    r = view.render(a_store, b, 2, 15, 1)
    a = view.workbench.pattern(recipe_from_store(a_store))
    shown_a = np.asarray(r.input_a.data[0].z)
    shown_b = np.asarray(r.input_b.data[0].z)
    np.testing.assert_array_equal(shown_a, a[0, ..., 0])
    # B is A with a 3×3 box of 0 at x=4, y=2, drawn where it landed (perturb's own result).
    np.testing.assert_array_equal(shown_b, perturb(a, "occlude", x=4, y=2, size=3)[0, ..., 0])
    changed = np.argwhere(shown_b != shown_a)
    assert changed.min(axis=0).tolist() >= [2, 4] and changed.max(axis=0).tolist() <= [4, 6]
    assert r.input_a.layout.title.text.startswith("A: input ")
    assert r.input_b.layout.title.text.startswith("B: input ")


def test_render_is_cached_and_pages_clamp(view, a_store):
    view.render(a_store, DEFAULT_B, 2, 15, 1)
    before = len(view.cache)
    r = view.render(a_store, DEFAULT_B, 1, 15, 99)
    assert len(view.cache) == before
    assert r.page == r.n_pages


def test_render_names_the_selected_layer(view, a_store):
    selected = {"model": MODEL, "layer": "conv2"}
    r = view.render(a_store, DEFAULT_B, 3, 15, 1, selected)
    assert r.selected_info.startswith("3: conv2 — cosine distance ")
    assert "most changed channels: " in r.selected_info
    assert r.divergence.layout.shapes[0].x0 == 3


def test_render_with_nothing_visible(view, a_store):
    r = view.render(a_store, DEFAULT_B, 3, 128, 1)
    assert "lower the size limit" in r.summary
    assert r.grid.layout.annotations[0].text.startswith("no layer output is larger")


def test_jump_to_a_layer(view, a_store):
    click = {"points": [{"curveNumber": 0, "customdata": 2}]}  # conv1, pool1, conv2
    picked, compare_page, grid_page = view.jump(a_store, DEFAULT_B, click, 1, 1, 15)
    assert picked == {"model": MODEL, "layer": "conv2"}
    assert compare_page == grid_page == 3  # one layer per page: conv1, pool1, conv2
    picked, compare_page, grid_page = view.jump(a_store, DEFAULT_B, click, 1, 1, 31)
    assert compare_page is None and grid_page is None  # below the limit: opens, no page


@pytest.mark.parametrize(
    "click",
    [
        None,
        {},
        {"points": []},
        {"points": [{"customdata": "3"}]},
        {"points": [{"customdata": 99}]},
        {"points": [{"customdata": -1}]},
    ],
)
def test_jump_refuses_clicks_that_name_no_layer(view, a_store, click):
    with pytest.raises(ArgumentError):
        view.jump(a_store, DEFAULT_B, click, 3, 3, 15)


def test_zip_holds_the_three_sets(view, a_store):
    data = view.zip_bytes(a_store, DEFAULT_B, 3, 3, 15)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert all(archive.read(n).startswith(PNG_MAGIC) for n in names)
    n = len([x for x in names if x.startswith("a/")])
    assert n >= 1
    assert names == [f"{s}/{i}.png" for s in ("a", "b", "diff") for i in range(n)]
    assert data == view.zip_bytes(a_store, DEFAULT_B, 3, 3, 15)  # the same bytes each time
    with pytest.raises(PatternError, match="nothing to download"):
        view.zip_bytes(a_store, DEFAULT_B, 3, 3, 128)


# --- B = the same pattern at epoch k of a recorded run (issue 22) ------------------------------


@pytest.fixture(scope="module")
def bundled_run(workbench) -> str:
    from layerviz.ui.features.training_run_views import available_runs

    return next(str(p) for p in available_runs(workbench) if p.name == MODEL)


def test_b_store_of_an_epoch():
    assert b_store("epoch", run="runs/x", epoch="3") == {
        "source": "epoch", "run": "runs/x", "epoch": 3
    }  # fmt: skip
    with pytest.raises(ArgumentError, match=r"whole number ≥ 0 .*; got -1"):
        b_store("epoch", run="runs/x", epoch=-1)
    with pytest.raises(ArgumentError, match=r"got 1\.5"):
        b_store("epoch", run="runs/x", epoch=1.5)
    with pytest.raises(PatternError, match="choose a recorded training run"):
        b_store("epoch", run=None, epoch=1)


def test_render_of_a_at_an_epoch_of_the_bundled_run(view, a_store, bundled_run):
    # The bundled run recorded the training of the bundled model: its last epoch is the model.
    last = {"source": "epoch", "run": bundled_run, "epoch": 25}
    r = view.render(a_store, last, rows=2, limit=15, page=1)
    assert f"B: A as run {bundled_run} recorded it after epoch 25" in r.summary
    assert max(r.divergence.data[0].y) < 1e-3  # float16 rounding only
    assert r.prediction_b.layout.title.text == r.prediction_a.layout.title.text
    # B's input is A's own pattern: the run recorded that very pattern.
    np.testing.assert_array_equal(np.asarray(r.input_b.data[0].z), np.asarray(r.input_a.data[0].z))
    early = view.render(a_store, {**last, "epoch": 1}, rows=2, limit=15, page=1)
    assert max(early.divergence.data[0].y) > 0.01
    assert len(early.grid.data) == 6  # A | B | B − A of conv1 and pool1
    # The size limit applies to the full outputs: conv2 (16×16, kept 8×8) is shown, pool2 not.
    assert early.n_pages == 2 and "layers 1–2 of 3 shown" in early.summary
    click = {"points": [{"customdata": 2}]}
    assert view.jump(a_store, last, click, 1, 1, 15)[0] == {"model": MODEL, "layer": "conv2"}


@pytest.mark.parametrize(
    ("b", "a", "error", "fragment"),
    [
        ({"run": "/etc", "epoch": 1}, None, LayervizError, "the runs offered are "),
        ({"epoch": 99}, None, ArgumentError, "no record at epoch 99; epochs: 0-25"),
        ({"epoch": "x"}, None, ArgumentError, "whole number ≥ 0"),
        ({"epoch": 1}, {"kind": "seed", "seed": 3}, PatternError, "digit_0.png, digit_3.png"),
    ],
)
def test_an_epoch_b_refuses(view, a_store, bundled_run, b, a, error, fragment):
    a = {"model": MODEL, **a} if a else a_store
    with pytest.raises(error) as info:
        view.render(a, {"source": "epoch", "run": bundled_run, **b}, 2, 15, 1)
    assert fragment in str(info.value)
