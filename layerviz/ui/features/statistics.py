"""Dashboard feature: the Statistics & health tab (every layer's numbers, the health run).

Its parts are the inspector's (``inspector.layout.statistics_tab``), and so are its callbacks:
the table, the histogram and the health run read and write the same layer selection and
health result as the inspector, and register with it (``inspector.register``). This module
only gives them a tab of their own in the detail pane.
"""

from __future__ import annotations

from layerviz.ui.features.inspector.layout import statistics_tab
from layerviz.ui.workbench import Workbench

__all__ = ["TAB", "controls", "panels", "register", "tab"]

TAB = ("Statistics & health", "table")


def tab(workbench: Workbench) -> list:
    """The table of every layer's statistics with the picked layer's histogram, then the
    health run's controls."""
    return statistics_tab(workbench)


def controls(workbench: Workbench) -> list:
    return []


def panels(workbench: Workbench) -> list:
    return []


def register(app, workbench: Workbench) -> None:
    """Nothing of its own: ``inspector.register`` attaches the table's and health's callbacks."""
