"""Tests for ``layerviz.draw.figures.explanation_figure`` (the dashboard's ``explain-graph``)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from layerviz.draw.figures import explanation_figure
from layerviz.errors import ArgumentError


def test_an_image_gets_the_heat_over_its_grey_picture():
    pattern = np.random.default_rng(0).random((1, 6, 8, 3), dtype=np.float32)
    heat = np.linspace(0, 1, 48, dtype=np.float32).reshape(6, 8)
    fig = explanation_figure(pattern, heat, "Grad-CAM <b>", opacity=0.3)

    grey, shown = fig.data
    assert isinstance(grey, go.Heatmap) and isinstance(shown, go.Heatmap)
    np.testing.assert_allclose(np.asarray(grey.z), pattern[0].mean(axis=-1), rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(shown.z), heat)
    assert shown.opacity == pytest.approx(0.3)
    assert (shown.zmin, shown.zmax) == (0.0, 1.0)
    assert fig.layout.title.text == "Grad-CAM &lt;b&gt;"
    assert fig.layout.yaxis.autorange == "reversed"  # row 0 at the top, as in the picture


def test_a_sequence_gets_curves_above_a_heat_band():
    pattern = np.random.default_rng(0).random((20, 2), dtype=np.float32)
    heat = np.linspace(0, 1, 20, dtype=np.float32)
    fig = explanation_figure(pattern, heat)

    curves = [t for t in fig.data if isinstance(t, go.Scatter)]
    (band,) = [t for t in fig.data if isinstance(t, go.Heatmap)]
    assert len(curves) == 2
    np.testing.assert_array_equal(np.asarray(curves[1].y), pattern[:, 1])
    assert np.asarray(band.z).shape == (1, 20)
    assert (curves[0].xaxis, band.xaxis) == ("x", "x2")
    assert fig.layout.xaxis.matches == "x2"  # one time axis: zooming one zooms both


def test_opacity_is_clamped_and_bad_heat_refused():
    pattern = np.zeros((4, 4, 1), np.float32)
    assert explanation_figure(pattern, np.zeros((4, 4)), opacity=3).data[1].opacity == 1.0
    with pytest.raises(ArgumentError, match=r"1-D or 2-D, got shape \(1, 4, 4\)"):
        explanation_figure(pattern, np.zeros((1, 4, 4)))
