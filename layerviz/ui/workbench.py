"""The dashboard's computational back room, with no Dash in it.

A ``Workbench`` holds the models a dashboard offers (bundled ones, loaded on first use, and any
in-memory model given by ``layerviz.show``), one ``ActivationExtractor`` per model, the uploaded
patterns, and a byte-bounded LRU cache of extractions keyed by (model, pattern content). The
browser holds only a recipe (``layerviz.ui.recipe``); the workbench turns it back into the
pattern and its extraction.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import keras
import numpy as np

from layerviz.activations import ActivationExtractor, Extraction
from layerviz.bundled import BundledModel, SamplePattern, bundled_model_of, list_models
from layerviz.errors import LayervizError, ModelLoadError, ModelStructureError, PatternError
from layerviz.loading import load_model
from layerviz.patterns import fit_array, input_shape_of, random_pattern
from layerviz.readers import read_pattern
from layerviz.ui.cache import ByteLRU
from layerviz.ui.recipe import CodeRecipe, Recipe, SampleRecipe, SeedRecipe, UploadRecipe
from layerviz.ui.user_models import UserModels

__all__ = ["ModelEntry", "PatternRun", "Workbench", "pattern_digest", "single_input_extractor"]

#: Default budget for cached extractions (MobileNetV2 at 224×224 holds about 80 MB of them).
CACHE_BYTES = 512 * 2**20
#: Default budget for uploaded patterns kept for re-rendering.
UPLOAD_BYTES = 64 * 2**20


@dataclass
class ModelEntry:
    """A model the dashboard offers, and what the UI shows about it."""

    name: str
    title: str
    description: str = ""
    class_names: tuple[str, ...] | None = None
    samples: tuple[SamplePattern, ...] = ()
    default_sample: str | None = None
    model: keras.Model | None = None
    extractor: ActivationExtractor | None = field(default=None, repr=False)


def _entry_of(bundled: BundledModel) -> ModelEntry:
    """What the dashboard shows of a bundled model (loaded on first use)."""
    return ModelEntry(
        name=bundled.name,
        title=bundled.title,
        description=bundled.description,
        class_names=tuple(bundled.classes) or None,
        samples=tuple(bundled.samples),
        default_sample=bundled.default_sample,
    )


def _single_input_shape(model: keras.Model) -> tuple | None:
    """The single input's shape, or None for a multi-input (or unbuilt) model."""
    try:
        return input_shape_of(model)
    except LayervizError:
        return None


class PatternRun(NamedTuple):
    """A recipe's pattern (with its batch axis), its extraction, and whether it was cached."""

    pattern: np.ndarray
    extraction: Extraction
    cached: bool


def pattern_digest(pattern: np.ndarray) -> str:
    """A short content hash of an array (shape and dtype included)."""
    h = hashlib.blake2b(digest_size=12)
    h.update(str((pattern.shape, pattern.dtype.str)).encode())
    h.update(np.ascontiguousarray(pattern).tobytes())
    return h.hexdigest()


