"""Where a dashboard pattern comes from: a small typed recipe the browser keeps instead of arrays.

The browser never holds a pattern or an activation. It holds one of these recipes, in its
store form (a small dict), and the server turns the recipe back into the array:

==================  ============================================  =================================
recipe              store form                                    pattern
==================  ============================================  =================================
``SeedRecipe``      ``{"model", "kind": "seed", "seed"}``         ``random_pattern(model, seed)``
``SampleRecipe``    ``{"model", "kind": "sample", "sample"}``     a bundled sample file of the model
``UploadRecipe``    ``{"model", "kind": "upload", "digest",       an uploaded file, kept under its
                    "filename"}``                                 content digest
``CodeRecipe``      ``{"model", "kind": "code", "digest"}``       a pattern given in code, e.g.
                                                                  by ``layerviz.show``
``MultiRecipe``     ``{"model", "kind": "multi", "parts":         one source per input of a model
                    [{"kind": "seed", "seed"}, …]}``              with several inputs
==================  ============================================  =================================

A part of a ``MultiRecipe`` is one of the four others (its store form without ``"model"``) and
gives its input what that recipe gives the whole model at that input: ``seed 7`` for ``meta``
is the ``meta`` of the pattern seed 7 draws, a sample part is that input's array of the sample.
An upload part is a file uploaded for that input alone (or an ``.npz`` uploaded for all).

Store data comes from a browser, so :func:`recipe_from_store` trusts nothing: anything malformed
is a ``PatternError`` with a short message, never a ``KeyError`` or ``TypeError``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from layerviz.errors import PatternError
from layerviz.patterns.inputs import check_seed

__all__ = [
    "CodeRecipe",
    "MultiRecipe",
    "Part",
    "Recipe",
    "SampleRecipe",
    "SeedRecipe",
    "UploadRecipe",
    "parts_of",
    "recipe_from_store",
    "with_part",
]

#: Longest model name, sample name or file name a recipe may carry.
MAX_NAME_CHARS = 200
#: Most inputs a per-input recipe may name (a browser could send thousands).
MAX_PARTS = 16
#: Content digests are 24 lowercase hex characters (``pattern_digest``).
_DIGEST = re.compile(r"[0-9a-f]{24}")


class _Stored:
    """What every recipe shares: its store form, ``{"kind": ..., **fields}``."""

    kind: ClassVar[str]

    def to_store(self) -> dict:
        return {"kind": self.kind, **asdict(self)}


@dataclass(frozen=True)
class SeedRecipe(_Stored):
    """A random pattern drawn from ``seed``."""

    model: str
    seed: int
    kind: ClassVar[str] = "seed"

    def describe(self) -> str:
        return f"random pattern, seed {self.seed}"


@dataclass(frozen=True)
class SampleRecipe(_Stored):
    """A bundled sample pattern of the model, by file name."""

    model: str
    sample: str
    kind: ClassVar[str] = "sample"

    def describe(self) -> str:
        return f"sample {self.sample}"


@dataclass(frozen=True)
class UploadRecipe(_Stored):
    """A file a user uploaded, kept on the server under its content digest."""

    model: str
    digest: str
    filename: str
    kind: ClassVar[str] = "upload"

    def describe(self) -> str:
        return f"uploaded {self.filename}"


@dataclass(frozen=True)
class CodeRecipe(_Stored):
    """A pattern given in code (``layerviz.show(model, pattern)``), kept for the app's life."""

    model: str
    digest: str
    kind: ClassVar[str] = "code"

    def describe(self) -> str:
        return "pattern given in code"


Part = SeedRecipe | SampleRecipe | UploadRecipe | CodeRecipe


@dataclass(frozen=True)
class MultiRecipe:
    """One source per input of a model with several inputs, in input order."""

    model: str
    parts: tuple[Part, ...]
    kind: ClassVar[str] = "multi"

    def to_store(self) -> dict:
        parts = [{k: v for k, v in part.to_store().items() if k != "model"} for part in self.parts]
        return {"kind": self.kind, "model": self.model, "parts": parts}

    def describe(self, names: Sequence[str] = ()) -> str:
        """``"image: sample digit_3.npz; meta: random pattern, seed 7"`` (inputs by name)."""
        names = list(names) or [f"input {i + 1}" for i in range(len(self.parts))]
        return "; ".join(f"{n}: {p.describe()}" for n, p in zip(names, self.parts, strict=False))


