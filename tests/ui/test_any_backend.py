"""The dashboard on whichever backend Keras runs (``make test`` runs this file on TensorFlow and
on JAX, ``make test-torch`` on PyTorch): ``layerviz.show(model)``'s app, in-process, opens an
in-memory model, draws its grid, explains it, and says which backend it runs on."""

from __future__ import annotations

import keras
import numpy as np
import plotly.graph_objects as go
import pytest

from layerviz.analysis.explain import Explainer
from layerviz.ui.app import create_app
from layerviz.ui.callbacks import BACKEND_NAMES, backend_text, choose_pattern, render_grid
from layerviz.ui.features.explain import _Explainers, explanation_view

SHAPE = (12, 12, 1)


@pytest.fixture(scope="module")
def app_and_model():
    keras.utils.set_random_seed(0)
    inputs = keras.Input(SHAPE)
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="c1")(inputs)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="out")(x))
    pattern = np.random.default_rng(1).random(SHAPE, dtype=np.float32)
    return create_app(model, pattern), model, pattern


def test_the_model_line_names_the_backend(app_and_model):
    app, _, _ = app_and_model
    choice = choose_pattern(app.workbench, None, app_and_model[1].name)
    assert choice.error is None
    expected = f"Keras on {BACKEND_NAMES[keras.backend.backend()]}"
    assert backend_text() == expected and expected in choice.model_info.split(" · ")


def test_grid_and_explanation_on_this_backend(app_and_model):
    app, model, pattern = app_and_model
    choice = choose_pattern(app.workbench, None, model.name)
    figure, n_pages, _, _ = render_grid(app.workbench, choice.recipe, 3, 3, 0, 1)
    assert n_pages >= 1 and figure.data

    explainers = _Explainers(app.workbench)
    fig = explanation_view(explainers, choice.recipe, "gradcam", None, 0.5, None)
    heat = fig.data[1]
    assert isinstance(heat, go.Heatmap)
    expected = Explainer(model).grad_cam(pattern).heat
    np.testing.assert_allclose(np.asarray(heat.z), expected, atol=1e-5)


def test_the_page_is_served(app_and_model):
    client = app_and_model[0].server.test_client()
    assert client.get("/").status_code == 200
    assert client.get("/_dash-layout").status_code == 200
