"""The models bundled in the repo's ``models/`` folder, their metadata and sample patterns.

A bundled model is a ``models/<name>.keras`` file with a ``models/<name>.json`` beside it::

    {"name": "digits_cnn", "title": "...", "description": "...", "input_shape": [28, 28, 1],
     "input_scaling": "...", "classes": ["0", ...], "accuracy": 0.98, "trained_on": "...",
     "default_sample": "digit_3.png",
     "samples": [{"file": "digit_3.png", "label": "3", "description": "..."}, ...]}

A model with several inputs also lists them, by their ``Input`` names, in input order:
``"inputs": [{"name": "image", "shape": [16, 16, 1]}, {"name": "meta", "shape": [16]}]``
(``input_shape`` is then the first one's); each of its samples is one ``.npz`` holding an array
named after each input.

Sample files live in ``models/patterns/<name>/``. Each model is made by
``models/train_<name>.py`` and described by the card ``models/<name>.md``.

This module only reads JSON and checks paths: it imports neither Keras nor Dash.
Set ``LAYERVIZ_MODELS_DIR`` to use another folder (see :mod:`layerviz.config`).
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from layerviz.config import models_dir
from layerviz.errors import ModelLoadError, PatternError

__all__ = [
    "DEFAULT_MODEL",
    "BundledInput",
    "BundledModel",
    "SamplePattern",
    "bundled_model_of",
    "class_names",
    "get_bundled",
    "list_models",
    "models_dir",
    "resolve_model_path",
]

#: The model the dashboard opens with; listed first by :func:`list_models`.
DEFAULT_MODEL = "digits_cnn"

_MODEL_SUFFIX = ".keras"


@dataclass(frozen=True)
class SamplePattern:
    """One sample pattern file of a bundled model.

    Attributes:
        name: the file name, e.g. ``"digit_3.png"`` (unique within its model).
        path: where the file is.
        label: the class the model should predict for it, or None.
        description: one line for people.
    """

    name: str
    path: Path
    label: str | None
    description: str


@dataclass(frozen=True)
class BundledInput:
    """One input of a bundled model: its ``Input`` name (None when not listed) and shape."""

    name: str | None
    shape: tuple[int, ...]


@dataclass(frozen=True)
class BundledModel:
    """A model in ``models/`` with its metadata (read from ``<name>.json``).

    Attributes:
        name: the bundled name, e.g. ``"digits_cnn"``; the file is ``<name>.keras``.
        title: a short human title.
        description: one or two sentences.
        path: the ``.keras`` file.
        input_shape: the (first) input's shape without the batch axis, e.g. ``(28, 28, 1)``.
        classes: the output class names, in output order (empty when not a classifier).
        accuracy: held-out accuracy in [0, 1], or None.
        default_sample: file name of the sample the model opens with, or None.
        samples: the sample patterns whose files exist.
        input_scaling: how input values are scaled, for people.
        trained_on: what the model was trained on, for people.
        inputs: every input, in input order (one, unnamed, unless the JSON lists ``inputs``).
    """

    name: str
    title: str
    description: str
    path: Path
    input_shape: tuple[int, ...]
    classes: tuple[str, ...]
    accuracy: float | None
    default_sample: str | None
    samples: tuple[SamplePattern, ...]
    input_scaling: str = ""
    trained_on: str = ""
    inputs: tuple[BundledInput, ...] = ()

    @property
    def default_sample_path(self) -> Path | None:
        """The default sample's file, or None when the model has none."""
        for sample in self.samples:
            if sample.name == self.default_sample:
                return sample.path
        return None

    @property
    def card_path(self) -> Path | None:
        """The model card ``<name>.md`` beside the model, or None when there is none."""
        card = self.path.with_suffix(".md")
        return card if card.is_file() else None

    def sample(self, name: str) -> SamplePattern:
        """The sample called ``name``.

        Raises:
            PatternError: the model has no such sample.
        """
        for sample in self.samples:
            if sample.name == name:
                return sample
        names = ", ".join(s.name for s in self.samples) or "none"
        raise PatternError(f"model {self.name!r} has no sample {name!r}; samples: {names}")


