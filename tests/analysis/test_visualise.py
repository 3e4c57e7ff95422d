"""Feature visualisation: known templates come back, digits_cnn's classes are drawn as classes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import layerviz
from layerviz.analysis.parameterise import Fourier, affine_rows, apply_transforms, real_basis
from layerviz.analysis.visualise import Visualiser, VisualiseSettings, visualise
from layerviz.errors import ArgumentError, ModelStructureError, PatternError

SIDE = 16


def _templates() -> np.ndarray:
    """Two ±1 filters of the whole 16×16 input: an oriented (diagonal) edge and a chequer."""
    y, x = np.mgrid[:SIDE, :SIDE]
    edge = np.where(x + y < SIDE, -1.0, 1.0)
    chequer = np.where((y // 4 + x // 4) % 2 == 0, 1.0, -1.0)
    return np.stack([edge, chequer]).astype(np.float32)


def _template_model(templates: np.ndarray) -> keras.Model:
    """A first conv layer whose channel c is ``templates[c]``, seeing the whole input once.

    Linear (no ReLU): a zero-sum template's output starts near 0 from a grey pattern, where a
    ReLU would give no gradient; the best pattern in [0, 1] is then 1 where the template is +1
    and 0 where it is -1, the template itself after normalisation.
    """
    inputs = keras.Input((SIDE, SIDE, 1))
    conv = keras.layers.Conv2D(len(templates), SIDE, name="templates")
    outputs = conv(inputs)
    kernel = np.transpose(templates, (1, 2, 0))[:, :, None, :] / templates[0].size
    conv.set_weights([kernel, np.zeros(len(templates), np.float32)])
    return keras.Model(inputs, keras.layers.Flatten(name="flat")(outputs))


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation: both centred and scaled to unit norm (the same normalisation)."""
    a, b = a.ravel() - a.mean(), b.ravel() - b.mean()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.fixture(scope="module")
def template_result():
    templates = _templates()
    model = _template_model(templates)
    result = visualise(model, "templates", channels=[0, 1], seed=0)  # the default 256 steps
    return templates, model, result


def test_templates_come_back(template_result):
    templates, _, result = template_result
    assert result.images.shape == (2, SIDE, SIDE, 1)
    assert result.history.shape == (256, 2)
    assert result.objective == "channel mean"
    for c, template in enumerate(templates):
        assert _correlation(result.images[c, :, :, 0], template) >= 0.8


def test_optimised_patterns_beat_random_ones_by_far(template_result):
    _, model, result = template_result
    rng = np.random.default_rng(1)
    random = rng.random((256, SIDE, SIDE, 1), dtype=np.float32)
    best_random = np.asarray(model.predict_on_batch(random)).max(axis=0)
    optimised = np.asarray(model.predict_on_batch(result.images))
    for c in range(2):
        assert optimised[c, c] >= 5 * best_random[c]
    # the objective rose: its last value beats its first
    assert np.all(result.history[-1] > result.history[0])


def test_patterns_stay_inside_the_value_range():
    model = _template_model(_templates())
    result = visualise(model, "templates", channels=[0], steps=16, value_range=(-2.0, 3.0))
    assert result.images.min() >= -2.0 and result.images.max() <= 3.0
    assert result.settings.value_range == (-2.0, 3.0)


def test_the_penalties_pull_the_pattern_towards_grey_and_smooth():
    model = _template_model(_templates())
    plain = visualise(model, "templates", channels=[1], steps=64, tv_weight=0.0)
    l2 = visualise(model, "templates", channels=[1], steps=64, tv_weight=0.0, l2_weight=1.0)
    tv = visualise(model, "templates", channels=[1], steps=64, tv_weight=1.0)
    spread = [np.abs(r.images - 0.5).mean() for r in (plain, l2)]
    assert spread[1] < 0.7 * spread[0]
    roughness = [np.abs(np.diff(r.images[0, :, :, 0], axis=1)).mean() for r in (plain, tv)]
    assert roughness[1] < 0.7 * roughness[0]


def test_a_sequence_template_comes_back():
    length = 64
    t = np.arange(length)
    template = np.sin(2 * np.pi * 3 * t / length).astype(np.float32)
    inputs = keras.Input((length, 1))
    conv = keras.layers.Conv1D(1, length, name="wave")
    outputs = conv(inputs)
    conv.set_weights([template[:, None, None] / length, np.zeros(1, np.float32)])
    model = keras.Model(inputs, outputs)
    result = visualise(model, "wave", seed=0)  # the default 256 steps
    assert result.images.shape == (1, length, 1)
    assert _correlation(result.images[0, :, 0], template) >= 0.8


