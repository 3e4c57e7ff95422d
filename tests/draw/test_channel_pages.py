"""Tests for layerviz.draw.channel_pages (channel pages) and layerviz.draw.channel_figures (their
figures)."""

from __future__ import annotations

import base64
import re

import numpy as np
import pytest

from layerviz.draw.channel_figures import (
    DEAD_COLOUR,
    MAX_PANEL_PX,
    MIN_PANEL_PX,
    SATURATED_COLOUR,
    channel_grid,
    value_histogram,
)
from layerviz.draw.channel_pages import NORM_MODES, channel_maps, channel_page, finite_range
from layerviz.errors import ArgumentError
from layerviz.extract.activations import LayerActivation


def layer(array: np.ndarray, name: str = "conv") -> LayerActivation:
    return LayerActivation(4, name, "Conv2D", np.asarray(array, dtype=np.float32))


def ramp_layer(channels: int = 6, side: int = 5) -> LayerActivation:
    """Channel ``c`` holds ``c + (0 … 1)``: means rank the last channel first."""
    base = np.linspace(0, 1, side * side, dtype=np.float32).reshape(side, side, 1)
    return layer(base + np.arange(channels, dtype=np.float32))


def decode(z: dict) -> np.ndarray:
    """A typed-array spec back into an array."""
    shape = tuple(int(d) for d in z["shape"].split(","))
    dtype = {"f4": np.float32, "i4": np.int32}[z["dtype"]]
    return np.frombuffer(base64.b64decode(z["bdata"]), dtype=dtype).reshape(shape)


# --- channel_maps / channel_page -------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "maps_shape"), [((5, 4, 3), (3, 5, 4)), ((9, 2), (2, 1, 9)), ((7,), (7, 1, 1))]
)
def test_channel_maps_one_map_per_last_axis_entry(shape, maps_shape):
    array = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    maps = channel_maps(array)
    assert maps.shape == maps_shape
    for c in range(shape[-1]):
        np.testing.assert_array_equal(maps[c].ravel(), array[..., c].ravel())
    assert np.shares_memory(maps, array)  # a view: no copy of a 960-channel layer


def test_channel_maps_refuses_other_ranks():
    with pytest.raises(ArgumentError, match=r"shape \(2, 2, 2, 2\) has no 2-D channel maps"):
        channel_maps(np.zeros((2, 2, 2, 2)))


def test_channel_page_ranks_and_pages():
    act = ramp_layer(channels=6)
    first = channel_page(act, "mean", k=4)
    assert [p.channel for p in first.panels] == [5, 4, 3, 2]
    assert [p.rank for p in first.panels] == [0, 1, 2, 3]
    assert first.summary == "showing 4 of 6 (ranks 1-4, page 1 of 2)"
    second = channel_page(act, "mean", k=4, page=1)
    assert [p.channel for p in second.panels] == [1, 0]
    assert second.summary == "showing 2 of 6 (ranks 5-6, page 2 of 2)"
    np.testing.assert_array_equal(second.panels[1].image, act.array[..., 0])
    assert first.panels[0].title == f"ch 5 · {act.array[..., 5].mean():.4g}"


def test_sort_order_changes_with_the_score():
    array = np.zeros((4, 4, 3), np.float32)
    array[..., 0] = 1.0  # highest mean, no spread
    array[0, 0, 1] = 5.0  # highest max
    array[..., 2] = np.arange(16).reshape(4, 4) % 2 * 3  # highest std
    act = layer(array)
    assert channel_page(act, "mean", 3).panels[0].channel == 2
    assert channel_page(act, "max", 3).panels[0].channel == 1
    assert channel_page(act, "std", 3).panels[0].channel == 2
    assert [p.channel for p in channel_page(act, "positive", 3).panels] == [0, 2, 1]


def test_norm_modes_set_the_colour_ranges():
    act = ramp_layer(channels=6)
    per_map = channel_page(act, "mean", 2, norm="map")
    assert [p.zrange for p in per_map.panels] == [(5.0, 6.0), (4.0, 5.0)]
    per_layer = channel_page(act, "mean", 2, norm="layer")
    assert {p.zrange for p in per_layer.panels} == {(0.0, 6.0)}
    per_page = channel_page(act, "mean", 2, norm="page")
    assert {p.zrange for p in per_page.panels} == {(4.0, 6.0)}


def test_cached_scores_are_reused_when_they_match():
    act = ramp_layer()
    scores = channel_page(act, "max", 2).scores
    assert channel_page(act, "max", 2, page=1, scores=scores).scores is scores
    assert channel_page(act, "mean", 2, scores=scores).scores.by == "mean"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"k": 0}, "k must be a whole number from 1 to 6 (the layer's channels), got 0"),
        ({"k": 7}, "k must be a whole number from 1 to 6 (the layer's channels), got 7"),
        ({"k": 4, "page": 2}, "page must be a whole number from 0 to 1, got 2"),
        ({"by": "median"}, "unknown channel score 'median'"),
        ({"norm": "global"}, "unknown normalisation 'global'; choose from 'map', 'layer', 'page'"),
    ],
)
def test_bad_page_requests_are_clear_errors(kwargs, message):
    with pytest.raises(ArgumentError, match=re.escape(message)):
        channel_page(ramp_layer(channels=6), **kwargs)


