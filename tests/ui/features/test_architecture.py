"""Tests of the architecture feature's plain functions (``layerviz/ui/features/architecture.py``):
the cytoscape elements, and the selected layer's panel."""

from __future__ import annotations

import math

import pytest

from layerviz.analysis.architecture import architecture
from layerviz.ui.features.architecture import (
    _Graphs,
    elements,
    graph_elements,
    layer_panel,
    statistic_options,
    tapped,
)
from layerviz.ui.features.compare_state import DEFAULT_B, CompareView, compare_view
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
    folds = {"model": MODEL, "folded": ["head"]}
    assert tapped(group, folds, store) == (None, {"model": MODEL, "folded": ["head", "backbone"]})
    folds = {"model": MODEL, "folded": ["head", "backbone"]}
    assert tapped(group, folds, store) == (None, {"model": MODEL, "folded": ["head"]})
    assert tapped(group, ["head"], store) == (
        None,
        {"model": MODEL, "folded": ["head", "backbone"]},
    )
    assert tapped(group, "junk", store) == (None, {"model": MODEL, "folded": ["backbone"]})
    other = {"model": "another", "folded": ["backbone"]}  # another model's folds: not these
    assert tapped(group, other, store) == (None, {"model": MODEL, "folded": ["backbone"]})
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


# --- compare mode: nodes coloured by divergence --------------------------------------------


def values_of(options: list[dict]) -> list[str]:
    return [o["value"] for o in options]


@pytest.mark.parametrize(
    ("on", "b_data", "current", "offered", "value"),
    [
        (True, DEFAULT_B, "cosine", ["mean", "zeros", "cosine", "relative_l2"], "cosine"),
        (True, DEFAULT_B, "zeros", ["mean", "zeros", "cosine", "relative_l2"], "zeros"),
        (False, DEFAULT_B, "relative_l2", ["mean", "zeros"], "mean"),  # switched off
        (True, None, "cosine", ["mean", "zeros"], "mean"),  # on, but no B yet
        ("yes", DEFAULT_B, "zeros", ["mean", "zeros"], "zeros"),
        (True, DEFAULT_B, ["cosine"], ["mean", "zeros", "cosine", "relative_l2"], "mean"),
    ],
)
def test_the_divergences_are_offered_while_compare_mode_has_a_pattern_b(
    on, b_data, current, offered, value
):
    options, chosen = statistic_options(on, b_data, current)
    assert values_of(options) == offered
    assert chosen == value
    labels = {o["value"]: o["label"] for o in options}
    if "cosine" in labels:
        assert labels["cosine"] == "divergence (cosine)"
        assert labels["relative_l2"] == "divergence (relative L2)"


def test_one_compare_view_per_workbench(workbench, build_model):
    other = Workbench({"tiny": build_model("functional_cnn")}, include_bundled=False)
    assert compare_view(workbench) is compare_view(workbench)
    assert compare_view(other) is not compare_view(workbench)
    assert compare_view(other).workbench is other


@pytest.mark.parametrize("measure", ["cosine", "relative_l2"])
def test_nodes_are_coloured_by_the_cached_divergence_between_a_and_b(workbench, measure):
    graphs, view = _Graphs(workbench), CompareView(workbench)
    store = workbench.default_recipe(MODEL).to_store()
    _, comparison = view.comparison(store, DEFAULT_B)  # as the compare section does first

    items = by_id(graph_elements(graphs, store, measure, 1, [], None, b_data=DEFAULT_B, view=view))
    assert len(view.cache) == 1  # the section's comparison, read again, not run again
    expected = {d.name: getattr(d, measure) for d in comparison.layers}
    assert expected  # the model's layers were compared
    for name, value in expected.items():
        if math.isfinite(value):
            assert items[name]["data"]["value"] == pytest.approx(value), name
        assert items[name]["data"]["color"] != "#ffffff", name
    # The input layer has no divergence: neutral.
    assert set(items) - set(expected) == {"input_layer"}
    assert items["input_layer"]["data"]["color"] == "#ffffff"
    assert "value" not in items["input_layer"]["data"]

    mean = by_id(graph_elements(graphs, store, "mean", 1, [], None, b_data=DEFAULT_B, view=view))
    assert [mean[n]["data"]["value"] for n in expected] != [
        items[n]["data"].get("value") for n in expected
    ]


def test_a_divergence_without_b_or_with_a_broken_b_keeps_the_graph_drawn(workbench):
    graphs, view = _Graphs(workbench), CompareView(workbench)
    store = workbench.default_recipe(MODEL).to_store()
    mean = graph_elements(graphs, store, "mean", 1, [], None)

    # Compare mode off (no B): the mean, as if no divergence had been chosen.
    assert graph_elements(graphs, store, "cosine", 1, [], None, b_data=None, view=view) == mean
    # A B that cannot be made (an upload no longer kept): every node neutral, none missing.
    gone = {"source": "upload", "digest": "0" * 64, "filename": "b.npy"}
    items = by_id(graph_elements(graphs, store, "cosine", 1, [], None, b_data=gone, view=view))
    assert set(items) == set(by_id(mean))
    assert {item["data"]["color"] for item in items.values()} == {"#ffffff"}
    assert len(view.cache) == 0


def test_an_unbounded_divergence_takes_the_top_colour_and_no_value(build_model):
    graph = architecture(build_model("functional_cnn"))
    values = {"conv_a": 0.0, "conv_b": math.inf, "bn": 1.0}
    items = by_id(elements(graph, values, set(), set(), low=0.0))

    assert "value" not in items["conv_b"]["data"]  # JSON has no inf
    assert items["conv_b"]["data"]["color"] == items["bn"]["data"]["color"]  # both at the top
    assert items["conv_a"]["data"]["color"] != items["bn"]["data"]["color"]
