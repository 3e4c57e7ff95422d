"""Optional sections of the dashboard, each one module, added without touching the shared page.

The page is a workspace (issue 20): the activation grid in the centre, a control panel on the
left (model, pattern, grid and colour controls only) and a **detail pane** on the right (a
drawer along the bottom on narrow screens) whose tabs the features declare. A feature module
provides:

``TAB = ("Title", "bootstrap-icon")`` (optional)
    the feature has a tab in the detail pane, titled so (the icon names it in lists); the
    registry below reads it: ``TABS`` are the features with one, in ``FEATURES`` order, and a
    tab's key is the module's name (``tab_key``: ``"dataset"`` for ``features/dataset.py``;
    its tab id ``tab_id(key)``, its body's ``tab_body_id(key)``);
``tab(workbench) -> list`` (with ``TAB``)
    the tab's body: its own controls first, then its figures. It is built and mounted the
    first time the tab is shown (``layerviz.ui.workspace``), so nothing in it is drawn or
    requested before: Dash runs no callback whose outputs are not in the page. An ``Input`` or
    ``State`` of a callback that lives in *another* tab (which may not be mounted yet) is
    declared with ``allow_optional=True`` (its value is then None). Keep a hint of one line
    where there is nothing to show yet, never a tall blank plot;
``controls(workbench) -> list``
    components appended to the control panel (left column): only what the whole page needs
    (the model upload, the export's progress); most features have none;
``panels(workbench) -> list``
    components always in the page, outside any tab: stores other parts write, a
    ``dcc.Location``; usually empty;
``register(app, workbench) -> None``
    its callbacks (always ``app.callback``, never the global ``dash.callback``).

and is listed in ``FEATURES`` below, in page order (tabs in this order too). A feature that
extends a shared section sets ``CONTROLS_UNDER = "export"`` (the only one today): its controls
then follow that section. Its component ids go into ``layerviz.ui.ids`` (append-only, in a
block of its own). To add a tab, e.g. a dataset lens::

    # layerviz/ui/features/dataset.py
    TAB = ("Dataset", "collection")

    def tab(workbench): return [section("Dataset", "collection", [...]), dcc.Graph(...)]
    def controls(workbench): return []
    def panels(workbench): return []
    def register(app, workbench): ...

then add ``dataset`` to ``FEATURES``. A picked layer turns the pane to the Inspector tab; the
picked layer's line (``"conv2 · Conv2D · 16×16×32"``) heads the pane above every tab.
What the shared page offers a feature:

- ``layerviz.ui.wiring``: the shared callback declarations, spelled once — ``PATTERN`` /
  ``PATTERN_IN`` (``ids.PATTERN_STORE``'s ``data``: the current recipe in store form; turn it
  into the pattern and its cached extraction with ``layerviz.ui.common.current_run``),
  ``GRID_STATES`` (rows, cols, limit, page → ``common.grid_settings``), ``SELECTED`` /
  ``SELECTED_IN`` / ``SELECT`` (``ids.SELECTED_LAYER_STORE``: ``{"model", "layer"}`` of the
  layer a user picked; a click on a panel of ``ids.ACTIVATION_GRAPH`` sets it, features that
  pick a layer write it through ``SELECT``), and ``ALERT`` / ``alert_of(exc)`` / ``NO_ALERT``
  for the shared error message. Use these rather than writing the lists again.
- ``layerviz.ui.blocks``: ``section(title, icon, children)`` for a control-panel group,
  ``card(title, icon, body, ...)`` for a results card and ``pager(id)``, so features look like
  the rest. Import them at the top: ``blocks`` imports neither the page nor the features.
"""

from __future__ import annotations

from types import ModuleType

from layerviz.ui.features import (
    architecture,
    compare,
    dataset,
    explain,
    export_zip,
    inspector,
    model_upload,
    statistics,
    training_run,
)

#: The feature modules, in page order (the detail pane's tabs in this order).
FEATURES: tuple = (
    model_upload,
    inspector,
    explain,
    compare,
    statistics,
    architecture,
    dataset,
    training_run,
    export_zip,
)
#: The features with a tab in the detail pane (``TAB``), in ``FEATURES`` order.
TABS: tuple = tuple(f for f in FEATURES if getattr(f, "TAB", None))


def tab_key(feature: ModuleType) -> str:
    """A tab's key: its feature module's own name (``"inspector"``, ``"dataset"``)."""
    return feature.__name__.rsplit(".", 1)[-1]


def tab_id(key: str) -> str:
    """The id of the tab (its button in the pane's tab row) of ``key``."""
    return f"tab-{key}"


def tab_body_id(key: str) -> str:
    """The id of the container that holds the body of tab ``key`` once it is opened."""
    return f"tab-body-{key}"
