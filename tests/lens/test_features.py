"""The streamed dataset pass: pooled features, peaks, moments, top-k, shards."""

from __future__ import annotations

import numpy as np
import pytest
from tiny_models import make_functional_cnn, make_sequential_cnn

from layerviz.errors import ArgumentError, PatternError
from layerviz.extract.activations import ActivationExtractor
from layerviz.lens.features import dataset_features, merge_features, top_examples


@pytest.fixture
def cnn(keras_session):
    return make_functional_cnn()


@pytest.fixture
def patterns(cnn):
    shape = cnn.inputs[0].shape[1:]
    return np.random.default_rng(1).random((23, *shape), dtype=np.float32)


def _full(cnn, patterns):
    """Every layer's full activations over the dataset, by the plain batch extraction."""
    return ActivationExtractor(cnn).extract_batch(patterns)


def test_pooled_peak_and_moments_match_the_full_activations(cnn, patterns):
    features = dataset_features(cnn, patterns, batch_size=5)
    full = _full(cnn, patterns)
    assert features.n_patterns == 23 and features.names == [n for _, n, _ in full.layers]
    for layer, array in zip(features.layers, full.arrays, strict=True):
        flat = np.asarray(array, dtype=np.float64).reshape(23, -1, array.shape[-1])
        np.testing.assert_allclose(layer.pooled, flat.mean(axis=1), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(layer.peak, flat.max(axis=1), rtol=1e-5, atol=1e-6)
        assert layer.count == flat.shape[0] * flat.shape[1]
        np.testing.assert_allclose(layer.mean, flat.mean(axis=(0, 1)), rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(layer.std, flat.std(axis=(0, 1)), rtol=1e-5, atol=1e-6)
        _, rows = layer.channel_max()
        np.testing.assert_array_equal(rows, flat.max(axis=1).argmax(axis=0))
    np.testing.assert_allclose(features.predictions, full.outputs[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("by", ["max", "mean"])
@pytest.mark.parametrize("least", [False, True])
def test_top_examples_equal_a_brute_force_argsort(cnn, patterns, by, least):
    features = dataset_features(cnn, patterns, batch_size=7)
    full = _full(cnn, patterns)
    for (_, name, _), array in zip(full.layers, full.arrays, strict=True):
        flat = np.asarray(array).reshape(23, -1, array.shape[-1])
        scores = flat.max(axis=1) if by == "max" else flat.mean(axis=1)
        for channel in range(min(3, scores.shape[1])):
            got = top_examples(features, name, channel, k=6, by=by, least=least)
            order = np.argsort(scores[:, channel] if least else -scores[:, channel], kind="stable")
            # Equal values may be ranked either way by float rounding: compare the values
            # exactly-ish and the rows where the values differ.
            np.testing.assert_allclose(got.values, scores[order[:6], channel], rtol=1e-5)
            distinct = np.diff(np.sort(scores[:, channel])).min() > 1e-4
            if distinct:
                np.testing.assert_array_equal(got.patterns, order[:6])


def test_shards_merged_equal_one_pass(cnn, patterns):
    extractor = ActivationExtractor(cnn)
    whole = dataset_features(extractor, patterns, batch_size=4)
    cuts = [(0, 8), (8, 20), (20, 23)]
    shards = [dataset_features(extractor, patterns[a:b], batch_size=4, start=a) for a, b in cuts]
    merged = merge_features(shards[::-1])  # any order
    assert merged.n_patterns == whole.n_patterns and merged.start == 0
    for got, want in zip(merged.layers, whole.layers, strict=True):
        np.testing.assert_array_equal(got.pooled, want.pooled)
        np.testing.assert_array_equal(got.peak, want.peak)
        assert got.count == want.count
        np.testing.assert_allclose(got.total, want.total, rtol=1e-12)
        np.testing.assert_allclose(got.total_sq, want.total_sq, rtol=1e-12)
    np.testing.assert_array_equal(merged.predictions, whole.predictions)


def test_merge_refuses_gaps_and_other_models(cnn, patterns, keras_session):
    a = dataset_features(cnn, patterns[:5])
    b = dataset_features(cnn, patterns[6:9], start=6)
    with pytest.raises(ArgumentError, match=r"do not join: .* 0\.\.4, the next starts at 6"):
        merge_features([a, b])
    other = make_sequential_cnn()
    c = dataset_features(other, np.zeros((4, 12, 12, 1), np.float32), start=5)
    with pytest.raises(ArgumentError, match="different models"):
        merge_features([a, c])
    with pytest.raises(ArgumentError, match="at least one"):
        merge_features([])


def test_progress_is_reported_and_can_stop_the_pass(cnn, patterns):
    seen = []
    dataset_features(cnn, patterns, batch_size=10, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(0, 23), (10, 23), (20, 23), (23, 23)]

    class Stop(Exception):
        pass

    def stop(done, total):
        if done >= 10:
            raise Stop

    with pytest.raises(Stop):
        dataset_features(cnn, patterns, batch_size=10, progress=stop)


def test_bad_input_is_refused(cnn, patterns):
    with pytest.raises(PatternError, match=r"does not fit input"):
        dataset_features(cnn, patterns[..., :1].repeat(2, axis=-1))
    with pytest.raises(ArgumentError, match="batch_size must be a whole number"):
        dataset_features(cnn, patterns, batch_size=0)
    features = dataset_features(cnn, patterns)
    with pytest.raises(ArgumentError, match="channel 999 is out of range"):
        top_examples(features, features.names[0], 999)
    with pytest.raises(ArgumentError, match="no layer named 'nope'"):
        top_examples(features, "nope", 0)


def test_shards_travel_as_bytes_and_cut_on_batch_boundaries(cnn, patterns):
    from layerviz.lens.shards import features_from_bytes, features_to_bytes, shard_bounds

    assert shard_bounds(23, 3, 4) == [(0, 8), (8, 16), (16, 23)]
    assert shard_bounds(5, 8, 4) == [(0, 4), (4, 5)]
    extractor = ActivationExtractor(cnn)
    whole = dataset_features(extractor, patterns, batch_size=4)
    shards = [
        features_from_bytes(
            features_to_bytes(dataset_features(extractor, patterns[a:b], batch_size=4, start=a))
        )
        for a, b in shard_bounds(23, 3, 4)
    ]
    merged = merge_features(shards)
    assert merged.names == whole.names
    for got, want in zip(merged.layers, whole.layers, strict=True):
        assert (got.index, got.class_name, got.shape) == (want.index, want.class_name, want.shape)
        np.testing.assert_array_equal(got.pooled, want.pooled)
        np.testing.assert_array_equal(got.peak, want.peak)
    np.testing.assert_array_equal(merged.predictions, whole.predictions)
