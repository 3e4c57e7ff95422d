"""Tests for layerviz.draw.figures: pure Plotly builders, no browser and no model."""

from __future__ import annotations

import base64
import io
import json
import re

import numpy as np
import plotly.graph_objects as go
import pytest
from PIL import Image

from layerviz.draw.figures import (
    activation_grid,
    downsample,
    empty_figure,
    pattern_figure,
    plotly_text,
    prediction_bar,
    typed_array,
)
from layerviz.draw.selection import VisibleLayer
from layerviz.errors import ArgumentError
from layerviz.extract.activations import LayerActivation


def make_layer(index: int, name: str, shape: tuple[int, ...], seed: int = 0) -> VisibleLayer:
    rng = np.random.default_rng(seed)
    return VisibleLayer(LayerActivation(index, name, "Conv2D", rng.random(shape, dtype=np.float32)))


def heatmaps(fig: go.Figure) -> list[go.Heatmap]:
    return [t for t in fig.data if t.type == "heatmap"]


def z_of(trace: go.Heatmap) -> np.ndarray:
    """Decode a heatmap's typed-array ``z`` back into numpy."""
    spec = trace.z
    shape = tuple(int(d) for d in spec["shape"].split(","))
    dtype = {"f4": np.float32, "f8": np.float64, "u1": np.uint8}[spec["dtype"]]
    return np.frombuffer(base64.b64decode(spec["bdata"]), dtype=dtype).reshape(shape)


def titles(fig: go.Figure) -> list[str]:
    return [a.text for a in fig.layout.annotations]


# --- downsample ---------------------------------------------------------------------------


def test_downsample_small_image_is_untouched():
    img = np.ones((20, 30), dtype=np.float32)
    out, f = downsample(img, 30)
    assert f == 1
    assert out is img


@pytest.mark.parametrize(
    ("shape", "max_side", "factor", "out_shape"),
    [
        ((100, 100), 50, 2, (50, 50)),
        ((101, 40), 50, 3, (34, 14)),
        ((677, 677), 160, 5, (136, 136)),
        ((1, 1000), 160, 7, (1, 143)),
    ],
)
def test_downsample_factor_and_shape(shape, max_side, factor, out_shape):
    out, f = downsample(np.zeros(shape, dtype=np.float32), max_side)
    assert f == factor
    assert out.shape == out_shape
    assert max(out.shape) <= max_side
    assert out.dtype == np.float32


def test_downsample_block_means_ignore_nan():
    img = np.array(
        [
            [1.0, 3.0, np.nan, np.nan],
            [np.nan, 5.0, np.nan, np.nan],
            [2.0, 2.0, 4.0, np.nan],
            [2.0, 2.0, np.nan, 8.0],
        ],
        dtype=np.float32,
    )
    out, f = downsample(img, 2)
    assert f == 2
    np.testing.assert_allclose(out[0, 0], 3.0)  # mean of 1, 3, 5
    assert np.isnan(out[0, 1])  # the whole block is a gap
    np.testing.assert_allclose(out[1], [2.0, 6.0])


def test_downsample_pads_edges_with_nan():
    img = np.arange(25, dtype=np.float32).reshape(5, 5)
    out, f = downsample(img, 3)
    assert f == 2 and out.shape == (3, 3)
    np.testing.assert_allclose(out[2, 2], 24.0)  # the lone corner pixel, padding ignored
    np.testing.assert_allclose(out[0, 2], (4 + 9) / 2)


def test_downsample_rejects_bad_max_side():
    with pytest.raises(ArgumentError, match="at least 1"):
        downsample(np.zeros((4, 4)), 0)


# --- activation_grid ----------------------------------------------------------------------


