"""Shareable links: the view goes into the URL's query string, and a pasted link opens it.

Five callbacks. ``to link`` writes the view into the URL (a history entry per change, so the
browser's back and forward move between views). ``from link`` reads a URL (pasted, or reached by
back / forward), sets the controls it names and keeps the target view in a store. ``pattern
from link`` sets the seed or sample once the target's model is open; ``B from link`` likewise
sets the compare section's controls to the link's pattern B, checked against A first (a B that
does not fit is named in the message and dropped from the target by ``B link refused``).
While a target is pending, ``to link`` writes nothing, so the half-applied views in between
never enter the history.

A page's first URL reaches no callback by itself (``dcc.Location`` fills ``search`` as the page
mounts, which Dash does not count as a change), so a one-shot ``dcc.Interval`` reads it; until
then the target store holds ``BOOT`` and ``to link`` waits, lest it overwrite a pasted link.
"""

from __future__ import annotations

from dash import Input, Output, State, no_update

from layerviz.errors import PatternError
from layerviz.ui import ids
from layerviz.ui.common import error_text
from layerviz.ui.features.compare_state import b_pattern
from layerviz.ui.features.inspector import url
from layerviz.ui.recipe import SampleRecipe, SeedRecipe, recipe_from_store
from layerviz.ui.wiring import ALERT, COMPARED, PATTERN, PATTERN_IN, SELECT
from layerviz.ui.workbench import Workbench

__all__ = ["BOOT", "b_outputs", "link_outputs", "pattern_outputs", "register_links"]

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
    ids.COMPARE_SWITCH,
    ids.COMPARE_STORE,
)
_PROPS = {ids.PATTERN_STORE: "data", ids.SELECTED_LAYER_STORE: "data", ids.COMPARE_STORE: "data"}


def _prop(component_id: str) -> str:
    return _PROPS.get(component_id, "value")


def _optional(component_id: str) -> bool:
    """Whether a control may be missing: compare's switch is in a tab built on first view (or
    when a link names a B), and reads as None (compare mode off) until then."""
    return component_id == ids.COMPARE_SWITCH


def register_links(app, workbench: Workbench) -> None:
    """Attach the link callbacks to ``app``."""

    @app.callback(
        Output(ids.URL_VIEW, "search"),
        Output(ids.URL_TARGET, "data", allow_duplicate=True),
        *(Input(i, _prop(i), allow_optional=_optional(i)) for i in _VIEW_STATE),
        State(ids.URL_VIEW, "search"),
        State(ids.URL_TARGET, "data"),
        prevent_initial_call=True,
    )
    def _to_link(*state_search_target):
        *state, search, target = state_search_target
        current = url.view_of(*state)
        if target == BOOT:
            return no_update, no_update
        if url.shows_upload(state[0]):  # a link never carries an upload: the old one goes
            return ("" if search else no_update), no_update
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
        SELECT,
        Output(ids.URL_TARGET, "data"),
        *ALERT,
        Input(ids.URL_VIEW, "search"),
        Input(ids.URL_BOOT, "n_intervals"),
        State(ids.MODEL_SELECT, "value"),
        *(State(i, _prop(i), allow_optional=_optional(i)) for i in _VIEW_STATE),
        prevent_initial_call="initial_duplicate",
    )
    def _from_link(search, _boot, model, *state):
        return link_outputs(workbench, search, model, url.view_of(*state))

    @app.callback(
        Output(ids.SEED_INPUT, "value", allow_duplicate=True),
        Output(ids.SAMPLE_SELECT, "value", allow_duplicate=True),
        PATTERN_IN,
        Input(ids.URL_LINKED, "data"),
        prevent_initial_call=True,
    )
    def _pattern_from_link(store, target):
        return pattern_outputs(store, target)

    # The target as the callbacks below read it, passed on only when there is one (or when
    # one is done with): a page opened without a link asks them nothing.
    app.clientside_callback(
        _LINKED_JS,
        Output(ids.URL_LINKED, "data"),
        Input(ids.URL_TARGET, "data"),
        State(ids.URL_LINKED, "data"),
        prevent_initial_call=True,
    )
    _register_b_from_link(app, workbench)


_LINKED_JS = """function (target, linked) {
    const real = target && typeof target === 'object' && !target.boot
        && Object.keys(target).length ? target : null;
    return (real === null && !linked) ? window.dash_clientside.no_update : real;
}"""


#: The compare section's controls that say what B is, in ``b_outputs``' order.
_B_CONTROLS = (
    ids.COMPARE_SWITCH,
    ids.PATTERN_B_SOURCE,
    ids.PERTURB_SELECT,
    ids.PERTURB_VALUES,
    ids.PATTERN_B_SEED,
    ids.PATTERN_B_SAMPLE,
)


