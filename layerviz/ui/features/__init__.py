"""Optional sections of the dashboard, each one module, added without touching the shared page.

A feature module provides three functions:

``controls(workbench) -> list``
    components appended to the control panel (left column), e.g. one ``section(...)``;
``panels(workbench) -> list``
    components appended to the results column, below the activation grid;
``register(app, workbench) -> None``
    its callbacks (always ``app.callback``, never the global ``dash.callback``).

and is listed in ``FEATURES`` below, in page order. A feature that extends a shared section
sets ``CONTROLS_UNDER = "export"`` (the only one today): its controls then follow that section.
Its component ids go into ``layerviz.ui.ids`` (append-only, in a block of its own).
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

from layerviz.ui.features import (
    architecture,
    compare,
    explain,
    export_zip,
    inspector,
    model_upload,
)

#: The feature modules, in page order.
FEATURES: tuple = (model_upload, explain, compare, architecture, inspector, export_zip)
