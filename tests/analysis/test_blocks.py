"""Tests for ``layerviz.analysis.blocks``: a large graph's repeated blocks folded to ≤ 40 nodes."""

from __future__ import annotations

import keras
import pytest

from layerviz.analysis.architecture import architecture
from layerviz.analysis.blocks import (
    BLOCK_CLASS,
    MAX_NODES,
    block_key,
    default_folded,
    stand_ins,
    with_blocks,
)


@pytest.fixture(scope="module")
def mobilenet():
    """MobileNetV2 as keras.applications builds it (156 layers), read once for the module."""
    keras.backend.clear_session()
    model = keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3))
    yield architecture(model)
    keras.backend.clear_session()


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("block_3_expand", "block_3"),
        ("block_3_expand_BN", "block_3"),
        ("block_16_project_BN", "block_16"),
        ("conv2_block1_1_conv", "conv2_block1"),
        ("conv5_block3_out", "conv5_block3"),
        ("transformer_layer_0_ffn", "transformer_layer_0"),
        ("Conv1", None),
        ("bn_Conv1", None),
        ("dense_1", None),
        ("expanded_conv_project", None),
    ],
)
def test_block_key_is_the_name_up_to_its_last_numbered_part(name, key):
    assert block_key(name) == key


def test_mobilenet_folds_to_at_most_40_nodes_each_layer_in_exactly_one(mobilenet):
    assert len(mobilenet.nodes) > 150
    graph = with_blocks(mobilenet)
    folded = default_folded(graph)
    drawn = stand_ins(graph, set(folded))
    shown = {drawn[n.id] for n in graph.nodes}
    assert 17 <= len(shown) <= MAX_NODES
    # Every layer is drawn as exactly one node: itself or the one block holding it.
    assert [n.id for n in graph.nodes] == [n.id for n in mobilenet.nodes]
    assert all(drawn[n.id] in shown for n in graph.nodes)
    blocks = {g.id: g for g in graph.groups if g.class_name == BLOCK_CLASS}
    assert "block_3_*" in blocks and "block_16_*" in blocks
    members = [n.name for n in graph.nodes if n.group == "block_3_*"]
    assert members[0] == "block_3_expand" and "block_3_project_BN" in members
    assert all(block_key(m) == "block_3" for m in members)
    # Edges stay the model's: folding only redraws them.
    assert graph.edges == mobilenet.edges


def test_unfolding_one_block_shows_its_layers(mobilenet):
    graph = with_blocks(mobilenet)
    folded = set(default_folded(graph))
    opened = stand_ins(graph, folded - {"block_3_*"})
    shut = stand_ins(graph, folded)
    inside = [n.id for n in graph.nodes if n.group == "block_3_*"]
    assert len(inside) >= 7
    assert all(opened[i] == i for i in inside)
    assert all(shut[i] == "block_3_*" for i in inside)
    assert (
        len({opened[n.id] for n in graph.nodes})
        == len({shut[n.id] for n in graph.nodes}) + len(inside) - 1
    )


def test_a_small_graph_folds_nothing(keras_session):
    inputs = keras.Input((4,), name="x")
    x = keras.layers.Dense(4, name="block_1_a")(inputs)
    x = keras.layers.Dense(4, name="block_1_b")(x)
    graph = with_blocks(architecture(keras.Model(inputs, x)))
    assert [g.id for g in graph.groups] == ["block_1_*"]
    assert len(graph.nodes) < MAX_NODES
    assert default_folded(graph) == []


def test_a_nested_model_is_folded_when_blocks_are_not_enough(keras_session):
    inner_in = keras.Input((4,))
    x = inner_in
    for i in range(45):
        x = keras.layers.Dense(4, name=f"d{i}")(x)  # no shared prefix: no blocks
    inner = keras.Model(inner_in, x, name="inner")
    outer_in = keras.Input((4,), name="x")
    model = keras.Model(outer_in, keras.layers.Dense(2, name="head")(inner(outer_in)))
    graph = with_blocks(architecture(model))
    assert [g.id for g in graph.groups] == ["inner"]
    assert default_folded(graph) == ["inner"]
