"""Tests of the architecture feature's plain functions (``layerviz/ui/features/architecture.py``):
the cytoscape elements, and the selected layer's panel."""

from __future__ import annotations

import pytest

from layerviz.architecture import architecture
from layerviz.ui.features.architecture import _Graphs, elements, graph_elements, layer_panel, tapped
from layerviz.ui.workbench import Workbench

MODEL = "digits_cnn"


def by_id(items: list[dict]) -> dict[str, dict]:
    return {e["data"]["id"]: e for e in items if "id" in e["data"]}


def edges_of(items: list[dict]) -> set[tuple[str, str]]:
    return {(e["data"]["source"], e["data"]["target"]) for e in items if "source" in e["data"]}


def test_every_layer_is_a_node_inside_its_group(build_model):
    graph = architecture(build_model("nested"))
    items = by_id(elements(graph, {}, set(), set()))

    assert {n.id for n in graph.nodes} | {"backbone", "head"} == set(items)
    assert items["backbone"]["data"]["kind"] == "group"
    assert items["backbone/conv1"]["data"]["parent"] == "backbone"
    assert "parent" not in items["dropout"]["data"]
    assert items["backbone/conv2"]["data"]["label"] == "conv2\nConv2D 8×8×3"
    # Layers are placed by the server; groups take their children's box.
    assert all("position" in items[n.id] for n in graph.nodes)
    assert "position" not in items["backbone"]


def test_a_collapsed_group_is_one_node_with_its_edges_rerouted(build_model):
    graph = architecture(build_model("nested"))
    items = elements(graph, {}, set(), {"backbone"})
    nodes = by_id(items)

    assert "backbone/conv1" not in nodes
    assert nodes["backbone"]["classes"] == "group collapsed"
    assert {("image", "backbone"), ("backbone", "dropout")} <= edges_of(items)
    assert not any("backbone/" in a or "backbone/" in b for a, b in edges_of(items))
    # Placed where its first layer was: below the input, above the dropout.
    assert nodes["image"]["position"]["y"] < nodes["backbone"]["position"]["y"]
    assert nodes["backbone"]["position"]["y"] < nodes["dropout"]["position"]["y"]


def test_nodes_are_coloured_by_value_and_hidden_ones_greyed(build_model):
    graph = architecture(build_model("functional_cnn"))
    items = by_id(elements(graph, {"conv_a": 0.0, "conv_b": 2.0, "bn": 1.0}, {"gap"}, set(), "bn"))

    assert items["conv_a"]["data"]["color"] != items["conv_b"]["data"]["color"]
    assert items["conv_a"]["data"]["value"] == 0.0
    assert items["image"]["data"]["color"] == "#ffffff"  # no activation: no colour
    assert items["gap"]["classes"] == "hidden"
    assert items["bn"]["selected"] is True
    assert items["conv_a"]["selected"] is False


@pytest.fixture(scope="module")
def workbench() -> Workbench:
    return Workbench()


def test_the_layer_panel_shows_the_selected_layers_maps(workbench):
    store = workbench.default_recipe(MODEL).to_store()
    act = workbench.extraction(workbench.default_recipe(MODEL)).extraction.activations[0]

    info, fig = layer_panel(workbench, {"model": MODEL, "layer": act.name}, store)
    assert info.startswith(f"layer {act.index}: {act.name} · {act.class_name} · output ")
    assert len(fig.data) >= 1

    info, _ = layer_panel(workbench, {"model": "another", "layer": act.name}, store)
    assert info.startswith("Click a layer")
    info, _ = layer_panel(workbench, {"model": MODEL, "layer": "input_layer"}, store)
    assert "cannot be drawn" in info


def test_the_graph_library_is_served_by_the_app_itself():
    from layerviz.ui.app import create_app

    client = create_app().server.test_client()
    page = client.get("/").get_data(as_text=True)
    (script,) = [p for p in page.split('"') if "/dash_cytoscape/" in p and p.endswith(".js")]
    assert script.startswith("/_dash-component-suites/dash_cytoscape/")  # not unpkg.com
    assert client.get(script).status_code == 200


def test_a_tap_selects_a_layer_or_folds_and_opens_a_group():
    store = {"kind": "seed", "model": MODEL, "seed": 0}
    layer = {"id": "conv1", "kind": "layer"}
    assert tapped(layer, [], store) == ({"model": MODEL, "layer": "conv1"}, None)
    group = {"id": "backbone", "kind": "group"}
    assert tapped(group, ["head"], store) == (None, ["head", "backbone"])
    assert tapped(group, ["head", "backbone"], store) == (None, ["head"])
    assert tapped(group, "junk", store) == (None, ["backbone"])
    assert tapped(None, [], store) == (None, None)
    assert tapped({"id": 7}, [], store) == (None, None)


def test_graph_elements_grey_the_layers_the_size_limit_hides(workbench):
    graphs = _Graphs(workbench)
    store = workbench.default_recipe(MODEL).to_store()
    run = workbench.extraction(workbench.default_recipe(MODEL))

    items = by_id(graph_elements(graphs, store, "zeros", 15, [], {"model": MODEL, "layer": "x"}))
    for act in run.extraction.activations:
        h, w = (1, act.shape[0]) if len(act.shape) == 1 else act.shape[:2]
        assert (items[act.name]["classes"] == "hidden") == (not (h > 15 and w > 15)), act.name
        assert 0.0 <= items[act.name]["data"]["value"] <= 1.0  # a fraction of zeros
    assert len(items) == len(workbench.entry(MODEL).model.layers)
    bogus = graph_elements(graphs, store, "<bogus>", "x", "y", None)  # defaults, no crash
    assert len(by_id(bogus)) == len(items)
