"""Tests for layerviz.draw.selection: outputs as 2-D maps, montages, the size limit, and pages.

Pure numpy: activations are made by hand, no model is built.
"""

from __future__ import annotations

import numpy as np
import pytest

from layerviz.draw.grid import GridSettings, grid_pages
from layerviz.draw.selection import (
    VisibleLayer,
    maps_of,
    montage,
    paginate,
    panels_of,
    visible_layers,
)
from layerviz.errors import ArgumentError
from layerviz.extract.activations import LayerActivation


def act(index: int, shape: tuple[int, ...], name: str | None = None) -> LayerActivation:
    array = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    return LayerActivation(index, name or f"layer{index}", "Dense", array)


# --- maps_of ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "maps_shape"),
    [
        ((7,), (1, 1, 7)),
        ((4, 5), (1, 4, 5)),
        ((4, 5, 3), (3, 4, 5)),
        ((4, 5, 1), (1, 4, 5)),
    ],
)
def test_maps_of_shapes(shape, maps_shape):
    assert maps_of(np.zeros(shape)).shape == maps_shape


def test_maps_of_channels_become_maps():
    array = np.random.default_rng(0).random((4, 5, 3))
    maps = maps_of(array)
    for c in range(3):
        np.testing.assert_array_equal(maps[c], array[:, :, c])


def test_maps_of_vector_is_one_strip():
    np.testing.assert_array_equal(maps_of(np.arange(6))[0], [[0, 1, 2, 3, 4, 5]])


@pytest.mark.parametrize("shape", [(), (2, 3, 4, 5)])
def test_maps_of_other_ranks_is_an_error(shape):
    with pytest.raises(ArgumentError, match=r"cannot be seen as 2-D maps"):
        maps_of(np.zeros(shape))


# --- montage ---------------------------------------------------------------------------------


def test_montage_of_one_map_is_the_map_as_float32():
    image = np.arange(12, dtype=np.float64).reshape(1, 3, 4)
    out = montage(image)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, image[0])


@pytest.mark.parametrize(
    ("n", "h", "w", "gap", "shape"),
    [
        (2, 3, 4, 1, (3, 9)),  # 1 row x 2 cols
        (4, 3, 3, 1, (7, 7)),  # 2 x 2
        (5, 2, 2, 1, (5, 8)),  # 2 rows x 3 cols
        (9, 2, 3, 1, (8, 11)),  # 3 x 3
        (10, 1, 1, 2, (7, 10)),  # 3 rows x 4 cols, 2-pixel gaps
        (4, 3, 3, 0, (6, 6)),  # no gap
    ],
)
def test_montage_shape(n, h, w, gap, shape):
    out = montage(np.ones((n, h, w)), gap=gap)
    assert out.shape == shape
    assert out.dtype == np.float32
    # Every map pixel is there once; the rest are gaps.
    assert np.count_nonzero(~np.isnan(out)) == n * h * w


def test_montage_tiles_row_by_row_with_nan_gaps():
    maps = np.stack([np.full((2, 3), float(i)) for i in range(5)])  # grid 2 rows x 3 cols
    out = montage(maps)

    for i in range(5):
        r, c = divmod(i, 3)
        np.testing.assert_array_equal(out[r * 3 : r * 3 + 2, c * 4 : c * 4 + 3], i)
    assert np.isnan(out[2, :]).all()  # gap row between tile rows
    assert np.isnan(out[:, 3]).all() and np.isnan(out[:, 7]).all()  # gap columns
    assert np.isnan(out[3:, 8:]).all()  # the sixth cell is empty


# --- visible_layers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "limit", "visible"),
    [
        ((16, 16), (15, 15), True),
        ((15, 16), (15, 15), False),  # strict: equal to the limit is not larger
        ((16, 15), (15, 15), False),
        ((15, 15), (15, 15), False),
        ((16, 16, 8), (15, 15), True),  # channels do not count, the map's sides do
        ((15, 16, 8), (15, 15), False),
        ((50, 75), (15, 15), True),  # the article's Dense output on 50 rows
        ((50, 10), (15, 15), False),
        ((500,), (15, 15), False),  # a vector is a 1 x n strip
        ((500,), (0, 15), True),
        ((16,), (0, 16), False),
        ((2, 2), (1, 1), True),
        ((2, 2), (0, 0), True),
        ((1, 1), (0, 0), True),
        ((16, 16), (16, 10), False),  # the limit is (height, width)
        ((16, 16), (10, 16), False),
        ((20, 30), (19, 29), True),
    ],
)
def test_visible_layers_size_limit(shape, limit, visible):
    kept = visible_layers([act(1, shape)], limit)
    assert len(kept) == int(visible)


def test_visible_layers_default_limit_is_the_articles_15x15():
    kept = visible_layers([act(1, (16, 16)), act(2, (15, 15))])
    assert [layer.index for layer in kept] == [1]


