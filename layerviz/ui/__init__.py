"""The Dash dashboard: the only part of layerviz that imports ``dash``."""