def test_grid_panels_titles_and_blank_cells():
    page = [make_layer(1, "conv1", (28, 28, 16)), make_layer(3, "conv2", (50, 75))]
    fig = activation_grid(page, (2, 2))
    assert len(heatmaps(fig)) == 2
    texts = titles(fig)
    assert texts[0].startswith("1: conv1<br><sup>28×28 ×16 maps")
    assert texts[1] == "3: conv2<br><sup>50×75</sup>"
    assert len(texts) == 2  # no titles over the blank cells
    # the two empty cells have hidden axes; the drawn ones are visible
    assert fig.layout.xaxis3.visible is False and fig.layout.yaxis4.visible is False
    assert fig.layout.xaxis.visible is not False
    assert fig.layout.height == 2 * 300
    assert fig.layout.template.layout.paper_bgcolor == "white"
    assert fig.layout.uirevision


def test_grid_uirevision_is_stable_for_the_same_page():
    page = [make_layer(1, "conv1", (20, 20, 4))]
    other = [make_layer(1, "conv1", (20, 20, 4), seed=5)]
    assert activation_grid(page).layout.uirevision == activation_grid(other).layout.uirevision


def test_grid_heatmap_axes_like_imshow():
    fig = activation_grid([make_layer(1, "conv1", (28, 28, 16))], (1, 1))
    assert fig.layout.yaxis.autorange == "reversed"
    assert fig.layout.yaxis.scaleanchor == "x"
    assert fig.layout.xaxis.showticklabels is False
    assert fig.layout.xaxis.showgrid is False


def test_grid_strip_is_not_aspect_locked():
    fig = activation_grid([make_layer(5, "dense", (64,))], (1, 1))
    assert fig.layout.yaxis.scaleanchor is None
    assert titles(fig)[0] == "5: dense<br><sup>1×64</sup>"


def test_grid_long_sequence_maps_fill_their_panel_but_square_maps_keep_square_pixels():
    fig = activation_grid([make_layer(1, "conv1d", (128, 16)), make_layer(2, "conv", (30, 20))])
    assert fig.layout.yaxis.scaleanchor is None
    assert fig.layout.yaxis2.scaleanchor == "x2"


@pytest.mark.parametrize(
    ("dtype", "code"),
    [
        (np.float16, "f4"),  # mixed-precision models
        (np.int64, "f8"),  # JavaScript has no int64 typed array a plot reads
        (np.bool_, "u1"),
        (np.uint8, "u1"),
        (np.int32, "i4"),
        (np.float64, "f8"),
    ],
)
def test_typed_array_takes_any_numeric_dtype(dtype, code):
    values = np.array([[0, 1], [1, 0]], dtype=dtype)
    spec = typed_array(values)
    assert spec["dtype"] == code
    decoded = np.frombuffer(base64.b64decode(spec["bdata"]), dtype=np.dtype(code).newbyteorder("<"))
    np.testing.assert_array_equal(decoded.reshape(2, 2), values.astype(np.float64))


def test_typed_array_refuses_what_is_not_a_number():
    with pytest.raises(ArgumentError, match="dtype"):
        typed_array(np.array(["a", "b"]))


def test_grid_z_is_a_float32_typed_array_and_json_uses_bdata():
    layer = make_layer(1, "conv1", (28, 28, 16))
    fig = activation_grid([layer], (1, 1))
    z = z_of(fig.data[0])
    assert z.dtype == np.float32
    np.testing.assert_array_equal(z, layer.image)
    data = json.loads(fig.to_json())["data"][0]
    assert set(data["z"]) >= {"dtype", "bdata"}
    assert data["z"]["dtype"] == "f4"


def test_grid_hover_shows_layer_and_exact_value():
    fig = activation_grid([make_layer(2, "pool", (30, 30))], (1, 1))
    hover = fig.data[0].hovertemplate
    assert "%{z" in hover and "2: pool" in hover
    assert "row %{y}" in hover and "col %{x}" in hover
    assert "block mean" not in hover


