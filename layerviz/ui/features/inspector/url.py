"""The page's view as a URL query string, and back: what a shared link carries (no Dash).

``?model=digits_cnn&seed=3&grid=3x3&limit=15&layer=conv2&sort=max&k=16`` (or ``sample=`` for a
bundled sample). Uploads and patterns given in code are never put in a URL: such a view's link
leaves the pattern out; a view of an uploaded *model* has no link at all (no other browser can
open it, and reading ``?model=upload-…`` back would only say the model is unknown). In compare
mode the link carries pattern B's recipe too: ``b_seed=7`` (a random B),
``b_sample=digit_7.png``, or ``b_perturb=noise:sigma=0.1`` with ``b_seed`` as the noise's seed
(the same pair of controls the compare section offers); in a view it is one field, ``"b"``, in
the compare section's store form (``compare_state``), never an upload. Everything read from a
URL is checked; a bad field is dropped with a message, and the rest of the link still applies
(a bad B field drops all of B).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode

from layerviz.analysis.perturb import format_spec, parse_spec
from layerviz.draw.grid import GRID_SIDES, LIMIT_SIDES
from layerviz.errors import ArgumentError, PatternError
from layerviz.patterns.inputs import check_seed
from layerviz.ui.features.inspector.views import MAX_K, SORTS
from layerviz.ui.recipe import SampleRecipe, SeedRecipe, recipe_from_store
from layerviz.ui.user_models import UserModels

__all__ = [
    "MAX_FIELD_CHARS",
    "b_view",
    "matches",
    "parse_view",
    "shows_upload",
    "view_of",
    "view_query",
]

MAX_FIELD_CHARS = 200
#: The fields in the order a link lists them.
FIELDS = ("model", "seed", "sample", "grid", "limit", "layer", "sort", "k")
#: Pattern B's fields, after the others; together they are the view's ``"b"``.
B_FIELDS = ("b_seed", "b_sample", "b_perturb")


def view_of(
    store: Any,
    selected: Any,
    by: Any,
    k: Any,
    rows: Any,
    cols: Any,
    limit: Any,
    compare_on: Any = None,
    b_data: Any = None,
) -> dict:
    """The view the page shows now, as the dict a link carries (unknown parts left out;
    nothing for an uploaded model)."""
    view: dict[str, Any] = {}
    try:
        recipe = recipe_from_store(store)
    except PatternError:
        return view
    if UserModels.is_upload_name(recipe.model):
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
    if isinstance(by, str) and by in SORTS:
        view["sort"] = by
    if isinstance(k, int):
        view["k"] = k
    b = b_view(compare_on, b_data)
    if b is not None:
        view["b"] = b
    return view


def shows_upload(store: Any) -> bool:
    """Whether the page shows an uploaded model (whose view no link carries)."""
    try:
        return UserModels.is_upload_name(recipe_from_store(store).model)
    except PatternError:
        return False


def b_view(compare_on: Any, b_data: Any) -> dict | None:
    """Pattern B as a link carries it: its store form when compare mode shows a seed, sample
    or perturbation B; None when compare mode is off, B is an upload, or the data is odd."""
    if compare_on is not True or not isinstance(b_data, dict):
        return None
    source, seed = b_data.get("source"), b_data.get("seed")
    if source == "seed" and isinstance(seed, int):
        return {"source": "seed", "seed": seed}
    if source == "sample" and isinstance(b_data.get("sample"), str):
        return {"source": "sample", "sample": b_data["sample"]}
    if source == "perturb" and isinstance(b_data.get("spec"), str) and isinstance(seed, int):
        return {"source": "perturb", "spec": b_data["spec"], "seed": seed}
    return None


def view_query(view: dict) -> str:
    """``"?model=…&seed=…"``: the view as a query string, fields in ``FIELDS`` order."""
    pairs = []
    for key in FIELDS:
        if key in view and view[key] is not None:
            value = view[key]
            pairs.append((key, f"{value[0]}x{value[1]}" if key == "grid" else str(value)))
    pairs += _b_pairs(view.get("b"))
    return "?" + urlencode(pairs) if pairs else ""


def _b_pairs(b: Any) -> list[tuple[str, str]]:
    """B's query fields (``B_FIELDS``) from its store form."""
    if not isinstance(b, dict):
        return []
    if b.get("source") == "sample":
        return [("b_sample", str(b.get("sample")))]
    pairs = [("b_seed", str(b.get("seed", 0)))]
    if b.get("source") == "perturb":
        pairs.append(("b_perturb", str(b.get("spec"))))
    return pairs


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
        if key not in FIELDS + B_FIELDS:
            continue
        try:
            view[key] = _parse_field(key, value, models)
        except ValueError as exc:
            problems.append(f"this link's {key}: {exc}")
    b_fields = {key: view.pop(key) for key in B_FIELDS if key in view}
    if any(p.startswith("this link's b_") for p in problems):
        b_fields = {}  # half a B would be another B: a bad B field drops all of B
    b = _b_of(b_fields)
    if b is not None:
        view["b"] = b
    return view, problems


def _b_of(fields: dict) -> dict | None:
    """B's store form from its parsed query fields: a perturbation (``b_seed`` its noise's
    seed), else a sample, else a random pattern."""
    if "b_perturb" in fields:
        return {"source": "perturb", "spec": fields["b_perturb"], "seed": fields.get("b_seed", 0)}
    if "b_sample" in fields:
        return {"source": "sample", "sample": fields["b_sample"]}
    if "b_seed" in fields:
        return {"source": "seed", "seed": fields["b_seed"]}
    return None


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
    if key in ("seed", "b_seed"):
        try:
            return check_seed(value)
        except PatternError as exc:
            raise ValueError(str(exc)) from None
    if key == "grid":
        rows, _, cols = value.lower().partition("x")
        return (_whole(rows, GRID_SIDES, "grid side"), _whole(cols, GRID_SIDES, "grid side"))
    if key == "limit":
        return _whole(value, LIMIT_SIDES, "size limit")
    if key == "sort" and value not in SORTS:
        choices = ", ".join(SORTS)
        raise ValueError(f"unknown channel score {value!r}; choose from {choices}")
    if key == "k":
        return _whole(value, (1, MAX_K), "k")
    if key == "b_perturb":
        try:
            return format_spec(*parse_spec(value))  # ranges: checked against A when applied
        except ArgumentError as exc:
            raise ValueError(str(exc)) from None
    return value  # sample, b_sample, layer: checked where they are used, with their own messages


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
