"""The dashboard's computational back room, with no Dash in it.

A ``Workbench`` holds the models a dashboard offers (bundled ones, loaded on first use, and any
in-memory model given by ``layerviz.show``), one ``ActivationExtractor`` per model, the uploaded
patterns, and a byte-bounded LRU cache of extractions keyed by (model, pattern content).

The browser never holds a pattern or an activation: it holds a small *pattern recipe* (a dict)
that names where the pattern comes from, and the workbench turns the recipe back into the array:

=================================================  =========================================
recipe                                             pattern
=================================================  =========================================
``{"model": m, "kind": "seed", "seed": 7}``        ``random_pattern(model, 7)``
``{"model": m, "kind": "sample", "sample": f}``    the bundled sample file ``f`` of model ``m``
``{"model": m, "kind": "upload", "digest": h}``    an uploaded pattern, kept under its digest
=================================================  =========================================
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field, replace

import keras
import numpy as np

from layerviz.activations import ActivationExtractor, Extraction
from layerviz.bundled import BundledModel, SamplePattern, list_models
from layerviz.errors import ModelLoadError, ModelStructureError, PatternError
from layerviz.loading import load_model
from layerviz.patterns import check_seed, fit_array, random_pattern
from layerviz.readers import read_pattern
from layerviz.ui.cache import ByteLRU

__all__ = ["ModelEntry", "Workbench", "pattern_digest"]

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


def _input_shape(model: keras.Model) -> tuple | None:
    """The single input's shape without the batch axis (None for other input structures)."""
    inputs = model.inputs
    return tuple(inputs[0].shape[1:]) if len(inputs) == 1 else None


def pattern_digest(pattern: np.ndarray) -> str:
    """A short content hash of an array (shape and dtype included)."""
    h = hashlib.blake2b(digest_size=12)
    h.update(str((pattern.shape, pattern.dtype.str)).encode())
    h.update(np.ascontiguousarray(pattern).tobytes())
    return h.hexdigest()


