"""layerviz.show serves an in-memory model with no file, blocking or inline in Jupyter."""

import numpy as np
import pytest
from dash import Dash

import layerviz


@pytest.fixture
def runs(monkeypatch):
    calls = []
    monkeypatch.setattr(Dash, "run", lambda self, **kwargs: calls.append((self, kwargs)))
    return calls


def test_show_serves_the_model_it_is_given(runs, article_model):
    model = article_model
    layerviz.show(model, np.zeros((50, 50), np.float32), port=8123)
    ((app, kwargs),) = runs
    assert kwargs["port"] == 8123 and kwargs["debug"] is False
    assert app.workbench.model_names[0] == model.name
    recipe = app.workbench.default_recipe(model.name)
    assert recipe.describe() == "pattern given in code"
    assert not app.workbench.pattern(recipe).any()


def test_show_in_jupyter_mode_passes_it_to_dash(runs, article_model):
    layerviz.show(article_model, jupyter_mode="inline")
    ((_, kwargs),) = runs
    assert kwargs["jupyter_mode"] == "inline"


def test_show_refuses_a_pattern_that_does_not_fit(runs, article_model):
    with pytest.raises(layerviz.PatternError, match=r"\(3, 3\).*\(50, 50\)"):
        layerviz.show(article_model, np.zeros((3, 3)))
    assert runs == []
