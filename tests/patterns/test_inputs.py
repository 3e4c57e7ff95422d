"""Tests for layerviz.patterns.inputs: input shapes, random patterns, fitting arrays to an input."""

from __future__ import annotations

import re
from types import SimpleNamespace

import keras
import numpy as np
import pytest

from layerviz.errors import ArgumentError, ModelStructureError, PatternError
from layerviz.extract.activations import ActivationExtractor
from layerviz.patterns.inputs import (
    INT_PATTERN_HIGH,
    check_seed,
    check_shape,
    fit_array,
    input_dtypes_of,
    input_shape_of,
    input_shapes_of,
    integer_input_ranges,
    random_pattern,
)

MNIST = (28, 28, 1)


# --- fit_array ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "input_shape"),
    [
        ((28, 28, 1), MNIST),
        ((1, 28, 28, 1), MNIST),
        ((28, 28), MNIST),
        ((50, 50, 1), (50, 50)),
        ((784,), (784,)),
        ((1, 784), (784,)),
        ((3,), (3,)),
        ((1, 2, 3), (1, 2, 3)),
        ((1, 1, 2, 3), (1, 2, 3)),
    ],
)
def test_fit_array_accepts(shape, input_shape):
    out = fit_array(np.zeros(shape, dtype=np.int16), input_shape)
    assert out.shape == (1, *input_shape)
    assert out.dtype == np.float32 and out.flags.c_contiguous


@pytest.mark.parametrize(
    ("shape", "input_shape"),
    [
        ((28, 28, 3), MNIST),
        ((2, 28, 28, 1), MNIST),
        ((28, 28, 1, 1), (28, 28)),
        ((784,), MNIST),
        ((28, 28), (28, 28, 3)),
        ((2, 3), (1, 2, 3)),  # the input's own leading 1 is never taken for a batch axis
    ],
)
def test_fit_array_refuses(shape, input_shape):
    message = f"pattern shape {shape} does not fit input {input_shape}"
    with pytest.raises(PatternError, match=re.escape(message)):
        fit_array(np.zeros(shape), input_shape)


def test_fit_array_does_not_alias_its_input():
    source = np.zeros((2, 2), dtype=np.float32)
    out = fit_array(source, (2, 2))
    out[0, 0, 0] = 5
    assert source[0, 0] == 0


def test_fit_array_refuses_ragged_lists_and_objects():
    with pytest.raises(PatternError, match="not a rectangular array"):
        fit_array([[1, 2], [3]], (2, 2))
    with pytest.raises(PatternError, match="pickled/object"):
        fit_array(np.array([1, None]), (2,))


def test_fit_array_gives_integer_ids_for_integer_inputs():
    out = fit_array(np.array([[1.0, 2.0], [3.0, 4.0]]), (2, 2), np.int32)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, [[[1, 2], [3, 4]]])
    with pytest.raises(PatternError, match="whole numbers"):
        fit_array(np.array([0.5, 1.0]), (2,), np.int32)
    with pytest.raises(PatternError, match="ids must lie between"):
        fit_array(np.array([2.0**40, 1.0]), (2,), np.int32)


# --- input shapes --------------------------------------------------------------------------


def fake_model(*shapes, dtype="float32"):
    return SimpleNamespace(
        inputs=[SimpleNamespace(shape=shape, dtype=dtype) for shape in shapes], layers=[]
    )


def test_input_shape_of_a_model():
    assert input_shape_of(fake_model((None, 28, 28, 1))) == (28, 28, 1)
    assert input_shapes_of(fake_model((None, 4), (None, 2, 3))) == [(4,), (2, 3)]
    assert input_shape_of(fake_model((None, 1, 10))) == (1, 10)


def test_input_shape_of_refuses_several_inputs_free_axes_and_no_inputs():
    with pytest.raises(ModelStructureError, match="2 inputs"):
        input_shape_of(fake_model((None, 4), (None, 2, 3)))
    with pytest.raises(ModelStructureError, match=re.escape("shape (None, None, 3) has free")):
        input_shape_of(fake_model((None, None, None, 3)))
    with pytest.raises(ModelStructureError, match="no inputs"):
        input_shape_of(fake_model())
    with pytest.raises(ModelStructureError, match="cannot read the model's inputs"):
        input_shape_of(object())


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ((None, 28, 28), "without its batch axis"),
        ((28.0, 28), "not a tuple of ints"),
        ((0, 28), "not a positive int"),
        ((), "not a tuple of ints"),
        (28, "not a tuple of ints"),
        ((True, 3), "not a tuple of ints"),
    ],
)
def test_check_shape_refuses(shape, message):
    with pytest.raises(ArgumentError, match=message):
        check_shape(shape)


def test_check_shape_takes_numpy_ints():
    assert check_shape((np.int64(5), 3)) == (5, 3)


def test_input_dtypes_of():
    assert input_dtypes_of(fake_model((None, 3), dtype="int32")) == [np.dtype(np.int32)]
    assert input_dtypes_of(fake_model((None, 3), dtype="float16")) == [np.dtype(np.float32)]


