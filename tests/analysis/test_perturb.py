"""Tests for ``layerviz.analysis.perturb``: the four perturbations, their specs, the occlusion
sweep."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from layerviz import ActivationExtractor, ArgumentError, PatternError, occlusion_sweep, perturb
from layerviz.analysis.perturb import KINDS, format_spec, parse_spec, probabilities, spatial_shape


@pytest.fixture
def image() -> np.ndarray:
    """A (1, 6, 5, 2) image whose every value is distinct and non-zero."""
    return (np.arange(60, dtype=np.float32) + 1).reshape(1, 6, 5, 2)


@pytest.fixture
def signal() -> np.ndarray:
    """A (1, 40, 1) waveform: a 1-D signal by the (t, c ≤ 8 < t) rule."""
    return np.sin(np.linspace(0, 6, 40, dtype=np.float32)).reshape(1, 40, 1) + 2


# --- spatial axes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "space"),
    [
        ((40,), (40,)),
        ((40, 1), (40,)),
        ((128, 8), (128,)),
        ((50, 50), (50, 50)),
        ((6, 9), (6, 9)),  # few steps: an image, not a signal
        ((32, 32, 1), (32, 32)),
        ((8, 8, 3), (8, 8)),
    ],
)
def test_spatial_shape(shape, space):
    assert spatial_shape(shape) == space


def test_spatial_shape_refuses_volumes():
    with pytest.raises(ArgumentError, match=r"\(4, 6, 6, 1\)"):
        spatial_shape((4, 6, 6, 1))


# --- the four kinds --------------------------------------------------------------------------


def test_shift_by_zero_is_the_identity(image, signal):
    for pattern in (image, signal):
        out = perturb(pattern, "shift", dx=0, dy=0)
        assert out.dtype == np.float32
        np.testing.assert_array_equal(out, pattern)
        assert out is not pattern


def test_shift_moves_right_and_down_with_zeros_in(image):
    out = perturb(image, "shift", dx=2, dy=1)
    np.testing.assert_array_equal(out[:, 1:, 2:], image[:, :-1, :-2])
    assert not out[:, 0].any() and not out[:, :, :2].any()


def test_shift_moves_left_and_up(image):
    out = perturb(image, "shift", dx=-1, dy=-2)
    np.testing.assert_array_equal(out[:, :-2, :-1], image[:, 2:, 1:])
    assert not out[:, -2:].any() and not out[:, :, -1].any()


def test_a_signal_shifts_along_time(signal):
    out = perturb(signal, "shift", dx=3)
    np.testing.assert_array_equal(out[:, 3:], signal[:, :-3])
    assert not out[:, :3].any()


def test_noise_is_seeded_and_scaled_by_sigma(image):
    a = perturb(image, "noise", seed=4, sigma=0.5)
    np.testing.assert_array_equal(a, perturb(image, "noise", seed=4, sigma=0.5))
    assert not np.array_equal(a, perturb(image, "noise", seed=5, sigma=0.5))
    big = np.zeros((1, 200, 200), dtype=np.float32)
    assert np.std(perturb(big, "noise", sigma=0.5)) == pytest.approx(0.5, rel=0.02)
    np.testing.assert_array_equal(perturb(image, "noise", sigma=0), image)


def test_occlude_fills_a_clipped_box_on_every_channel(image):
    out = perturb(image, "occlude", x=3, y=4, size=3, value=-1.5)
    assert (out[:, 4:6, 3:5] == -1.5).all()  # clipped at the bottom and right edges
    mask = np.ones(image.shape, bool)
    mask[:, 4:6, 3:5] = False
    np.testing.assert_array_equal(out[mask], image[mask])


def test_occlude_a_signal_covers_a_stretch_of_time(signal):
    out = perturb(signal, "occlude", x=10, size=5)
    assert not out[:, 10:15].any()
    np.testing.assert_array_equal(out[:, 15:], signal[:, 15:])


def test_scale(image):
    np.testing.assert_array_equal(perturb(image, "scale", factor=0.5), image * 0.5)


def test_defaults_fill_missing_parameters(image):
    np.testing.assert_array_equal(perturb(image, "scale"), image)
    assert perturb(image, "occlude")[0, :4, :4].sum() == 0


def test_perturb_leaves_the_pattern_alone(image):
    before = image.copy()
    for kind in KINDS:
        perturb(image, kind)
    np.testing.assert_array_equal(image, before)


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "params", "fragments"),
    [
        ("blur", {}, ("noise, shift, occlude, scale", "'blur'")),
        ("noise", {"sigma": -0.1}, ("sigma", "from 0 to 100", "-0.1")),
        ("noise", {"sigma": float("nan")}, ("sigma", "from 0 to 100")),
        ("noise", {"sigma": "0.1"}, ("sigma", "'0.1'")),
        ("noise", {"dx": 1}, ("noise takes sigma", "dx")),
        ("scale", {"factor": 1000}, ("factor", "from 0 to 100")),
        ("shift", {"dx": 5}, ("dx", "from -4 to 4", "5")),
        ("shift", {"dy": -6}, ("dy", "from -5 to 5")),
        ("shift", {"dx": 1.5}, ("dx", "whole number", "1.5")),
        ("shift", {"dx": True}, ("dx", "True")),
        ("occlude", {"x": 5}, ("x", "from 0 to 4")),
        ("occlude", {"size": 0}, ("size", "from 1 to 6")),
        ("occlude", {"value": float("inf")}, ("value", "finite")),
    ],
)
def test_out_of_range_parameters_name_the_range(kind, params, fragments, image):
    with pytest.raises(ArgumentError) as info:
        perturb(image, kind, **params)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_a_signal_refuses_a_vertical_shift(signal):
    with pytest.raises(
        ArgumentError,
        match=r"dy must be a whole number from 0 to 0 \(a 1-D signal moves along time only\)",
    ):
        perturb(signal, "shift", dy=1)


def test_bad_noise_seed(image):
    with pytest.raises(ArgumentError, match="seed"):
        perturb(image, "noise", seed=-1)


@pytest.mark.parametrize(
    ("pattern", "fragment"),
    [
        (np.zeros((6, 5), np.float32), "shaped (1, *input_shape), got float32 (6, 5)"),
        (np.zeros((1, 6, 5), np.int32), "int32 (token ids?)"),
        ([np.zeros((1, 4)), np.zeros((1, 3))], "perturb each input's array on its own"),
        (np.zeros((1, 2, 3, 4, 5), np.float32), "neither a signal"),
    ],
)
def test_bad_patterns(pattern, fragment):
    with pytest.raises(ArgumentError) as info:
        perturb(pattern, "shift", dx=1)
    assert fragment in str(info.value)


# --- specs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "params"),
    [
        ("noise:0.1", "noise", {"sigma": 0.1}),
        ("noise", "noise", {}),
        ("Shift:2,-1", "shift", {"dx": 2, "dy": -1}),
        ("shift:dy=3", "shift", {"dy": 3}),
        ("occlude:x=4, y=4, size=8", "occlude", {"x": 4, "y": 4, "size": 8}),
        ("occlude:1,2,3,0.5", "occlude", {"x": 1, "y": 2, "size": 3, "value": 0.5}),
        ("scale:0.5", "scale", {"factor": 0.5}),
    ],
)
def test_parse_spec(text, kind, params):
    assert parse_spec(text) == (kind, params)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("blur:1", "must be one of noise, shift, occlude, scale"),
        ("noise:abc", "sigma must be a number, got 'abc'"),
        ("shift:1,2,3", "at most 2 values"),
        ("shift:dz=1", "takes dx, dy once each, got 'dz'"),
        ("shift:1,dx=2", "got 'dx'"),
    ],
)
def test_parse_spec_refuses(text, fragment):
    with pytest.raises(ArgumentError) as info:
        parse_spec(text)
    assert fragment in str(info.value)


def test_format_spec_reads_back():
    text = format_spec("occlude", {"x": 4, "size": 8})
    assert text == "occlude:x=4,y=0,size=8,value=0"
    assert parse_spec(text) == ("occlude", {"x": 4, "y": 0, "size": 8, "value": 0})


# --- the occlusion sweep -----------------------------------------------------------------------


def left_half_model() -> keras.Model:
    """Two classes over an 8×8 image; class 0's logit sums the left half (columns 0-3) only.

    Weights set by hand: a pixel of the right half has weight 0 for both classes, so covering
    it leaves both logits bit for bit unchanged.
    """
    inputs = keras.Input((8, 8, 1), name="image")
    x = keras.layers.Flatten(name="flat")(inputs)
    outputs = keras.layers.Dense(2, activation="softmax", name="probs")(x)
    model = keras.Model(inputs, outputs, name="left_half")
    kernel = np.zeros((64, 2), np.float32)
    left = (np.arange(64) % 8) < 4
    kernel[left, 0] = 0.1  # 32 lit pixels → logit 3.2, p(class 0) ≈ 0.96
    model.get_layer("probs").set_weights([kernel, np.zeros(2, np.float32)])
    return model


def test_occlusion_drops_only_over_the_left_half(keras_session):
    pattern = np.ones((1, 8, 8, 1), np.float32)
    result = occlusion_sweep(left_half_model(), pattern, size=2, stride=1, batch_size=7)

    assert result.class_index == 0
    assert result.base_probability == pytest.approx(1 / (1 + np.exp(-3.2)), rel=1e-5)
    np.testing.assert_array_equal(result.xs, np.arange(7))
    np.testing.assert_array_equal(result.ys, np.arange(7))
    covers_left = result.xs <= 3  # a box at x covers columns x and x + 1
    assert (result.drop[:, covers_left] > 0).all()
    assert (result.drop[:, ~covers_left] == 0).all()
    # Two covered left columns hurt more than one.
    assert (result.drop[:, 2] > result.drop[:, 3]).all()


def test_occlusion_follows_the_class_asked_for(keras_session):
    pattern = np.ones((1, 8, 8, 1), np.float32)
    result = occlusion_sweep(left_half_model(), pattern, size=4, stride=4, class_index=1)
    assert result.drop.shape == (2, 2)
    assert (result.drop[:, 0] < 0).all()  # covering the left half helps class 1
    assert (result.drop[:, 1] == 0).all()


def test_occlusion_reports_progress_per_batch(keras_session):
    calls = []
    extractor = ActivationExtractor(left_half_model())
    pattern = np.ones((1, 8, 8, 1), np.float32)
    occlusion_sweep(
        extractor, pattern, size=2, stride=2, batch_size=5, progress=lambda *c: calls.append(c)
    )
    assert calls == [(5, 16), (10, 16), (15, 16), (16, 16)]


def test_occlusion_over_a_signal(keras_session):
    inputs = keras.Input((20, 1))
    x = keras.layers.Flatten()(inputs)
    model = keras.Model(inputs, keras.layers.Dense(3)(x))  # logits: a softmax is applied
    result = occlusion_sweep(model, np.ones((1, 20, 1), np.float32), size=5, stride=5)
    assert result.drop.shape == (1, 4)
    assert result.space == (20,)
    np.testing.assert_array_equal(result.ys, [0])
    np.testing.assert_array_equal(result.xs, [0, 5, 10, 15])


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"size": 9}, ArgumentError, "size must be a whole number from 1 to 8"),
        ({"stride": 0}, ArgumentError, "stride must be a whole number from 1 to 8"),
        ({"batch_size": 0}, ArgumentError, "batch_size"),
        ({"class_index": 2}, ArgumentError, "class_index must be a whole number from 0 to 1"),
        ({"pattern": np.ones((1, 7, 8, 1))}, PatternError, "does not fit input (8, 8, 1)"),
    ],
)
def test_occlusion_bad_arguments(kwargs, error, fragment, keras_session):
    kwargs = {"pattern": np.ones((1, 8, 8, 1), np.float32), **kwargs}
    with pytest.raises(error) as info:
        occlusion_sweep(left_half_model(), **kwargs)
    assert fragment in str(info.value)


def test_probabilities_pass_probabilities_and_softmax_logits():
    probs = np.array([[0.2, 0.8], [1.0, 0.0]])
    np.testing.assert_array_equal(probabilities(probs), probs)
    logits = np.array([[0.0, np.log(3.0)]])
    np.testing.assert_allclose(probabilities(logits), [[0.25, 0.75]])
    np.testing.assert_allclose(probabilities(np.array([[0.0]])), [[0.0]])
    np.testing.assert_allclose(probabilities(np.array([[2.0]])), [[1 / (1 + np.exp(-2))]])
