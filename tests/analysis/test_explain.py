"""Tests for ``layerviz.analysis.explain``: Grad-CAM and saliency maps.

The "halves" models are built by hand so the right answer is exact: their two branches crop an
image (or a sequence) to its left or its right half and pad it back, and the head's weights are
set so that the left half pushes the class one way and the right half the other way (or, in the
"left only" model, not at all). A symmetric pattern then leaves the model alone to decide where
the heat goes.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

import layerviz
from layerviz.analysis.explain import MAX_SMOOTH, Explainer, grad_cam, saliency
from layerviz.errors import ArgumentError, ModelStructureError, PatternError

layers = keras.layers

REPO_MODELS = Path(__file__).resolve().parents[2] / "models"

#: Weight of each half's values in the head; small, so the softmax / sigmoid does not saturate.
SCALE = 0.05


# --- models with a known answer ---------------------------------------------------------------


def make_halves_model(
    rank: int = 2, head: str = "softmax", weights: tuple[float, float] = (1.0, -1.0)
) -> keras.Model:
    """A model whose evidence for class 1 is the left half of its input.

    Args:
        rank: 2 for 8×8×1 images, 1 for sequences of 16 steps × 1 channel.
        head: ``"softmax"`` (two units) or ``"sigmoid"`` (one unit).
        weights: how much the left and the right half push towards class 1 (a negative
            weight pushes towards class 0); ``(1, 0)`` makes the class depend on the left
            half only.
    """
    if rank == 2:
        shape, half = (8, 8, 1), ((0, 0), (0, 4))
        crop, pad, mirror = layers.Cropping2D, layers.ZeroPadding2D, ((0, 0), (4, 0))
        conv = layers.Conv2D
    else:
        shape, half, mirror = (16, 1), (0, 8), (8, 0)
        crop, pad, conv = layers.Cropping1D, layers.ZeroPadding1D, layers.Conv1D
    inputs = keras.Input(shape, name="image" if rank == 2 else "signal")
    x = conv(1, 1, use_bias=False, activation="relu", kernel_initializer="ones", name="conv")(
        inputs
    )
    left = pad(half, name="left")(crop(half, name="keep_left")(x))
    rightside = pad(mirror, name="right")(crop(mirror, name="keep_right")(x))
    x = layers.Concatenate(name="halves")([left, rightside])  # channel 0: left, 1: right
    x = layers.Flatten(name="flatten")(x)
    units, activation = (2, "softmax") if head == "softmax" else (1, "sigmoid")
    outputs = layers.Dense(units, activation=activation, name="head")(x)
    model = keras.Model(inputs, outputs, name=f"halves_{rank}d_{head}")
    positions = int(np.prod(shape[:-1]))
    per_position = np.tile([SCALE * weights[0], SCALE * weights[1]], positions)[:, None]
    kernel = per_position if units == 1 else np.hstack([-per_position, per_position])
    model.get_layer("head").set_weights([kernel.astype("float32"), np.zeros(units, "float32")])
    return model


def symmetric_pattern(rank: int, seed: int = 0) -> np.ndarray:
    """Positive noise whose right half mirrors its left half."""
    rng = np.random.default_rng(seed)
    if rank == 2:
        left = 0.2 + rng.random((8, 4, 1), dtype=np.float32)
        return np.concatenate([left, left[:, ::-1]], axis=1)[None]
    left = 0.2 + rng.random((8, 1), dtype=np.float32)
    return np.concatenate([left, left[::-1]], axis=0)[None]


def left_share(heat: np.ndarray) -> float:
    """The fraction of the heat in the left half (columns for images, steps for sequences)."""
    axis = 1 if heat.ndim == 2 else 0
    half = heat.shape[axis] // 2
    left = np.take(heat, range(half), axis=axis).sum()
    return float(left / heat.sum())


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation, ties given their average rank, with numpy only.

    A constant map (a re-initialised model's Grad-CAM can be all zeros) orders nothing, so it
    is taken as 0, no correlation, where the formula would divide by zero.
    """
    ra, rb = _ranks(a), _ranks(b)
    if ra.std() == 0 or rb.std() == 0:
        return 0.0
    return float(np.corrcoef(ra, rb)[0, 1])


