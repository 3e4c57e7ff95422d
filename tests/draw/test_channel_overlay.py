"""Tests for ``layerviz.draw.channel_overlay``: one channel stretched onto the input, on hand-made
arrays whose resized values are worked out by hand."""

from __future__ import annotations

import re

import numpy as np
import pytest

from layerviz.draw.channel_overlay import (
    channel_heat,
    channel_map,
    input_kind,
    overlay_problem,
    spatial_shape,
    unit_range,
    upsample,
)
from layerviz.errors import ArgumentError


@pytest.mark.parametrize(
    ("shape", "kind"),
    [
        ((28, 28, 1), "image"),
        ((224, 224, 3), "image"),
        ((50, 50), "image"),  # the article's pattern: a picture
        ((12, 12), "image"),
        ((128, 1), "sequence"),
        ((32, 2), "sequence"),
        ((64,), "sequence"),
        ((2, 3, 4, 5), None),
    ],
)
def test_input_kind_follows_how_the_pattern_is_drawn(shape, kind):
    assert input_kind(shape) == kind


def test_spatial_shape_is_what_a_heat_map_covers():
    assert spatial_shape((28, 30, 3)) == (28, 30)
    assert spatial_shape((128, 2)) == (128,)
    with pytest.raises(ArgumentError, match=r"input \(1, 2, 3, 4\) is neither"):
        spatial_shape((1, 2, 3, 4))


def test_upsample_doubles_with_pixel_centres_aligned():
    # Centres of 2 → 4 pixels: new pixel x sits at (x + 0.5) / 2 - 0.5 of the old grid.
    np.testing.assert_allclose(upsample(np.array([0.0, 1.0]), (4,)), [0, 0.25, 0.75, 1])
    grid = upsample(np.array([[0.0, 1.0], [2.0, 3.0]]), (4, 4))
    np.testing.assert_allclose(grid[0], [0, 0.25, 0.75, 1])
    np.testing.assert_allclose(grid[:, 0], [0, 0.5, 1.5, 2])
    assert grid.dtype == np.float32


def test_upsample_keeps_a_constant_and_where_the_hot_spot_is():
    np.testing.assert_allclose(upsample(np.full((3, 5), 7.0), (9, 15)), np.full((9, 15), 7.0))
    spot = np.zeros((4, 4))
    spot[0, 3] = 1.0  # top right
    big = upsample(spot, (16, 16))
    row, col = np.unravel_index(np.argmax(big), big.shape)
    assert row < 4 and col >= 12
    assert upsample(np.ones((1, 1)), (5, 3)).shape == (5, 3)  # a 1×1 map covers everything


def test_upsample_of_the_same_shape_is_a_copy():
    values = np.arange(6, dtype=np.float32).reshape(2, 3)
    out = upsample(values, (2, 3))
    np.testing.assert_array_equal(out, values)
    assert out is not values


@pytest.mark.parametrize(
    ("values", "shape"),
    [(np.ones((2, 2)), (4,)), (np.ones(3), (0,)), (np.ones((2, 2, 2)), (4, 4, 4))],
)
def test_upsample_refuses_mismatched_or_empty_shapes(values, shape):
    with pytest.raises(ArgumentError, match="resize"):
        upsample(values, shape)


def test_unit_range_maps_min_to_0_and_max_to_1():
    np.testing.assert_allclose(
        unit_range(np.array([[-2.0, 0.0], [2.0, 6.0]])), [[0, 0.25], [0.5, 1]]
    )
    np.testing.assert_array_equal(unit_range(np.full(4, 3.0)), np.zeros(4))  # nothing stands out
    np.testing.assert_allclose(unit_range(np.array([np.nan, 1.0, np.inf, 3.0])), [0, 0, 0, 1])
    np.testing.assert_array_equal(unit_range(np.array([np.nan, np.nan])), [0, 0])


def test_channel_map_takes_the_last_axis():
    layer = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    np.testing.assert_array_equal(channel_map(layer, 1, (8, 12, 1)), layer[:, :, 1])
    strip = np.arange(10, dtype=np.float32).reshape(5, 2)
    np.testing.assert_array_equal(channel_map(strip, 1, (20, 1)), [1, 3, 5, 7, 9])


@pytest.mark.parametrize(
    ("layer_shape", "input_shape", "words"),
    [
        ((64,), (28, 28, 1), r"output \(64,\) has no height × width maps .* 28×28 input image"),
        ((50, 75), (50, 50), "has no height × width maps"),  # a Dense on each row: no map
        ((16,), (128, 1), r"no time axis to lay along the 128-step input"),
        ((4, 4, 2), (128, 1), "no time axis"),
        ((3, 3, 2), (2, 3, 4, 5), "neither an image nor a sequence"),
    ],
)
def test_layers_without_a_place_on_the_input_get_a_sentence(layer_shape, input_shape, words):
    assert overlay_problem((3, 3, 2), (12, 12, 1)) is None
    assert overlay_problem((30, 4), (32, 2)) is None
    problem = overlay_problem(layer_shape, input_shape)
    assert problem is not None and problem.endswith(".")
    assert re.search(words, problem)
    with pytest.raises(ArgumentError):
        channel_map(np.zeros(layer_shape), 0, input_shape)


@pytest.mark.parametrize("channel", [-1, 4, 1.0, True, "1", None])
def test_channel_out_of_range_is_named(channel):
    with pytest.raises(ArgumentError, match=r"channel must be a whole number from 0 to 3"):
        channel_map(np.zeros((2, 2, 4)), channel, (4, 4, 1))


def test_channel_heat_is_the_unit_map_stretched_onto_the_image():
    layer = np.zeros((2, 2, 3), np.float32)
    layer[:, :, 2] = [[-1.0, 1.0], [-1.0, 1.0]]  # left cold, right hot
    heat = channel_heat(layer, 2, (4, 4, 3))
    np.testing.assert_allclose(heat, np.tile([0, 0.25, 0.75, 1], (4, 1)))
    assert heat.min() >= 0 and heat.max() <= 1


def test_channel_heat_along_a_sequence():
    layer = np.zeros((3, 2), np.float32)
    layer[:, 0] = [0.0, 5.0, 10.0]
    heat = channel_heat(layer, 0, (12, 1))
    assert heat.shape == (12,)
    np.testing.assert_allclose(heat[[0, -1]], [0, 1])
    assert np.all(np.diff(heat) >= 0)  # a rising channel stays rising along the input


def test_a_huge_channel_number_is_named_by_its_size():
    """Issue 25, row 10: repr() of a 5,000-digit channel raised ValueError inside the message."""
    with pytest.raises(ArgumentError, match=r"from 0 to 1, got a number of about 5000 digits"):
        channel_map(np.zeros((4, 4, 2)), 10**5000, (4, 4, 1))
