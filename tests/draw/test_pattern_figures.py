"""The inputs of a model with several inputs, side by side (pure Plotly, no Dash)."""

import numpy as np
import pytest

from layerviz.draw.figures import pattern_figure
from layerviz.draw.pattern_figures import input_patterns_figure
from layerviz.errors import ArgumentError


def test_each_input_gets_its_own_panel_under_its_name_and_shape():
    image = np.random.default_rng(0).random((16, 16, 1), dtype=np.float32)
    meta = np.linspace(0, 1, 16, dtype=np.float32)
    fig = input_patterns_figure([image, meta], ["image", "meta"])
    assert [(t.type, t.xaxis, t.yaxis) for t in fig.data] == [
        ("heatmap", "x", "y"),
        ("scatter", "x2", "y2"),
    ]
    assert [a.text for a in fig.layout.annotations] == ["image — (16, 16, 1)", "meta — (16,)"]
    np.testing.assert_array_equal(fig.data[0].z, pattern_figure(image).data[0].z)
    np.testing.assert_array_equal(fig.data[1].y, meta)
    assert fig.data[0].showscale is False
    # Square pixels in the image panel, a plain axis for the vector.
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis.autorange == "reversed"
    assert fig.layout.yaxis2.scaleanchor is None
    assert fig.layout.xaxis.domain[1] < fig.layout.xaxis2.domain[0]


def test_an_rgb_input_keeps_its_picture_and_its_panel():
    rgb = np.random.default_rng(1).random((8, 8, 3))
    fig = input_patterns_figure([np.ones(4), rgb, np.ones((100, 2))], ["a", "b", "c"])
    assert [t.type for t in fig.data] == ["scatter", "image", "scatter", "scatter"]
    assert fig.data[1].xaxis == "x2" and fig.layout.yaxis2.scaleanchor == "x2"
    assert {t.xaxis for t in fig.data[2:]} == {"x3"}


@pytest.mark.parametrize(
    ("patterns", "names"), [([], []), ([np.ones(3)], []), ([np.ones(3)], ["a", "b"])]
)
def test_one_name_per_pattern(patterns, names):
    with pytest.raises(ArgumentError, match="one name per pattern"):
        input_patterns_figure(patterns, names)


def test_an_input_name_is_text_not_markup():
    """Input names come from (uploaded) models: Plotly must not read them as tags."""
    fig = input_patterns_figure([np.ones(4)], ['<a href="x">in</a>'])
    assert fig.layout.annotations[0].text == '&lt;a href="x"&gt;in&lt;/a&gt; — (4,)'