def _ranks(a: np.ndarray) -> np.ndarray:
    values = np.asarray(a, dtype=np.float64).ravel()
    order = values.argsort(kind="stable")
    ranks = np.empty(values.size)
    ranks[order] = np.arange(values.size)
    _, tie_group, counts = np.unique(values, return_inverse=True, return_counts=True)
    return (np.bincount(tie_group, weights=ranks) / counts)[tie_group]


# --- where the heat goes -------------------------------------------------------------------------


@pytest.mark.parametrize("rank", [2, 1])
@pytest.mark.parametrize("method", ["gradcam", "saliency", "smoothgrad"])
def test_a_model_that_reads_only_the_left_half_is_explained_by_the_left_half(
    as_tested, rank, method
):
    model = as_tested(make_halves_model(rank, weights=(1.0, 0.0)))
    result = Explainer(model).explain(symmetric_pattern(rank), method)

    assert result.class_index == 1  # the left half's evidence wins
    assert result.heat.shape == ((8, 8) if rank == 2 else (16,))
    assert result.heat.dtype == np.float32
    assert result.heat.min() >= 0.0 and result.heat.max() == pytest.approx(1.0)
    assert left_share(result.heat) > 0.9
    if method == "gradcam":
        assert result.layer == "halves"  # the last layer with spatial maps


@pytest.mark.parametrize("rank", [2, 1])
def test_grad_cam_follows_the_target_class_to_its_half(keras_session, rank):
    explainer = Explainer(make_halves_model(rank, weights=(1.0, -1.0)))
    pattern = symmetric_pattern(rank)

    assert left_share(explainer.grad_cam(pattern, class_index=1).heat) > 0.99
    assert left_share(explainer.grad_cam(pattern, class_index=0).heat) < 0.01


@pytest.mark.parametrize("method", ["gradcam", "saliency"])
def test_the_pattern_alone_does_not_decide_where_the_heat_goes(keras_session, method):
    """The control: the same symmetric pattern, a model that reads only the right half."""
    model = make_halves_model(2, weights=(0.0, 1.0))
    heat = Explainer(model).explain(symmetric_pattern(2), method).heat

    assert left_share(heat) < 0.1


def test_sigmoid_head_has_two_classes(as_tested):
    model = as_tested(make_halves_model(2, head="sigmoid", weights=(1.0, -1.0)))
    explainer = Explainer(model)
    pattern = symmetric_pattern(2)
    pattern[:, :, 4:] *= 0.5  # the right half is weaker: p > 0.5, class 1 on top

    assert explainer.n_classes == 2
    assert explainer.grad_cam(pattern).class_index == 1
    assert left_share(explainer.grad_cam(pattern, class_index=1).heat) > 0.99
    assert left_share(explainer.grad_cam(pattern, class_index=0).heat) < 0.01
    # d(1 - p) = -dp: the two classes' saliency maps (gradient magnitudes) are the same.
    np.testing.assert_allclose(
        explainer.saliency(pattern, class_index=0).heat,
        explainer.saliency(pattern, class_index=1).heat,
        atol=1e-6,
    )
    with pytest.raises(ArgumentError, match=r"0 to 1: .* 2 classes \(a one-unit head"):
        explainer.grad_cam(pattern, class_index=2)


def test_the_top_class_is_the_models_prediction(build_model, noise):
    model = build_model("functional_cnn")
    pattern = noise(model)
    top = int(np.argmax(model.predict_on_batch(pattern)[0]))

    explainer = Explainer(model)
    assert explainer.grad_cam(pattern).class_index == top
    assert explainer.saliency(pattern).class_index == top
    assert explainer.saliency(pattern, smooth=4).class_index == top


