"""Load a model safely, from a file path or a bundled model's name."""

from __future__ import annotations

import zipfile
from pathlib import Path

import keras

from layerviz.bundled import resolve_model_path
from layerviz.errors import ModelLoadError

__all__ = ["MODEL_SUFFIXES", "load_model"]

#: File types Keras 3 can load: the native format and legacy HDF5.
MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")


def load_model(path_or_name: str | Path) -> keras.Model:
    """Load a ``.keras`` (or legacy ``.h5``) model, or a model bundled in ``models/`` by name.

    Always ``safe_mode=True`` (no arbitrary code from ``Lambda`` layers) and ``compile=False``
    (optimizer state is not needed to look at activations).

    Args:
        path_or_name: a file path, or a bundled name such as ``"digits_cnn"``.

    Returns:
        The loaded, built model.

    Raises:
        ModelLoadError: no such file or bundled name, an unsupported file type, or a file
            Keras could not load (corrupt, or refused by safe mode).
    """
    path = resolve_model_path(path_or_name)
    if path.suffix.lower() not in MODEL_SUFFIXES:
        raise ModelLoadError(
            f"{path.name}: expected a {' / '.join(MODEL_SUFFIXES)} model file, got {path.suffix!r}"
        )
    if path.suffix.lower() == ".keras" and not zipfile.is_zipfile(path):
        # Keras would say "File not found" about a file that is right there.
        raise ModelLoadError(f"could not load {path.name}: it is not a .keras (zip) file")
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # Keras raises ValueError, OSError, TypeError, zipfile errors...
        raise ModelLoadError(f"could not load {path.name}: {exc}") from exc
