"""Where layerviz finds its files, and its version: each read in this one place.

Installed from a wheel, the bundled models and the page's assets travel inside the package
(``layerviz/_models``, ``layerviz/_assets``, put there by the build backend). Run from a
checkout (an editable install), they are the repository's top-level ``models/`` and
``assets/``. ``LAYERVIZ_MODELS_DIR`` points at another models folder.
"""

from __future__ import annotations

import os
from importlib import metadata
from pathlib import Path

__all__ = ["MODELS_DIR_VARIABLE", "assets_dir", "models_dir", "version"]

#: The environment variable that names another folder of bundled models.
MODELS_DIR_VARIABLE = "LAYERVIZ_MODELS_DIR"

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent


def _packaged_or_checkout(packaged: str, checkout: str) -> Path:
    inside = _PACKAGE / packaged
    return inside if inside.is_dir() else _CHECKOUT / checkout


def models_dir() -> Path:
    """The folder bundled models are read from now (``$LAYERVIZ_MODELS_DIR`` wins)."""
    override = os.environ.get(MODELS_DIR_VARIABLE)
    if override:
        return Path(override).expanduser()
    return _packaged_or_checkout("_models", "models")


def assets_dir() -> Path:
    """Bootstrap, icons, fonts, CSS and the favicon the page serves (nothing from a CDN)."""
    return _packaged_or_checkout("_assets", "assets")


def version() -> str:
    """The installed package's version, from its metadata (``pyproject.toml`` is the source)."""
    try:
        return metadata.version("layerviz")
    except metadata.PackageNotFoundError:  # imported from a checkout that was never installed
        return "0+unknown"
