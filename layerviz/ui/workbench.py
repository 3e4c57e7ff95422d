"""The dashboard's computational back room, with no Dash in it.

A ``Workbench`` holds the models a dashboard offers (bundled ones, loaded on first use, and any
in-memory model given by ``layerviz.show``), one ``ActivationExtractor`` per model, the uploaded
patterns (in an upload store: this process's memory, or Redis shared by every worker; see
``layerviz.ui.store``), and a byte-bounded LRU cache of extractions keyed by (model, pattern
content), per process (a forward pass is cheap to redo). The browser holds only a recipe
(``layerviz.ui.recipe``); the workbench turns it back into the pattern and its extraction.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import keras
import numpy as np

from layerviz.errors import LayervizError, ModelLoadError, PatternError
from layerviz.extract.activations import ActivationExtractor, Extraction, LayerActivation
from layerviz.extract.reduce import ReducedExtraction
from layerviz.load.bundled import BundledModel, SamplePattern, bundled_model_of, list_models
from layerviz.load.loading import load_model
from layerviz.patterns.inputs import fit_array, input_shape_of, random_pattern
from layerviz.patterns.readers import read_pattern, read_patterns
from layerviz.ui.cache import ByteLRU
from layerviz.ui.recipe import (
    CodeRecipe,
    MultiRecipe,
    Part,
    Recipe,
    SampleRecipe,
    SeedRecipe,
    UploadRecipe,
    parts_of,
)
from layerviz.ui.store import MemoryStore, UploadStore, current_session
from layerviz.ui.user_models import UserModels

__all__ = [
    "ModelEntry",
    "Pattern",
    "PatternRun",
    "ReducedRun",
    "Workbench",
    "pattern_digest",
    "pattern_nbytes",
    "upload_entry",
]

#: Default budget for cached extractions (MobileNetV2 at 224×224 holds about 80 MB of them).
CACHE_BYTES = 512 * 2**20


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


#: A pattern with its batch axis: one array, or a tuple of one array per input.
Pattern = np.ndarray | tuple[np.ndarray, ...]


class PatternRun(NamedTuple):
    """A recipe's pattern (with its batch axis), its extraction, and whether it was cached."""

    pattern: Pattern
    extraction: Extraction
    cached: bool


class ReducedRun(NamedTuple):
    """A recipe's pattern (with its batch axis), its reduced pass, and whether it was cached:
    what the grid, the statistics table and the prediction read."""

    pattern: Pattern
    reduced: ReducedExtraction
    cached: bool

    @property
    def activations(self) -> list:
        """The layers as the grid draws them (``ReducedActivation``, in model order)."""
        return self.reduced.item(0)

    @property
    def outputs(self) -> list[np.ndarray]:
        """The model's own outputs (its prediction), batch axis removed."""
        return [out[0] for out in self.reduced.outputs]


@dataclass(frozen=True, eq=False)
class _FullLayers:
    """A few layers at full resolution, as the cache keeps them."""

    activations: list[LayerActivation]

    @property
    def nbytes(self) -> int:
        return sum(a.array.nbytes for a in self.activations)


def pattern_digest(pattern: Pattern) -> str:
    """A short content hash of an array, or of each input's (shape and dtype included)."""
    h = hashlib.blake2b(digest_size=12)
    for part in _parts(pattern):
        h.update(str((part.shape, part.dtype.str)).encode())
        h.update(np.ascontiguousarray(part).tobytes())
    return h.hexdigest()


def _parts(pattern: Pattern) -> tuple[np.ndarray, ...]:
    return tuple(pattern) if isinstance(pattern, tuple | list) else (pattern,)


def pattern_nbytes(pattern: Pattern) -> int:
    """Bytes a pattern holds, all inputs together."""
    return sum(part.nbytes for part in _parts(pattern))