# --- the sanity check of Adebayo et al. (2018) -----------------------------------------------


@pytest.mark.usefixtures("keras_session")
@pytest.mark.parametrize("method", ["gradcam", "saliency", "smoothgrad"])
def test_maps_of_a_reinitialised_model_differ_from_the_trained_models(method):
    trained = layerviz.load_model(REPO_MODELS / "digits_cnn.keras")  # trained on real digits
    sample = REPO_MODELS / "patterns" / "digits_cnn" / "digit_3.png"
    pattern = layerviz.read_pattern(sample.read_bytes(), sample.name, (32, 32, 1))
    twin = keras.models.clone_model(trained)
    twin.set_weights(trained.get_weights())

    def heat(model):
        return Explainer(model).explain(pattern, method, class_index=3).heat

    reference = heat(trained)
    assert spearman(reference, heat(twin)) > 0.999  # the measure can see "the same"
    # Same layers, fresh initial weights. One draw of a coarse (4×4) Grad-CAM map can agree
    # with the trained one by chance (Spearman -0.36 to 0.59 over seeds and backends), so the
    # mean over three draws is what is checked.
    agreement = []
    for seed in range(3):
        keras.utils.set_random_seed(seed)
        agreement.append(spearman(reference, heat(keras.models.clone_model(trained))))
    assert np.mean(agreement) < 0.5, agreement


def test_spearman_with_ties():
    assert spearman(np.array([1, 2, 2, 3]), np.array([10, 20, 20, 30])) == pytest.approx(1.0)
    assert spearman(np.arange(5), -(np.arange(5) ** 3)) == pytest.approx(-1.0)
    assert spearman(np.zeros(4), np.arange(4)) == 0.0


# --- nested models, sequences ------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["nested", "nested_sequential"])
def test_a_nested_backbone_gets_grad_cam_maps_at_its_inner_layers(as_tested, build_model, kind):
    model = as_tested(build_model(kind))
    explainer = Explainer(model)
    pattern = layerviz.random_pattern(model, seed=1)

    inner = [name for name in explainer.spatial_layers if name.startswith("backbone/")]
    assert inner == ["backbone/conv1", "backbone/conv2"]
    for layer in [None, *inner]:
        heat = explainer.grad_cam(pattern, layer=layer).heat
        assert heat.shape == explainer.input_shape[:2]
        assert np.isfinite(heat).all() and 0.0 <= heat.min() <= heat.max() <= 1.0
    assert explainer.saliency(pattern).heat.max() == pytest.approx(1.0)


def test_library_functions_take_a_model_or_an_extractor(build_model, noise):
    model = build_model("nested")
    pattern = noise(model)
    by_model = grad_cam(model, pattern, layer="backbone/conv2")
    by_extractor = grad_cam(layerviz.ActivationExtractor(model), pattern, layer="backbone/conv2")

    np.testing.assert_allclose(by_model, by_extractor, atol=1e-6)
    assert saliency(model, pattern[0], smooth=3, seed=2).shape == (12, 12)


def test_smoothgrad_is_seeded(build_model, noise):
    model = build_model("conv1d")
    explainer = Explainer(model)
    pattern = noise(model)
    first = explainer.saliency(pattern, smooth=5, seed=3).heat

    np.testing.assert_array_equal(first, explainer.saliency(pattern, smooth=5, seed=3).heat)
    assert not np.array_equal(first, explainer.saliency(pattern, smooth=5, seed=4).heat)
    assert first.shape == (32,)


def test_sequence_models_get_a_band_over_time(build_model, noise):
    model = build_model("lstm")
    explainer = Explainer(model)

    assert explainer.spatial_layers == ["lstm_seq"]
    assert explainer.grad_cam(noise(model)).heat.shape == (10,)


# --- bad input -----------------------------------------------------------------------------------


def test_gradient_model_refuses_an_unknown_layer(build_model):
    extractor = layerviz.ActivationExtractor(build_model("nested"))
    with pytest.raises(ArgumentError, match=r"no layer 'nope' .* backbone/conv1, backbone/conv2"):
        extractor.gradient_model(["nope"])