def test_grid_downsampled_panel_keeps_original_coordinates():
    layer = make_layer(1, "conv1", (112, 112, 32))  # 677×677 montage
    fig = activation_grid([layer], (1, 1), max_panel_pixels=160)
    trace = fig.data[0]
    z = z_of(trace)
    assert z.shape == (136, 136)
    assert "shown at 1/5" in titles(fig)[0]
    assert "block mean" in trace.hovertemplate
    assert (trace.x0, trace.dx, trace.y0, trace.dy) == (2.0, 5, 2.0, 5)
    # block k covers original columns 5k..5k+4 and is centred on 5k+2
    last = z.shape[1] - 1
    assert trace.x0 - (trace.dx - 1) / 2 == 0
    assert trace.x0 + trace.dx * last - (trace.dx - 1) / 2 < layer.image.shape[1]
    np.testing.assert_allclose(z[0, 1], np.nanmean(layer.image[:5, 5:10]), rtol=1e-5)


def test_grid_no_downsampling_when_disabled():
    layer = make_layer(1, "conv1", (112, 112, 32))
    fig = activation_grid([layer], (1, 1), max_panel_pixels=None)
    assert z_of(fig.data[0]).shape == (677, 677)
    assert "shown at" not in titles(fig)[0]
    assert (fig.data[0].x0, fig.data[0].dx) == (0, 1)


def test_grid_per_panel_colorbars_sit_next_to_their_subplot():
    page = [make_layer(i, f"l{i}", (20, 20), seed=i) for i in range(1, 5)]
    fig = activation_grid(page, (2, 2))
    assert fig.layout.coloraxis.colorbar.x is None
    for trace in fig.data:
        xaxis = fig.layout["xaxis" + trace.xaxis[1:]]
        yaxis = fig.layout["yaxis" + trace.yaxis[1:]]
        bar = trace.colorbar
        assert bar.thickness == 8
        assert xaxis.domain[1] < bar.x < xaxis.domain[1] + 0.05
        assert yaxis.domain[0] < bar.y < yaxis.domain[1]
        assert bar.len == pytest.approx(yaxis.domain[1] - yaxis.domain[0])
        assert trace.coloraxis is None


def test_grid_shared_colorbar_uses_one_coloraxis():
    a = make_layer(1, "a", (20, 20))
    b = VisibleLayer(LayerActivation(2, "b", "Dense", np.full((20, 20), 7.0, dtype=np.float32)))
    b.activation.array[0, 0] = np.nan
    fig = activation_grid([a, b], (1, 2), shared_colorbar=True, colorscale="Cividis")
    assert all(t.coloraxis == "coloraxis" for t in fig.data)
    axis = fig.layout.coloraxis
    assert axis.cmin == pytest.approx(float(a.image.min()))
    assert axis.cmax == 7.0
    cividis = go.Figure(go.Heatmap(colorscale="Cividis")).data[0].colorscale
    assert axis.colorscale == cividis


def test_grid_validates_its_arguments():
    page = [make_layer(i, "x", (20, 20)) for i in range(5)]
    with pytest.raises(ArgumentError):
        activation_grid(page, (2, 2))
    with pytest.raises(ArgumentError):
        activation_grid(page[:1], (0, 2))
    assert not activation_grid([], (2, 2)).data


def test_grid_json_size_of_a_full_page_is_small():
    page = [make_layer(i, f"conv{i}", (112, 112, 32), seed=i) for i in range(1, 10)]
    text = activation_grid(page, (3, 3)).to_json()
    assert len(text) < 1_500_000
    assert text.count('"bdata"') == 9
    longest = max(len(m) for m in re.findall(r"\[[-0-9.,eE ]*\]", text))
    assert longest < 200  # no long float lists anywhere


# --- empty_figure -------------------------------------------------------------------------


def test_empty_figure_shows_message():
    fig = empty_figure("no layer output is larger than 15×15 — lower the size limit")
    assert not fig.data
    (note,) = fig.layout.annotations
    assert "15×15" in note.text and (note.x, note.y) == (0.5, 0.5)
    assert fig.layout.xaxis.visible is False and fig.layout.yaxis.visible is False