# --- random patterns -----------------------------------------------------------------------


def test_random_pattern_shape_dtype_range():
    out = random_pattern(fake_model((None, 28, 28, 1)), seed=1)
    assert out.shape == (1, 28, 28, 1)
    assert out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() < 1.0
    assert out.std() > 0.2  # uniform [0, 1) has std ~0.29


def test_random_pattern_is_deterministic_with_a_seed():
    np.testing.assert_array_equal(random_pattern((5, 5), seed=7), random_pattern((5, 5), seed=7))
    expected = np.random.default_rng(7).random((1, 5, 5), dtype=np.float32)
    np.testing.assert_array_equal(random_pattern((5, 5), seed=7), expected)
    assert not np.array_equal(random_pattern((5, 5), seed=7), random_pattern((5, 5), seed=8))


def test_random_pattern_multi_input_draws_in_order_from_one_generator():
    first, second = random_pattern(fake_model((None, 4), (None, 2, 3)), seed=3)
    rng = np.random.default_rng(3)
    np.testing.assert_array_equal(first, rng.random((1, 4), dtype=np.float32))
    np.testing.assert_array_equal(second, rng.random((1, 2, 3), dtype=np.float32))


def test_random_pattern_for_integer_inputs_without_an_embedding():
    out = random_pattern(fake_model((None, 50), dtype="int32"), seed=0)
    assert out.dtype == np.int32 and out.shape == (1, 50)
    assert out.min() >= 0 and out.max() < INT_PATTERN_HIGH
    assert len(np.unique(out)) > 10  # not all zeros, as float noise cast to ids would be


def test_random_pattern_for_token_ids_stays_within_the_embedding():
    import keras

    inputs = keras.Input((40,), dtype="int32")
    x = keras.layers.Embedding(7, 4)(inputs)
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling1D()(x))
    out = random_pattern(model, seed=1)
    assert out.dtype == np.int32
    assert set(np.unique(out)) <= set(range(7)) and len(np.unique(out)) > 3


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, "x", True, False, float("inf"), [3]])
def test_check_seed_refuses(seed):
    with pytest.raises(PatternError, match="whole number between 0 and 4294967295"):
        check_seed(seed)


@pytest.mark.parametrize(("seed", "expected"), [(0, 0), ("7", 7), (7.0, 7), (2**32 - 1, 2**32 - 1)])
def test_check_seed_accepts(seed, expected):
    assert check_seed(seed) == expected


def test_random_pattern_without_a_seed_draws_fresh_entropy():
    assert random_pattern((2, 2), None).shape == (1, 2, 2)


def bert_style_model() -> keras.Model:
    """Three integer inputs as keras-hub's BERT takes them: token ids, segment ids (an
    Embedding of 2) and a padding mask (no Embedding: it scales the summed embeddings)."""
    tokens = keras.Input((6,), dtype="int32", name="token_ids")
    segments = keras.Input((6,), dtype="int32", name="segment_ids")
    mask = keras.Input((6,), dtype="int32", name="padding_mask")
    x = keras.layers.Add(name="sum")(
        [
            keras.layers.Embedding(100, 4, name="token_embedding")(tokens),
            keras.layers.Embedding(2, 4, name="segment_embedding")(segments),
        ]
    )
    weights = keras.layers.Reshape((6, 1), name="mask_axis")(keras.ops.cast(mask, "float32"))
    x = keras.layers.Multiply(name="masked")([x, weights])
    return keras.Model([tokens, segments, mask], keras.layers.Dense(2, name="out")(x))


def test_each_integer_input_gets_its_own_range(keras_session):
    """Issue 25, row 14: segment_ids and padding_mask were drawn in [0, 100) and the pass
    failed with TensorFlow's raw InvalidArgumentError."""
    model = bert_style_model()
    ranges = integer_input_ranges(model)
    assert [r.high for r in ranges] == [100, 2, 2]
    assert ranges[1].why == "Embedding 'segment_embedding'" and "mask" in ranges[2].why
    for seed in range(5):
        tokens, segments, mask = random_pattern(model, seed=seed)
        assert segments.max() <= 1 and mask.max() <= 1 and tokens.max() < 100
        ActivationExtractor(model).run([tokens, segments, mask])  # no error
    bad = [tokens, np.full_like(segments, 7), mask]
    with pytest.raises(PatternError, match=r"input 'segment_ids': ids from 7 to 7, but "
                       r"Embedding 'segment_embedding' takes \[0, 2\)"):  # fmt: skip
        ActivationExtractor(model).run(bad)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("grey levels in [0, 1], white stroke on black", (0.0, 1.0)),
        ("raw signal values, roughly -1.5..1.5 (amplitude 0.5 to 1.5)", (-1.5, 1.5)),
        ("pixels in [ -1 , 1 ] as MobileNetV2 expects", (-1.0, 1.0)),
        ("[1, 0]", None),
        ("no normalisation", None),
        ("", None),
    ],
)
def test_the_input_range_a_card_states(text, expected):
    from layerviz.patterns.inputs import stated_input_range

    assert stated_input_range(text) == expected