def list_models() -> list[BundledModel]:
    """Every ``<name>.keras`` in the models folder that has a ``<name>.json``.

    Sorted by name, with :data:`DEFAULT_MODEL` first. A model whose JSON cannot be read is
    left out with a warning (:func:`get_bundled` raises the reason).
    """
    found = []
    for name in _bundled_names():
        try:
            found.append(_read_bundled(name))
        except ModelLoadError as exc:
            warnings.warn(f"skipping bundled model {name!r}: {exc}", stacklevel=2)
    return found


def get_bundled(name: str) -> BundledModel:
    """The bundled model called ``name`` (``"digits_cnn"`` or ``"digits_cnn.keras"``).

    Raises:
        ModelLoadError: no such bundled model (the message lists the available ones), or
            its metadata JSON is malformed.
    """
    stem = _stem(name)
    if stem is None or stem not in _bundled_names():
        raise ModelLoadError(f"no bundled model named {name!r}; bundled: {_available()}")
    return _read_bundled(stem)


def resolve_model_path(path_or_name: str | os.PathLike[str]) -> Path:
    """The model file meant by ``path_or_name``: an existing file, or a bundled model's file.

    An existing file path wins; otherwise a bundled name, with or without ``.keras``.

    Raises:
        ModelLoadError: neither a file nor a bundled name (the message lists the bundled
            models), or a directory.
    """
    raw = os.fspath(path_or_name)
    if not raw:
        raise ModelLoadError(f"no model given; bundled: {_available()}")
    candidate = Path(raw).expanduser()
    if candidate.is_file():
        return candidate
    if candidate.is_dir():
        raise ModelLoadError(f"{raw!r} is a directory, not a model file")
    stem = _stem(raw)
    if stem is not None and stem in _bundled_names():
        return models_dir() / f"{stem}{_MODEL_SUFFIX}"
    raise ModelLoadError(f"no model file or bundled model named {raw!r}; bundled: {_available()}")


def bundled_model_of(path_or_name: str | os.PathLike[str]) -> BundledModel | None:
    """The bundled model meant by a name (``"digits_cnn"``) or by its file's path; else None.

    So ``layerviz export models/digits_cnn.keras`` and ``layerviz export digits_cnn`` open the
    same model with the same samples and classes. Never raises for unknown input or a bundled
    model whose metadata cannot be read (None).
    """
    raw = os.fspath(path_or_name)
    stem = _stem(raw)
    if stem is None or stem not in _bundled_names():
        stem = _bundled_stem_of_path(raw)
    if stem is None:
        return None
    try:
        return _read_bundled(stem)
    except ModelLoadError:
        return None


def class_names(model_name_or_path: str | os.PathLike[str]) -> tuple[str, ...] | None:
    """The class names of a bundled model, by name or by its file's path; else None.

    None also when the bundled model lists no classes. Never raises for unknown input.
    """
    bundled = bundled_model_of(model_name_or_path)
    return (bundled.classes or None) if bundled else None


# --- internals ---------------------------------------------------------------------------


def _stem(name: str) -> str | None:
    """The bundled name meant by ``name`` (``.keras`` dropped), or None if it is a path."""
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        return None
    return name[: -len(_MODEL_SUFFIX)] if name.endswith(_MODEL_SUFFIX) else name


def _bundled_names() -> list[str]:
    """Names of the bundled models, sorted, DEFAULT_MODEL first."""
    folder = models_dir()
    if not folder.is_dir():
        return []
    names = sorted(
        p.stem
        for p in folder.glob(f"*{_MODEL_SUFFIX}")
        if p.is_file() and p.with_suffix(".json").is_file()
    )
    return sorted(names, key=lambda n: n != DEFAULT_MODEL)  # stable: keeps the rest sorted


def _available() -> str:
    return ", ".join(sorted(_bundled_names())) or "none"


def _bundled_stem_of_path(raw: str) -> str | None:
    try:
        target = Path(raw).expanduser().resolve()
        folder = models_dir().resolve()
    except (OSError, RuntimeError):
        return None
    if target.parent == folder and target.suffix == _MODEL_SUFFIX and target.is_file():
        return target.stem if target.stem in _bundled_names() else None
    return None


