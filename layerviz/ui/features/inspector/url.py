"""The page's view as a URL query string, and back: what a shared link carries (no Dash).

``?model=digits_cnn&seed=3&grid=3x3&limit=15&layer=conv2&sort=max&k=16`` (or ``sample=`` for a
bundled sample). Uploads and patterns given in code are never put in a URL: such a view's link
leaves the pattern out. Everything read from a URL is checked; a bad field is dropped with a
message, and the rest of the link still applies.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode

from layerviz.errors import PatternError
from layerviz.grid import GRID_SIDES, LIMIT_SIDES
from layerviz.patterns import check_seed
from layerviz.statistics import CHANNEL_SCORES
from layerviz.ui.features.inspector.views import MAX_K
from layerviz.ui.recipe import SampleRecipe, SeedRecipe, recipe_from_store

__all__ = ["MAX_FIELD_CHARS", "matches", "parse_view", "view_of", "view_query"]

MAX_FIELD_CHARS = 200
#: The fields in the order a link lists them.
FIELDS = ("model", "seed", "sample", "grid", "limit", "layer", "sort", "k")


def view_of(store: Any, selected: Any, by: Any, k: Any, rows: Any, cols: Any, limit: Any) -> dict:
    """The view the page shows now, as the dict a link carries (unknown parts left out)."""
    view: dict[str, Any] = {}
    try:
        recipe = recipe_from_store(store)
    except PatternError:
        return view
    view["model"] = recipe.model
    if isinstance(recipe, SeedRecipe):
        view["seed"] = recipe.seed
    elif isinstance(recipe, SampleRecipe):
        view["sample"] = recipe.sample
    if isinstance(rows, int) and isinstance(cols, int):
        view["grid"] = (rows, cols)
    if isinstance(limit, int):
        view["limit"] = limit
    if isinstance(selected, dict) and selected.get("model") == recipe.model:
        view["layer"] = selected.get("layer")
    if by in CHANNEL_SCORES:
        view["sort"] = by
    if isinstance(k, int):
        view["k"] = k
    return view


def view_query(view: dict) -> str:
    """``"?model=…&seed=…"``: the view as a query string, fields in ``FIELDS`` order."""
    pairs = []
    for key in FIELDS:
        if key in view and view[key] is not None:
            value = view[key]
            pairs.append((key, f"{value[0]}x{value[1]}" if key == "grid" else str(value)))
    return "?" + urlencode(pairs) if pairs else ""


def parse_view(search: Any, models: list[str]) -> tuple[dict, list[str]]:
    """The view a link asks for, and a message per field it could not take.

    Args:
        search: the URL's query string (``"?model=…"``), as the browser sent it.
        models: the models this dashboard offers.
    """
    if not isinstance(search, str) or len(search) > 20 * MAX_FIELD_CHARS:
        return {}, []
    fields = {k: v[-1] for k, v in parse_qs(search.lstrip("?"), max_num_fields=20).items()}
    view: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in fields.items():
        if key not in FIELDS:
            continue
        try:
            view[key] = _parse_field(key, value, models)
        except ValueError as exc:
            problems.append(f"this link's {key}: {exc}")
    return view, problems


def matches(current: dict, target: dict) -> bool:
    """True when the page shows what ``target`` asks for (the fields it names)."""
    return all(current.get(key) == value for key, value in target.items())


def _parse_field(key: str, value: str, models: list[str]) -> Any:
    if len(value) > MAX_FIELD_CHARS:
        raise ValueError(f"more than {MAX_FIELD_CHARS} characters")
    if key == "model":
        if value not in models:
            raise ValueError(f"no model {value!r} here; offered: {', '.join(models)}")
        return value
    if key == "seed":
        try:
            return check_seed(value)
        except PatternError as exc:
            raise ValueError(str(exc)) from None
    if key == "grid":
        rows, _, cols = value.lower().partition("x")
        return (_whole(rows, GRID_SIDES, "grid side"), _whole(cols, GRID_SIDES, "grid side"))
    if key == "limit":
        return _whole(value, LIMIT_SIDES, "size limit")
    if key == "sort" and value not in CHANNEL_SCORES:
        choices = ", ".join(CHANNEL_SCORES)
        raise ValueError(f"unknown channel score {value!r}; choose from {choices}")
    if key == "k":
        return _whole(value, (1, MAX_K), "k")
    return value  # sample, layer: checked where they are used, with their own messages


def _whole(text: str, bounds: tuple[int, int], what: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = None
    if number is None or not bounds[0] <= number <= bounds[1]:
        raise ValueError(
            f"{what} must be a whole number from {bounds[0]} to {bounds[1]}, got {text!r}"
        )
    return number