# --- prediction_bar -----------------------------------------------------------------------


def test_prediction_bar_softmax_top_k_with_names():
    probs = np.array([0.05, 0.6, 0.1, 0.2, 0.03, 0.02])
    names = ["zero", "one", "two", "three", "four", "five"]
    fig = prediction_bar(probs, names, top=3)
    bar = fig.data[0]
    assert list(bar.y) == ["one", "three", "two"]
    assert list(bar.x) == [0.6, 0.2, 0.1]
    assert list(bar.text) == ["60.0%", "20.0%", "10.0%"]
    assert bar.orientation == "h"
    assert fig.layout.yaxis.autorange == "reversed"  # highest at the top
    assert fig.layout.title.text == "prediction: one"


def test_prediction_bar_raw_scores_and_default_labels():
    fig = prediction_bar(np.array([2.5, -1.0, 7.25, 0.0]))
    bar = fig.data[0]
    assert list(bar.y) == ["class 2", "class 0", "class 3", "class 1"]
    assert list(bar.text) == ["7.25", "2.5", "0", "-1"]
    assert fig.layout.title.text == "prediction: class 2"


def test_prediction_bar_rejects_non_vectors():
    fig = prediction_bar(np.zeros((4, 4)))
    assert not fig.data
    assert fig.layout.annotations[0].text == "model output of shape (4, 4) is not a class vector"


# --- pattern_figure -----------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(28, 28), (28, 28, 1)])
def test_pattern_grayscale(shape):
    fig = pattern_figure(np.random.rand(*shape))
    (trace,) = fig.data
    assert trace.type == "heatmap"
    assert trace.z.shape == (28, 28) and trace.z.dtype == np.float32
    assert fig.layout.yaxis.autorange == "reversed"
    assert trace.colorscale == go.Figure(go.Heatmap(colorscale="gray")).data[0].colorscale
    assert fig.layout.title.text == "input " + "×".join(map(str, shape))


def test_pattern_rgb_is_an_image():
    fig = pattern_figure(np.random.rand(32, 32, 3))
    (trace,) = fig.data
    assert trace.type == "image" and trace.z is None
    assert decoded_source(trace).shape == (32, 32, 3)
    assert fig.layout.title.text == "input 32×32×3"


def decoded_source(trace) -> np.ndarray:
    """The pixels of an image trace's PNG data URL."""
    head, _, b64 = trace.source.partition(",")
    assert head == "data:image/png;base64"
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(b64))))


def test_pattern_rgb_in_0_1_is_scaled_exactly():
    pixels = np.random.default_rng(0).random((6, 5, 3)).astype(np.float32)
    shown = decoded_source(pattern_figure(pixels).data[0])
    np.testing.assert_array_equal(shown, np.rint(pixels * 255).astype(np.uint8))


def test_pattern_rgb_in_0_255():
    fig = pattern_figure(np.full((4, 4, 3), 200.0))
    assert int(decoded_source(fig.data[0]).max()) == 200


def test_pattern_waveform_is_a_line_per_channel():
    fig = pattern_figure(np.random.rand(128, 1))
    (trace,) = fig.data
    assert trace.type == "scatter" and trace.mode == "lines"
    assert len(trace.y) == 128
    assert fig.layout.title.text == "input 128×1"
    assert len(pattern_figure(np.random.rand(100, 3)).data) == 3


def test_pattern_vector_is_a_line():
    fig = pattern_figure(np.arange(10.0))
    (trace,) = fig.data
    assert trace.type == "scatter" and len(trace.y) == 10
    assert fig.layout.title.text == "input 10"


def test_pattern_other_shapes_show_a_slice():
    fig = pattern_figure(np.random.rand(16, 16, 5))
    (trace,) = fig.data
    assert trace.type == "heatmap" and trace.z.shape == (16, 16)
    assert "showing [:, :, 0]" in fig.layout.title.text