def test_visible_layers_keep_model_order():
    activations = [
        act(1, (30, 30, 4), "conv1"),
        act(2, (14, 14, 4), "pool"),
        act(3, (20, 20), "conv2"),
        act(4, (300,), "flat"),
        act(5, (16, 40), "late"),
    ]
    kept = visible_layers(activations, (15, 15))

    assert [(v.index, v.name, v.title) for v in kept] == [
        (1, "conv1", "1: conv1"),
        (3, "conv2", "3: conv2"),
        (5, "late", "5: late"),
    ]
    assert all(isinstance(v, VisibleLayer) for v in kept)


def test_visible_layers_leave_out_rank_4_arrays():
    assert visible_layers([act(1, (20, 20, 20, 2))], (1, 1)) == []


def test_visible_layer_image_is_the_map_or_the_montage():
    single = VisibleLayer(act(1, (20, 30)))
    assert (single.n_maps, single.map_shape, single.tiles) == (1, (20, 30), (1, 1))
    np.testing.assert_array_equal(single.image, single.activation.array)

    stack = VisibleLayer(act(2, (20, 30, 5)))
    assert (stack.n_maps, stack.map_shape, stack.tiles) == (5, (20, 30), (2, 3))
    assert stack.image.shape == (2 * 21 - 1, 3 * 31 - 1)

    strip = VisibleLayer(act(3, (40,)))
    assert (strip.n_maps, strip.map_shape) == (1, (1, 40))
    assert strip.image.shape == (1, 40)


# --- paginate --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "grid", "sizes"),
    [
        (0, (3, 3), []),
        (1, (3, 3), [1]),
        (9, (3, 3), [9]),
        (10, (3, 3), [9, 1]),
        (7, (2, 2), [4, 3]),
        (3, (1, 1), [1, 1, 1]),
        (6, (1, 3), [3, 3]),
        (5, [2, 3], [5]),
    ],
)
def test_paginate_pages(n, grid, sizes):
    items = list(range(n))
    pages = paginate(items, grid)
    assert [len(p) for p in pages] == sizes
    assert [item for page in pages for item in page] == items


@pytest.mark.parametrize("grid", [(0, 3), (3, 0), (0, 0), (-1, 2)])
def test_paginate_refuses_empty_grid_sides(grid):
    with pytest.raises(ArgumentError, match=r"at least 1x1"):
        paginate([1, 2, 3], grid)


# --- attention scores: one (query, key) panel per head ---------------------------------------


def scores(index: int, shape: tuple[int, int, int], name: str = "mha:attention"):
    array = np.random.default_rng(index).random(shape, dtype=np.float32)
    return LayerActivation(index, name, "MultiHeadAttention", array, "mha", 1, "attention")


def test_old_style_activations_get_the_new_fields_defaults():
    plain = act(1, (4, 5))
    assert (plain.layer_name, plain.output_index, plain.role) == ("layer1", 0, "output")


def test_attention_scores_are_one_panel_per_head():
    attention = scores(3, (4, 20, 30))
    panels = visible_layers([act(1, (20, 20)), attention], (15, 15))

    heads = panels[1:]
    assert [p.title for p in heads] == [f"3: mha:attention head {h}" for h in range(4)]
    assert [p.head for p in heads] == [0, 1, 2, 3]
    assert all(p.is_attention for p in heads) and not panels[0].is_attention
    for h, panel in enumerate(heads):
        assert (panel.map_shape, panel.n_maps, panel.tiles) == ((20, 30), 1, (1, 1))
        assert panel.image.dtype == np.float32
        np.testing.assert_array_equal(panel.image, attention.array[h])


@pytest.mark.parametrize(
    ("limit", "shown"),
    [((15, 15), 4), ((19, 29), 4), ((20, 15), 0), ((15, 30), 0), ((3, 3), 4)],
)
def test_size_limit_reads_attention_by_query_and_key_sides(limit, shown):
    # Read as channels-last, (4, 20, 30) would be 30 maps of 4 x 20 and hidden at 15 x 15.
    assert len(visible_layers([scores(1, (4, 20, 30))], limit)) == shown


def test_panels_of_counts_heads_and_drops_what_cannot_be_drawn():
    assert len(panels_of(scores(1, (2, 5, 5)))) == 2
    assert len(panels_of(act(1, (5, 5, 3)))) == 1
    assert panels_of(act(1, (2, 2, 2, 2))) == []


def test_grid_total_counts_each_head():
    pages = grid_pages([act(1, (20, 20)), scores(2, (3, 20, 20))], GridSettings(2, 2, (15, 15)))
    assert [p.title for p in pages.page(1)] == [
        "1: layer1", "2: mha:attention head 0", "2: mha:attention head 1",
        "2: mha:attention head 2",
    ]  # fmt: skip
    assert pages.total == 4 and pages.n_pages == 1
