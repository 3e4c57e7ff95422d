"""Colour ranges per map, per layer and per page equal numpy's on hand-made arrays."""

from __future__ import annotations

import numpy as np
import pytest

from layerviz.draw.normalise import ARTICLE_NORM, colour_ranges, normalised_image, tile_ranges
from layerviz.draw.selection import VisibleLayer
from layerviz.errors import ArgumentError
from layerviz.extract.activations import LayerActivation


def layer(array, index=1, name="conv", role=None, head=None) -> VisibleLayer:
    act = LayerActivation(
        index,
        name,
        "Conv2D",
        np.asarray(array, dtype=np.float32),
        *(("mha", 1, role) if role else ()),
    )
    return VisibleLayer(act, head)


def page() -> list[VisibleLayer]:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(6, 5, 3)).astype(np.float32) * np.array([1, 10, 100], np.float32)
    b = rng.normal(size=(7, 7)).astype(np.float32) + 50
    return [layer(a, 1, "a"), layer(b, 2, "b")]


def test_per_map_is_each_channel_own_range():
    a, b = page()
    ranges = colour_ranges([a, b], "map")
    array = a.activation.array
    expected = np.stack([array.min(axis=(0, 1)), array.max(axis=(0, 1))], axis=1)
    np.testing.assert_allclose(ranges[0], expected)
    np.testing.assert_allclose(ranges[1], [[b.activation.array.min(), b.activation.array.max()]])


def test_per_layer_is_one_range_across_a_layer_channels():
    a, b = page()
    ranges = colour_ranges([a, b], "layer")
    assert ranges[0].shape == (3, 2)
    np.testing.assert_allclose(
        ranges[0], [[a.activation.array.min(), a.activation.array.max()]] * 3
    )
    np.testing.assert_allclose(ranges[1], [[b.activation.array.min(), b.activation.array.max()]])


def test_per_page_is_one_range_for_every_panel():
    a, b = page()
    ranges = colour_ranges([a, b], "page")
    both = np.concatenate([a.activation.array.ravel(), b.activation.array.ravel()])
    for r in ranges:
        np.testing.assert_allclose(r, np.tile([both.min(), both.max()], (len(r), 1)))


def test_non_finite_values_never_widen_a_range():
    array = np.arange(2 * 2 * 3, dtype=np.float32).reshape(2, 2, 3)
    array[0, 0, 0], array[1, 1, 1] = np.nan, np.inf
    array[:, :, 2] = -np.inf
    ranges = tile_ranges(layer(array))
    finite = np.where(np.isfinite(array), array, np.nan)[:, :, :2]
    expected = np.stack([np.nanmin(finite, axis=(0, 1)), np.nanmax(finite, axis=(0, 1))], axis=1)
    np.testing.assert_allclose(ranges[:2], expected)
    assert np.isnan(ranges[2]).all()  # no finite value: nothing to scale by
    assert colour_ranges([layer(array)], "layer")[0][0].tolist() == [1.0, 9.0]


def test_an_attention_head_is_its_own_panel():
    scores = np.stack([np.full((20, 20), 1.0), np.full((20, 20), 5.0)]).astype(np.float32)
    heads = [layer(scores, role="attention", head=h) for h in (0, 1)]
    assert [r.tolist() for r in colour_ranges(heads, "layer")] == [[[1.0, 1.0]], [[5.0, 5.0]]]
    assert colour_ranges(heads, "page")[0].tolist() == [[1.0, 5.0]]


def test_per_map_rescales_each_tile_to_unit_range():
    a, _ = page()
    image, limits = normalised_image(a, colour_ranges([a], "map")[0])
    assert limits == (0.0, 1.0)
    tiles = [image[:6, :5], image[:6, 6:11], image[7:13, :5]]  # a 2×2 montage of 6×5 maps
    for c, tile in enumerate(tiles):
        channel = a.activation.array[:, :, c].astype(np.float64)
        expected = (channel - channel.min()) / (channel.max() - channel.min())
        np.testing.assert_allclose(tile, expected, atol=1e-6)
    assert np.isnan(image[6]).all()  # the gaps stay gaps


def test_shared_ranges_keep_the_panel_image():
    a, b = page()
    image, limits = normalised_image(a, colour_ranges([a, b], "page")[0])
    assert image is a.image
    both = [a.activation.array, b.activation.array]
    assert limits == (float(min(x.min() for x in both)), float(max(x.max() for x in both)))
    assert ARTICLE_NORM == "layer"


def test_an_unknown_mode_names_the_modes():
    with pytest.raises(ArgumentError, match="'map', 'layer', 'page'"):
        colour_ranges(page(), "global")
