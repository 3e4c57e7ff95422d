"""Tests of the architecture graph's block view and search box (issue 20):
``layerviz/ui/features/architecture_folds.py`` and the elements drawn with it."""

from __future__ import annotations

import keras
import pytest

from layerviz.analysis.blocks import MAX_NODES
from layerviz.ui.features.architecture import (
    LAYOUT,
    STYLESHEET,
    elements,
    readable,
    tapped,
    view_layout,
)
from layerviz.ui.features.architecture_folds import (
    fold_store,
    folded_groups,
    layer_names,
    searched,
)

MODEL = "mobilenet"
STORE = {"kind": "seed", "model": MODEL, "seed": 0}


@pytest.fixture(scope="module")
def graph():
    """MobileNetV2's graph as the tab reads it (156 layers, blocks made groups), built once."""
    keras.backend.clear_session()
    model = keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3))
    yield readable(model)
    keras.backend.clear_session()


def drawn_nodes(items: list[dict]) -> dict[str, dict]:
    """The elements drawn as boxes of their own: layers and folded groups (not open groups)."""
    parents = {e["data"].get("parent") for e in items}
    return {
        e["data"]["id"]: e for e in items if "id" in e["data"] and e["data"]["id"] not in parents
    }


def test_mobilenet_opens_as_at_most_40_nodes_with_readable_labels(graph):
    folded = folded_groups(None, MODEL, graph)
    shown = drawn_nodes(elements(graph, {}, set(), set(folded)))
    assert 17 <= len(shown) <= MAX_NODES
    block = shown["block_3_*"]
    assert block["classes"] == "group collapsed"
    assert block["data"]["label"].startswith("block_3_* (")
    assert "layers)" in block["data"]["label"]
    sizes = [r["style"]["font-size"] for r in STYLESHEET if "font-size" in r["style"]]
    assert sizes and min(sizes) >= 11  # CSS px at zoom 1: layers, blocks and groups alike


def test_a_tap_on_a_folded_block_opens_it_and_a_second_tap_folds_it(graph):
    block = {"id": "block_3_*", "kind": "group"}
    _, opened = tapped(block, None, STORE, graph)
    assert "block_3_*" not in opened["folded"] and "block_4_*" in opened["folded"]
    shown = drawn_nodes(elements(graph, {}, set(), set(opened["folded"])))
    assert {"block_3_expand", "block_3_depthwise", "block_3_project_BN"} <= set(shown)
    assert "block_3_*" not in shown
    _, shut = tapped(block, opened, STORE, graph)
    assert sorted(shut["folded"]) == sorted(folded_groups(None, MODEL, graph))


def test_the_search_selects_a_layer_and_opens_its_block(graph):
    selected, folds, message = searched(" block_5_depthwise ", graph, None, STORE)
    assert selected == {"model": MODEL, "layer": "block_5_depthwise"}
    assert message == ""
    assert "block_5_*" not in folds["folded"] and "block_6_*" in folds["folded"]
    shown = drawn_nodes(elements(graph, {}, set(), set(folds["folded"]), "block_5_depthwise"))
    assert shown["block_5_depthwise"]["selected"] is True
    # Case does not matter when nothing matches exactly; the user's other folds stay.
    mine = fold_store(MODEL, ["block_5_*", "block_9_*"])
    selected, folds, _ = searched("BLOCK_5_PROJECT", graph, mine, STORE)
    assert selected["layer"] == "block_5_project"
    assert folds == fold_store(MODEL, ["block_9_*"])


@pytest.mark.parametrize("text", ["no_such_layer", "block_3_*"])
def test_an_unknown_name_says_so_and_changes_nothing(graph, text):
    selected, folds, message = searched(text, graph, None, STORE)
    assert (selected, folds) == (None, None)
    assert repr(text) in message and f"{len(graph.nodes)} layers" in message


def test_an_empty_search_does_nothing(graph):
    assert searched("  ", graph, None, STORE) == (None, None, "")
    assert searched(None, graph, None, STORE) == (None, None, "")


def test_the_search_offers_every_layer_name(graph):
    names = layer_names(graph)
    assert len(names) == len(graph.nodes) > 150
    assert "block_3_expand" in names


def test_a_tall_graph_is_shown_at_zoom_1_from_its_top_a_short_one_fitted(graph, keras_session):
    folded = folded_groups(None, MODEL, graph)
    tall = view_layout(elements(graph, {}, set(), set(folded)))
    # Fitted into 660 px, 30 rows 56 px apart would put 11 px labels at about 4 px.
    assert tall["fit"] is False and tall["zoom"] == 1
    assert tall["pan"] == {"x": 22 + 56, "y": 22 + 20}  # the top row's box near the corner
    inputs = keras.Input((4,), name="x")
    small = readable(keras.Model(inputs, keras.layers.Dense(2, name="out")(inputs)))
    assert view_layout(elements(small, {}, set(), set())) == LAYOUT
    assert view_layout([]) == LAYOUT
    # A layer found far down (by the search) is shown a third of the way down the graph.
    deep = elements(graph, {}, set(), set(folded) - {"block_9_*"}, "block_9_project")
    y = next(e["position"]["y"] for e in deep if e["data"].get("id") == "block_9_project")
    assert view_layout(deep)["pan"]["y"] == 660 / 3 - y
