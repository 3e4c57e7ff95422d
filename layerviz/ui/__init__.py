"""The Dash dashboard: the only part of layerviz that imports ``dash``."""

from layerviz import _quiet  # noqa: F401  (imports Keras quietly, before any module here does)