@pytest.mark.parametrize(("rows", "cols"), [(r, c) for r in range(1, 7) for c in range(1, 7)])
def test_grid_every_slider_size_builds(rows, cols):
    # Cell domains are float sums; some grids used to land a hair below 0, which Plotly refuses.
    page = [make_layer(i + 1, f"l{i}", (16, 16)) for i in range(rows * cols)]
    fig = activation_grid(page, (rows, cols))
    for name in ("xaxis", "yaxis"):
        for axis in fig.layout[f"{name}{rows * cols if rows * cols > 1 else ''}"], fig.layout[name]:
            assert 0 <= axis.domain[0] <= axis.domain[1] <= 1


# --- attention maps --------------------------------------------------------------------------


def attention_panels(shape=(2, 12, 9)) -> list[VisibleLayer]:
    array = np.random.default_rng(0).random(shape, dtype=np.float32)
    act = LayerActivation(4, "mha:attention", "MultiHeadAttention", array, "mha", 1, "attention")
    return [VisibleLayer(act, head) for head in range(shape[0])]


def test_attention_panels_are_titled_by_head_and_hover_as_a_sentence():
    panels = attention_panels()
    fig = activation_grid(panels, (1, 2))

    assert [t.split("<br>")[0] for t in titles(fig)] == [
        "4: mha:attention head 0",
        "4: mha:attention head 1",
    ]
    assert "12×9 query × key" in titles(fig)[0]
    for trace, panel in zip(fig.data, panels, strict=True):
        assert "query %{y} attends to key %{x}: %{z" in trace.hovertemplate
        assert "row %{y}" not in trace.hovertemplate
        np.testing.assert_array_equal(z_of(trace), panel.image)


def test_long_attention_maps_are_block_averaged_like_any_panel():
    fig = activation_grid(attention_panels((1, 400, 400)), (1, 1), max_panel_pixels=100)
    trace = fig.data[0]
    assert z_of(trace).shape == (100, 100)
    assert "block mean of 4×4 around query %{y} attends to key %{x}" in trace.hovertemplate


def _plotly_entities() -> dict[str, str]:
    """The named entities plotly.js decodes in titles, read from the plotly.min.js Dash serves."""
    import json
    import re
    from pathlib import Path

    import plotly

    script = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text()
    found = re.search(r"\{mu:\"[^}]*\}", script).group(0)
    found = re.sub(r"\\x([0-9A-Fa-f]{2})", r"\\u00\1", found)  # JS \xA0 is JSON \u00A0
    return json.loads(re.sub(r"(\w+):", r'"\1":', found))


def _as_plotly_shows(text: str, entities: dict[str, str]) -> str:
    """``text`` after plotly.js's convertEntities (named from its map, and numeric ones)."""
    import re

    def one(match):
        inner = match.group(1)
        if inner.startswith("#x"):
            return chr(int(inner[2:], 16))
        if inner.startswith("#"):
            return chr(int(inner[1:]))
        return entities.get(inner, match.group(0))

    return re.sub(r"&(#\d+|#x[\da-fA-F]+|[a-z]+);", one, text)


@pytest.mark.parametrize("name", ['"><svg onload=alert(1)>.npy', "a & b 'c'.png", "<b>x</b>"])
def test_titles_are_escaped_once_for_plotly(name):
    """Issue 25, row 11: a file name with HTML showed as ``&quot;>…`` in a figure title."""
    entities = _plotly_entities()
    shown = plotly_text(name)
    assert "<" not in shown and ">" not in shown  # no markup reaches Plotly's tag parser
    assert _as_plotly_shows(shown, entities) == name  # and Plotly shows what the user typed
    title = empty_figure(name).layout.annotations[0].text
    assert _as_plotly_shows(title, entities) == name
