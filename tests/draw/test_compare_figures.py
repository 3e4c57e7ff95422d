"""Tests for ``layerviz.draw.compare_figures``: the A/B/B − A grid and the divergence graph."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from layerviz.analysis.compare import LayerDifference, divergences
from layerviz.analysis.perturb import OcclusionMap
from layerviz.draw.compare_figures import (
    DIFF_COLORSCALE,
    compare_grid,
    divergence_figure,
    occlusion_figure,
    visible_rows,
)
from layerviz.errors import ArgumentError


def difference(index: int, a: np.ndarray, b: np.ndarray) -> LayerDifference:
    diff = (b - a).astype(np.float32)
    cosine, relative = divergences(a, b)
    change = np.sqrt((diff.reshape(-1, diff.shape[-1]) ** 2).sum(axis=0))
    return LayerDifference(index, f"l{index}", "Conv2D", a, b, diff, cosine, relative, change)


@pytest.fixture
def layers() -> list[LayerDifference]:
    rng = np.random.default_rng(0)
    a1, a2 = rng.random((20, 20, 4), np.float32), rng.random((18, 18), np.float32)
    return [
        difference(1, a1, a1 + rng.normal(0, 0.1, a1.shape).astype(np.float32)),
        difference(2, a2, a2 * 0.5),
        difference(3, np.zeros(10, np.float32), np.ones(10, np.float32)),  # 1×10: below the limit
    ]


def test_visible_rows_use_the_size_limit(layers):
    assert [(d.index, head) for d, head in visible_rows(layers, (15, 15))] == [(1, None), (2, None)]
    assert [d.index for d, _ in visible_rows(layers, (0, 0))] == [1, 2, 3]


def test_attention_scores_give_a_row_per_head():
    rng = np.random.default_rng(1)
    a = rng.random((2, 20, 20), np.float32)
    scores = replace(difference(4, a, a[::-1].copy()), role="attention", name="mha:attention")
    rows = visible_rows([scores], (15, 15))
    assert [(d.name, head) for d, head in rows] == [("mha:attention", 0), ("mha:attention", 1)]
    fig = compare_grid(rows)
    titles = [t.text.split("<br>")[0] for t in fig.layout.annotations]
    assert titles[:3] == [f"4: mha:attention · {c} head 0" for c in ("A", "B", "B − A")]
    # Head 0's B − A is a[1] − a[0] (B is A with its heads swapped), on its own symmetric range.
    assert fig.data[2].zmax == pytest.approx(np.abs(a[1] - a[0]).max())


def test_compare_grid_has_three_panels_per_layer(layers):
    fig = compare_grid([(d, None) for d in layers[:2]])
    assert len(fig.data) == 6
    titles = [a.text.split("<br>")[0] for a in fig.layout.annotations]
    assert titles == [f"{i}: l{i} · {c}" for i in (1, 2) for c in ("A", "B", "B − A")]
    for i, d in enumerate(layers[:2]):
        a, b, diff = fig.data[3 * i : 3 * i + 3]
        assert (a.zmin, a.zmax) == (b.zmin, b.zmax)
        assert a.zmin == pytest.approx(min(d.a.min(), d.b.min()))
        assert diff.zmin == -diff.zmax == pytest.approx(-d.max_abs)
        assert diff.zmid == 0
        assert diff.colorscale == go.Heatmap(colorscale=DIFF_COLORSCALE).colorscale
        assert a.colorscale == go.Heatmap(colorscale="Viridis").colorscale
    pio.to_json(fig)  # serialisable as Dash sends it


def test_compare_grid_limits(layers):
    with pytest.raises(ArgumentError, match="1 to 6 layers, got 7"):
        compare_grid([(layers[0], None)] * 7)
    assert compare_grid([]).layout.annotations[0].text == "no layers to show"


def test_divergence_figure_points_carry_the_layer_index(layers):
    fig = divergence_figure(layers, selected="l2")
    cosine, rel = fig.data
    assert list(cosine.customdata) == list(rel.customdata) == [0, 1, 2]  # positions
    assert list(cosine.x) == [1, 2, 3]
    assert cosine.y[1] == pytest.approx(0.0, abs=1e-9)  # a scaled map keeps its direction
    assert rel.y[1] == pytest.approx(0.5)
    # Layer 3: A is all zeros, so relative L2 is inf: drawn at the axis top, read "inf".
    assert math.isinf(layers[2].relative_l2)
    assert rel.hovertext[2] == "inf" and rel.marker.symbol[2] == "triangle-up"
    assert rel.y[2] == pytest.approx(max(rel.y[:2]) * 1.1)
    assert len(fig.layout.shapes) == 1 and fig.layout.shapes[0].x0 == 2
    pio.to_json(fig)


def test_divergence_figure_of_nothing():
    assert divergence_figure([]).layout.annotations[0].text == "no layers to compare"


def occlusion_map(ys, xs, drop, space) -> OcclusionMap:
    drop = np.asarray(drop, np.float32)
    return OcclusionMap(drop, 0.9 - drop, np.asarray(ys), np.asarray(xs), 4, 2, 3, 0.9, space)


def test_occlusion_figure_of_an_image_is_a_symmetric_heatmap():
    fig = occlusion_figure(
        occlusion_map([0, 2], [0, 2, 4], [[0.1, -0.3, 0], [0, 0, 0.2]], (8, 10)), "3"
    )
    (heat,) = fig.data
    assert heat.type == "heatmap"
    assert list(heat.x) == [1.5, 3.5, 5.5] and list(heat.y) == [1.5, 3.5]
    assert heat.zmin == pytest.approx(-0.3) and heat.zmax == pytest.approx(0.3)
    assert "drop in p(3)" in fig.layout.title.text and "p = 0.900" in fig.layout.title.text


def test_occlusion_figure_of_a_signal_is_a_curve():
    fig = occlusion_figure(occlusion_map([0], [0, 2, 4], [[0.0, 0.5, 0.1]], (10,)))
    (curve,) = fig.data
    assert curve.type == "scatter"
    assert list(curve.y) == pytest.approx([0.0, 0.5, 0.1])
    assert "p(class 3)" in fig.layout.title.text


def test_occlusion_figure_of_an_image_one_box_high_is_still_a_heatmap():
    fig = occlusion_figure(occlusion_map([0], [0, 2], [[0.1, 0.2]], (4, 6)))
    assert fig.data[0].type == "heatmap"
