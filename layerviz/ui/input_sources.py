"""One pattern source per input of a model with several inputs: the Pattern section's rows.

A model with several inputs (the bundled ``digits_meta``: ``image`` and ``meta``) gets one row
per input, up to ``ids.MAX_INPUT_ROWS``: its name and shape, where the input comes from now, a
seed box and an upload for that input alone. A row's control changes its input only: the
current recipe becomes a ``MultiRecipe`` with that input's part replaced
(``recipe.with_part``), and the page callback runs it like any new pattern, in one round trip.

The rows are fixed components (stable ids, nothing rendered per model); the response that
carries a new pattern also carries the rows' texts in the pattern view (``input_rows``), and a
clientside callback shows, names and describes them from there, with no request of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dash import Input, Output, State, no_update

from layerviz.patterns.inputs import check_seed
from layerviz.patterns.readers import extensions_for
from layerviz.ui import ids
from layerviz.ui.common import decode_upload
from layerviz.ui.recipe import Recipe, SeedRecipe, parts_of, recipe_from_store, with_part
from layerviz.ui.workbench import Workbench

__all__ = [
    "ROW_INPUTS",
    "ROW_OUTPUTS",
    "ROW_STATES",
    "InputControls",
    "input_recipe",
    "input_rows",
    "register_input_rows",
    "row_of",
    "row_outputs",
]

#: What the page callback reads of the rows: their seeds, then their uploads' contents ...
ROW_INPUTS = (
    *(Input(id_, "value") for id_ in ids.INPUT_SEEDS),
    *(Input(id_, "contents") for id_ in ids.INPUT_UPLOADS),
)
#: ... and the uploads' file names.
ROW_STATES = tuple(State(id_, "filename") for id_ in ids.INPUT_UPLOADS)
#: What it writes back: the seeds (cleared by a whole pattern), the uploads (emptied).
ROW_OUTPUTS = (
    *(Output(id_, "value") for id_ in ids.INPUT_SEEDS),
    *(Output(id_, "contents") for id_ in ids.INPUT_UPLOADS),
)


@dataclass
class InputControls:
    """The rows' values as the browser sent them (one per row; fewer, or anything, from a
    crafted request), and the recipe they change, ``current`` (store form)."""

    seeds: tuple = ()
    uploads: tuple = ()
    filenames: tuple = ()
    current: Any = None


def row_of(trigger: Any) -> int | None:
    """The row a trigger belongs to, or None for any other control."""
    for row_ids in (ids.INPUT_SEEDS, ids.INPUT_UPLOADS):
        if trigger in row_ids:
            return row_ids.index(trigger)
    return None


def input_recipe(
    workbench: Workbench, trigger: str, model: Any, rows: InputControls
) -> tuple[Recipe | None, tuple | object]:
    """The current recipe with the triggering row's input replaced, and the seed boxes' update.

    Returns:
        ``(None, no_update)`` when the row asks for nothing (an empty box, a hidden row);
        otherwise the new recipe, and after an upload the seed boxes with that row's cleared.

    Raises:
        PatternError: a bad seed or file (naming the input, and expected vs received shape),
            or a malformed current recipe.
        ModelLoadError: an unknown model.
    """
    index = row_of(trigger)
    n_inputs = len(workbench.entry(model).extractor.input_shapes)
    if index is None or index >= n_inputs:
        return None, no_update
    current = recipe_from_store(rows.current) if rows.current is not None else None
    if current is None or current.model != model:
        current = workbench.default_recipe(model)
    seeds = no_update
    if trigger in ids.INPUT_SEEDS:
        seed = _at(rows.seeds, index)
        part = None if seed is None else SeedRecipe(model, check_seed(seed))
    else:
        part = _upload(workbench, model, index, rows)
        seeds = tuple(None if i == index else no_update for i in range(ids.MAX_INPUT_ROWS))
    if part is None:
        return None, no_update
    return with_part(current, n_inputs, index, part), seeds


def _upload(workbench: Workbench, model: str, index: int, rows: InputControls):
    """A row's file read for its input alone (None when the row holds no file)."""
    contents = _at(rows.uploads, index)
    if not contents:
        return None
    filename = _at(rows.filenames, index)
    name = filename if isinstance(filename, str) and filename else "upload"
    return workbench.add_input_upload(model, index, decode_upload(contents, name), name[:200])


def _at(values: Any, index: int) -> Any:
    """``values[index]``, or None when a browser sent fewer values (or no list)."""
    return values[index] if isinstance(values, tuple | list) and index < len(values) else None


def input_rows(workbench: Workbench, store_data: Any) -> list[dict] | None:
    """The rows for the pattern in ``store_data``: one ``{"label", "now", "accept"}`` per
    input (at most ``ids.MAX_INPUT_ROWS``), or None for a model with a single input.

    Raises:
        PatternError: malformed store data.
        ModelLoadError: an unknown model.
    """
    recipe = recipe_from_store(store_data)
    inputs = workbench.inputs(recipe.model)
    if len(inputs) < 2:
        return None
    parts = parts_of(recipe, len(inputs))
    return [
        {
            "label": f"{name} — {shape}",
            "now": f"now: {part.describe()}",
            "accept": ",".join(extensions_for(shape)),
        }
        for (name, shape), part in list(zip(inputs, parts, strict=True))[: ids.MAX_INPUT_ROWS]
    ]


def row_outputs(seeds: tuple | object, rows: InputControls) -> tuple:
    """``ROW_OUTPUTS``' values: ``seeds`` (or no change), and every upload that held a file
    emptied, so the same file can be sent again."""
    if seeds is no_update:
        seeds = (no_update,) * ids.MAX_INPUT_ROWS
    uploads = tuple(None if _at(rows.uploads, i) else no_update for i in range(ids.MAX_INPUT_ROWS))
    return (*seeds, *uploads)


#: Shows, names and describes the rows from the pattern view's ``"inputs"``: the rows' panel
#: hidden, then per row hidden, label, source now, the upload's accepted types.
_ROWS_JS = """function (view) {
    const nu = window.dash_clientside.no_update;
    const rows = __ROWS__;
    if (!view) { return Array(1 + 4 * rows).fill(nu); }
    const inputs = view.inputs || [];
    const out = [inputs.length === 0];
    for (let i = 0; i < rows; i++) {
        const row = inputs[i];
        out.push(!row, row ? row.label : "", row ? row.now : "", row ? row.accept : nu);
    }
    return out;
}""".replace("__ROWS__", str(ids.MAX_INPUT_ROWS))


def register_input_rows(app) -> None:
    """Attach the clientside callback that draws the rows from the pattern view."""
    outputs = [Output(ids.INPUT_SOURCES, "hidden")]
    for i in range(ids.MAX_INPUT_ROWS):
        outputs += [
            Output(ids.INPUT_ROWS[i], "hidden"),
            Output(ids.INPUT_LABELS[i], "children"),
            Output(ids.INPUT_NOW[i], "children"),
            Output(ids.INPUT_UPLOADS[i], "accept"),
        ]
    app.clientside_callback(
        _ROWS_JS, *outputs, Input(ids.PATTERN_VIEW_STORE, "data"), prevent_initial_call=True
    )
