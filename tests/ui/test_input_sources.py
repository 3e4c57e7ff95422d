"""One pattern source per input (``digits_meta``: ``image`` and ``meta``): the per-input rows'
callbacks as plain functions, a real Workbench, no browser."""

from __future__ import annotations

import base64

import numpy as np
import pytest
from dash import no_update
from helpers import npy_bytes

from layerviz.ui import ids
from layerviz.ui.callbacks import (
    PAGE_OUTPUTS,
    PageControls,
    choose_pattern,
    render_pattern,
    update_page,
)
from layerviz.ui.input_sources import InputControls, input_rows
from layerviz.ui.recipe import MultiRecipe, SampleRecipe, SeedRecipe, recipe_from_store
from layerviz.ui.workbench import Workbench

MODEL = "digits_meta"
SAMPLE = SampleRecipe(MODEL, "digit_3.npz").to_store()
META_SEED, META_UPLOAD = ids.INPUT_SEEDS[1], ids.INPUT_UPLOADS[1]


@pytest.fixture(scope="module")
def workbench() -> Workbench:
    from layerviz.config import MODELS_DIR_VARIABLE

    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(MODELS_DIR_VARIABLE, raising=False)
        bench = Workbench()
        bench.entry(MODEL)
    return bench


def data_url(data: bytes) -> str:
    return "data:application/octet-stream;base64," + base64.b64encode(data).decode()


def rows_of(seeds=(), uploads=(), filenames=(), current=SAMPLE) -> InputControls:
    return InputControls(tuple(seeds), tuple(uploads), tuple(filenames), current)


def controls(**kw) -> PageControls:
    return PageControls(**{"model": MODEL, "rows": 3, "cols": 3, "limit": 15, "page": 1, **kw})


def outputs(result: tuple) -> dict:
    pairs = zip(PAGE_OUTPUTS, result, strict=True)
    return {f"{o.component_id}.{o.component_property}": v for o, v in pairs}


def test_a_seed_for_meta_keeps_the_image_of_the_sample(workbench):
    choice = choose_pattern(workbench, META_SEED, MODEL, inputs=rows_of(seeds=(None, 7)))
    assert choice.error is None
    recipe = recipe_from_store(choice.recipe)
    assert recipe == MultiRecipe(MODEL, (SampleRecipe(MODEL, "digit_3.npz"), SeedRecipe(MODEL, 7)))
    assert choice.sample_value is None  # the sample no longer names the whole pattern
    assert choice.input_seeds is no_update  # the box already shows 7


def test_a_second_input_change_keeps_the_first(workbench):
    first = choose_pattern(workbench, META_SEED, MODEL, inputs=rows_of(seeds=(None, 7)))
    second = choose_pattern(
        workbench, ids.INPUT_SEEDS[0], MODEL, inputs=rows_of(seeds=(2, 7), current=first.recipe)
    )
    assert recipe_from_store(second.recipe).parts == (SeedRecipe(MODEL, 2), SeedRecipe(MODEL, 7))


def test_an_upload_for_meta_replaces_meta_only(workbench):
    meta = np.linspace(0, 1, 16, dtype=np.float32)
    rows = rows_of(uploads=(None, data_url(npy_bytes(meta))), filenames=(None, "meta.npy"))
    choice = choose_pattern(workbench, META_UPLOAD, MODEL, inputs=rows)
    assert choice.error is None
    image, got = workbench.pattern(recipe_from_store(choice.recipe))
    np.testing.assert_array_equal(got[0], meta)
    whole = workbench.pattern(SampleRecipe(MODEL, "digit_3.npz"))
    np.testing.assert_array_equal(image, whole[0])
    assert choice.input_seeds[1] is None  # meta is no longer drawn from a seed


def test_a_wrong_shape_upload_names_expected_and_received(workbench):
    rows = rows_of(
        uploads=(None, data_url(npy_bytes(np.ones(5, np.float32)))), filenames=(None, "b.npy")
    )
    out = outputs(update_page(workbench, META_UPLOAD, controls(inputs=rows), SAMPLE))
    assert out[f"{ids.ERROR_ALERT}.is_open"] is True
    message = out[f"{ids.ERROR_ALERT}.children"]
    assert "meta" in message and "b.npy" in message and "(5,)" in message and "(16,)" in message
    assert out[f"{ids.PATTERN_VIEW_STORE}.data"] is no_update  # the pattern stays
    assert out[f"{META_UPLOAD}.contents"] is None  # emptied: the next file arrives as new


