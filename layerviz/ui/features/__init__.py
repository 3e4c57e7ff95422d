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

- ``ids.PATTERN_STORE`` (``data``): the current recipe in store form; turn it into the pattern
  and its cached extraction with ``layerviz.ui.common.current_run(workbench, data)``.
- ``ids.GRID_ROWS`` / ``ids.GRID_COLS`` / ``ids.SIZE_LIMIT`` (``value``) → ``common.grid_settings``;
  ``ids.PAGE_SELECT`` (``active_page``).
- ``ids.SELECTED_LAYER_STORE`` (``data``): ``{"model": name, "layer": layer name}`` of the layer a
  user picked (a click on a panel of ``ids.ACTIVATION_GRAPH`` sets it). Features that pick a layer
  (a graph node, a divergence point) write it with ``allow_duplicate=True``; features that show a
  layer read it.
- ``ids.ERROR_ALERT`` (``children``, ``is_open``, with ``allow_duplicate=True``) for messages;
  ``common.error_text(exc)`` turns an exception into one.
- ``layerviz.ui.layout``: ``section(title, icon, children)`` for a control-panel group and
  ``card(title, icon, body, ...)`` for a results card, so features look like the rest. Import
  them inside ``controls`` / ``panels``, not at a feature module's top: ``layout`` imports
  ``FEATURES`` from here, so a top-level import of ``layout`` in a feature is circular.
"""

from __future__ import annotations

from layerviz.ui.features import (
    architecture,
    compare,
    explain,
    export_zip,
    inspector,
    model_upload,
    training_run,
)

#: The feature modules, in page order.
FEATURES: tuple = (
    model_upload,
    explain,
    compare,
    architecture,
    inspector,
    export_zip,
    training_run,
)
