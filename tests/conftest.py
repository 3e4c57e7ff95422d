"""Fixtures over the tiny Keras models of ``tiny_models.py``, shared by the tests.

``build_model(kind)`` builds one of ``BUILDERS`` after a fixed seed (and clears the Keras
session after the test); ``as_tested`` gives a model either as built ("fresh") or saved as
``.keras`` and reloaded in safe mode ("reloaded"), as tf-keras-vis does, so a test that takes it
runs twice. Nothing here is autouse: the dashboard's tests under ``tests/ui`` are left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from layerviz import _quiet  # noqa: F401  (quiets TensorFlow, so before keras is imported)

# isort: split
import keras
import numpy as np
import pytest
from tiny_models import BUILDERS, REPO_MODELS, make_article_model

# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def keras_session():
    """A fixed seed before the test and a fresh Keras session after it."""
    keras.utils.set_random_seed(0)
    yield
    # Without gc.collect(): that costs about a second per test and frees nothing we need.
    keras.backend.clear_session(free_memory=False)


@pytest.fixture(params=["fresh", "reloaded"])
def as_tested(request, tmp_path, keras_session) -> Callable[[keras.Model], keras.Model]:
    """Return the model as built, or saved as ``.keras`` and reloaded in safe mode."""

    def get(model: keras.Model) -> keras.Model:
        if request.param == "fresh":
            return model
        path = tmp_path / f"{model.name}.keras"
        model.save(path)
        return keras.saving.load_model(path, safe_mode=True, compile=False)

    return get


@pytest.fixture
def article_model(keras_session) -> keras.Model:
    return make_article_model()


@pytest.fixture
def article_pattern() -> np.ndarray:
    """The article's input: uniform noise from seed 0, with the batch axis."""
    return np.random.default_rng(0).random((1, 50, 50))


@pytest.fixture
def saved_article_model(article_model, tmp_path) -> Path:
    """The article's model saved as ``.keras`` in the test's folder."""
    path = tmp_path / "article.keras"
    article_model.save(path)
    return path


@pytest.fixture
def repo_models_dir(monkeypatch):
    """Read bundled models from the repo's own ``models/``, whatever the environment says."""
    from layerviz.config import MODELS_DIR_VARIABLE

    monkeypatch.setenv(MODELS_DIR_VARIABLE, str(REPO_MODELS))
    return REPO_MODELS


@pytest.fixture
def build_model(keras_session) -> Callable[[str], keras.Model]:
    """Build one of ``BUILDERS`` by its key, e.g. ``build_model("nested")``."""
    return lambda kind: BUILDERS[kind]()


@pytest.fixture
def noise() -> Callable[..., np.ndarray | list[np.ndarray]]:
    """``noise(model, seed=0)``: uniform float32 noise with the batch axis for each input."""

    def make(model: keras.Model, seed: int = 0) -> np.ndarray | list[np.ndarray]:
        rng = np.random.default_rng(seed)
        arrays = [rng.random((1, *t.shape[1:]), dtype=np.float32) for t in model.inputs]
        return arrays if len(arrays) > 1 else arrays[0]

    return make