@pytest.mark.parametrize("row", [2, 3])
def test_a_row_past_the_models_inputs_asks_nothing(workbench, row):
    choice = choose_pattern(workbench, ids.INPUT_SEEDS[row], MODEL, inputs=rows_of(seeds=[1] * 4))
    assert choice.recipe is no_update and choice.error is None


def test_a_cleared_seed_box_asks_nothing(workbench):
    choice = choose_pattern(workbench, META_SEED, MODEL, inputs=rows_of(seeds=(None, None)))
    assert choice.recipe is no_update and choice.error is None


def test_a_whole_pattern_clears_the_rows_seeds(workbench):
    choice = choose_pattern(workbench, ids.SAMPLE_SELECT, MODEL, sample="digit_4.npz")
    assert choice.input_seeds == (None,) * ids.MAX_INPUT_ROWS


def test_a_current_pattern_of_another_model_starts_from_the_default(workbench):
    other = SeedRecipe("digits_cnn", 1).to_store()
    choice = choose_pattern(workbench, META_SEED, MODEL, inputs=rows_of((None, 3), current=other))
    default = workbench.default_recipe(MODEL)
    assert recipe_from_store(choice.recipe).parts == (default, SeedRecipe(MODEL, 3))


@pytest.mark.parametrize(
    "rows",
    [
        rows_of(seeds=(None, float("inf"))),
        rows_of(seeds=(None, "A" * 5000)),
        rows_of(seeds=(None, [1, 2])),
        rows_of(seeds=(None, True)),
        rows_of(seeds=(None, 7), current=[1, 2]),
        rows_of(seeds=(None, 7), current={"model": MODEL, "kind": "multi", "parts": "x"}),
        rows_of(uploads=(None, "A" * 5000), filenames=(None, [1])),
        rows_of(uploads=(None, 12), filenames=(None, None)),
    ],
)
def test_hostile_row_values_are_a_message(workbench, rows, caplog):
    for trigger in (META_SEED, META_UPLOAD):
        choice = choose_pattern(workbench, trigger, MODEL, inputs=rows)
        assert choice.recipe is no_update
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_the_page_update_draws_every_input_and_names_the_rows(workbench):
    out = outputs(
        update_page(workbench, META_SEED, controls(inputs=rows_of(seeds=(None, 7))), SAMPLE)
    )
    view = out[f"{ids.PATTERN_VIEW_STORE}.data"]
    assert [t.type for t in view["pattern"].data] == ["heatmap", "scatter"]
    assert view["info"] == "image: sample digit_3.npz; meta: random pattern, seed 7"
    assert [row["label"] for row in view["inputs"]] == ["image — (16, 16, 1)", "meta — (16,)"]
    assert [row["now"] for row in view["inputs"]] == [
        "now: sample digit_3.npz",
        "now: random pattern, seed 7",
    ]
    assert view["inputs"][0]["accept"] == ".npy,.npz,.csv,.png,.jpg,.jpeg"
    assert view["inputs"][1]["accept"] == ".npy,.npz,.csv"
    assert out[f"{ids.ACTIVATION_GRAPH}.figure"] is not no_update
    assert out[f"{META_SEED}.value"] is no_update


def test_the_image_panel_stays_when_meta_changes(workbench):
    before = render_pattern(workbench, SAMPLE)[0]
    mixed = MultiRecipe(MODEL, (SampleRecipe(MODEL, "digit_3.npz"), SeedRecipe(MODEL, 7)))
    after = render_pattern(workbench, mixed.to_store())[0]
    np.testing.assert_array_equal(before.data[0].z, after.data[0].z)
    assert not np.array_equal(before.data[1].y, after.data[1].y)


def test_a_single_input_model_has_no_rows(workbench):
    assert input_rows(workbench, SeedRecipe("digits_cnn", 1).to_store()) is None
    out = outputs(update_page(workbench, None, controls(model="digits_cnn"), None))
    assert out[f"{ids.PATTERN_VIEW_STORE}.data"]["inputs"] is None
    assert all(out[f"{id_}.value"] is None for id_ in ids.INPUT_SEEDS)
