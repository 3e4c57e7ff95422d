"""Tests for the reduced pass (``layerviz.extract.reduce``, ``extract_reduced``).

The references are the full arrays of ``extract_batch``: the reduced statistics must rebuild
``layer_statistics`` of the full outputs, and the reduced maps must be exactly the pixels the
grid's tiles cut from the full montage (``layerviz.draw.tiles``), on a model of every rank.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from tiny_models import (
    image_batch,
    make_image_model,
    make_nonfinite_model,
    make_sequence_model,
    nonfinite_batch,
    token_batch,
)

from layerviz.analysis.statistics import layer_statistics, reduced_statistics
from layerviz.draw.selection import maps_of, montage, panels_of
from layerviz.draw.tiles import sampled, tile_step
from layerviz.errors import ArgumentError
from layerviz.extract.activations import ActivationExtractor
from layerviz.extract.reduce import (
    DISPLAY_SIDE,
    display_stride,
    kept_lines,
    reduce_activation,
)

CASES = {
    "image": (make_image_model, image_batch),
    "sequence": (make_sequence_model, token_batch),
    "nonfinite": (make_nonfinite_model, nonfinite_batch),
}


@pytest.fixture(params=sorted(CASES))
def case(request, as_tested):
    make, batch = CASES[request.param]
    model = as_tested(make())
    return ActivationExtractor(model), batch()


def assert_same_record(got, want) -> None:
    assert (got.index, got.name, got.class_name, got.shape) == (
        want.index,
        want.name,
        want.class_name,
        want.shape,
    )
    for key in ("min", "max"):
        assert np.float32(getattr(got, key)) == np.float32(getattr(want, key)) or (
            math.isnan(getattr(got, key)) and math.isnan(getattr(want, key))
        ), (want.name, key)
    np.testing.assert_allclose(got.mean, want.mean, rtol=1e-5, atol=1e-6, err_msg=want.name)
    scale = math.sqrt(want.mean**2 + want.std**2) if math.isfinite(want.std) else 1.0
    np.testing.assert_allclose(got.std, want.std, rtol=1e-4, atol=1e-4 * scale, err_msg=want.name)
    assert got.zero_fraction == want.zero_fraction, want.name
    assert (got.nan_count, got.inf_count) == (want.nan_count, want.inf_count), want.name
    assert (got.n_channels, got.dead_channels) == (want.n_channels, want.dead_channels), want.name


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # np.std of inf
@pytest.mark.parametrize("max_side", [DISPLAY_SIDE, 24])
def test_reduced_statistics_equal_layer_statistics_of_the_full_arrays(case, max_side):
    extractor, batch = case
    full = extractor.extract_batch(batch)
    reduced = extractor.extract_reduced(batch, max_side=max_side)

    assert [r.name for r in reduced.layers] == [name for _, name, _ in extractor.layers]
    for i in range(len(batch)):
        want = layer_statistics(full.item(i))
        got = reduced_statistics(reduced, i)
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            assert_same_record(g, w)
    for got, want in zip(reduced.outputs, full.outputs, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("max_side", [DISPLAY_SIDE, 24, 7])
def test_reduced_maps_are_the_tiles_cut_from_the_full_montage(case, max_side):
    extractor, batch = case
    full = extractor.extract_batch(batch)
    reduced = extractor.extract_reduced(batch, max_side=max_side)

    strided = 0
    for i in range(len(batch)):
        for act, red in zip(full.item(i).activations, reduced.layers, strict=True):
            for panel in panels_of(act):
                step = tile_step(panel, max_side)
                assert red.stride == step, act.name
                strided += step > 1
                mine = red.maps[i]
                mine = mine[panel.head][np.newaxis] if panel.is_attention else maps_of(mine)
                want = sampled(panel.image, panel, step)
                np.testing.assert_array_equal(montage(mine), want, err_msg=act.name)
    if max_side < 30:
        assert strided  # the small sides made some panels keep every f-th pixel


def test_numpy_reference_agrees_with_the_compiled_pass(case):
    extractor, batch = case
    full = extractor.extract_batch(batch)
    reduced = extractor.extract_reduced(batch, max_side=24)
    for array, (_, _, role), red in zip(full.arrays, full.details, reduced.layers, strict=True):
        ref = reduce_activation(array, max_side=24, role=role)
        assert (ref.stride, ref.positions, ref.shape) == (red.stride, red.positions, red.shape)
        np.testing.assert_array_equal(ref.maps, red.maps)
        for key in ("minimum", "maximum", "zeros", "nonfinite", "nans", "posinf"):
            np.testing.assert_array_equal(getattr(ref, key), getattr(red, key), err_msg=key)
        for key in ("total", "total_sq"):
            np.testing.assert_allclose(getattr(ref, key), getattr(red, key), rtol=2e-5, atol=1e-5)
        np.testing.assert_array_equal(ref.map_minimum, red.map_minimum)
        np.testing.assert_array_equal(ref.map_maximum, red.map_maximum)


def test_nonfinite_values_do_not_poison_the_reduced_numbers(keras_session):
    extractor = ActivationExtractor(make_nonfinite_model())
    reduced = extractor.extract_reduced(nonfinite_batch())
    mixed = next(r for r in reduced.layers if r.name == "mixed")

    # Channels: 0-1 the input, 2-3 ±Inf (and 0), 4-5 NaN (and 0).
    assert np.isfinite(mixed.minimum[:, :2]).all() and np.isfinite(mixed.total).all()
    assert (mixed.nonfinite[:, :2] == 0).all()
    assert (mixed.nonfinite[:, 2:] > 0).all()
    assert (mixed.nans[:, 2:4] == 0).all() and (mixed.nans[:, 4:] == mixed.nonfinite[:, 4:]).all()
    assert mixed.posinf[1, 3] == 0 and mixed.neginf[1, 3] == 400  # the all -Inf channel
    assert mixed.maximum[1, 3] == -np.inf  # no finite value: the empty extremes
    np.testing.assert_array_equal(mixed.zeros[0, 2:], [9, 9, 9, 9])
    assert mixed.mean.shape == (2, 6) and np.isfinite(mixed.mean[:, :2]).all()


def test_mean_is_the_spatially_pooled_features(keras_session):
    extractor = ActivationExtractor(make_image_model())
    batch = image_batch()
    full = extractor.extract_batch(batch)
    reduced = extractor.extract_reduced(batch)
    conv = reduced.layers[0]
    np.testing.assert_allclose(conv.mean, full.arrays[0].mean(axis=(1, 2)), rtol=1e-5, atol=1e-6)
    assert conv.positions == 36 * 36
    assert extractor.extract_reduced(batch, max_side=24).nbytes < full.nbytes


def test_display_stride_and_kept_lines_follow_the_grid_rule():
    assert display_stride((224, 224), 1, 320) == 1
    assert display_stride((112, 112), 32, 320) == 3  # 6 x 6 tiles of 38 lines + gaps = 233
    assert display_stride((7, 7), 1, None) == 1
    assert list(kept_lines(10, 3)) == [1, 4, 7]
    assert list(kept_lines(1, 4)) == [0]
    with pytest.raises(ArgumentError, match="at least 1"):
        display_stride((4, 4), 1, 0)
    with pytest.raises(ArgumentError, match="2-D maps"):
        reduce_activation(np.zeros((1, 2, 2, 2, 2)))


def test_sub_extractor_gives_the_named_layers_at_full_resolution(keras_session):
    extractor = ActivationExtractor(make_image_model())
    batch = image_batch()
    full = extractor.extract_batch(batch)
    run = extractor.sub_extractor(["conv2", "conv"])
    conv2, conv, logits = run(batch)
    np.testing.assert_array_equal(logits, full.outputs[0])
    np.testing.assert_array_equal(extractor.predict_batch(batch)[0], full.outputs[0])
    np.testing.assert_allclose(conv, full.arrays[0], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(conv2, full.arrays[2], rtol=1e-6, atol=1e-6)
    with pytest.raises(ArgumentError, match="no layer 'nope'"):
        extractor.sub_extractor(["nope"])


def test_extract_layers_equals_the_full_extraction_bit_for_bit(case):
    extractor, batch = case
    full = extractor.extract(batch[:1])
    names = [a.name for a in full][::-2]
    got = extractor.extract_layers(batch[:1], names)
    want = {a.name: a for a in full}
    assert [a.name for a in got] == names
    for act in got:
        np.testing.assert_array_equal(act.array, want[act.name].array, err_msg=act.name)
        assert (act.index, act.class_name, act.role) == (
            want[act.name].index,
            want[act.name].class_name,
            want[act.name].role,
        )
