"""The layer inspector and model health: a feature section of the dashboard.

Click a panel of the grid (or a row of the statistics table) and the inspector shows that
layer's channels, each its own heatmap, ranked by a score and paged; the statistics table lists
every layer's numbers with a histogram of the selected one; a health run finds dead and
saturated channels over many patterns in the background and marks them in both.
"""

from __future__ import annotations

from layerviz.ui.features.inspector.callbacks import register
from layerviz.ui.features.inspector.layout import controls, panels, tab

__all__ = ["EAGER", "TAB", "controls", "panels", "register", "tab"]

TAB = ("Inspector", "zoom-in")
#: Built with the page, not on first view: it is the pane's first tab, and a shared link's
#: rank and page size (``links``) are written into its controls before anyone opens it.
EAGER = True
