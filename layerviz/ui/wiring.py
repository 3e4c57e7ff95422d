"""Callback declarations the page and the feature sections share, spelled once.

A section that reads the current pattern, the grid controls or the selected layer, or that
reports an error in the shared alert, takes these instead of writing the same ``Input``/
``State``/``Output`` lists again::

    @app.callback(Output(ids.MY_GRAPH, "figure"), *ALERT, PATTERN_IN, *GRID_STATES)
    def draw(data, rows, cols, limit, page): ...

What each one carries is documented in :mod:`layerviz.ui.features` (what the page offers a
feature).
"""

from __future__ import annotations

from dash import Input, Output, State, no_update

from layerviz.ui import ids
from layerviz.ui.common import error_text

__all__ = [
    "ALERT",
    "CHANNEL_VIEW",
    "CHANNEL_VIEW_IN",
    "COMPARED",
    "COMPARED_IN",
    "GRID_STATES",
    "NO_ALERT",
    "PATTERN",
    "PATTERN_IN",
    "SELECT",
    "SELECTED",
    "SELECTED_IN",
    "alert_of",
]

#: The shared error alert, written by many callbacks: its text and whether it shows.
ALERT = (
    Output(ids.ERROR_ALERT, "children", allow_duplicate=True),
    Output(ids.ERROR_ALERT, "is_open", allow_duplicate=True),
)
#: ``ALERT``'s values when there is nothing to say.
NO_ALERT = (no_update, no_update)

#: The current pattern's recipe (store form), read without being triggered by it.
PATTERN = State(ids.PATTERN_STORE, "data")
#: The same, as a trigger: the callback runs when the pattern changes.
PATTERN_IN = Input(ids.PATTERN_STORE, "data")

#: The grid controls, as states of a callback that reads them: rows, cols, limit, page.
GRID_STATES = (
    State(ids.GRID_ROWS, "value"),
    State(ids.GRID_COLS, "value"),
    State(ids.SIZE_LIMIT, "value"),
    State(ids.PAGE_SELECT, "active_page"),
)

#: The layer a user picked (``{"model", "layer"}``): read, as a trigger, and written by a
#: feature that picks one (a graph node, a divergence point, a table row).
SELECTED = State(ids.SELECTED_LAYER_STORE, "data")
SELECTED_IN = Input(ids.SELECTED_LAYER_STORE, "data")
SELECT = Output(ids.SELECTED_LAYER_STORE, "data", allow_duplicate=True)


#: Pattern B of a comparison: whether Compare is on and B's recipe, read (``COMPARED``) or as
#: triggers (``COMPARED_IN``); ``common.active_b(on, b_data)`` turns them into B's recipe or None.
#: The switch is in the Compare tab, built the first time it is shown: until then it is not in
#: the page and reads as None (compare mode off). B's store is always in the page.
COMPARED = (
    State(ids.COMPARE_SWITCH, "value", allow_optional=True),
    State(ids.COMPARE_STORE, "data"),
)
COMPARED_IN = (
    Input(ids.COMPARE_SWITCH, "value", allow_optional=True),
    Input(ids.COMPARE_STORE, "data"),
)

#: The inspector's channel view: the sort, the top-k and the channel page.
CHANNEL_VIEW = (
    State(ids.CHANNEL_SORT, "value"),
    State(ids.TOPK_SLIDER, "value"),
    State(ids.CHANNEL_PAGE, "active_page"),
)
CHANNEL_VIEW_IN = tuple(Input(s.component_id, s.component_property) for s in CHANNEL_VIEW)


def alert_of(exc: BaseException) -> tuple[str, bool]:
    """``ALERT``'s values for an exception: its one-line text (logged if unexpected), shown."""
    return error_text(exc), True
