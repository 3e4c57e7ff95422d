"""Explanations checked against references written from their definitions, on every backend.

- Grad-CAM against keras.io's example (``make_gradcam_heatmap``, "Grad-CAM class activation
  visualization"): the last conv layer's maps weighed by the pooled gradient of the top class's
  score, the model's last activation removed, ReLU, then a bilinear resize to the image. The
  gradient is worked out in numpy from digits_cnn's own weights (its tail after ``conv3`` is
  max-pool, flatten, Dense + ReLU, dropout, Dense), so no autodiff is involved, and the resize
  is Pillow's bilinear. keras.io scales to [0, 1] before resizing; the reference is scaled by
  its maximum after the resize, as layerviz does (a bilinear resize commutes with scaling).
- Saliency against the input gradient of models whose gradient is a formula: a linear head
  (``d z_k / d x = W[:, k]``), its softmax probability (``p_k (W_k - Σ_j p_j W_j)``).
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

import layerviz
from layerviz.analysis.explain import Explainer

REPO_MODELS = Path(__file__).resolve().parents[2] / "models"
SAMPLES = sorted((REPO_MODELS / "patterns" / "digits_cnn").iterdir())


@pytest.fixture(scope="module")
def digits_cnn():
    return layerviz.load_model(REPO_MODELS / "digits_cnn.keras")


def read(sample: Path) -> np.ndarray:
    return layerviz.read_pattern(sample.read_bytes(), sample.name, (32, 32, 1))  # (1, 32, 32, 1)


def keras_io_grad_cam(model: keras.Model, pattern: np.ndarray) -> tuple[np.ndarray, int]:
    """keras.io's Grad-CAM at ``conv3`` for the top class, the gradient done by hand."""
    conv3 = keras.Model(model.inputs, model.get_layer("conv3").output)
    maps = np.asarray(conv3.predict_on_batch(pattern))[0].astype(np.float64)  # (8, 8, 32)
    w1, b1 = (a.astype(np.float64) for a in model.get_layer("dense").get_weights())
    w2, b2 = (a.astype(np.float64) for a in model.get_layer("predictions").get_weights())
    pooled = maps.reshape(4, 2, 4, 2, 32).max(axis=(1, 3))  # MaxPooling2D(2), valid
    hidden = pooled.reshape(-1) @ w1 + b1  # Flatten is row-major over (h, w, c)
    logits = np.maximum(hidden, 0) @ w2 + b2  # dropout is the identity at inference
    k = int(np.argmax(logits))
    d_pooled = (w1 @ ((hidden > 0) * w2[:, k])).reshape(4, 4, 32)
    # Max-pooling's gradient goes to one cell per window, whichever: its mean over the 8×8
    # maps (keras.io's pooled_grads) is each window's gradient summed, divided by 64.
    pooled_grads = d_pooled.sum(axis=(0, 1)) / 64.0
    heat = np.maximum(maps @ pooled_grads, 0)
    heat = heat / heat.max()
    image = Image.fromarray(heat.astype(np.float32), mode="F")
    resized = np.asarray(image.resize((32, 32), Image.Resampling.BILINEAR), dtype=np.float64)
    return resized / resized.max(), k


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_grad_cam_equals_keras_io_example(digits_cnn, sample):
    pattern = read(sample)
    reference, top = keras_io_grad_cam(digits_cnn, pattern)

    result = Explainer(digits_cnn).grad_cam(pattern, layer="conv3")

    assert result.class_index == top
    assert result.target == "logit"
    np.testing.assert_allclose(result.heat, reference, atol=1e-5)


def test_a_model_whose_activation_was_removed_after_building_is_explained(digits_cnn):
    """keras.io's own step: ``model.layers[-1].activation = None``."""
    pattern = read(SAMPLES[0])
    expected = Explainer(digits_cnn).grad_cam(pattern, layer="conv3").heat
    bare = keras.models.clone_model(digits_cnn)
    bare.set_weights(digits_cnn.get_weights())
    bare.layers[-1].activation = None

    heat = Explainer(bare).grad_cam(pattern, layer="conv3").heat

    np.testing.assert_allclose(heat, expected, atol=1e-5)


def test_the_probabilitys_map_differs_from_the_scores_on_a_confident_model(digits_cnn):
    """digits_cnn gives p = 1.0 in float32 here: the softmax's gradient is almost gone."""
    pattern = read(REPO_MODELS / "patterns" / "digits_cnn" / "digit_3.png")
    explainer = Explainer(digits_cnn)
    logit = explainer.grad_cam(pattern, layer="conv3")
    probability = explainer.grad_cam(pattern, layer="conv3", target="probability")

    assert probability.target == "probability"
    assert probability.class_index == logit.class_index
    assert np.abs(probability.heat - logit.heat).max() > 0.1


# --- saliency ----------------------------------------------------------------------------------


def linear_model(activation: str | None) -> tuple[keras.Model, np.ndarray, np.ndarray]:
    inputs = keras.Input((4, 4, 2))
    head = keras.layers.Dense(3, activation=activation, name="head")
    model = keras.Model(inputs, head(keras.layers.Flatten()(inputs)))
    rng = np.random.default_rng(7)
    kernel = rng.normal(size=(32, 3)).astype(np.float32)
    bias = rng.normal(size=3).astype(np.float32)
    head.set_weights([kernel, bias])
    return model, kernel.astype(np.float64), bias.astype(np.float64)


def normalised_magnitude(gradient: np.ndarray) -> np.ndarray:
    """What a saliency map is: the largest |gradient| over channels, scaled to [0, 1]."""
    magnitude = np.abs(gradient).max(axis=-1)
    return magnitude / magnitude.max()


@pytest.mark.usefixtures("keras_session")
@pytest.mark.parametrize("activation", [None, "softmax"])
def test_saliency_is_the_normalised_gradient_of_the_class_score(activation):
    model, kernel, _ = linear_model(activation)
    pattern = np.random.default_rng(1).random((4, 4, 2), dtype=np.float32)

    result = Explainer(model).saliency(pattern, class_index=2)

    expected = normalised_magnitude(kernel[:, 2].reshape(4, 4, 2))
    np.testing.assert_allclose(result.heat, expected, atol=1e-6)


@pytest.mark.usefixtures("keras_session")
def test_saliency_of_the_probability_is_the_softmax_gradient():
    model, kernel, bias = linear_model("softmax")
    pattern = np.random.default_rng(2).random((4, 4, 2), dtype=np.float32)
    z = pattern.reshape(-1).astype(np.float64) @ kernel + bias
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    k = int(np.argmax(p))

    result = Explainer(model).saliency(pattern, target="probability")

    gradient = p[k] * (kernel[:, k] - kernel @ p)
    assert result.class_index == k
    # float32 softmax: its derivative carries ~1e-5 of rounding (measured 3e-5).
    np.testing.assert_allclose(
        result.heat, normalised_magnitude(gradient.reshape(4, 4, 2)), atol=1e-4
    )