# --- digits_cnn: every class unit, drawn, is read as its class --------------------------------


@pytest.fixture(scope="module")
def digits():
    model = layerviz.load_model("digits_cnn")
    return model, Visualiser(model)


def _class_probabilities(model, images) -> np.ndarray:
    probabilities = np.asarray(model.predict_on_batch(images))
    return probabilities[np.arange(len(images)), np.arange(len(images))]


def test_each_digit_class_is_drawn_as_that_class(digits):
    model, visualiser = digits
    result = visualiser.visualise("predictions", settings=VisualiseSettings(steps=96), seed=0)
    assert result.objective == "class log-probability"
    assert result.channels == tuple(range(10))
    assert np.all(_class_probabilities(model, result.images) >= 0.9)


def test_the_same_seed_draws_the_same_picture_another_seed_another(digits):
    model, visualiser = digits
    settings = VisualiseSettings(steps=96)
    first = visualiser.visualise("predictions", [3, 7], settings, seed=5)
    again = visualiser.visualise("predictions", [3, 7], settings, seed=5)
    other = visualiser.visualise("predictions", [3, 7], settings, seed=6)
    np.testing.assert_allclose(first.images, again.images, atol=1e-5)
    assert np.abs(first.images - other.images).mean() > 0.05
    probabilities = np.asarray(model.predict_on_batch(other.images))
    assert probabilities[0, 3] >= 0.9 and probabilities[1, 7] >= 0.9


def test_progress_counts_every_step_and_can_stop_the_run(digits):
    _, visualiser = digits
    seen = []
    visualiser.visualise(
        "conv2",
        [0, 1, 2],
        VisualiseSettings(steps=4),
        batch_size=2,
        progress=lambda *a: seen.append(a),
    )
    assert seen[-1] == (8, 8) and len(seen) == 8

    class Stop(Exception):
        pass

    def stop(done, total):
        raise Stop

    with pytest.raises(Stop):
        visualiser.visualise("conv2", [0], VisualiseSettings(steps=4), progress=stop)


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"layer": "nope"}, "no layer 'nope'"),
        ({"layer": "conv2", "channels": [32]}, r"32 channels \(0 to 31\)"),
        ({"layer": "conv2", "channels": [-1]}, r"0 to 31"),
        ({"layer": "conv2", "channels": []}, "channels 0 to 31"),
        ({"layer": "conv2", "steps": 0}, "steps must be a whole number from 1 to 4096"),
        ({"layer": "conv2", "steps": 5000}, "from 1 to 4096"),
        ({"layer": "conv2", "learning_rate": 0.0}, r"learning_rate must be in \(0.0, 1.0\]"),
        ({"layer": "conv2", "learning_rate": 2.0}, r"\(0.0, 1.0\]"),
        ({"layer": "conv2", "value_range": (1, 0)}, "low < high"),
        ({"layer": "conv2", "scale": 3.0}, r"scale must be in \[1.0, 2.0\]"),
        ({"layer": "conv2", "colour": True}, "unknown option 'colour'"),
    ],
)
def test_bad_arguments_are_refused_with_the_range(digits, kwargs, message):
    _, visualiser = digits
    with pytest.raises(ArgumentError, match=message):
        visualise(visualiser, **kwargs)


def test_a_layer_without_channels_is_refused():
    inputs = keras.Input((8, 4))
    mixed = keras.layers.MultiHeadAttention(2, 4, name="mha")(inputs, inputs)
    stacked = keras.layers.Reshape((8, 4, 1, 1), name="five_d")(mixed)
    model = keras.Model(inputs, [mixed, stacked])
    visualiser = Visualiser(model)
    assert visualiser.n_channels("mha") == 4
    with pytest.raises(ArgumentError, match=r"attention scores \(2, 8, 8\).*layers with them"):
        visualise(visualiser, "mha:attention", steps=1)
    with pytest.raises(ArgumentError, match="'five_d' has no channels to maximise"):
        visualise(visualiser, "five_d", steps=1)


def test_models_it_cannot_optimise_are_refused():
    ids = keras.Input((5,), dtype="int32")
    model = keras.Model(ids, keras.layers.Embedding(10, 4)(ids))
    with pytest.raises(ModelStructureError, match="float images"):
        Visualiser(model)


