"""Tests for ``layerviz.analysis.architecture``: the model's graph as nodes, edges and groups."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

import layerviz
from layerviz.analysis.architecture import (
    architecture,
    colour_positions,
    divergence_values,
    layer_values,
    layered_positions,
)
from layerviz.analysis.compare import compare
from layerviz.errors import ArgumentError, ModelStructureError
from layerviz.extract.activations import LayerActivation

layers = keras.layers


def make_branching_model() -> keras.Model:
    """A residual block (``Add``) and a U-Net-like skip (``Concatenate``)."""
    inputs = keras.Input((8, 8, 2), name="image")
    stem = layers.Conv2D(4, 3, padding="same", name="stem")(inputs)
    x = layers.Conv2D(4, 3, padding="same", activation="relu", name="branch")(stem)
    x = layers.Add(name="add")([stem, x])
    down = layers.MaxPooling2D(name="down")(x)
    up = layers.UpSampling2D(name="up")(down)
    x = layers.Concatenate(name="skip")([x, up])
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inputs, layers.Dense(3, name="out")(x), name="branching")


def test_a_node_per_layer_and_the_edges_of_branches_and_merges(as_tested):
    model = as_tested(make_branching_model())
    graph = architecture(model)

    assert [n.id for n in graph.nodes] == [layer.name for layer in model.layers]
    assert graph.groups == []
    assert set(graph.edges) == {
        ("image", "stem"),
        ("stem", "branch"),
        ("stem", "add"),  # the residual branch leaves stem twice ...
        ("branch", "add"),  # ... and merges at add
        ("add", "down"),
        ("down", "up"),
        ("add", "skip"),
        ("up", "skip"),
        ("skip", "gap"),
        ("gap", "out"),
    }
    by_id = {n.id: n for n in graph.nodes}
    assert by_id["skip"].class_name == "Concatenate"
    assert by_id["skip"].shape == (8, 8, 8)
    assert by_id["image"].shape == (8, 8, 2)
    assert by_id["out"].shape == (3,)


def test_nested_models_are_groups_joined_at_their_inputs_and_outputs(as_tested, build_model):
    graph = architecture(as_tested(build_model("nested")))

    assert [(g.id, g.class_name, g.group) for g in graph.groups] == [
        ("backbone", "Functional", None),
        ("head", "Sequential", None),
    ]
    groups = {n.id: n.group for n in graph.nodes}
    assert groups["backbone/conv1"] == "backbone"
    assert groups["head/probs"] == "head"
    assert groups["dropout"] is None
    head_input = next(
        n.id for n in graph.nodes if n.group == "head" and n.class_name == "InputLayer"
    )
    assert ("image", "backbone/backbone_in") in graph.edges
    assert ("backbone/conv2", "dropout") in graph.edges
    assert ("dropout", head_input) in graph.edges
    assert (head_input, "head/flat") in graph.edges


def test_node_ids_match_the_extractors_names(build_model):
    model = build_model("nested_sequential")
    graph = architecture(model)
    names = [name for _, name, _ in layerviz.ActivationExtractor(model).layers]

    assert [n.id for n in graph.nodes if n.class_name != "InputLayer"] == names


def test_a_shared_layer_is_one_node(build_model):
    graph = architecture(build_model("shared_layer"))

    assert [n.id for n in graph.nodes] == ["vector", "shared", "out"]
    assert ("shared", "shared") in graph.edges
    assert next(n for n in graph.nodes if n.id == "shared").shape == (8,)


def test_several_inputs(build_model):
    graph = architecture(build_model("multi_input"))
    assert {("vec_dense", "merge"), ("img_flat", "merge"), ("merge", "out")} <= set(graph.edges)


def test_a_subclassed_model_has_no_graph(keras_session):
    class Tiny(keras.Model):
        def call(self, x):
            return x

    with pytest.raises(ModelStructureError, match="subclassed"):
        architecture(Tiny())


def test_layer_values_colour_by_mean_or_zeros():
    acts = [
        LayerActivation(1, "relu", "ReLU", np.array([[0.0, 2.0], [0.0, 4.0]])),
        LayerActivation(2, "empty", "Reshape", np.zeros((0,))),
    ]
    assert layer_values(acts, "mean") == {"relu": 1.5}
    assert layer_values(acts, "zeros") == {"relu": 0.5}
    with pytest.raises(ArgumentError, match="mean, zeros, got 'max'"):
        layer_values(acts, "max")


def test_divergence_values_colour_by_cosine_or_relative_l2():
    model = keras.Sequential(
        [keras.Input((4,)), layers.Dense(3, name="d1"), layers.ReLU(name="relu")]
    )
    a = np.array([[1.0, 2.0, -1.0, 0.5]], np.float32)
    compared = compare(model, a, a * 2)
    cosine = divergence_values(compared, "cosine")
    relative = divergence_values(compared, "relative_l2")

    assert set(cosine) == set(relative) == {d.name for d in compared} == {"d1", "relu"}
    assert cosine["d1"] == pytest.approx(0.0, abs=1e-6)  # a linear layer: same direction
    assert relative["d1"] == pytest.approx(1.0, rel=1e-5)  # twice as large
    assert divergence_values([], "cosine") == {}
    with pytest.raises(ArgumentError, match="cosine, relative_l2, got 'mean'"):
        divergence_values(compared, "mean")


def test_colour_positions_place_values_between_their_ends():
    values = {"a": 1.0, "b": 3.0, "c": 2.0, "woke": math.inf, "cold": -math.inf, "x": math.nan}
    assert colour_positions(values) == {"a": 0.0, "b": 1.0, "c": 0.5, "woke": 1.0, "cold": 0.0}
    # A divergence is placed from 0: "no change" is always the bottom colour.
    assert colour_positions({"a": 1.0, "b": 4.0}, low=0.0) == {"a": 0.25, "b": 1.0}
    assert colour_positions({"a": 0.0, "b": 0.0}, low=0.0) == {"a": 0.0, "b": 0.0}
    assert colour_positions({"a": 2.0, "b": 2.0}) == {"a": 0.5, "b": 0.5}
    assert colour_positions({"only": math.inf}, low=0.0) == {"only": 1.0}
    assert colour_positions({}) == {}


def test_layered_positions_put_a_merge_below_its_branches_and_branches_side_by_side():
    graph = architecture(make_branching_model())
    pos = layered_positions([n.id for n in graph.nodes], graph.edges, spacing=(100.0, 10.0))

    assert pos["image"] == (0.0, 0.0)
    assert pos["stem"][1] == 10.0
    assert pos["add"][1] == 30.0  # below branch, which is below stem: the longest path
    assert pos["skip"][1] > pos["up"][1] > pos["down"][1] > pos["add"][1]
    assert pos["out"][1] == max(y for _, y in pos.values())
    assert {x for x, _ in pos.values()} == {0.0}  # every row holds one node here


def test_layered_positions_spread_a_row_and_ignore_self_loops_and_strangers():
    nodes = ["a", "b", "c", "d"]
    pos = layered_positions(nodes, [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("d", "d"),
                                    ("x", "a")], spacing=(10.0, 1.0))  # fmt: skip
    assert pos == {"a": (0.0, 0.0), "b": (-5.0, 1.0), "c": (5.0, 1.0), "d": (0.0, 2.0)}


@pytest.mark.parametrize("statistic", ["mean", "zeros"])
def test_reduced_layer_values_equal_those_of_the_full_outputs(statistic, keras_session):
    from tiny_models import image_batch, make_image_model

    from layerviz.analysis.architecture import layer_values, reduced_layer_values
    from layerviz.extract.activations import ActivationExtractor

    extractor = ActivationExtractor(make_image_model())
    batch = image_batch(1)
    want = layer_values(extractor.extract(batch), statistic)
    got = reduced_layer_values(extractor.extract_reduced(batch).layers, statistic)
    assert list(got) == list(want)
    np.testing.assert_allclose(list(got.values()), list(want.values()), rtol=1e-5, atol=1e-7)
