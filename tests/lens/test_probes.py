"""Linear probes find where classes become separable; projections of pooled features."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

from layerviz.errors import ArgumentError
from layerviz.lens.features import dataset_features
from layerviz.lens.probes import probe_accuracy, project


def _xor_model() -> keras.Model:
    """Layer 1 copies the input; layer 2 (fixed ReLU units) makes XOR linear; layer 3 reads it.

    With x near the corners (±1, ±1), the class is ``x1 * x2 > 0``: no line separates it in
    the input (or in layer 1, a copy), while ``relu(x1+x2) + relu(-x1-x2)`` is 2 for the class
    and 0 for the other, so from layer 2 on a linear probe reads it.
    """
    inputs = keras.Input((2,))
    copy = layers.Dense(2, name="copy")(inputs)
    hidden = layers.Dense(4, activation="relu", name="hidden")(copy)
    out = layers.Dense(1, name="readout")(hidden)
    model = keras.Model(inputs, out, name="xor")
    model.get_layer("copy").set_weights([np.eye(2), np.zeros(2)])
    spread = np.array([[1, -1, 1, -1], [1, -1, -1, 1]], dtype=np.float32)
    model.get_layer("hidden").set_weights([spread, np.zeros(4)])
    model.get_layer("readout").set_weights([np.array([[1], [1], [-1], [-1]]), np.zeros(1)])
    return model


def _xor_data(n: int = 400):
    rng = np.random.default_rng(0)
    corners = rng.choice([-1.0, 1.0], size=(n, 2))
    x = (corners + 0.25 * rng.normal(size=(n, 2))).astype(np.float32)
    return x, (corners[:, 0] * corners[:, 1] > 0).astype(int)


def test_probe_is_at_chance_before_the_hidden_layer_and_near_one_from_it(keras_session):
    x, y = _xor_data()
    features = dataset_features(_xor_model(), x, batch_size=64)
    curve = probe_accuracy(features, y)
    assert curve.names == ["copy", "hidden", "readout"]
    assert curve.chance == pytest.approx(max(y.mean(), 1 - y.mean()))
    copy, hidden, readout = curve.accuracy
    assert copy < 0.65  # chance is ~0.5: no line separates XOR
    assert hidden > 0.95 and readout > 0.95
    assert curve.folds == 5 and len(curve.rows()) == 3


def test_probe_refuses_bad_labels(keras_session):
    x, y = _xor_data(40)
    features = dataset_features(_xor_model(), x)
    with pytest.raises(ArgumentError, match=r"expected \(40,\), got \(39,\)"):
        probe_accuracy(features, y[:39])
    with pytest.raises(ArgumentError, match="at least two classes"):
        probe_accuracy(features, np.zeros(40))
    lonely = np.zeros(40, dtype=int)
    lonely[0], lonely[1:] = 1, 0
    lonely[20:] = 2
    with pytest.raises(ArgumentError, match="class 1 has one pattern only"):
        probe_accuracy(features, lonely)


def test_pca_projection_matches_scikit_learn():
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(2)
    pooled = rng.normal(size=(50, 6)) * np.arange(1, 7)
    got = project(pooled)
    want = PCA(2).fit_transform(pooled)
    for axis in range(2):  # components are defined up to their sign
        sign = np.sign(got[:, axis] @ want[:, axis])
        np.testing.assert_allclose(got[:, axis] * sign, want[:, axis], rtol=1e-4, atol=1e-4)


def test_tsne_projection_keeps_clusters_apart():
    rng = np.random.default_rng(4)
    pooled = np.concatenate([rng.normal(size=(30, 5)), rng.normal(size=(30, 5)) + 20])
    coords = project(pooled, "tsne")
    assert coords.shape == (60, 2)
    a, b = coords[:30].mean(0), coords[30:].mean(0)
    spread = max(coords[:30].std(), coords[30:].std())
    assert np.linalg.norm(a - b) > 3 * spread


def test_projection_refuses_bad_input():
    with pytest.raises(ArgumentError, match="must be one of pca, tsne; got 'umap'"):
        project(np.zeros((5, 2)), "umap")
    bad = np.zeros((5, 2))
    bad[2, 1] = np.inf
    with pytest.raises(ArgumentError, match="rows 2 hold NaN or infinite"):
        project(bad)
