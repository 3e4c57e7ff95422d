"""The model's shape as plain data: a node per layer, the edges the graph runs along, and the
nested models as groups.

Edges come from the models' own configs (``model.get_config()``: a Functional model lists each
layer's ``inbound_nodes``, a Sequential model is a chain), so branches and merges (ResNet's
``Add``, a U-Net's ``Concatenate``) appear as they run. A nested model is a group holding its own
layers; an edge into it goes to its input layer, an edge out of it leaves from its output
layer. Node ids are the names the ``ActivationExtractor`` gives (``backbone/conv1``), so a node
can be matched with its activations.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import keras
import numpy as np

from layerviz.analysis.compare import LayerDifference
from layerviz.errors import ArgumentError, ModelStructureError
from layerviz.extract.activations import LayerActivation
from layerviz.extract.reduce import ReducedLayer

__all__ = [
    "DIVERGENCES",
    "STATISTICS",
    "ArchGroup",
    "ArchNode",
    "Architecture",
    "architecture",
    "colour_positions",
    "divergence_values",
    "layer_values",
    "layered_positions",
    "reduced_layer_values",
]

#: What a node's colour can show: the mean activation, or the fraction of exact zeros.
STATISTICS = ("mean", "zeros")
#: What it can show in compare mode: each layer's divergence between patterns A and B
#: (``layerviz.analysis.compare``), as cosine distance or relative L2.
DIVERGENCES = ("cosine", "relative_l2")


@dataclass(frozen=True)
class ArchNode:
    """One layer.

    Attributes:
        id: the layer's name with its enclosing models' names in front (``backbone/conv1``).
        name: the layer's own name.
        class_name: its class, e.g. ``"Conv2D"``.
        shape: its output shape without the batch axis (a shared layer's first call's), or
            ``None`` when it has several outputs.
        group: the id of the nested model holding it, or ``None`` at the top level.
    """

    id: str
    name: str
    class_name: str
    shape: tuple[int | None, ...] | None
    group: str | None


@dataclass(frozen=True)
class ArchGroup:
    """A nested model (its layers are nodes whose ``group`` is this id)."""

    id: str
    name: str
    class_name: str
    group: str | None


@dataclass
class Architecture:
    """Nodes in model order, nested groups, and ``(source id, target id)`` edges."""

    name: str
    nodes: list[ArchNode] = field(default_factory=list)
    groups: list[ArchGroup] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)


def architecture(model: keras.Model) -> Architecture:
    """Read a model's layers, edges and nested models.

    Args:
        model: a built Sequential or Functional Keras model, possibly nesting others.

    Returns:
        The ``Architecture``.

    Raises:
        ModelStructureError: a subclassed model, whose config lists no layers.
    """
    graph = Architecture(model.name)
    _add_model(graph, model, "", None)
    # One edge per pair: a layer fed the same tensor twice (x * x) needs one arrow.
    graph.edges = list(dict.fromkeys(graph.edges))
    return graph


def layer_values(activations: Iterable[LayerActivation], statistic: str) -> dict[str, float]:
    """One number per layer for colouring its node: ``"mean"`` activation or ``"zeros"``
    (the fraction of exact zeros, e.g. dead ReLUs).

    Raises:
        ArgumentError: an unknown statistic.
    """
    if statistic not in STATISTICS:
        raise ArgumentError(f"statistic must be one of {', '.join(STATISTICS)}, got {statistic!r}")
    values = {}
    for act in activations:
        array = np.asarray(act.array)
        if array.size == 0:
            continue
        if statistic == "mean":
            values[act.name] = float(array.mean(dtype=np.float64))
        else:
            values[act.name] = float(np.count_nonzero(array == 0) / array.size)
    return values


def reduced_layer_values(
    layers: Iterable[ReducedLayer], statistic: str, pattern: int = 0
) -> dict[str, float]:
    """:func:`layer_values` from a reduced pass (``extract_reduced``'s layers), pattern
    ``pattern`` of its batch: the same numbers without the full outputs.

    Raises:
        ArgumentError: an unknown statistic.
    """
    if statistic not in STATISTICS:
        raise ArgumentError(f"statistic must be one of {', '.join(STATISTICS)}, got {statistic!r}")
    values = {}
    for layer in layers:
        n = layer.positions * layer.shape[-1]
        if statistic == "zeros":
            values[layer.name] = int(layer.zeros[pattern].sum()) / n
        elif layer.nonfinite[pattern].any():
            values[layer.name] = (
                math.nan if layer.nans[pattern].any() else _inf_mean(layer, pattern)
            )
        else:
            values[layer.name] = float(layer.total[pattern].astype(np.float64).sum()) / n
    return values


def _inf_mean(layer: ReducedLayer, pattern: int) -> float:
    up, down = layer.posinf[pattern].any(), layer.neginf[pattern].any()
    return math.nan if up and down else math.inf if up else -math.inf


def divergence_values(layers: Iterable[LayerDifference], measure: str) -> dict[str, float]:
    """One divergence per compared layer output for colouring its node.

    Args:
        layers: a ``Comparison``'s ``layers`` (A against B).
        measure: ``"cosine"`` (cosine distance) or ``"relative_l2"``; a relative L2 may be
            ``inf`` (a layer silent for A that B wakes up), kept as it is.

    Returns:
        ``{layer output name: divergence}``; a layer that was not compared has no entry.

    Raises:
        ArgumentError: an unknown measure.
    """
    if measure not in DIVERGENCES:
        raise ArgumentError(f"divergence must be one of {', '.join(DIVERGENCES)}, got {measure!r}")
    return {layer.name: float(getattr(layer, measure)) for layer in layers}


def colour_positions(values: dict[str, float], low: float | None = None) -> dict[str, float]:
    """Each value's place on a colour scale, in [0, 1].

    Finite values are placed between ``low`` and the largest finite value (all at 0.5 when
    they are equal and no ``low`` is given, at 0 when they all equal ``low``); ``inf`` goes to
    the top, ``-inf`` to the bottom, NaN is left out (drawn neutral).

    Args:
        values: a number per node id.
        low: the bottom of the range (0 for a divergence, so that "no change" is always the
            bottom colour); ``None``: the smallest finite value.

    Returns:
        ``{node id: position}`` for every value that is not NaN.
    """
    finite = [v for v in values.values() if math.isfinite(v)]
    bottom = min(finite, default=0.0) if low is None else low
    top = max(finite, default=bottom)
    flat = 0.5 if low is None else 0.0  # one value everywhere: no range to place it in

    def place(value: float) -> float:
        if not math.isfinite(value):
            return 1.0 if value > 0 else 0.0
        return min(1.0, max(0.0, (value - bottom) / (top - bottom))) if top > bottom else flat

    return {n: place(v) for n, v in values.items() if not math.isnan(v)}


def layered_positions(
    node_ids: Sequence[str],
    edges: Iterable[tuple[str, str]],
    spacing: tuple[float, float] = (120.0, 56.0),
) -> dict[str, tuple[float, float]]:
    """Top-down positions for a graph that runs forward: a row per step, branches side by side.

    Each node's row is its longest path from an input (so a merge sits below both of its
    branches); within a row, nodes sit in the order of their inputs' mean column, then model
    order. Linear in the graph's size: ResNet50's 177 layers take about a millisecond, where a
    general layout in the browser (dagre) takes most of a second on a slow machine.

    Args:
        node_ids: the nodes in model order.
        edges: ``(source, target)`` pairs; edges to unknown nodes and self-loops are ignored.
        spacing: ``(column width, row height)`` in pixels.

    Returns:
        ``{node id: (x, y)}``, row 0 at ``y = 0``, each row centred on ``x = 0``.
    """
    known = set(node_ids)
    parents: dict[str, list[str]] = {n: [] for n in node_ids}
    for a, b in edges:
        if a != b and a in known and b in known:
            parents[b].append(a)
    row = _rows(node_ids, parents)
    by_row: dict[int, list[str]] = {}
    for n in node_ids:
        by_row.setdefault(row[n], []).append(n)
    column: dict[str, float] = {}

    def centre(n: str) -> float:
        placed = [column[p] for p in parents[n] if p in column]
        return sum(placed) / len(placed) if placed else 0.0

    for r in sorted(by_row):
        members = sorted(by_row[r], key=centre)  # stable: model order breaks ties
        for i, n in enumerate(members):
            column[n] = i - (len(members) - 1) / 2
    return {n: (column[n] * spacing[0], row[n] * spacing[1]) for n in node_ids}


def _rows(node_ids: Sequence[str], parents: dict[str, list[str]]) -> dict[str, int]:
    """Longest-path depth of each node, in one pass over a topological order (Kahn's)."""
    children: dict[str, list[str]] = {n: [] for n in node_ids}
    waiting = {n: len(parents[n]) for n in node_ids}
    for n in node_ids:
        for p in parents[n]:
            children[p].append(n)
    ready = [n for n in node_ids if waiting[n] == 0]
    row = dict.fromkeys(node_ids, 0)
    while ready:
        n = ready.pop()
        for c in children[n]:
            row[c] = max(row[c], row[n] + 1)
            waiting[c] -= 1
            if waiting[c] == 0:
                ready.append(c)
    return row


def _add_model(graph: Architecture, model, prefix: str, group: str | None):
    """Add a model's layers and edges; return the node ids its inputs enter and outputs leave."""
    try:
        config = model.get_config()
    except (NotImplementedError, TypeError):
        config = {}
    if "layers" not in config:
        raise ModelStructureError(
            f"model {model.name!r} is a subclassed keras.Model: it has no layer graph to draw"
        )
    layers = {layer.name: layer for layer in model.layers}
    ends = {}
    for layer_config in config["layers"]:
        name = layer_config.get("name") or layer_config["config"]["name"]
        ends[name] = _add_layer(graph, layer_config, layers.get(name), prefix, group)
    if isinstance(model, keras.Sequential):
        order = list(ends.values())
        for (_, exits), (entries, _) in itertools.pairwise(order):
            graph.edges.extend((a, b) for a in exits for b in entries)
        return order[0][0], order[-1][1]
    for layer_config in config["layers"]:
        name = layer_config.get("name") or layer_config["config"]["name"]
        for node in layer_config.get("inbound_nodes", []):
            for source, _, tensor in _histories(node):
                exits = ends[source][1]
                graph.edges.extend((exits[min(tensor, len(exits) - 1)], b) for b in ends[name][0])
    entries = [ends[n][0][0] for n, _, _ in _triples(config["input_layers"])]
    exits = [
        ends[n][1][min(t, len(ends[n][1]) - 1)] for n, _, t in _triples(config["output_layers"])
    ]
    return entries, exits


def _add_layer(graph: Architecture, layer_config: dict, layer, prefix: str, group: str | None):
    """Add one layer (a group, when it is a model); return its entry and exit node ids."""
    name = layer_config.get("name") or layer_config["config"]["name"]
    node_id = prefix + name
    if isinstance(layer, keras.Model):
        graph.groups.append(ArchGroup(node_id, name, layer_config["class_name"], group))
        return _add_model(graph, layer, node_id + "/", node_id)
    graph.nodes.append(
        ArchNode(node_id, name, layer_config["class_name"], _shape(layer, layer_config), group)
    )
    return [node_id], [node_id]


def _shape(layer, layer_config: dict) -> tuple[int | None, ...] | None:
    """A layer's output shape without the batch axis; ``None`` if it has no single one."""
    if layer is None:  # an InputLayer, which a Functional model's ``layers`` leaves out
        shape = layer_config["config"].get("batch_shape")
        return tuple(shape[1:]) if shape else None
    try:
        output = layer.output
    except (AttributeError, ValueError, RuntimeError):
        return None
    if not hasattr(output, "shape"):
        return None
    return tuple(output.shape[1:])


def _triples(value) -> list[tuple[str, int, int]]:
    """``input_layers`` / ``output_layers`` as ``(name, node, tensor)`` triples: a model with
    one input writes a single triple, with several a list of them."""
    if value and isinstance(value[0], str):
        value = [value]
    return [(str(n), int(i), int(t)) for n, i, t in value]


def _histories(value):
    """The ``(layer, node, tensor)`` of every tensor an inbound node's arguments name."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            name, node, tensor = value["config"]["keras_history"]
            yield str(name), int(node), int(tensor)
            return
        for item in value.values():
            yield from _histories(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _histories(item)
