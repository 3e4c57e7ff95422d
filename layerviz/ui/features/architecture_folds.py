"""The architecture graph's folding state and its search box (issue 20), as plain functions.

The fold store (``ids.ARCHITECTURE_COLLAPSED``) holds ``{"model": name, "folded": [group ids]}``:
the groups (nested models and ``layerviz.analysis.blocks`` blocks) the user left folded for that
model. Until the user folds or opens one, or for another model, a graph shows its default view
(``default_folded``: a graph over 40 layers with its blocks folded).
"""

from __future__ import annotations

from typing import Any

from layerviz.analysis.architecture import Architecture
from layerviz.analysis.blocks import default_folded

__all__ = ["fold_store", "folded_groups", "layer_names", "searched"]


def folded_groups(store: Any, model: str | None, graph: Architecture | None) -> list[str]:
    """The groups folded for ``model``: the store's when it is that model's, else the graph's
    default (none without a graph).

    A bare list (the store's form before blocks) is taken as it is, for any model.
    """
    if isinstance(store, list):
        return [g for g in store if isinstance(g, str)]
    if isinstance(store, dict) and store.get("model") == model:
        folded = store.get("folded")
        if isinstance(folded, list):
            return [g for g in folded if isinstance(g, str)]
    return default_folded(graph) if graph is not None else []


def fold_store(model: str | None, folded: list[str]) -> dict:
    """The fold store's form for ``model``."""
    return {"model": model, "folded": folded}


def layer_names(graph: Architecture) -> list[str]:
    """The names the search box offers: every layer's id, in model order."""
    return [n.id for n in graph.nodes]


def searched(text: Any, graph: Architecture, store: Any, data: Any):
    """What Enter in the search box changes: ``(selected layer, fold store, message)``.

    A layer's id (``backbone/conv1``) or own name, matched exactly, then ignoring case,
    selects that layer and opens every group around it; anything else leaves the selection
    and folds as they are (``None``) and says so.

    Returns:
        ``(selected or None, fold store or None, one-line message)``.
    """
    model = data.get("model") if isinstance(data, dict) else None
    query = text.strip() if isinstance(text, str) else ""
    if not query:
        return None, None, ""
    node = _find(graph, query)
    if node is None:
        count = len(graph.nodes)
        return None, None, f"no layer named {query!r} among the model's {count} layers"
    around, current = set(), node.group
    parent_of = {g.id: g.group for g in graph.groups}
    while current is not None:
        around.add(current)
        current = parent_of.get(current)
    folded = [g for g in folded_groups(store, model, graph) if g not in around]
    return {"model": model, "layer": node.id}, fold_store(model, folded), ""


def _find(graph: Architecture, query: str):
    for same in (str.__eq__, lambda a, b: a.casefold() == b.casefold()):
        for node in graph.nodes:
            if same(node.id, query) or same(node.name, query):
                return node
    return None