class Workbench:
    """Models, patterns and cached extractions for one dashboard (shared by its users).

    Args:
        models: extra in-memory models, offered first, by their dict key. A model whose key
            is a bundled model's name and whose input matches keeps that model's samples,
            classes and description.
        include_bundled: also offer the models bundled in ``models/``.
        cache_bytes: budget of the extraction cache.
    """

    def __init__(
        self,
        models: dict[str, keras.Model] | None = None,
        include_bundled: bool = True,
        cache_bytes: int = CACHE_BYTES,
    ):
        bundled = {b.name: b for b in (list_models() if include_bundled else [])}
        self._entries: dict[str, ModelEntry] = {}
        for name, model in (models or {}).items():
            known = bundled.pop(name, None) or bundled_model_of(name)
            self._entries[name] = _in_memory_entry(name, model, known)
        self._entries.update({name: _entry_of(b) for name, b in bundled.items()})
        if not self._entries:
            raise ModelLoadError("no model to show: give a model or bundle one in models/")
        self._lock = threading.Lock()
        self._defaults: dict[str, Recipe] = {}
        self._pinned: dict[str, np.ndarray] = {}  # patterns given in code; never evicted
        self.extractions: ByteLRU[Extraction] = ByteLRU(cache_bytes, lambda e: e.nbytes)
        self.uploads: ByteLRU[np.ndarray] = ByteLRU(UPLOAD_BYTES)
        #: Models uploaded by browser sessions, each under a name only its session knows.
        self.user_models: UserModels[ModelEntry] = UserModels()

    # -- models ---------------------------------------------------------------------------
    @property
    def model_names(self) -> list[str]:
        """Names of the offered models, the default first."""
        return list(self._entries)

    def _known(self, name) -> ModelEntry:
        entry = self._entries.get(name) if isinstance(name, str) else None
        entry = entry or self.user_models.get(name)
        if entry is None and self.user_models.is_upload_name(name):
            raise ModelLoadError(
                "your uploaded model is no longer kept on the server (unused for a while, or "
                "its memory was needed); upload it again"
            )
        if entry is None:
            shown = name if isinstance(name, str) and len(name) <= 60 else type(name).__name__
            raise ModelLoadError(f"no model named {shown!r}; offered: {', '.join(self._entries)}")
        return entry

    def entry(self, name: str) -> ModelEntry:
        """The entry for ``name``, its model loaded and its extractor built on first use.

        Raises:
            ModelLoadError: unknown name, or the file cannot be loaded.
            ModelStructureError: the model cannot be cut into layers, or has several inputs.
        """
        entry = self._known(name)
        if entry.extractor is None:
            with self._lock:
                if entry.model is None:
                    entry.model = load_model(name)
                if entry.extractor is None:
                    entry.extractor = single_input_extractor(name, entry.model)
        return entry

    def entry_title(self, name: str) -> str:
        """The label a model is offered under (no loading involved).

        Raises:
            ModelLoadError: unknown name.
        """
        return self._known(name).title

    def input_shape(self, name: str) -> tuple[int, ...]:
        """The input's shape without the batch axis."""
        return self.entry(name).extractor.input_shapes[0]

    def input_dtype(self, name: str) -> np.dtype:
        """The dtype the input's pattern is given in (float32, or int32 token ids)."""
        return self.entry(name).extractor.input_dtypes[0]

    # -- patterns -------------------------------------------------------------------------
    def set_default_pattern(self, name: str, pattern: np.ndarray) -> CodeRecipe:
        """Make ``pattern`` (given in code, e.g. by ``layerviz.show``) the one ``name`` opens with.

        Raises:
            PatternError: the pattern does not fit the model.
        """
        pattern = fit_array(np.asarray(pattern), self.input_shape(name), self.input_dtype(name))
        digest = pattern_digest(pattern)
        self._pinned[digest] = pattern
        self._defaults[name] = CodeRecipe(name, digest)
        return self._defaults[name]

    def default_recipe(self, name: str) -> Recipe:
        """The pattern a model opens with: one set in code, its default sample, else seed 0."""
        if name in self._defaults:
            return self._defaults[name]
        entry = self._entries.get(name)
        if entry is not None and entry.default_sample:
            return SampleRecipe(name, entry.default_sample)
        return SeedRecipe(name, 0)

    def add_upload(self, name: str, data: bytes, filename: str) -> UploadRecipe:
        """Read an uploaded file for model ``name``, keep it, and return its recipe.

        Raises:
            PatternError: the file is unsafe, unreadable or does not fit the model.
        """
        pattern = read_pattern(data, filename, self.input_shape(name), self.input_dtype(name))
        digest = pattern_digest(pattern)
        self.uploads.put(digest, pattern)
        return UploadRecipe(name, digest, filename)

    def pattern(self, recipe: Recipe) -> np.ndarray:
        """Turn a recipe back into the pattern array (with its batch axis).

        Raises:
            PatternError: an unknown sample, or an upload no longer kept.
            ModelLoadError: an unknown model.
        """
        entry = self.entry(recipe.model)
        if isinstance(recipe, SeedRecipe):
            return random_pattern(entry.model, recipe.seed)
        if isinstance(recipe, SampleRecipe):
            sample = _sample_of(entry, recipe.sample)
            shape, dtype = self.input_shape(recipe.model), self.input_dtype(recipe.model)
            return read_pattern(sample.path.read_bytes(), sample.name, shape, dtype)
        kept = self._pinned if isinstance(recipe, CodeRecipe) else self.uploads
        pattern = kept.get(recipe.digest)
        if pattern is None or pattern.shape[1:] != entry.extractor.input_shapes[0]:
            raise PatternError(
                "the uploaded pattern is no longer kept on the server; upload it again"
            )
        return pattern

    # -- extraction -----------------------------------------------------------------------
    def extraction(self, recipe: Recipe) -> PatternRun:
        """The recipe's pattern and its extraction (cached by model and pattern content)."""
        pattern = self.pattern(recipe)
        extractor = self.entry(recipe.model).extractor
        key = (recipe.model, pattern_digest(pattern))
        result, cached = self.extractions.get_or_compute(key, lambda: extractor.run(pattern))
        return PatternRun(pattern, result, cached)


def _in_memory_entry(name: str, model: keras.Model, known: BundledModel | None) -> ModelEntry:
    """An in-memory model's entry; a bundled model loaded in code (``layerviz.show(
    load_model("digits_cnn"))``, ``layerviz serve models/digits_cnn.keras``) keeps its title,
    classes, samples and description."""
    if known is not None and _single_input_shape(model) == tuple(known.input_shape):
        return replace(_entry_of(known), name=name, model=model)
    return ModelEntry(name, f"{name} (in memory)", model=model)


def single_input_extractor(name: str, model: keras.Model) -> ActivationExtractor:
    """The model's extractor, refused for a model with several inputs (not drawn here yet).

    Raises:
        ModelStructureError: several inputs, or a model that cannot be cut into layers.
    """
    extractor = ActivationExtractor(model)
    if len(extractor.input_shapes) > 1:
        raise ModelStructureError(
            f"model {name!r} has {len(extractor.input_shapes)} inputs; the dashboard shows "
            "single-input models (use ActivationExtractor with a list of patterns for this one)"
        )
    return extractor


def _sample_of(entry: ModelEntry, sample: str) -> SamplePattern:
    for candidate in entry.samples:
        if candidate.name == sample:
            return candidate
    names = ", ".join(s.name for s in entry.samples) or "none"
    shown = sample if len(sample) <= 60 else sample[:60] + "…"
    raise PatternError(f"model {entry.name!r} has no sample {shown!r}; samples: {names}")