class Workbench:
    """Models, patterns and cached extractions for one dashboard (shared by its users).

    Args:
        models: extra in-memory models, offered first, by their dict key.
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
            known = bundled.pop(name, None)
            if known is not None and _input_shape(model) == tuple(known.input_shape):
                # A bundled model loaded in code (layerviz.show(load_model("digits_cnn"))) keeps
                # its classes, samples and description.
                self._entries[name] = replace(
                    _entry_of(known), title=f"{known.title} (in memory)", model=model
                )
            else:
                self._entries[name] = ModelEntry(name, f"{name} (in memory)", model=model)
        self._entries.update({name: _entry_of(b) for name, b in bundled.items()})
        if not self._entries:
            raise ModelLoadError("no model to show: give a model or bundle one in models/")
        self._lock = threading.Lock()
        self._defaults: dict[str, dict] = {}
        self._pinned: dict[str, np.ndarray] = {}  # patterns given in code; never evicted
        self.extractions: ByteLRU[Extraction] = ByteLRU(cache_bytes, lambda e: e.nbytes)
        self.uploads: ByteLRU[np.ndarray] = ByteLRU(UPLOAD_BYTES)

    # -- models ---------------------------------------------------------------------------
    @property
    def model_names(self) -> list[str]:
        """Names of the offered models, the default first."""
        return list(self._entries)

    def entry(self, name: str) -> ModelEntry:
        """The entry for ``name``, its model loaded and its extractor built on first use.

        Raises:
            ModelLoadError: unknown name, or the file cannot be loaded.
        """
        try:
            entry = self._entries[name]
        except KeyError:
            raise ModelLoadError(
                f"no model named {name!r}; offered: {', '.join(self._entries)}"
            ) from None
        if entry.extractor is None:
            with self._lock:
                if entry.model is None:
                    entry.model = load_model(name)
                if entry.extractor is None:
                    extractor = ActivationExtractor(entry.model)
                    if len(extractor.input_shapes) > 1:
                        raise ModelStructureError(
                            f"model {name!r} has {len(extractor.input_shapes)} inputs; the "
                            "dashboard shows single-input models (use ActivationExtractor "
                            "with a list of patterns for this one)"
                        )
                    entry.extractor = extractor
        return entry

    def entry_title(self, name: str) -> str:
        """The label a model is offered under (no loading involved)."""
        return self._entries[name].title

    def input_shape(self, name: str) -> tuple[int, ...]:
        """The input's shape without the batch axis."""
        return self.entry(name).extractor.input_shapes[0]

    def input_dtype(self, name: str):
        """The dtype the input's pattern is given in (float32, or int32 token ids)."""
        return self.entry(name).extractor.input_dtypes[0]

    # -- patterns -------------------------------------------------------------------------
    def set_default_pattern(self, name: str, pattern: np.ndarray) -> dict:
        """Make ``pattern`` (given in code, e.g. by ``layerviz.show``) the one ``name`` opens with.

        Raises:
            PatternError: the pattern does not fit the model.
        """
        pattern = fit_array(np.asarray(pattern), self.input_shape(name), self.input_dtype(name))
        digest = pattern_digest(pattern)
        self._pinned[digest] = pattern
        self._defaults[name] = {
            "model": name,
            "kind": "upload",
            "digest": digest,
            "filename": "pattern given in code",
        }
        return self._defaults[name]

    def default_recipe(self, name: str) -> dict:
        """The pattern a model opens with: one set in code, its default sample, else seed 0."""
        if name in self._defaults:
            return dict(self._defaults[name])
        entry = self._entries.get(name)
        if entry is not None and entry.default_sample:
            return {"model": name, "kind": "sample", "sample": entry.default_sample}
        return {"model": name, "kind": "seed", "seed": 0}

    def add_upload(self, name: str, data: bytes, filename: str) -> dict:
        """Read an uploaded file for model ``name``, keep it, and return its recipe.

        Raises:
            PatternError: the file is unsafe, unreadable or does not fit the model.
        """
        pattern = read_pattern(data, filename, self.input_shape(name), self.input_dtype(name))
        digest = pattern_digest(pattern)
        self.uploads.put(digest, pattern)
        return {"model": name, "kind": "upload", "digest": digest, "filename": filename}

    def pattern(self, recipe: dict) -> np.ndarray:
        """Turn a recipe back into the pattern array (with its batch axis).

        Raises:
            PatternError: a malformed recipe, an unknown sample, or an upload no longer kept.
        """
        name = recipe.get("model")
        entry = self.entry(name)
        kind = recipe.get("kind")
        if kind == "seed":
            return random_pattern(entry.model, check_seed(recipe.get("seed")))
        if kind == "sample":
            samples = {s.name: s for s in entry.samples}
            sample = samples.get(recipe.get("sample"))
            if sample is None:
                raise PatternError(
                    f"model {name!r} has no sample {recipe.get('sample')!r}; samples: "
                    f"{', '.join(samples) or 'none'}"
                )
            return read_pattern(
                sample.path.read_bytes(),
                sample.name,
                self.input_shape(name),
                self.input_dtype(name),
            )
        if kind == "upload":
            digest = recipe.get("digest")
            pattern = self._pinned.get(digest)
            if pattern is None:
                pattern = self.uploads.get(digest)
            if pattern is None or pattern.shape[1:] != entry.extractor.input_shapes[0]:
                raise PatternError(
                    "the uploaded pattern is no longer kept on the server; upload it again"
                )
            return pattern
        raise PatternError(f"unknown pattern source {kind!r}")

    def describe(self, recipe: dict) -> str:
        """A short human label for where the pattern comes from."""
        kind = recipe.get("kind")
        if kind == "seed":
            return f"random pattern, seed {recipe.get('seed')}"
        if kind == "sample":
            return f"sample {recipe.get('sample')}"
        return f"uploaded {recipe.get('filename', 'file')}"

    # -- extraction -----------------------------------------------------------------------
    def extraction(self, recipe: dict) -> tuple[np.ndarray, Extraction, bool]:
        """The pattern, its extraction (cached by content) and whether it came from the cache."""
        name = recipe.get("model")
        pattern = self.pattern(recipe)
        extractor = self.entry(name).extractor
        key = (name, pattern_digest(pattern))
        result, cached = self.extractions.get_or_compute(key, lambda: extractor.run(pattern))
        return pattern, result, cached