def test_finite_range_skips_nan_and_inf():
    assert finite_range([np.array([1.0, np.nan, -np.inf, 3.0])]) == (1.0, 3.0)
    assert finite_range([np.array([np.nan]), np.array([2.0, 5.0])]) == (2.0, 5.0)
    assert finite_range([np.array([np.nan, np.inf])]) is None
    assert set(NORM_MODES) == {"map", "layer", "page"}


# --- channel_grid ----------------------------------------------------------------------------


def test_channel_grid_one_exact_heatmap_per_channel_at_a_readable_size():
    act = ramp_layer(channels=20, side=30)
    page = channel_page(act, "mean", k=16)
    fig = channel_grid(page, panel_px=100).to_plotly_json()
    heatmaps = fig["data"]
    assert len(heatmaps) == 16
    assert [t["meta"]["channel"] for t in heatmaps] == [p.channel for p in page.panels]
    np.testing.assert_array_equal(decode(heatmaps[0]["z"]), act.array[..., 19])  # exact values
    assert "value %{z:.6g}" in heatmaps[0]["hovertemplate"]
    layout = fig["layout"]
    # 4 columns of 100 px panels: each domain spans 100 px of the plot's width and height.
    plot_w = layout["width"] - layout["margin"]["l"] - layout["margin"]["r"]
    plot_h = layout["height"] - layout["margin"]["t"] - layout["margin"]["b"]
    x0, x1 = layout["xaxis"]["domain"]
    y0, y1 = layout["yaxis"]["domain"]
    assert (x1 - x0) * plot_w == pytest.approx(100)
    assert (y1 - y0) * plot_h == pytest.approx(100)
    titles = [a["text"] for a in layout["annotations"]]
    assert titles[0] == f"<b>#1</b> ch 19 · {act.array[..., 19].mean():.4g}"


def test_channel_grid_outlines_dead_and_saturated_channels():
    page = channel_page(ramp_layer(channels=6), "mean", k=6)
    fig = channel_grid(page, dead={5}, saturated={0}).to_plotly_json()
    colours = [shape["line"]["color"] for shape in fig["layout"]["shapes"]]
    assert sorted(colours) == sorted([DEAD_COLOUR, SATURATED_COLOUR])
    titles = [a["text"] for a in fig["layout"]["annotations"]]
    assert "dead" in titles[0] and "saturated" in titles[5]
    assert not any(word in titles[2] for word in ("dead", "saturated"))


@pytest.mark.parametrize("norm", list(NORM_MODES))
def test_channel_grid_colour_ranges_follow_the_norm_mode(norm):
    page = channel_page(ramp_layer(channels=6), "mean", k=2, norm=norm)
    fig = channel_grid(page).to_plotly_json()
    if norm == "map":
        assert [(t["zmin"], t["zmax"]) for t in fig["data"]] == [(5.0, 6.0), (4.0, 5.0)]
        assert "coloraxis" not in fig["layout"]
    else:
        axis = fig["layout"]["coloraxis"]
        assert (axis["cmin"], axis["cmax"]) == ((0.0, 6.0) if norm == "layer" else (4.0, 6.0))
        assert all(t["coloraxis"] == "coloraxis" for t in fig["data"])


def test_value_histogram_bins_here_and_counts_what_it_leaves_out():
    values = np.concatenate([np.zeros(500), np.linspace(0.1, 1, 100), [np.nan, np.inf]])
    fig = value_histogram(values, "relu", bins=10).to_plotly_json()
    counts = decode(fig["data"][0]["y"])
    assert counts.sum() == 600
    assert counts[0] == 500  # the zeros; the ramp starts in the next bin
    assert "2 NaN/inf left out" in fig["layout"]["title"]["text"]
    assert fig["layout"]["yaxis"]["type"] == "linear"
    empty = value_histogram(np.array([np.nan]), "x").to_plotly_json()
    assert "no finite values" in empty["layout"]["annotations"][0]["text"]


@pytest.mark.parametrize(
    ("channels", "width", "cols"),
    [(16, 456, 4), (4, 456, 2), (1, 456, 1), (32, 456, 4), (16, 1400, 4), (64, 1400, 8)],
)
def test_channel_grid_fills_the_width_it_is_given(channels, width, cols):
    page = channel_page(ramp_layer(channels=channels, side=12), "mean", k=channels)
    layout = channel_grid(page, width=width).to_plotly_json()["layout"]
    plot_w = width - layout["margin"]["l"] - layout["margin"]["r"]
    side = (layout["xaxis"]["domain"][1] - layout["xaxis"]["domain"][0]) * (
        layout["width"] - layout["margin"]["l"] - layout["margin"]["r"]
    )
    assert MIN_PANEL_PX <= round(side) <= MAX_PANEL_PX
    assert layout["width"] <= width  # never wider than the pane: no sideways scrolling
    starts = {round(layout[k]["domain"][0], 6) for k in layout if k.startswith("xaxis")}
    assert len(starts) == cols
    # The panels take the whole width, less what whole pixels leave (or a panel's cap).
    used = cols * side + (cols - 1) * 14
    assert used > plot_w - cols or side == pytest.approx(MAX_PANEL_PX)
