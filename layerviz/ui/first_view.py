"""The page's first view drawn into the layout itself, so the first grid comes with the page.

Before, the browser loaded the page, then asked for the layout, then asked the page callback
for the first pattern, prediction and grid: three round trips before anything was drawn
(bench/browser.py, issue 20). The default model's default pattern is known when the app is
built, so ``fill_first_view`` runs ``update_page`` once there and writes its answer into the
layout's components (and what the browser would copy from the pattern-view store after it:
the pattern store, the input and prediction figures); the page callback then skips its call
on page load (``prevent_initial_call``). A shared link still applies: its controls change
after load, and the page callback answers them.
"""

from __future__ import annotations

from typing import Any

from dash import no_update

from layerviz.ui import ids
from layerviz.ui.callbacks import PAGE_OUTPUTS, PageControls, update_page
from layerviz.ui.workbench import Workbench

__all__ = ["fill_first_view"]

#: Where the pattern-view store's parts go (``callbacks._PATTERN_VIEW_JS`` does it in the
#: browser for every later pattern).
_VIEW_PARTS = (
    ("recipe", ids.PATTERN_STORE, "data"),
    ("pattern", ids.PATTERN_GRAPH, "figure"),
    ("prediction", ids.PREDICTION_GRAPH, "figure"),
    ("info", ids.PATTERN_INFO, "children"),
)


def fill_first_view(layout: Any, workbench: Workbench, model_name: str) -> None:
    """Write the first view of ``model_name`` (its default pattern, page 1 of the grid under
    the layout's own grid and colour controls) into ``layout``'s components, in place."""
    found = {c.id: c for c in layout._traverse() if isinstance(getattr(c, "id", None), str)}

    def value(id_: str, prop: str = "value") -> Any:
        return getattr(found[id_], prop, None)

    controls = PageControls(
        model=model_name,
        rows=value(ids.GRID_ROWS),
        cols=value(ids.GRID_COLS),
        limit=value(ids.SIZE_LIMIT),
        page=1,
        colorscale=value(ids.COLORSCALE_SELECT),
        norm=value(ids.NORM_MODE),
    )
    answer = update_page(workbench, None, controls, None)
    for output, result in zip(PAGE_OUTPUTS, answer, strict=True):
        if result is not no_update:
            setattr(found[output.component_id], output.component_property, result)
    view = value(ids.PATTERN_VIEW_STORE, "data")
    if isinstance(view, dict):
        for key, id_, prop in _VIEW_PARTS:
            setattr(found[id_], prop, view[key])
