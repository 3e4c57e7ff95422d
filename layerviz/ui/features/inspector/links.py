"""Shareable links: the view goes into the URL's query string, and a pasted link opens it.

Three callbacks. ``to link`` writes the view into the URL (a history entry per change, so the
browser's back and forward move between views). ``from link`` reads a URL (pasted, or reached by
back / forward), sets the controls it names and keeps the target view in a store. ``pattern
from link`` sets the seed or sample once the target's model is open. While a target is pending,
``to link`` writes nothing, so the half-applied views in between never enter the history.

A page's first URL reaches no callback by itself (``dcc.Location`` fills ``search`` as the page
mounts, which Dash does not count as a change), so a one-shot ``dcc.Interval`` reads it; until
then the target store holds ``BOOT`` and ``to link`` waits, lest it overwrite a pasted link.
"""

from __future__ import annotations

from dash import Input, Output, State, no_update

from layerviz.ui import ids
from layerviz.ui.features.inspector import url
from layerviz.ui.recipe import SampleRecipe, SeedRecipe, recipe_from_store
from layerviz.ui.workbench import Workbench

__all__ = ["BOOT", "link_outputs", "pattern_outputs", "register_links"]

#: The target store's first value: the page's own URL has not been read yet.
BOOT = {"boot": True}

_VIEW_STATE = (
    ids.PATTERN_STORE,
    ids.SELECTED_LAYER_STORE,
    ids.CHANNEL_SORT,
    ids.TOPK_SLIDER,
    ids.GRID_ROWS,
    ids.GRID_COLS,
    ids.SIZE_LIMIT,
)
_PROPS = {ids.PATTERN_STORE: "data", ids.SELECTED_LAYER_STORE: "data"}


def _prop(component_id: str) -> str:
    return _PROPS.get(component_id, "value")


def register_links(app, workbench: Workbench) -> None:
    """Attach the link callbacks to ``app``."""

    @app.callback(
        Output(ids.URL_VIEW, "search"),
        Output(ids.URL_TARGET, "data", allow_duplicate=True),
        *(Input(i, _prop(i)) for i in _VIEW_STATE),
        State(ids.URL_VIEW, "search"),
        State(ids.URL_TARGET, "data"),
        prevent_initial_call=True,
    )
    def _to_link(store, selected, by, k, rows, cols, limit, search, target):
        current = url.view_of(store, selected, by, k, rows, cols, limit)
        if target == BOOT:
            return no_update, no_update
        if isinstance(target, dict) and target:
            return no_update, (None if url.matches(current, _typed(target)) else no_update)
        query = url.view_query(current)
        return (query if query and query != search else no_update), no_update

    @app.callback(
        Output(ids.MODEL_SELECT, "value", allow_duplicate=True),
        Output(ids.GRID_ROWS, "value", allow_duplicate=True),
        Output(ids.GRID_COLS, "value", allow_duplicate=True),
        Output(ids.SIZE_LIMIT, "value", allow_duplicate=True),
        Output(ids.CHANNEL_SORT, "value", allow_duplicate=True),
        Output(ids.TOPK_SLIDER, "value", allow_duplicate=True),
        Output(ids.SELECTED_LAYER_STORE, "data", allow_duplicate=True),
        Output(ids.URL_TARGET, "data"),
        Output(ids.ERROR_ALERT, "children", allow_duplicate=True),
        Output(ids.ERROR_ALERT, "is_open", allow_duplicate=True),
        Input(ids.URL_VIEW, "search"),
        Input(ids.URL_BOOT, "n_intervals"),
        State(ids.MODEL_SELECT, "value"),
        *(State(i, _prop(i)) for i in _VIEW_STATE),
        prevent_initial_call="initial_duplicate",
    )
    def _from_link(search, _boot, model, *state):
        return link_outputs(workbench, search, model, url.view_of(*state))

    @app.callback(
        Output(ids.SEED_INPUT, "value", allow_duplicate=True),
        Output(ids.SAMPLE_SELECT, "value", allow_duplicate=True),
        Input(ids.PATTERN_STORE, "data"),
        Input(ids.URL_TARGET, "data"),
        prevent_initial_call=True,
    )
    def _pattern_from_link(store, target):
        return pattern_outputs(store, target)


def link_outputs(workbench: Workbench, search, model, current: dict) -> tuple:
    """What ``from link`` sets: the controls a link names, the target, and any message."""
    view, problems = url.parse_view(search, workbench.model_names)
    view = _known_sample(workbench, view, problems)
    message = "; ".join(problems) if problems else no_update
    if not view or url.matches(current, view):
        return (*(no_update,) * 7, None, message, bool(problems) or no_update)
    rows, cols = view.get("grid", (no_update, no_update))
    target_model = view.get("model", current.get("model"))
    layer = view.get("layer")
    return (
        target_model if target_model != model and "model" in view else no_update,
        rows,
        cols,
        view.get("limit", no_update),
        view.get("sort", no_update),
        view.get("k", no_update),
        {"model": target_model, "layer": layer} if layer else no_update,
        {**view, "model": target_model},
        message,
        bool(problems) or no_update,
    )


def pattern_outputs(store, target) -> tuple:
    """What ``pattern from link`` sets: the seed or the sample of a target whose model is open."""
    if not isinstance(target, dict):
        return no_update, no_update
    try:
        recipe = recipe_from_store(store)
    except Exception:  # no pattern yet: wait for the next one
        return no_update, no_update
    if recipe.model != target.get("model"):
        return no_update, no_update
    seed, sample = target.get("seed"), target.get("sample")
    if seed is not None and not (isinstance(recipe, SeedRecipe) and recipe.seed == seed):
        return seed, no_update
    if sample is not None and not (isinstance(recipe, SampleRecipe) and recipe.sample == sample):
        return no_update, sample
    return no_update, no_update


def _known_sample(workbench: Workbench, view: dict, problems: list[str]) -> dict:
    """``view`` without a sample its model does not have (said in ``problems``)."""
    sample, model = view.get("sample"), view.get("model")
    if sample is None or model is None:
        return view
    names = [s.name for s in workbench.entry(model).samples]
    if sample in names:
        return view
    problems.append(f"this link's sample: model {model!r} has no sample {sample!r}")
    return {key: value for key, value in view.items() if key != "sample"}


def _typed(target: dict) -> dict:
    """A target back from the browser: JSON made its grid tuple a list."""
    return {k: tuple(v) if k == "grid" and isinstance(v, list) else v for k, v in target.items()}
