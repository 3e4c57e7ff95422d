"""Repeated blocks of a large graph, folded so that it can be read (issue 20).

Keras applications and keras-hub name the layers of a repeated block with a shared prefix
(MobileNetV2's ``block_3_expand``, ``block_3_depthwise``...; ResNet50's ``conv2_block1_1_conv``;
keras-hub's ``transformer_layer_0_...``). :func:`with_blocks` makes each run of consecutive
layers sharing such a prefix a group of the :class:`Architecture` (like a nested model), so the
graph's existing folding draws it as one node; :func:`default_folded` says which groups a graph
over ``limit`` nodes starts folded with.
"""

from __future__ import annotations

import re
from dataclasses import replace

from layerviz.analysis.architecture import ArchGroup, Architecture

__all__ = ["BLOCK_CLASS", "MAX_NODES", "block_key", "default_folded", "stand_ins", "with_blocks"]

#: The ``class_name`` of a block group (a nested model's is its model class).
BLOCK_CLASS = "Block"
#: A graph with more nodes than this starts with its blocks folded: 40 labels of 11 px fit a
#: pane at the default zoom, 156 (MobileNetV2) do not.
MAX_NODES = 40

_LETTERS = re.compile(r"[A-Za-z]+")
_NUMBER = re.compile(r"\d+")
_MIXED = re.compile(r"(?=.*[A-Za-z])(?=.*\d)")


def block_key(name: str) -> str | None:
    """The block a layer's name places it in, or ``None``.

    The key is the name up to its last numbered token before the layer's own part: a word with
    digits (``conv2_block1_1_conv`` → ``conv2_block1``) or a number after a word
    (``block_3_expand_BN`` → ``block_3``, ``transformer_layer_0_ffn`` →
    ``transformer_layer_0``); a number after a numbered word (the ``1`` of ``block1_1``) is a
    step inside the block, not a new block.
    """
    tokens = name.split("_")
    end = None
    for i, token in enumerate(tokens[:-1]):
        after_word = i > 0 and _LETTERS.fullmatch(tokens[i - 1])
        if _MIXED.match(token) or (_NUMBER.fullmatch(token) and after_word):
            end = i
    return "_".join(tokens[: end + 1]) if end is not None else None


def with_blocks(graph: Architecture) -> Architecture:
    """The graph with each run of ≥ 2 consecutive layers sharing a :func:`block_key` (inside
    the same model) made a group ``<key>_*``; the other layers, edges and nested models as
    they were.
    """
    runs: list[list[int]] = []
    previous = None
    for i, node in enumerate(graph.nodes):
        key = (node.group, block_key(node.name))
        if key[1] is not None and key == previous:
            runs[-1].append(i)
        else:
            runs.append([i])
        previous = key
    taken = {n.id for n in graph.nodes} | {g.id for g in graph.groups}
    nodes = list(graph.nodes)
    groups = list(graph.groups)
    for run in runs:
        if len(run) < 2:
            continue
        first = graph.nodes[run[0]]
        name = f"{block_key(first.name)}_*"
        block_id = (first.group + "/" if first.group else "") + name
        while block_id in taken:  # a key used by two runs, or a layer named so
            block_id += "*"
        taken.add(block_id)
        groups.append(ArchGroup(block_id, name, BLOCK_CLASS, first.group))
        for i in run:
            nodes[i] = replace(nodes[i], group=block_id)
    return Architecture(graph.name, nodes, groups, list(graph.edges))


def stand_ins(graph: Architecture, folded: set[str]) -> dict[str, str]:
    """For every node and group id, the id drawn for it: its outermost folded group, or
    itself."""
    parent_of = {g.id: g.group for g in graph.groups}
    parent_of.update({n.id: n.group for n in graph.nodes})
    found = {}
    for item, current in parent_of.items():
        shown = item
        while current is not None:
            if current in folded:
                shown = current
            current = parent_of.get(current)
        found[item] = shown
    return found


def default_folded(graph: Architecture, limit: int = MAX_NODES) -> list[str]:
    """The groups a graph starts folded with: none when it has at most ``limit`` layers; else
    every block, and then, while more than ``limit`` nodes still show, the nested models too,
    outermost first.
    """
    if len(graph.nodes) <= limit:
        return []
    folded = [g.id for g in graph.groups if g.class_name == BLOCK_CLASS]
    depth = {g.id: 0 for g in graph.groups}
    parent_of = {g.id: g.group for g in graph.groups}
    for g in graph.groups:
        current = g.group
        while current is not None:
            depth[g.id] += 1
            current = parent_of.get(current)
    models = sorted(
        (g for g in graph.groups if g.class_name != BLOCK_CLASS), key=lambda g: depth[g.id]
    )
    for model in models:
        if _shown(graph, set(folded)) <= limit:
            break
        folded.append(model.id)
    return folded


def _shown(graph: Architecture, folded: set[str]) -> int:
    """How many nodes are drawn with ``folded`` groups folded."""
    drawn = stand_ins(graph, folded)
    return len({drawn[n.id] for n in graph.nodes})
