"""Tests for ``layerviz.draw.overlay``: the explanation PNG."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from layerviz.draw.overlay import explanation_png, grey_image, series_of
from layerviz.errors import ArgumentError


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG")
    return Image.open(io.BytesIO(data)).size


@pytest.mark.parametrize(
    ("pattern_shape", "heat_shape"),
    [((1, 12, 20, 3), (12, 20)), ((12, 12), (12, 12)), ((64, 2), (64,)), ((1, 30), (30,))],
)
def test_explanation_png_draws_images_and_bands(pattern_shape, heat_shape):
    rng = np.random.default_rng(0)
    data = explanation_png(rng.random(pattern_shape), rng.random(heat_shape), "a title", 0.4)
    width, height = png_size(data)
    assert width > 300 and height > 300


def test_the_heat_changes_the_picture():
    pattern = np.random.default_rng(0).random((10, 10, 1))
    left = np.zeros((10, 10), np.float32)
    left[:, :5] = 1.0
    assert explanation_png(pattern, left) != explanation_png(pattern, left[:, ::-1])


def test_grey_image_is_the_channel_mean():
    pattern = np.stack([np.zeros((4, 5)), np.ones((4, 5)) * 2], axis=-1)[None]
    np.testing.assert_allclose(grey_image(pattern, (4, 5)), np.ones((4, 5)))


@pytest.mark.parametrize(
    ("pattern", "heat", "opacity", "message"),
    [
        (np.zeros((4, 4, 1)), np.zeros((4, 4)), 1.5, r"opacity must be between 0 and 1, got 1.5"),
        (np.zeros((4, 4, 1)), np.zeros((2, 2, 2)), 0.5, r"1-D or 2-D, got shape \(2, 2, 2\)"),
        (np.zeros((4, 4, 1)), np.zeros((5, 4)), 0.5, r"\(4, 4, 1\) does not hold .* \(5, 4\)"),
        (np.zeros((7, 1)), np.zeros((5,)), 0.5, r"7 values does not fit heat \(5,\)"),
    ],
)
def test_mismatches_are_argument_errors(pattern, heat, opacity, message):
    with pytest.raises(ArgumentError, match=message):
        explanation_png(pattern, heat, opacity=opacity)


def test_series_of_splits_into_steps():
    assert series_of(np.arange(12.0)[None], 6).shape == (6, 2)
    with pytest.raises(ArgumentError, match=r"12 values does not fit heat \(5,\)"):
        series_of(np.arange(12.0), 5)
