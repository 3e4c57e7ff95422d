"""The dashboard's back room, without Dash: models, pattern recipes and the extraction cache."""

import io

import numpy as np
import pytest

from layerviz.errors import ModelLoadError, ModelStructureError, PatternError
from layerviz.workbench import Workbench, pattern_digest


@pytest.fixture
def workbench(article_model):
    return Workbench({"article": article_model}, include_bundled=False)


def test_in_memory_models_are_offered_by_name(workbench):
    assert workbench.model_names == ["article"]
    assert workbench.input_shape("article") == (50, 50)


def test_unknown_model_names_the_offered_ones(workbench):
    with pytest.raises(ModelLoadError, match="offered: article"):
        workbench.entry("nope")


def test_no_model_at_all_is_an_error():
    with pytest.raises(ModelLoadError, match="no model"):
        Workbench({}, include_bundled=False)


def test_default_is_seed_zero_without_samples(workbench):
    recipe = workbench.default_recipe("article")
    assert recipe == {"model": "article", "kind": "seed", "seed": 0}
    pattern = workbench.pattern(recipe)
    assert pattern.shape == (1, 50, 50) and pattern.dtype == np.float32


def test_a_pattern_set_in_code_becomes_the_default(workbench):
    bench = workbench
    given = np.full((50, 50), 0.5, np.float32)
    recipe = bench.set_default_pattern("article", given)
    assert bench.default_recipe("article") == recipe
    np.testing.assert_array_equal(bench.pattern(recipe)[0], given)


def test_a_pattern_set_in_code_must_fit(workbench):
    with pytest.raises(PatternError, match=r"\(4, 4\).*\(50, 50\)"):
        workbench.set_default_pattern("article", np.zeros((4, 4)))


@pytest.mark.parametrize(
    ("recipe", "message"),
    [
        ({"kind": "seed", "seed": "x"}, "whole number"),
        ({"kind": "seed", "seed": -1}, "between 0 and"),
        ({"kind": "seed", "seed": 2**32}, "between 0 and"),
        ({"kind": "sample", "sample": "digit.png"}, "no sample 'digit.png'"),
        ({"kind": "upload", "digest": "0" * 24}, "upload it again"),
        ({"kind": "magic"}, "unknown pattern source"),
    ],
)
def test_bad_recipes_are_pattern_errors(workbench, recipe, message):
    with pytest.raises(PatternError, match=message):
        workbench.pattern({"model": "article", **recipe})


def test_uploads_are_kept_under_their_digest(workbench):
    data = np.ones((50, 50), np.float32)
    buffer = io.BytesIO()
    np.save(buffer, data)
    recipe = workbench.add_upload("article", buffer.getvalue(), "ones.npy")
    assert recipe["digest"] == pattern_digest(data[np.newaxis])
    np.testing.assert_array_equal(workbench.pattern(recipe)[0], data)


def test_extraction_is_computed_once_per_model_and_pattern(workbench):
    recipe = {"model": "article", "kind": "seed", "seed": 123}
    _, first, cached_first = workbench.extraction(recipe)
    _, second, cached_second = workbench.extraction(recipe)
    assert (cached_first, cached_second) == (False, True)
    assert second is first
    assert [a.name for a in first.activations][:2] == ["dense", "my_dense"]
    assert first.outputs[0].shape == (5,)


def test_different_patterns_are_cached_apart(workbench):
    a = workbench.extraction({"model": "article", "kind": "seed", "seed": 1})[1]
    b = workbench.extraction({"model": "article", "kind": "seed", "seed": 2})[1]
    assert not np.array_equal(a.activations[0].array, b.activations[0].array)


def test_a_bundled_model_loaded_in_code_keeps_its_samples_and_classes():
    from layerviz import load_model

    bench = Workbench({"digits_cnn": load_model("digits_cnn")})
    entry = bench.entry("digits_cnn")
    assert entry.title.endswith("(in memory)")
    assert entry.class_names == tuple("0123456789")
    assert "digit_3.png" in {s.name for s in entry.samples}
    assert bench.model_names.count("digits_cnn") == 1


def test_a_multi_input_model_is_refused_with_a_reason(keras_session):
    import keras

    a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
    model = keras.Model([a, b], keras.layers.Add()([a, b]), name="two")
    bench = Workbench({"two": model}, include_bundled=False)
    with pytest.raises(ModelStructureError, match="2 inputs"):
        bench.entry("two")


def test_an_input_whose_first_axis_is_1_takes_uploads(keras_session):
    # (1, 10) must not be read as "batch axis + (10,)".
    import keras

    inputs = keras.Input((1, 10))
    model = keras.Model(inputs, keras.layers.LSTM(3)(inputs), name="one_step")
    bench = Workbench({"one_step": model}, include_bundled=False)
    buffer = io.BytesIO()
    np.save(buffer, np.ones((1, 10), np.float32))
    recipe = bench.add_upload("one_step", buffer.getvalue(), "step.npy")
    assert bench.pattern(recipe).shape == (1, 1, 10)
    assert bench.set_default_pattern("one_step", np.zeros((1, 10)))["kind"] == "upload"