def _register_b_from_link(app, workbench: Workbench) -> None:
    # B's sample list follows every new pattern (compare's ``_b_options``): listening to it
    # rather than to the pattern store itself costs no extra request per pattern. It is in the
    # Compare tab, which a link with a B builds (``workspace``), so two callbacks: one that
    # sets the tab's controls (Dash runs it only once they are in the page), one that drops a
    # B that does not fit and says why (the list is None until the tab is built: it waits).
    reads = (PATTERN, *COMPARED)

    @app.callback(
        *(Output(i, "value", allow_duplicate=True) for i in _B_CONTROLS),
        Input(ids.URL_LINKED, "data"),
        Input(ids.PATTERN_B_SAMPLE, "options"),
        *reads,
        prevent_initial_call=True,
    )
    def _b_from_link(target, options, store, compare_on, b_data):
        return b_outputs(workbench, store, target, options, compare_on, b_data)[: len(_B_CONTROLS)]

    @app.callback(
        Output(ids.URL_TARGET, "data", allow_duplicate=True),
        *ALERT,
        Input(ids.URL_LINKED, "data"),
        Input(ids.PATTERN_B_SAMPLE, "options", allow_optional=True),
        *reads,
        prevent_initial_call=True,
    )
    def _b_link_refused(target, options, store, compare_on, b_data):
        return b_outputs(workbench, store, target, options, compare_on, b_data)[len(_B_CONTROLS) :]


def link_outputs(workbench: Workbench, search, model, current: dict) -> tuple:
    """What ``from link`` sets: the controls a link names, the target, and any message."""
    view, problems = url.parse_view(search, workbench.model_names)
    view = _known_sample(workbench, view, problems)
    view = _known_b_sample(workbench, view, view.get("model", current.get("model")), problems)
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


def b_outputs(workbench: Workbench, store, target, options, compare_on, b_data) -> tuple:
    """What ``B from link`` sets: compare mode on with the link's B, once A's model is open
    (and, for a sample, once the sample list offers it); a B that does not fit A is dropped
    from the target with a message instead."""
    skip = (no_update,) * (len(_B_CONTROLS) + 3)
    b = target.get("b") if isinstance(target, dict) else None
    if not isinstance(b, dict) or url.b_view(compare_on, b_data) == b:
        return skip
    if options is None:  # the Compare tab is not built yet: its sample list calls again
        return skip
    try:
        recipe = recipe_from_store(store)
    except Exception:  # no pattern yet: wait for the next one
        return skip
    if recipe.model != target.get("model"):
        return skip
    offered = (
        [o.get("value") for o in options if isinstance(o, dict)]
        if isinstance(options, list)
        else []
    )
    if b.get("source") == "sample" and b.get("sample") not in offered:
        return skip
    try:
        if b.get("source") not in ("seed", "sample", "perturb"):  # never an upload
            raise PatternError("malformed recipe for pattern B: unknown source")
        b_pattern(workbench, recipe, workbench.pattern(recipe), b)
    except Exception as exc:
        rest = {key: value for key, value in target.items() if key != "b"}
        return (
            *(no_update,) * len(_B_CONTROLS),
            rest,
            f"this link's pattern B: {error_text(exc)}",
            True,
        )
    return (*_b_controls(b), no_update, no_update, no_update)


def _b_controls(b: dict) -> tuple:
    """The compare controls' values (``_B_CONTROLS`` order) that make ``b``."""
    keep = no_update
    if b["source"] == "seed":
        return True, "seed", keep, keep, b.get("seed", 0), keep
    if b["source"] == "sample":
        return True, "sample", keep, keep, keep, b["sample"]
    kind, _, values = b["spec"].partition(":")
    return True, "perturb", kind, values, b.get("seed", 0), keep


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


def _known_b_sample(workbench: Workbench, view: dict, model, problems: list[str]) -> dict:
    """``view`` without a B sample that ``model`` does not have (said in ``problems``)."""
    b = view.get("b")
    if not isinstance(b, dict) or b.get("source") != "sample" or model is None:
        return view
    try:
        names = [s.name for s in workbench.entry(model).samples]
    except Exception:  # a model that failed to open: its own message says so
        return view
    if b["sample"] in names:
        return view
    problems.append(f"this link's b_sample: model {model!r} has no sample {b['sample']!r}")
    return {key: value for key, value in view.items() if key != "b"}


def _typed(target: dict) -> dict:
    """A target back from the browser: JSON made its grid tuple a list."""
    return {k: tuple(v) if k == "grid" and isinstance(v, list) else v for k, v in target.items()}
