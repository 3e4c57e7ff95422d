"""Load a model safely, from a file path or a bundled model's name."""

from __future__ import annotations

from pathlib import Path

import keras

from layerviz.errors import ModelLoadError
from layerviz.load.bundled import resolve_model_path
from layerviz.load.modelcheck import CheckLimits, check_model_file

__all__ = ["LEGACY_SUFFIXES", "MODEL_SUFFIXES", "load_model"]

#: The size "no cap" stands for on the caller's own files (1 TB: larger than any model).
OWN_FILE_BYTES = 10**12

#: The file type layerviz loads: Keras 3's native format.
MODEL_SUFFIXES = (".keras",)
#: Legacy formats Keras could load, refused: their loaders bypassed ``safe_mode`` before.
LEGACY_SUFFIXES = (".h5", ".hdf5")


def load_model(path_or_name: str | Path, *, max_bytes: int | None = None) -> keras.Model:
    """Load a ``.keras`` model, or a model bundled in ``models/`` by name.

    A file named here is the caller's own (the operator's, on the command line or in code),
    so it is checked but not capped at the upload limit (``MAX_MODEL_BYTES``, which protects
    the dashboard from strangers' uploads): EfficientNetB7 (270 MB) opens. ``max_bytes`` sets
    a cap where one is wanted (``--max-model-mb``); files from strangers go through
    ``check_model_file`` with its canary and the upload cap first.

    The file passes :func:`layerviz.check_model_file`'s static checks first (no ``Lambda``,
    no custom or non-Keras objects, no zip bomb; no canary process: for files from strangers,
    call ``check_model_file(path)`` with its canary first). Then Keras loads it with
    ``safe_mode=True`` and ``compile=False`` (optimizer state is not needed to look at
    activations).

    Args:
        path_or_name: a file path, or a bundled name such as ``"digits_cnn"``.
        max_bytes: the largest file accepted (None: no cap on the size; the other static
            checks, zip bombs included, stay).

    Returns:
        The loaded, built model.

    Raises:
        UnsafeModelError: the static checks refused the file (a legacy ``.h5`` file too).
        ModelLoadError: no such file or bundled name, an unsupported file type, or a file
            Keras could not load.
    """
    path = resolve_model_path(path_or_name)
    suffix = path.suffix.lower()
    if suffix not in MODEL_SUFFIXES and suffix not in LEGACY_SUFFIXES:
        raise ModelLoadError(f"{path.name}: expected a .keras model file, got {path.suffix!r}")
    cap = OWN_FILE_BYTES if max_bytes is None else int(max_bytes)
    # The members may expand to what the file holds (weights barely compress), at least the
    # default budget; the compression ratio check still catches a bomb.
    unpacked = max(CheckLimits().max_uncompressed_bytes, 2 * min(cap, OWN_FILE_BYTES // 2))
    limits = CheckLimits(max_uncompressed_bytes=unpacked)
    # refuses .h5 with a sentence saying what to do
    check_model_file(path, canary=False, max_bytes=cap, limits=limits)
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # Keras raises ValueError, OSError, TypeError, zipfile errors...
        raise ModelLoadError(f"could not load {path.name}: {exc}") from exc
