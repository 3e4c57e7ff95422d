"""The dashboard's activation grid as server-coloured images (layerviz.draw.tile_figures)."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from layerviz.draw.normalise import colour_ranges, normalised_image
from layerviz.draw.selection import VisibleLayer
from layerviz.draw.tile_figures import tile_grid
from layerviz.draw.tiles import LEVELS, colour_indices, grid_palette, sampled, tile_step
from layerviz.errors import ArgumentError
from layerviz.extract.activations import LayerActivation


def make_layer(index, name, shape, seed=0, scale=1.0) -> VisibleLayer:
    array = np.random.default_rng(seed).random(shape, dtype=np.float32) * np.float32(scale)
    return VisibleLayer(LayerActivation(index, name, "Conv2D", array))


def indices_of(trace) -> np.ndarray:
    data = base64.b64decode(trace.source.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(data)))


def page() -> list[VisibleLayer]:
    return [
        make_layer(1, "conv1", (28, 28, 8)),
        make_layer(2, "pool", (20, 20, 8), seed=1, scale=10),
        make_layer(4, "wide", (64, 64, 16), seed=2),
    ]


def legend_ends(fig) -> list[str]:
    """The range legends' written ends (the annotations after the panels' titles)."""
    return [a.text for a in fig.layout.annotations if "<br>" not in a.text]


@pytest.mark.parametrize(("norm", "legends"), [("layer", 3), ("page", 1), ("map", 1)])
def test_one_image_per_panel_and_a_legend_per_range(norm, legends):
    fig = tile_grid(page(), (2, 2), norm=norm)
    assert [t.type for t in fig.data] == ["image"] * 3  # trace i is panel i (clicks read it)
    assert [t.meta["panel"] for t in fig.data] == [0, 1, 2]
    assert all(t.hoverinfo == "none" for t in fig.data)  # the server's label instead
    titles = [a.text.split("<br>")[0] for a in fig.layout.annotations if "<br>" in a.text]
    assert titles == ["1: conv1", "2: pool", "4: wide"]
    assert len(fig.layout.images) == legends and len(legend_ends(fig)) == 2 * legends


def test_per_layer_legends_give_each_panel_its_range():
    panels = page()
    fig = tile_grid(panels, (2, 2))
    expected = []
    for layer in panels:
        values = layer.activation.array
        expected += [f"{values.max():.3g}", f"{values.min():.3g}"]
    assert legend_ends(fig) == expected
    # Beside its own panel: each legend starts at its panel's right edge.
    for legend, axis in zip(fig.layout.images, ("xaxis", "xaxis2", "xaxis3"), strict=True):
        assert legend.x == pytest.approx(fig.layout[axis].domain[1] + 0.005)


def test_per_page_legend_spans_every_panel_and_per_map_reads_min_to_max():
    panels = page()
    values = np.concatenate([p.activation.array.ravel() for p in panels])
    fig = tile_grid(panels, (2, 2), norm="page")
    assert legend_ends(fig) == [f"{values.max():.3g}", f"{values.min():.3g}"]
    assert legend_ends(tile_grid(panels, (2, 2), norm="map")) == ["max", "min"]


def test_the_legend_is_the_colour_scale_high_at_the_top():
    legend = tile_grid(page(), (2, 2), colorscale="Cividis").layout.images[0]
    data = base64.b64decode(legend.source.split(",", 1)[1])
    column = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))[:, 0]
    np.testing.assert_array_equal(column, grid_palette("Cividis")[LEVELS - 1 :: -1])


@pytest.mark.parametrize("norm", ["map", "layer", "page"])
@pytest.mark.parametrize("max_side", [None, 160])
def test_tiles_are_the_values_coloured_under_the_norm(norm, max_side):
    panels = page()
    fig = tile_grid(panels, (2, 2), norm=norm, max_panel_pixels=max_side)
    for layer, ranges, trace in zip(panels, colour_ranges(panels, norm), fig.data, strict=False):
        image, limits = normalised_image(layer, ranges)
        step = tile_step(layer, max_side)
        expected = colour_indices(sampled(image, layer, step), limits)
        np.testing.assert_array_equal(indices_of(trace), expected)
    wide = indices_of(fig.data[2])
    assert wide.shape == ((259, 259) if max_side is None else (131, 131))


def test_the_norm_changes_the_colouring():
    panels = page()
    sources = {n: [t.source for t in tile_grid(panels, (2, 2), norm=n).data[:3]] for n in
               ("map", "layer", "page")}  # fmt: skip
    assert sources["map"] != sources["layer"] != sources["page"] != sources["map"]


def test_nan_and_inf_are_drawn_in_the_missing_colour():
    array = np.arange(400, dtype=np.float32).reshape(20, 20)
    array[0, 0], array[1, 1], array[2, 2] = np.nan, np.inf, -np.inf
    fig = tile_grid([VisibleLayer(LayerActivation(1, "bad", "Dense", array))], (1, 1))
    index = indices_of(fig.data[0])
    assert [index[i, i] for i in range(3)] == [LEVELS] * 3
    assert index[0, 1] == 0 and index[19, 19] == LEVELS - 1  # finite ends span the colours
    all_bad = np.full((20, 20), np.nan, dtype=np.float32)
    fig = tile_grid([VisibleLayer(LayerActivation(1, "nan", "Dense", all_bad))], (1, 1))
    assert (indices_of(fig.data[0]) == LEVELS).all() and not fig.layout.images  # no range


def test_strips_fill_their_panel_and_maps_keep_square_pixels():
    fig = tile_grid([make_layer(5, "dense", (64,)), make_layer(1, "conv", (28, 28, 4))], (1, 2))
    assert fig.layout.yaxis.scaleanchor is False  # plotly.js would square an image's pixels
    assert fig.layout.yaxis2.scaleanchor == "x2"


def test_bad_grids_and_modes_are_argument_errors():
    with pytest.raises(ArgumentError, match="do not fit"):
        tile_grid(page(), (1, 2))
    with pytest.raises(ArgumentError, match="at least 1x1"):
        tile_grid(page()[:1], (0, 2))
    with pytest.raises(ArgumentError, match="unknown normalisation"):
        tile_grid(page(), (2, 2), norm="global")
    assert not tile_grid([], (2, 2)).data
