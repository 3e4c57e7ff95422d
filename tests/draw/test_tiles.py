"""Server-coloured grid tiles: palettes, colour indices, PNGs, sampling, and the way back from
a sent pixel to the exact value (layerviz.draw.tiles)."""

from __future__ import annotations

import base64
import io

import numpy as np
import plotly.colors
import pytest
from PIL import Image

from layerviz.draw.selection import VisibleLayer
from layerviz.draw.tiles import (
    LEVELS,
    colour_indices,
    grid_palette,
    kept_lines,
    montage_point,
    palette_png_url,
    point_text,
    sampled,
    shown_point,
    tile_step,
)
from layerviz.errors import ArgumentError
from layerviz.extract.activations import LayerActivation


def layer(shape, seed=0, index=3, name="conv", role=None, head=None) -> VisibleLayer:
    array = np.random.default_rng(seed).normal(size=shape).astype(np.float32)
    extra = ("mha", 1, role) if role else ()
    return VisibleLayer(LayerActivation(index, name, "Conv2D", array, *extra), head)


def decoded(url: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))


def test_palette_is_plotly_scale_then_white():
    palette = grid_palette("Cividis")
    assert palette.shape == (LEVELS + 1, 3) and palette.dtype == np.uint8
    scale = plotly.colors.get_colorscale("Cividis")
    ends = plotly.colors.sample_colorscale(scale, [0.0, 1.0])
    assert palette[0].tolist() == [round(v) for v in plotly.colors.unlabel_rgb(ends[0])]
    assert palette[LEVELS - 1].tolist() == [round(v) for v in plotly.colors.unlabel_rgb(ends[1])]
    assert palette[LEVELS].tolist() == [255, 255, 255]
    with pytest.raises(ArgumentError, match="unknown colour scale 'Nope'"):
        grid_palette("Nope")


def test_colour_indices_cut_the_range_and_mark_non_finite_values():
    image = np.array([[0.0, 0.5, 1.0], [np.nan, np.inf, -np.inf]], dtype=np.float32)
    index = colour_indices(image, (0.0, 1.0))
    assert index.tolist() == [[0, 127, LEVELS - 1], [LEVELS] * 3]
    assert colour_indices(image, None).tolist() == [[LEVELS] * 3] * 2  # nothing finite to scale
    assert colour_indices(np.full((2, 2), 7.0, np.float32), (7.0, 7.0)).tolist() == [[0, 0]] * 2


def test_palette_png_is_lossless():
    index = np.random.default_rng(0).integers(0, LEVELS + 1, (30, 40)).astype(np.uint8)
    image = decoded(palette_png_url(index, grid_palette("Viridis")))
    assert image.mode == "P" and image.size == (40, 30)
    np.testing.assert_array_equal(np.asarray(image), index)
    rgb = np.asarray(image.convert("RGB"))
    np.testing.assert_array_equal(rgb, grid_palette("Viridis")[index])


def test_a_large_montage_keeps_every_step_th_pixel_of_each_map_and_every_gap():
    wide = layer((64, 64, 16))  # a 4 × 4 montage of 64-pixel maps: 259 pixels a side
    assert tile_step(wide, None) == 1 and tile_step(wide, 300) == 1
    assert tile_step(wide, 160) == 2
    lines = kept_lines(64, 4, 2)
    assert lines[:3].tolist() == [1, 3, 5] and lines[32] == 64  # the first gap
    shown = sampled(wide.image, wide, 2)
    assert shown.shape == (4 * 33 - 1, 4 * 33 - 1)
    assert np.isnan(shown[32]).all() and np.isnan(shown[:, 65]).all()
    np.testing.assert_array_equal(shown[:32, :32], wide.activation.array[1::2, 1::2, 0])


@pytest.mark.parametrize("shape", [(64, 64, 16), (30, 20, 5), (40, 50), (300,), (7, 9, 1)])
@pytest.mark.parametrize("max_side", [None, 100, 40])
def test_every_sent_pixel_leads_back_to_its_exact_value(shape, max_side):
    panel = layer(shape)
    step = tile_step(panel, max_side)
    shown = sampled(panel.image, panel, step)
    for row in range(shown.shape[0]):
        for col in range(shown.shape[1]):
            point = shown_point(panel, step, row, col)
            if np.isnan(shown[row, col]):
                assert point is None  # a gap between maps
            else:
                assert point is not None and point.value == float(shown[row, col])
    assert shown_point(panel, step, -1, 0) is None
    assert shown_point(panel, step, 0, shown.shape[1]) is None


def test_points_are_in_the_original_map_coordinates():
    panel = layer((10, 12, 5))  # 2 rows × 3 columns of tiles
    point = montage_point(panel, 11 + 4, 13 + 7)  # tile (1, 1): channel 4
    assert (point.channel, point.row, point.col) == (4, 4, 7)
    point = montage_point(panel, 4, 13 + 7)  # tile (0, 1): channel 1
    assert (point.channel, point.row, point.col) == (1, 4, 7)
    assert point.value == float(panel.activation.array[4, 7, 1])
    assert montage_point(panel, 11 + 4, 13 * 2 + 7) is None  # past the last channel
    assert point_text(panel, point) == f"3: conv: channel 1, row 4, col 7: value {point.value:.6g}"


def test_attention_and_strip_points_read_as_their_maps():
    head = layer((2, 20, 30), role="attention", head=1)
    point = montage_point(head, 5, 6)
    assert point.channel is None and point.value == float(head.activation.array[1, 5, 6])
    assert "query 5 attends to key 6" in point_text(head, point)
    strip = layer((300,))
    assert montage_point(strip, 0, 299).value == float(strip.activation.array[299])
    assert montage_point(strip, 1, 0) is None


def test_tile_step_refuses_a_side_below_one():
    with pytest.raises(ArgumentError, match="at least 1"):
        tile_step(layer((20, 20)), 0)