def _read_bundled(name: str) -> BundledModel:
    folder = models_dir()
    meta_path = folder / f"{name}.json"
    meta = _read_metadata(meta_path)
    fields = _Fields(meta, meta_path.name)
    samples = _read_samples(meta, meta_path.name, folder / "patterns" / name, name)
    default = meta.get("default_sample")
    if default is not None and default not in {s.name for s in samples}:
        default = samples[0].name if samples else None  # named file missing: fall back
    inputs = fields.inputs()
    return BundledModel(
        name=name,
        title=fields.text("title", name) or name,
        description=fields.text("description"),
        path=folder / f"{name}{_MODEL_SUFFIX}",
        input_shape=inputs[0].shape,
        classes=fields.classes(),
        accuracy=fields.accuracy(),
        default_sample=default,
        samples=samples,
        input_scaling=fields.text("input_scaling"),
        trained_on=fields.text("trained_on"),
        inputs=inputs,
    )


def _read_metadata(meta_path: Path) -> dict:
    """The JSON object in ``<name>.json``."""
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"cannot read {meta_path.name}: {exc}") from None
    if not isinstance(meta, dict):
        raise ModelLoadError(f"{meta_path.name}: expected a JSON object, got {type(meta).__name__}")
    return meta


@dataclass(frozen=True)
class _Fields:
    """Typed reads of a metadata object's fields, each refusing a value of the wrong kind."""

    meta: dict
    label: str

    def fail(self, message: str) -> ModelLoadError:
        return ModelLoadError(f"{self.label}: {message}")

    def text(self, key: str, default: str = "") -> str:
        value = self.meta.get(key, default)
        if not isinstance(value, str):
            raise self.fail(f"{key!r} should be a string, got {value!r}")
        return value

    def shape(self, shape, key: str) -> tuple[int, ...]:
        if (
            not isinstance(shape, list)
            or not shape
            or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape)
        ):
            raise self.fail(f"{key!r} should be a list of positive ints, got {shape!r}")
        return tuple(shape)

    def inputs(self) -> tuple[BundledInput, ...]:
        """``inputs`` when listed (``input_shape``, if given too, must be the first's)."""
        listed = self.meta.get("inputs")
        if listed is None:
            return (BundledInput(None, self.shape(self.meta.get("input_shape"), "input_shape")),)
        if not isinstance(listed, list) or not listed:
            raise self.fail('\'inputs\' should be a list of {"name": ..., "shape": [...]}')
        inputs = []
        for item in listed:
            name = item.get("name") if isinstance(item, dict) else None
            if not isinstance(name, str) or not name:
                raise self.fail("each of 'inputs' needs a 'name' string")
            inputs.append(BundledInput(name, self.shape(item.get("shape"), f"inputs.{name}")))
        first = self.meta.get("input_shape")
        if first is not None and self.shape(first, "input_shape") != inputs[0].shape:
            raise self.fail("'input_shape' should be the first of 'inputs'")
        return tuple(inputs)

    def classes(self) -> tuple[str, ...]:
        classes = self.meta.get("classes") or []
        if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
            raise self.fail("'classes' should be a list of strings")
        return tuple(classes)

    def accuracy(self) -> float | None:
        accuracy = self.meta.get("accuracy")
        if accuracy is not None and (
            isinstance(accuracy, bool) or not isinstance(accuracy, int | float)
        ):
            raise self.fail("'accuracy' should be a number or null")
        return None if accuracy is None else float(accuracy)


def _read_samples(meta: dict, label: str, sample_dir: Path, name: str) -> tuple[SamplePattern, ...]:
    """The samples listed in the metadata whose files exist (a missing one is warned about)."""
    samples = []
    for entry in meta.get("samples") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
            raise ModelLoadError(f"{label}: each sample needs a 'file' string")
        file_name = entry["file"]
        if Path(file_name).name != file_name or file_name in ("", ".", ".."):
            raise ModelLoadError(f"{label}: sample {file_name!r} must be a plain file name")
        path = sample_dir / file_name
        if not path.is_file():
            warnings.warn(f"bundled model {name!r}: sample file {path} is missing", stacklevel=4)
            continue
        label_value = entry.get("label")
        samples.append(
            SamplePattern(
                name=file_name,
                path=path,
                label=None if label_value is None else str(label_value),
                description=str(entry.get("description", "")),
            )
        )
    return tuple(samples)
