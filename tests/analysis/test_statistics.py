"""Tests for layerviz.analysis.statistics: channel scores and per-layer records equal numpy's own.

Arrays are made here by hand (or drawn from a seed), and every number is checked against
numpy computing it the plain way. Only the last test builds a (tiny) model.
"""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import pytest

from layerviz.analysis.statistics import (
    CHANNEL_SCORES,
    channel_extremes,
    channel_max,
    channel_min,
    channel_scores,
    layer_statistics,
    records_csv,
)
from layerviz.errors import ArgumentError
from layerviz.extract.activations import ActivationExtractor, LayerActivation

RNG = np.random.default_rng(0)
#: Layer outputs without the batch axis: a Dense vector, a sequence, a small and a large stack.
ARRAYS = {
    "vector": RNG.standard_normal(7).astype(np.float32),
    "sequence": RNG.standard_normal((9, 5)).astype(np.float32),
    "maps": RNG.standard_normal((6, 4, 3)).astype(np.float32),
    # Large enough for the fast paths (folded rows, the dot product) to be the ones used.
    "large": np.maximum(RNG.standard_normal((64, 48, 24)), 0).astype(np.float32),
}


def reference_scores(array: np.ndarray, by: str) -> np.ndarray:
    """Each channel's score computed the plain way, one channel at a time."""
    columns = [array[..., c].astype(np.float64).ravel() for c in range(array.shape[-1])]
    plain = {
        "mean": np.mean,
        "max": np.max,
        "std": np.std,
        "l2": np.linalg.norm,
        "positive": lambda v: np.mean(v > 0),
    }[by]
    return np.array([plain(v) for v in columns])


# --- channel_scores ----------------------------------------------------------------------------


@pytest.mark.parametrize("by", list(CHANNEL_SCORES))
@pytest.mark.parametrize("name", list(ARRAYS))
def test_channel_scores_equal_numpy(name, by):
    array = ARRAYS[name]
    scores = channel_scores(array, by)
    expected = reference_scores(array, by)
    assert scores.by == by
    assert scores.scores.shape == (array.shape[-1],)
    np.testing.assert_allclose(scores.scores, expected, rtol=1e-6, atol=1e-7)
    assert list(scores.order) == sorted(range(len(expected)), key=lambda c: (-expected[c], c))


def test_channel_scores_rank_hand_made_channels():
    # Channel 0 is all 1, channel 1 all 3, channel 2 alternates -4 and 4, channel 3 all 3.
    array = np.zeros((2, 2, 4), dtype=np.float32)
    array[..., 0] = 1
    array[..., 1] = 3
    array[..., 2] = [[-4, 4], [4, -4]]
    array[..., 3] = 3
    assert channel_scores(array, "mean").order.tolist() == [1, 3, 0, 2]  # tie: 1 before 3
    assert channel_scores(array, "max").order.tolist() == [2, 1, 3, 0]
    assert channel_scores(array, "std").order.tolist() == [2, 0, 1, 3]
    assert channel_scores(array, "l2").scores.tolist() == [2.0, 6.0, 8.0, 6.0]
    assert channel_scores(array, "positive").scores.tolist() == [1.0, 1.0, 0.5, 1.0]


def test_nan_scores_rank_last():
    array = np.array([[1.0, np.nan, 5.0], [1.0, 2.0, 5.0]], dtype=np.float32)
    assert channel_scores(array, "mean").order.tolist() == [2, 0, 1]


def test_channel_scores_take_a_layer_activation():
    act = LayerActivation(1, "conv", "Conv2D", ARRAYS["maps"])
    np.testing.assert_array_equal(
        channel_scores(act, "max").scores, channel_scores(ARRAYS["maps"], "max").scores
    )


def test_top_pages_through_the_ranking():
    scores = channel_scores(np.arange(10, dtype=np.float32), "mean")  # 10 channels of 1 value
    assert scores.n_pages(4) == 3
    assert scores.top(4).tolist() == [9, 8, 7, 6]
    assert scores.top(4, page=2).tolist() == [1, 0]  # the last page holds the rest
    assert scores.top(10).tolist() == list(range(9, -1, -1))


@pytest.mark.parametrize("k", [0, 11, -1, 2.5, True, "4"])
def test_k_out_of_range_is_a_clear_error(k):
    scores = channel_scores(np.arange(10, dtype=np.float32), "mean")
    message = f"k must be a whole number from 1 to 10 (the layer's channels), got {k!r}"
    with pytest.raises(ArgumentError, match=f"^{re.escape(message)}$"):
        scores.top(k)


@pytest.mark.parametrize("page", [-1, 3, 1.0])
def test_page_out_of_range_is_a_clear_error(page):
    scores = channel_scores(np.arange(10, dtype=np.float32), "mean")
    with pytest.raises(ArgumentError, match=r"^page must be a whole number from 0 to 2, got "):
        scores.top(4, page=page)


@pytest.mark.parametrize("by", ["median", "", None, "MEAN"])
def test_unknown_score_is_a_clear_error(by):
    message = f"unknown channel score {by!r}; choose from 'mean', 'max', 'std', 'l2', 'positive'"
    with pytest.raises(ArgumentError, match=f"^{re.escape(message)}$"):
        channel_scores(ARRAYS["maps"], by)


@pytest.mark.parametrize(
    ("array", "fragment"),
    [
        (np.float32(3.0), "shape () has no channels"),
        (np.zeros((4, 0), np.float32), "shape (4, 0) has no channels"),
        (np.array(["a", "b"]), "dtype <U1 cannot be scored"),
    ],
)
def test_unscorable_outputs_are_refused(array, fragment):
    with pytest.raises(ArgumentError, match=re.escape(fragment)):
        channel_scores(array)