def test_a_bad_seed_is_refused(digits):
    _, visualiser = digits
    with pytest.raises(PatternError):
        visualise(visualiser, "conv2", channels=[0], steps=1, seed=-1)


# --- the parameterisation against numpy's FFT --------------------------------------------------


def _irfft_basis(n: int) -> np.ndarray:
    """numpy's ``irfft`` of one unit coefficient at a time (real parts, then imaginary ones),
    each column scaled to unit norm."""
    columns = []
    for u in range(n // 2 + 1):
        columns.append(np.fft.irfft(np.eye(n // 2 + 1)[u], n))
    for u in range(1, (n + 1) // 2):
        columns.append(np.fft.irfft(-1j * np.eye(n // 2 + 1)[u], n))
    basis = np.stack(columns, axis=1)
    return basis / np.linalg.norm(basis, axis=0)


@pytest.mark.parametrize("n", [6, 7, 32])
def test_the_real_basis_is_numpys_irfft_and_orthonormal(n):
    basis = real_basis(n)
    np.testing.assert_allclose(basis, _irfft_basis(n), atol=1e-6)
    np.testing.assert_allclose(basis.T @ basis, np.eye(n), atol=1e-5)


@pytest.mark.parametrize("shape", [(6, 8, 3), (10, 2)])
def test_the_fourier_render_sums_the_basis_with_a_1_over_f_spectrum(shape):
    fourier = Fourier(shape, decorrelate=False)
    params = np.random.default_rng(0).standard_normal((2, fourier.size)).astype(np.float32)
    rendered = keras.ops.convert_to_numpy(fourier.render_unit(params))
    spatial = shape[:-1]
    grids = np.meshgrid(
        *[np.abs(np.fft.fftfreq(n))[_column_order(n)] for n in spatial], indexing="ij"
    )
    scale = 1 / np.maximum(np.sqrt(sum(g**2 for g in grids)), 1 / max(spatial))
    z = params.reshape(2, *shape) * scale[..., None]
    bases = [_irfft_basis(n) for n in spatial]
    if len(spatial) == 2:
        x = np.einsum("hy,byxc,wx->bhwc", bases[0], z, bases[1])
    else:
        x = np.einsum("tu,buc->btc", bases[0], z)
    np.testing.assert_allclose(rendered, 1 / (1 + np.exp(-x / 4)), atol=1e-5)


def _column_order(n: int) -> list[int]:
    """fftfreq's index of each basis column's frequency: cosines 0…n/2, then sines 1…."""
    return [*range(n // 2 + 1), *range(1, (n + 1) // 2)]


def test_an_identity_transform_leaves_the_pattern_and_a_shift_moves_it():
    image = np.random.default_rng(0).random((1, 8, 8, 1), dtype=np.float32)
    rows = affine_rows(np.random.default_rng(0), 1, (8, 8), jitter=0, scale=1.0, rotate=0.0)
    same = keras.ops.convert_to_numpy(apply_transforms(image, rows))
    np.testing.assert_allclose(same, image, atol=1e-6)
    shifted = rows.copy()
    shifted[0, 2] -= 1.0  # read one pixel to the left: the picture moves one to the right
    moved = keras.ops.convert_to_numpy(apply_transforms(image, shifted))
    np.testing.assert_allclose(moved[0, :, 1:], image[0, :, :-1], atol=1e-6)


# --- the same on JAX, in a child process (the backend is chosen before Keras is imported) -------

_JAX_SCRIPT = """
import numpy as np, keras, layerviz
assert keras.backend.backend() == "jax", keras.backend.backend()
model = layerviz.load_model("digits_cnn")
result = layerviz.visualise(model, "predictions", steps=96, seed=0)
p = np.asarray(model.predict_on_batch(result.images))
print(" ".join(f"{v:.4f}" for v in p[np.arange(10), np.arange(10)]))
"""


@pytest.mark.slow
def test_each_digit_class_is_drawn_as_that_class_on_jax():
    pytest.importorskip("jax")
    env = {
        **os.environ,
        "KERAS_BACKEND": "jax",
        "PYTHONPATH": str(Path(layerviz.__file__).parents[1]),
    }
    done = subprocess.run(
        [sys.executable, "-c", _JAX_SCRIPT], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    probabilities = [float(v) for v in done.stdout.split()[-10:]]
    assert len(probabilities) == 10 and min(probabilities) >= 0.9, probabilities
