"""Labelled datasets for the lens: an ``.npz`` (``x``, optional ``y``), a folder of images, or
the held-out set bundled with a model (``models/datasets/<name>.npz``).

Datasets come from users, so they are read as patterns are (:mod:`layerviz.patterns.readers`):
sizes refused before anything is read or unpacked, ``.npy`` headers checked before allocation,
no pickles, images decoded by Pillow for PNG and JPEG only under a pixel limit. Rows holding NaN
or infinite values are reported by number, never silently dropped.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from layerviz.config import models_dir
from layerviz.errors import PatternError
from layerviz.patterns.inputs import check_batch_fits, check_shape, fit_batch

# The readers' safe primitives: .npz sizes checked before unpacking, .npy headers before
# allocating. They are private there because patterns have no use for several members.
from layerviz.patterns.readers import _npy_array, _unpack_npz, check_file_size, read_pattern

__all__ = [
    "IMAGE_EXTENSIONS",
    "MAX_DATASET_BYTES",
    "MAX_FOLDER_IMAGES",
    "Dataset",
    "bundled_dataset",
    "load_dataset",
    "read_dataset",
]

#: The most a dataset file (or an .npz member once unpacked, or a folder's images) may hold.
MAX_DATASET_BYTES = 256 * 2**20
#: The most images a folder may hold.
MAX_FOLDER_IMAGES = 20_000
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
_X_NAMES, _Y_NAMES = ("x", "x.npy"), ("y", "y.npy")


@dataclass(frozen=True, eq=False)
class Dataset:
    """Patterns for the lens, with their labels when known (compared by identity).

    Attributes:
        x: ``(n, *input_shape)`` float32 patterns.
        y: ``(n,)`` integer labels, or None.
        classes: the name of each label value (``classes[y[i]]``), or None.
        source: where it came from, for messages and titles.
    """

    x: np.ndarray
    y: np.ndarray | None = None
    classes: tuple[str, ...] | None = None
    source: str = ""

    def __len__(self) -> int:
        return len(self.x)


def read_dataset(
    data: bytes,
    filename: str,
    input_shape,
    max_bytes: int | None = None,
    classes: tuple[str, ...] | None = None,
) -> Dataset:
    """Read an ``.npz`` holding ``x`` (patterns) and optionally ``y`` (one label per pattern).

    Args:
        data: the file's bytes.
        filename: its name, starting every message.
        input_shape: the model's input shape without the batch axis.
        max_bytes: the most the file, and its members once unpacked, may hold
            (``MAX_DATASET_BYTES`` when None).
        classes: the label names, kept on the result.

    Returns:
        A :class:`Dataset`.

    Raises:
        PatternError: over the size limit, not an ``.npz``, no ``x``, ``x`` not fitting the
            input (both shapes named), ``y`` of another length or not whole numbers, or rows
            with NaN or infinite values (listed).
    """
    limit = MAX_DATASET_BYTES if max_bytes is None else int(max_bytes)
    check_file_size(len(data), filename, limit)
    target = check_shape(input_shape)
    try:
        if os.path.splitext(filename)[1].lower() != ".npz":
            raise PatternError("a dataset is an .npz file holding x (and optionally y)")
        members = dict(_unpack_npz(bytes(data), _pick_xy, limit))
        x_name = next(name for name in members if name in _X_NAMES)
        x = _member(members, x_name, partial(check_batch_fits, target=target))
        y_name = next((name for name in members if name in _Y_NAMES), None)
        y = None if y_name is None else _member(members, y_name, _one_axis)
        return _checked(x, y, target, classes, filename)
    except PatternError as exc:
        raise PatternError(f"{filename}: {exc}") from None


def load_dataset(path, input_shape, max_bytes: int | None = None) -> Dataset:
    """Read a dataset from disk: an ``.npz`` file, or a folder of PNG/JPEG images.

    A folder's images are its own files (no labels), or sit in one sub-folder per class
    (``digits/3/a.png``): the labels are then the sub-folders' positions in sorted order.

    Raises:
        PatternError: missing, over the limits (checked before reading), or as
            :func:`read_dataset` and :func:`layerviz.patterns.readers.read_pattern`.
    """
    limit = MAX_DATASET_BYTES if max_bytes is None else int(max_bytes)
    path = Path(path)
    if path.is_dir():
        return _read_folder(path, check_shape(input_shape), limit)
    if not path.is_file():
        raise PatternError(f"{path}: no such file or folder")
    check_file_size(path.stat().st_size, str(path), limit)
    return read_dataset(path.read_bytes(), str(path), input_shape, limit)


def bundled_dataset(name: str, input_shape) -> Dataset | None:
    """The held-out set shipped with bundled model ``name``, or None when it has none."""
    path = models_dir() / "datasets" / f"{name}.npz"
    if not path.is_file():
        return None
    classes = None
    meta = models_dir() / f"{name}.json"
    if meta.is_file():
        import json

        classes = tuple(json.loads(meta.read_text()).get("classes") or ()) or None
    data = load_dataset(path, input_shape)
    return Dataset(data.x, data.y, classes, f"{name} held-out set")


def _pick_xy(infos):
    names = {info.filename: info for info in infos}
    xs = [names[n] for n in _X_NAMES if n in names]
    if not xs:
        held = ", ".join(repr(n) for n in names) or "nothing"
        raise PatternError(f".npz has no array named 'x' (it holds {held})")
    return xs[:1] + [names[n] for n in _Y_NAMES if n in names][:1]


def _member(members: dict, name: str, check) -> np.ndarray:
    try:
        return _npy_array(members[name], check, label="the member")
    except PatternError as exc:
        raise PatternError(f"member {name!r}: {exc}") from None


def _one_axis(shape) -> None:
    if len(shape) != 1:
        raise PatternError(f"labels must be one per pattern, shape (n,); got {tuple(shape)}")


def _checked(x: np.ndarray, y, target, classes, source: str) -> Dataset:
    """NaN rows reported, ``y`` checked against ``x``, ``x`` fitted to the input."""
    rows = x.reshape(len(x), -1)
    if rows.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(rows).all(axis=1))
        if bad.size:
            shown = ", ".join(str(int(r)) for r in bad[:10])
            more = f", ... ({bad.size} of {len(x)} rows)" if bad.size > 10 else ""
            raise PatternError(f"x rows {shown}{more} hold NaN or infinite values")
    if y is not None:
        if len(y) != len(x):
            raise PatternError(f"y holds {len(y)} labels for {len(x)} patterns in x")
        if y.dtype.kind not in "iub":
            raise PatternError(f"y must hold whole-number class labels; got dtype {y.dtype}")
        y = np.asarray(y, dtype=np.int64)
    return Dataset(fit_batch(x, target), y, classes, source)


def _read_folder(folder: Path, target, limit: int) -> Dataset:
    files, labels, classes = _folder_files(folder)
    if not files:
        raise PatternError(f"{folder}: holds no {', '.join(IMAGE_EXTENSIONS)} images")
    if len(files) > MAX_FOLDER_IMAGES:
        raise PatternError(
            f"{folder}: {len(files)} images, over the limit of {MAX_FOLDER_IMAGES} images"
        )
    total = sum(f.stat().st_size for f in files)  # refused before any image is read
    check_file_size(total, f"{folder} (its images together)", limit)
    x = np.concatenate([read_pattern(f.read_bytes(), str(f), target) for f in files])
    y = np.asarray(labels, dtype=np.int64) if classes else None
    return Dataset(x, y, tuple(classes) if classes else None, str(folder))


def _folder_files(folder: Path) -> tuple[list[Path], list[int], list[str]]:
    """Images directly in ``folder`` (no labels), else in one sub-folder per class."""

    def images(where: Path) -> list[Path]:
        return sorted(
            p for p in where.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
        )

    direct = images(folder)
    if direct:
        return direct, [], []
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir())
    files, labels = [], []
    for label, name in enumerate(classes):
        found = images(folder / name)
        files += found
        labels += [label] * len(found)
    return files, labels, classes
