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
==================  ============================================  =================================

Store data comes from a browser, so :func:`recipe_from_store` trusts nothing: anything malformed
is a ``PatternError`` with a short message, never a ``KeyError`` or ``TypeError``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from layerviz.errors import PatternError
from layerviz.patterns import check_seed

__all__ = [
    "CodeRecipe",
    "Recipe",
    "SampleRecipe",
    "SeedRecipe",
    "UploadRecipe",
    "recipe_from_store",
]

#: Longest model name, sample name or file name a recipe may carry.
MAX_NAME_CHARS = 200
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


Recipe = SeedRecipe | SampleRecipe | UploadRecipe | CodeRecipe


def recipe_from_store(data: Any) -> Recipe:
    """The recipe a browser's store holds, checked field by field.

    Raises:
        PatternError: not a dict, an unknown kind, or a field missing or of the wrong kind.
    """
    if not isinstance(data, dict):
        raise PatternError(f"malformed pattern recipe: expected an object, got {_kind_of(data)}")
    model = _name(data, "model")
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
