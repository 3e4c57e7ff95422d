"""Tests of the explain feature's plain functions (``layerviz/ui/features/explain.py``), with a
real Workbench and no browser."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from layerviz.analysis.explain import Explainer
from layerviz.errors import LayervizError
from layerviz.ui.features.explain import (
    LABELS,
    _Explainers,
    explanation_view,
    target_class,
)

MODEL = "digits_cnn"


@pytest.fixture(scope="module")
def explainers(workbench) -> _Explainers:
    return _Explainers(workbench)


def click(position):
    return {"points": [{"pointNumber": position, "y": "whatever"}]}


def test_a_clicked_bar_maps_back_to_its_class_through_the_same_sort():
    outputs = np.array([0.1, 0.6, 0.05, 0.25])
    assert [target_class(click(i), outputs, 4) for i in range(4)] == [1, 3, 0, 2]
    assert target_class(click(9), outputs, 4) is None
    for garbage in (None, {}, {"points": []}, {"points": [{"pointNumber": "x"}]}):
        assert target_class(garbage, outputs, 4) is None
    assert target_class(click(0), np.array([0.3]), 1) == 1  # one sigmoid unit: its bar is p


def test_the_view_explains_the_top_class_then_a_clicked_one(explainers, default_store):
    workbench = explainers.workbench
    run = workbench.extraction(workbench.default_recipe(MODEL))
    names = workbench.entry(MODEL).class_names
    top = int(np.argmax(run.extraction.outputs[0]))
    layer = explainers.of(MODEL).default_layer

    fig = explanation_view(explainers, default_store, "gradcam", None, 0.5, None)
    assert fig.layout.title.text == f"Grad-CAM at {layer}: {names[top]} (top class)"
    heat = fig.data[1]
    assert isinstance(heat, go.Heatmap) and heat.opacity == 0.5
    expected = Explainer(workbench.entry(MODEL).model).grad_cam(run.pattern).heat
    np.testing.assert_allclose(np.asarray(heat.z), expected, atol=1e-5)

    other = (top + 1) % len(names)
    fig = explanation_view(
        explainers, default_store, "smoothgrad", layer, 0.2, {"model": MODEL, "class": other}
    )
    assert fig.layout.title.text == f"{LABELS['smoothgrad']}: {names[other]} (clicked)"


def test_the_view_explains_the_probability_when_asked(explainers, default_store):
    workbench = explainers.workbench
    run = workbench.extraction(workbench.default_recipe(MODEL))
    layer = explainers.of(MODEL).default_layer

    fig = explanation_view(explainers, default_store, "gradcam", None, 0.5, None, "probability")

    assert fig.layout.title.text.endswith("(top class, its probability)")
    expected = Explainer(workbench.entry(MODEL).model).grad_cam(
        run.pattern, layer, target="probability"
    )
    np.testing.assert_allclose(np.asarray(fig.data[1].z), expected.heat, atol=1e-5)
    bad = explanation_view(explainers, default_store, "gradcam", None, 0.5, None, "nonsense")
    assert bad.layout.title.text.endswith("(top class)")  # an unknown choice: the score


@pytest.mark.parametrize(
    "target",
    [
        {"model": "other", "class": 1},
        {"model": MODEL, "class": 99},
        {"model": MODEL, "class": True},
        "x",
    ],
)
def test_a_stale_or_bad_target_falls_back_to_the_top_class(explainers, default_store, target):
    fig = explanation_view(explainers, default_store, "saliency", None, 0.5, target)
    assert fig.layout.title.text.endswith("(top class)")


def test_garbage_from_the_browser_is_checked(explainers, default_store):
    fig = explanation_view(explainers, default_store, "<script>", 7, "loud", None)
    assert fig.layout.title.text.startswith("Grad-CAM at ")  # unknown method: the default
    assert fig.data[1].opacity == 0.5
    with pytest.raises(LayervizError, match="layer 'dense' has output shape"):
        explanation_view(explainers, default_store, "gradcam", "dense", 0.5, None)
    with pytest.raises(LayervizError, match="model"):
        explanation_view(
            explainers, {"kind": "seed", "model": "nope", "seed": 1}, "gradcam", None, 0.5, None
        )


def test_explanations_are_cached(explainers, default_store):
    explanation_view(explainers, default_store, "saliency", None, 0.1, None)
    before = len(explainers.maps)
    explanation_view(explainers, default_store, "saliency", None, 0.9, None)  # opacity only
    assert len(explainers.maps) == before


def test_per_model_caches_die_with_the_models_entry(keras_session):
    """Issue 25, row 3: ``_Explainers`` (and the architecture's ``_Graphs``) held every
    uploaded model forever; now an upload the LRU forgets is collectable."""
    import gc
    import weakref

    import keras

    from layerviz.ui.features.architecture import _Graphs
    from layerviz.ui.features.explain import _Explainers
    from layerviz.ui.recipe import SeedRecipe
    from layerviz.ui.store import current_session
    from layerviz.ui.workbench import ModelEntry, Workbench

    bench = Workbench(include_bundled=True)
    bench.user_models.max_bytes = 100
    explainers, graphs = _Explainers(bench), _Graphs(bench)

    def upload() -> tuple[str, weakref.ref]:
        inputs = keras.Input((6, 6, 1), name="x")
        x = keras.layers.Conv2D(2, 3, activation="relu", name="conv")(inputs)
        x = keras.layers.Dense(3, activation="softmax", name="out")(keras.layers.Flatten()(x))
        model = keras.Model(inputs, x)
        name = bench.user_models.add(
            lambda n: ModelEntry(n, "upload", model=model), 80, current_session.get()
        )
        bench.extraction(SeedRecipe(name, 0))
        assert explainers.of(name) is explainers.of(name)  # built once, then kept
        assert graphs.of(name) is graphs.of(name)
        return name, weakref.ref(model)

    first, alive = upload()
    upload()  # over the budget together: the LRU forgets the first
    assert bench.user_models.get(first, current_session.get()) is None
    gc.collect()
    assert alive() is None