class Workbench:
    """Models, patterns and cached extractions for one dashboard (shared by its users).

    Args:
        models: extra in-memory models, offered first, by their dict key. A model whose key
            is a bundled model's name and whose input matches keeps that model's samples,
            classes and description.
        include_bundled: also offer the models bundled in ``models/``.
        cache_bytes: budget of the extraction cache.
        uploads: where uploaded patterns are kept (default: a ``MemoryStore``).
    """

    def __init__(
        self,
        models: dict[str, keras.Model] | None = None,
        include_bundled: bool = True,
        cache_bytes: int = CACHE_BYTES,
        uploads: UploadStore | None = None,
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
        self.uploads: UploadStore = uploads if uploads is not None else MemoryStore()
        #: Models uploaded by browser sessions, each under a name only its session knows.
        self.user_models: UserModels[ModelEntry] = UserModels()
        #: Where uploaded model files are shared with other workers (a ``SharedModelFiles``
        #: with Redis; None: they live in this process only).
        self.model_files = None

    # -- models ---------------------------------------------------------------------------
    @property
    def model_names(self) -> list[str]:
        """Names of the offered models, the default first."""
        return list(self._entries)

    def _known(self, name) -> ModelEntry:
        entry = self._entries.get(name) if isinstance(name, str) else None
        if entry is None and self.model_files is not None and self.user_models.is_upload_name(name):
            # Shared between workers: from this worker's LRU, else from the store (or gone).
            session = current_session.get()
            entry = self.model_files.restore(session, name, self.user_models, upload_entry)
        entry = entry or self.user_models.get(name, current_session.get())
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
                    entry.extractor = ActivationExtractor(entry.model)
        return entry

    def entry_title(self, name: str) -> str:
        """The label a model is offered under (no loading involved).

        Raises:
            ModelLoadError: unknown name.
        """
        return self._known(name).title

    def input_shape(self, name: str) -> tuple[int, ...]:
        """The (first) input's shape without the batch axis."""
        return self.entry(name).extractor.input_shapes[0]

    def input_text(self, name: str) -> str:
        """The inputs for people: ``32×32×1``, or ``image 16×16×1, meta 16`` for several."""
        extractor = self.entry(name).extractor
        shapes = ["×".join(map(str, shape)) for shape in extractor.input_shapes]
        if len(shapes) == 1:
            return shapes[0]
        return ", ".join(f"{n} {s}" for n, s in zip(extractor.input_names, shapes, strict=True))

    def inputs(self, name: str) -> list[tuple[str, tuple[int, ...]]]:
        """Each input's ``Input`` name and shape (without the batch axis), in input order."""
        extractor = self.entry(name).extractor
        return list(zip(extractor.input_names, extractor.input_shapes, strict=True))

    def describe(self, recipe: Recipe) -> str:
        """What a recipe's pattern is, for people (a per-input one names its inputs)."""
        if isinstance(recipe, MultiRecipe):
            return recipe.describe(self.entry(recipe.model).extractor.input_names)
        return recipe.describe()

    def input_dtype(self, name: str) -> np.dtype:
        """The dtype the input's pattern is given in (float32, or int32 token ids)."""
        return self.entry(name).extractor.input_dtypes[0]

    # -- patterns -------------------------------------------------------------------------
    def set_default_pattern(self, name: str, pattern) -> CodeRecipe:
        """Make ``pattern`` (given in code, e.g. by ``layerviz.show``) the one ``name`` opens with.

        A model with several inputs takes a list with one array per input.

        Raises:
            PatternError: the pattern does not fit the model.
        """
        extractor = self.entry(name).extractor
        pattern = _fit(extractor, pattern)
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
        """Read an uploaded file for model ``name``, keep it for this session, return its recipe.

        Raises:
            PatternError: the file is unsafe, unreadable, does not fit the model, or is larger
                than one session's share of the upload store.
            StoreUnavailableError: the shared store (Redis) cannot be reached.
        """
        pattern = _read(self.entry(name).extractor, data, filename)
        digest = pattern_digest(pattern)
        self.keep_upload(digest, pattern, filename)
        return UploadRecipe(name, digest, filename)

    def keep_upload(
        self, digest: str, value: Pattern, filename: str, what: str = "pattern"
    ) -> None:
        """Keep an uploaded pattern (or batch) under ``digest`` for this session.

        Raises:
            PatternError: it is larger than one session's share of the upload store.
            StoreUnavailableError: the shared store (Redis) cannot be reached.
        """
        if not self.uploads.put(current_session.get(), digest, value):
            raise PatternError(
                f"{filename}: the {what} ({pattern_nbytes(value) / 2**20:.1f} MiB) is larger "
                "than one session may keep on this server"
            )

    def add_input_upload(self, name: str, index: int, data: bytes, filename: str) -> UploadRecipe:
        """Read a file for input ``index`` of model ``name`` alone, keep it, return its recipe
        (a part of a ``MultiRecipe``).

        Raises:
            PatternError: no such input, or as :meth:`add_upload` for that input's shape.
            StoreUnavailableError: the shared store (Redis) cannot be reached.
        """
        extractor = self.entry(name).extractor
        if not 0 <= index < len(extractor.input_shapes):
            raise PatternError(f"model {name!r} has no input {index + 1}")
        shape, dtype = extractor.input_shapes[index], extractor.input_dtypes[index]
        try:
            pattern = read_pattern(data, filename, shape, dtype)
        except PatternError as exc:
            raise PatternError(f"input {extractor.input_names[index]!r}: {exc}") from None
        digest = pattern_digest(pattern)
        self.keep_upload(digest, pattern, filename)
        return UploadRecipe(name, digest, filename)

    def pattern(self, recipe: Recipe) -> Pattern:
        """Turn a recipe back into the pattern (with its batch axis; a tuple for several inputs).

        Raises:
            PatternError: an unknown sample, an upload no longer kept, or a per-input recipe
                that does not name one source per input.
            ModelLoadError: an unknown model.
            StoreUnavailableError: the shared store (Redis) cannot be reached.
        """
        entry = self.entry(recipe.model)
        if isinstance(recipe, MultiRecipe):
            parts = parts_of(recipe, len(entry.extractor.input_shapes))
            arrays = tuple(self._part(entry, i, part) for i, part in enumerate(parts))
            return arrays if len(arrays) > 1 else arrays[0]
        if isinstance(recipe, SeedRecipe):
            drawn = random_pattern(entry.model, recipe.seed)
            return tuple(drawn) if isinstance(drawn, list) else drawn
        if isinstance(recipe, SampleRecipe):
            sample = _sample_of(entry, recipe.sample)
            return _read(entry.extractor, sample.path.read_bytes(), sample.name)
        if isinstance(recipe, CodeRecipe):
            pattern = self._pinned.get(recipe.digest)
        else:
            pattern = self.uploads.get(current_session.get(), recipe.digest)
        shapes = [part.shape[1:] for part in _parts(pattern)] if pattern is not None else None
        if shapes != list(entry.extractor.input_shapes):
            raise PatternError(
                "the uploaded pattern is no longer kept on the server; upload it again"
            )
        return pattern

    def _part(self, entry: ModelEntry, index: int, part: Part) -> np.ndarray:
        """Input ``index``'s array from ``part``: what the part gives the whole model there,
        or an array uploaded for that input alone."""
        if isinstance(part, UploadRecipe):
            kept = self.uploads.get(current_session.get(), part.digest)
            kept = kept[index] if isinstance(kept, tuple) and index < len(kept) else kept
            shape = entry.extractor.input_shapes[index]
            if not isinstance(kept, np.ndarray) or kept.shape[1:] != shape:
                raise PatternError(
                    f"{part.filename}: the uploaded pattern is no longer kept on the server; "
                    "upload it again"
                )
            return kept
        return _parts(self.pattern(part))[index]

    # -- extraction -----------------------------------------------------------------------
    def extraction(self, recipe: Recipe) -> PatternRun:
        """The recipe's pattern and its extraction (cached by model and pattern content)."""
        pattern = self.pattern(recipe)
        extractor = self.entry(recipe.model).extractor
        key = (recipe.model, pattern_digest(pattern))
        result, cached = self.extractions.get_or_compute(key, lambda: extractor.run(pattern))
        return PatternRun(pattern, result, cached)

    def reduced(self, recipe: Recipe) -> ReducedRun:
        """The recipe's pattern and its reduced pass (display maps and per-channel numbers of
        every layer; cached by model and pattern content): what the dashboard draws from, at
        a cost that follows what is drawn, not the size of the network."""
        pattern = self.pattern(recipe)
        extractor = self.entry(recipe.model).extractor
        key = (recipe.model, pattern_digest(pattern), "reduced")
        compute = lambda: extractor.extract_reduced(pattern)  # noqa: E731
        result, cached = self.extractions.get_or_compute(key, compute)
        return ReducedRun(pattern, result, cached)

    def layers(self, recipe: Recipe, names: list[str]) -> list[LayerActivation]:
        """Full resolution on demand: the named layers' outputs for the recipe's pattern
        (one layer for the inspector, one page for an export), through a pass that returns
        only those; cached like extractions.

        Raises:
            ArgumentError: a name that is not one of the model's drawable layers.
        """
        pattern = self.pattern(recipe)
        extractor = self.entry(recipe.model).extractor
        key = (recipe.model, pattern_digest(pattern), "layers", tuple(names))
        compute = lambda: _FullLayers(extractor.extract_layers(pattern, names))  # noqa: E731
        return self.extractions.get_or_compute(key, compute)[0].activations


def _in_memory_entry(name: str, model: keras.Model, known: BundledModel | None) -> ModelEntry:
    """An in-memory model's entry; a bundled model loaded in code (``layerviz.show(
    load_model("digits_cnn"))``, ``layerviz serve models/digits_cnn.keras``) keeps its title,
    classes, samples and description."""
    if known is not None and _single_input_shape(model) == tuple(known.input_shape):
        return replace(_entry_of(known), name=name, model=model)
    return ModelEntry(name, f"{name} (in memory)", model=model)


def upload_entry(name: str, loaded) -> ModelEntry:
    """An uploaded model's entry (``loaded``: a ``layerviz.ui.shared_models.LoadedUpload``)."""
    return ModelEntry(
        name, loaded.title, loaded.description, model=loaded.model, extractor=loaded.extractor
    )


def _read(extractor: ActivationExtractor, data: bytes, filename: str) -> Pattern:
    """A pattern file for the extractor's model: one input's, or a .npz with every input's."""
    shapes, dtypes = extractor.input_shapes, extractor.input_dtypes
    if len(shapes) == 1:
        return read_pattern(data, filename, shapes[0], dtypes[0])
    return tuple(read_patterns(data, filename, extractor.input_names, shapes, dtypes))


def _fit(extractor: ActivationExtractor, pattern) -> Pattern:
    """A pattern given in code, checked: one array, or a list with one per input."""
    shapes, dtypes = extractor.input_shapes, extractor.input_dtypes
    if len(shapes) == 1:
        return fit_array(np.asarray(pattern), shapes[0], dtypes[0])
    if not isinstance(pattern, list | tuple) or len(pattern) != len(shapes):
        raise PatternError(
            f"the model has {len(shapes)} inputs ({', '.join(extractor.input_names)}); "
            "give a list with one array per input"
        )
    parts = zip(pattern, shapes, dtypes, strict=True)
    return tuple(fit_array(np.asarray(p), shape, dtype) for p, shape, dtype in parts)


def _sample_of(entry: ModelEntry, sample: str) -> SamplePattern:
    for candidate in entry.samples:
        if candidate.name == sample:
            return candidate
    names = ", ".join(s.name for s in entry.samples) or "none"
    shown = sample if len(sample) <= 60 else sample[:60] + "…"
    raise PatternError(f"model {entry.name!r} has no sample {shown!r}; samples: {names}")