Recipe = SeedRecipe | SampleRecipe | UploadRecipe | CodeRecipe | MultiRecipe


def parts_of(recipe: Recipe, n_inputs: int) -> tuple[Part, ...]:
    """The source of each of ``n_inputs`` inputs: a whole recipe gives every input its own.

    Raises:
        PatternError: a per-input recipe that names another number of inputs.
    """
    if not isinstance(recipe, MultiRecipe):
        return (recipe,) * n_inputs
    if len(recipe.parts) != n_inputs:
        raise PatternError(
            f"the pattern names a source for {len(recipe.parts)} inputs; "
            f"model {recipe.model!r} has {n_inputs}"
        )
    return recipe.parts


def with_part(recipe: Recipe, n_inputs: int, index: int, part: Part) -> MultiRecipe:
    """``recipe`` with input ``index`` (of ``n_inputs``) taken from ``part`` instead.

    Raises:
        PatternError: ``index`` is not one of the inputs, or as :func:`parts_of`.
    """
    if not 0 <= index < n_inputs:
        raise PatternError(f"model {recipe.model!r} has {n_inputs} inputs; no input {index + 1}")
    parts = list(parts_of(recipe, n_inputs))
    parts[index] = part
    return MultiRecipe(recipe.model, tuple(parts))


def recipe_from_store(data: Any) -> Recipe:
    """The recipe a browser's store holds, checked field by field.

    Raises:
        PatternError: not a dict, an unknown kind, or a field missing or of the wrong kind.
    """
    if not isinstance(data, dict):
        raise PatternError(f"malformed pattern recipe: expected an object, got {_kind_of(data)}")
    model = _name(data, "model")
    if data.get("kind") == MultiRecipe.kind:
        return MultiRecipe(model, _parts(model, data.get("parts")))
    return _single(model, data)


def _single(model: str, data: dict) -> Part:
    kind = data.get("kind")
    if kind == SeedRecipe.kind:
        return SeedRecipe(model, check_seed(data.get("seed")))
    if kind == SampleRecipe.kind:
        return SampleRecipe(model, _name(data, "sample"))
    if kind == UploadRecipe.kind:
        return UploadRecipe(model, _digest(data), _name(data, "filename"))
    if kind == CodeRecipe.kind:
        return CodeRecipe(model, _digest(data))
    shown = kind if isinstance(kind, str) and len(kind) <= 20 else _kind_of(kind)
    raise PatternError(f"unknown pattern source {shown!r}")


def _parts(model: str, parts: Any) -> tuple[Part, ...]:
    """A per-input recipe's parts: 1 to ``MAX_PARTS`` single sources (no nesting)."""
    if not isinstance(parts, list) or not 1 <= len(parts) <= MAX_PARTS:
        shown = f"a list of {len(parts)}" if isinstance(parts, list) else _kind_of(parts)
        raise PatternError(
            f"malformed pattern recipe: 'parts' should be a list of 1 to {MAX_PARTS} "
            f"sources, got {shown}"
        )
    checked = []
    for i, part in enumerate(parts):
        if not isinstance(part, dict):
            raise PatternError(
                f"malformed pattern recipe: input {i + 1}'s source should be an object, "
                f"got {_kind_of(part)}"
            )
        try:
            checked.append(_single(model, part))
        except PatternError as exc:
            raise PatternError(f"input {i + 1}: {exc}") from None
    return tuple(checked)


def _name(data: dict, key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value or len(value) > MAX_NAME_CHARS:
        raise PatternError(
            f"malformed pattern recipe: {key!r} should be a name of 1 to {MAX_NAME_CHARS} "
            f"characters, got {_kind_of(value)}"
        )
    return value


def _digest(data: dict) -> str:
    value = data.get("digest")
    if not isinstance(value, str) or not _DIGEST.fullmatch(value):
        raise PatternError("malformed pattern recipe: 'digest' is not a content digest")
    return value


def _kind_of(value: Any) -> str:
    """What arrived, said without echoing a large value back."""
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else f"a string of {len(value)} characters"
    return "null" if value is None else type(value).__name__