@pytest.mark.parametrize("shape", [(5,), (7, 3), (16, 8, 5), (3, 64, 64, 12), (2, 49, 960)])
def test_channel_min_and_max_equal_numpy(shape):
    array = RNG.standard_normal(shape).astype(np.float32)
    axes = tuple(range(len(shape) - 1))
    np.testing.assert_array_equal(channel_max(array), array.max(axis=axes))
    np.testing.assert_array_equal(channel_min(array), array.min(axis=axes))
    lows, highs = channel_extremes(array)
    np.testing.assert_array_equal(lows, array.min(axis=axes))
    np.testing.assert_array_equal(highs, array.max(axis=axes))


# --- layer_statistics --------------------------------------------------------------------------


def activation(array: np.ndarray, name: str = "layer") -> LayerActivation:
    return LayerActivation(3, name, "Conv2D", array)


@pytest.mark.parametrize("name", list(ARRAYS))
def test_statistics_equal_numpy(name):
    array = ARRAYS[name]
    (record,) = layer_statistics([activation(array)])
    wide = array.astype(np.float64)
    axes = tuple(range(array.ndim - 1))
    assert (record.index, record.name, record.class_name) == (3, "layer", "Conv2D")
    assert record.shape == array.shape
    assert record.min == array.min()
    assert record.max == array.max()
    assert record.mean == pytest.approx(wide.mean(), rel=1e-6, abs=1e-7)
    assert record.std == pytest.approx(wide.std(), rel=1e-5)
    assert record.zero_fraction == np.mean(array == 0)
    assert (record.nan_count, record.inf_count) == (0, 0)
    assert record.n_channels == array.shape[-1]
    dead = np.flatnonzero(array.max(axis=axes) <= 0)
    assert record.dead_channels == tuple(dead.tolist())


def test_statistics_count_zeros_nans_infs_and_dead_channels():
    array = np.ones((4, 4, 3), dtype=np.float32)
    array[..., 1] = -2.0  # dead: every value ≤ 0
    array[0, 0, 1] = 0.0
    array[0, 1, 1] = -0.0  # counts as a zero, as numpy's == 0 says
    array[1, 1, 0] = np.nan
    array[2, 2, 2] = np.inf
    array[3, 3, 2] = -np.inf
    (record,) = layer_statistics([activation(array)])
    assert record.zero_fraction == np.mean(array == 0) == 2 / 48
    assert (record.nan_count, record.inf_count) == (1, 2)
    assert np.isnan(record.min) and np.isnan(record.max) and np.isnan(record.mean)
    assert record.dead_channels == (1,)
    assert record.n_dead == 1


@pytest.mark.parametrize("where", [0, -1])
def test_a_nan_or_inf_anywhere_in_a_large_output_is_counted(where):
    # Large outputs are read block by block: a NaN in the first or the last block counts.
    array = np.ones((128, 128, 16), dtype=np.float32)
    array.reshape(-1)[where] = np.nan
    array.reshape(-1)[where - 7] = -np.inf
    (record,) = layer_statistics([activation(array)])
    assert (record.nan_count, record.inf_count) == (1, 1)
    assert np.isnan(record.min) and np.isnan(record.max) and np.isnan(record.mean)


def test_std_of_a_nearly_constant_layer_is_exact():
    # A saturated layer: values near 1000 that differ by 1e-3. E[x²] - E[x]² loses every
    # digit here in float32, so the careful path has to be the one taken.
    spread = RNG.standard_normal(50_000) * 1e-3
    array = (1000 + spread).astype(np.float32).reshape(100, 500)
    (record,) = layer_statistics([activation(array)])
    assert record.std == pytest.approx(array.astype(np.float64).std(), rel=1e-4)
    assert record.mean == pytest.approx(array.astype(np.float64).mean(), rel=1e-6)


@pytest.mark.parametrize("dtype", [np.float16, np.float64, np.int32])
def test_statistics_of_other_dtypes(dtype):
    array = (RNG.standard_normal((8, 8, 4)) * 10).astype(dtype)
    (record,) = layer_statistics([activation(array)])
    wide = array.astype(np.float32).astype(np.float64)
    assert record.mean == pytest.approx(wide.mean(), rel=1e-5, abs=1e-6)
    assert record.std == pytest.approx(wide.std(), rel=1e-5)
    assert record.max == pytest.approx(float(array.max()), rel=1e-6)


def test_statistics_of_an_extraction_one_record_per_layer(build_model, noise):
    model = build_model("functional_cnn")
    extractor = ActivationExtractor(model)
    extraction = extractor.run(noise(model))
    records = layer_statistics(extraction)
    assert [(r.index, r.name, r.class_name) for r in records] == extractor.layers
    assert [r.shape for r in records] == [a.shape for a in extraction.activations]
    relu = next(r for r in records if r.name == "relu")
    assert relu.min >= 0
    assert layer_statistics(extraction.activations) == records  # a list of activations too


def test_records_csv_has_a_header_and_one_row_per_layer():
    records = layer_statistics([activation(ARRAYS["maps"], "a"), activation(ARRAYS["large"], "b")])
    rows = list(csv.DictReader(io.StringIO(records_csv(records))))
    assert [row["name"] for row in rows] == ["a", "b"]
    assert rows[0]["shape"] == "6x4x3"
    assert float(rows[1]["mean"]) == pytest.approx(records[1].mean)
    assert rows[1]["n_dead"] == str(records[1].n_dead)
    assert records_csv([]) == ""