BAD_CALLS = [
    ("grad_cam", {"layer": "flatten"}, r"'flatten' has output shape \(128,\), not spatial maps"),
    ("grad_cam", {"layer": "head"}, r"Grad-CAM needs maps shaped \(h, w, channels\).*halves"),
    ("grad_cam", {"layer": "no_such"}, r"no layer 'no_such' .*are: conv, keep_right, keep_left"),
    ("grad_cam", {"class_index": 2}, r"class index must be 0 to 1: .* 2 classes; got 2"),
    ("grad_cam", {"class_index": -1}, r"0 to 1.*got -1"),
    ("grad_cam", {"class_index": True}, r"got True"),
    ("saliency", {"class_index": 1.5}, r"got 1.5"),
    ("saliency", {"smooth": MAX_SMOOTH + 1}, rf"0 to {MAX_SMOOTH}, got {MAX_SMOOTH + 1}"),
    ("saliency", {"smooth": -1}, r"noisy copies"),
    ("saliency", {"sigma": 0}, r"sigma .* \(0, 1\], got 0"),
    ("explain", {"method": "lime"}, r"method must be one of gradcam, saliency, smoothgrad"),
    ("explain", {"method": "saliency", "layer": "conv"}, r"Grad-CAM only, not for saliency"),
    ("explain", {"method": "smoothgrad", "smooth": 0}, r"at least 1 noisy copy"),
]


@pytest.mark.parametrize(("method", "kwargs", "message"), BAD_CALLS)
def test_bad_arguments_say_what_is_wrong(keras_session, method, kwargs, message):
    explainer = Explainer(make_halves_model(2))
    with pytest.raises(ArgumentError, match=message):
        getattr(explainer, method)(symmetric_pattern(2), **kwargs)


def test_a_pattern_that_does_not_fit(keras_session):
    with pytest.raises(PatternError, match=r"does not fit input \(8, 8, 1\)"):
        Explainer(make_halves_model(2)).grad_cam(np.zeros((1, 9, 8, 1)))


def test_a_model_without_spatial_maps_has_no_grad_cam_but_saliency(keras_session):
    inputs = keras.Input((6,), name="features")
    model = keras.Model(inputs, layers.Dense(3, activation="softmax")(layers.Dense(4)(inputs)))
    explainer = Explainer(model)
    pattern = np.linspace(0, 1, 6, dtype=np.float32)

    with pytest.raises(ArgumentError, match=r"no layer with spatial maps .* use saliency"):
        explainer.grad_cam(pattern)
    assert explainer.saliency(pattern).heat.shape == (6,)


def test_integer_inputs_have_grad_cam_but_no_saliency(keras_session):
    inputs = keras.Input((7,), dtype="int32", name="tokens")
    x = layers.Embedding(20, 4, name="embed")(inputs)
    x = layers.Conv1D(3, 2, padding="same", name="conv")(x)
    x = layers.GlobalAveragePooling1D(name="gap")(x)
    model = keras.Model(inputs, layers.Dense(2, activation="softmax", name="out")(x))
    explainer = Explainer(model)
    tokens = np.arange(7, dtype=np.int32)

    assert explainer.grad_cam(tokens).heat.shape == (7,)
    with pytest.raises(ArgumentError, match=r"integer ids, which have no gradient"):
        explainer.saliency(tokens)


def test_models_with_several_inputs_or_outputs_are_refused(build_model):
    with pytest.raises(ModelStructureError, match=r"2 inputs; .* single-input models"):
        Explainer(build_model("multi_input"))
    inputs = keras.Input((4,))
    two_heads = keras.Model(inputs, [layers.Dense(2)(inputs), layers.Dense(3)(inputs)])
    with pytest.raises(ModelStructureError, match=r"2 outputs; .* single-output models"):
        Explainer(two_heads)
