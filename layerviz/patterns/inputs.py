"""Input patterns: a model's input shape, seeded random patterns, and fitting arrays to a shape.

One convention holds everywhere: an *input shape* is given **without** the batch axis, e.g.
``(28, 28, 1)``, and nothing guesses whether a leading ``None`` or ``1`` is a batch axis.
:func:`input_shape_of` reads it off a model. A *pattern* is an array shaped
``(1, *input_shape)``, ready for ``model(pattern)``: float32 for float inputs, int32 for
integer inputs (token ids for an ``Embedding``).

Reading patterns from files (``.npy``, ``.png``, ...) is :mod:`layerviz.patterns.readers`' job.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from layerviz.errors import ArgumentError, ModelStructureError, PatternError

__all__ = [
    "INT_PATTERN_HIGH",
    "SEED_LIMIT",
    "IdRange",
    "Shape",
    "check_ids",
    "check_seed",
    "check_shape",
    "fit_array",
    "fit_batch",
    "input_dtypes_of",
    "input_names_of",
    "input_shape_of",
    "input_shapes_of",
    "integer_input_ranges",
    "random_pattern",
    "stated_input_range",
]

Shape = tuple[int, ...]

#: Seeds run from 0 to ``SEED_LIMIT - 1``, the range numpy's generator takes as one word.
SEED_LIMIT = 2**32
#: Random integer patterns are drawn from ``[0, INT_PATTERN_HIGH)`` when the model has no
#: ``Embedding`` whose ``input_dim`` says how many ids it takes.
INT_PATTERN_HIGH = 256


# --- shapes --------------------------------------------------------------------------------


def check_shape(shape: Any) -> Shape:
    """``shape`` as a tuple of positive ints: an input shape *without* its batch axis.

    Raises:
        ArgumentError: an axis is ``None`` (a batch or free axis), not an int, or below 1.
    """
    try:
        axes = tuple(shape)
    except TypeError:
        raise ArgumentError(f"input shape {shape!r} is not a tuple of ints") from None
    if any(axis is None for axis in axes):
        raise ArgumentError(
            f"input shape {axes} has a free (None) axis; give the shape without its batch "
            "axis, e.g. layerviz.input_shape_of(model)"
        )
    try:
        dims = tuple(operator.index(axis) for axis in axes if not isinstance(axis, bool))
    except TypeError:
        dims = ()
    if len(dims) != len(axes) or not dims:
        raise ArgumentError(f"input shape {axes} is not a tuple of ints")
    if any(axis < 1 for axis in dims):
        raise ArgumentError(f"input shape {dims} has an axis that is not a positive int")
    return dims


def input_shapes_of(model: Any) -> list[Shape]:
    """Every input's shape without the batch axis, in ``model.inputs`` order.

    Raises:
        ModelStructureError: the model has no inputs yet (an unbuilt Sequential), or an input
            has a free axis besides the batch axis (``Input((None, 3))``).
    """
    try:
        inputs = list(model.inputs or [])
    except (AttributeError, ValueError) as exc:
        raise ModelStructureError(f"cannot read the model's inputs: {exc}") from None
    if not inputs:
        raise ModelStructureError("the model has no inputs; build it or call it once first")
    shapes = []
    for tensor in inputs:
        shape = tuple(tensor.shape)[1:]
        if any(axis is None for axis in shape):
            raise ModelStructureError(
                f"an input of shape {shape} has free axes; layerviz draws one concrete "
                "pattern, so rebuild the model with a fixed shape"
            )
        shapes.append(tuple(int(axis) for axis in shape))
    return shapes


def input_shape_of(model: Any) -> Shape:
    """The model's single input shape without the batch axis, e.g. ``(28, 28, 1)``.

    Raises:
        ModelStructureError: as :func:`input_shapes_of`, or the model has several inputs
            (use :func:`input_shapes_of` for those).
    """
    shapes = input_shapes_of(model)
    if len(shapes) != 1:
        raise ModelStructureError(
            f"the model has {len(shapes)} inputs with shapes "
            f"{', '.join(map(str, shapes))}; give one pattern per input"
        )
    return shapes[0]


def input_names_of(model: Any) -> list[str]:
    """Each input's name (its ``keras.Input(name=...)``), in ``model.inputs`` order."""
    return [str(getattr(t, "name", None) or f"input_{i}") for i, t in enumerate(model.inputs)]


def input_dtypes_of(model: Any) -> list[np.dtype]:
    """The dtype each input's pattern is given in: int32 ids for integer inputs, else float32."""
    return [
        np.dtype(np.int32) if _is_integer(tensor.dtype) else np.dtype(np.float32)
        for tensor in model.inputs
    ]


# --- random patterns -----------------------------------------------------------------------


def check_seed(value: Any) -> int:
    """``value`` as a random seed: a whole number from 0 to ``SEED_LIMIT - 1``.

    ``True`` and ``False`` are not seeds, nor is ``7.5``; ``"7"`` and ``7.0`` are.

    Raises:
        PatternError: anything else, naming what arrived.
    """
    seed = -1
    if not isinstance(value, bool):
        try:
            seed = int(value)
        except (TypeError, ValueError, OverflowError):
            seed = -1
    if not 0 <= seed < SEED_LIMIT or (isinstance(value, float) and not value.is_integer()):
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:40] + "…"
        raise PatternError(
            f"a random seed must be a whole number between 0 and {SEED_LIMIT - 1}, got {shown}"
        )
    return seed


def random_pattern(model_or_shape: Any, seed: int | None = None) -> np.ndarray | list[np.ndarray]:
    """Draw a random pattern shaped ``(1, *input_shape)`` for a model or an input shape.

    Float inputs get uniform [0, 1) float32 noise. Integer inputs (token ids) get uniform
    int32 ids in their own range (:func:`integer_input_ranges`: ``[0, input_dim)`` of the
    ``Embedding`` each feeds, 0/1 for a mask input).

    Args:
        model_or_shape: a built Keras model, or an input shape without the batch axis
            (which draws floats).
        seed: seed for ``numpy.random.default_rng``; the same seed gives the same pattern.

    Returns:
        One array, or for a multi-input model a list with one array per input, drawn in
        input order from the same generator.

    Raises:
        PatternError: a seed outside :func:`check_seed`'s range.
        ArgumentError: a shape that :func:`check_shape` refuses.
        ModelStructureError: as :func:`input_shapes_of`.
    """
    rng = np.random.default_rng(None if seed is None else check_seed(seed))
    if not hasattr(model_or_shape, "inputs"):
        return rng.random((1, *check_shape(model_or_shape)), dtype=np.float32)
    shapes = input_shapes_of(model_or_shape)
    ranges = integer_input_ranges(model_or_shape)
    patterns = []
    for shape, dtype, bound in zip(shapes, input_dtypes_of(model_or_shape), ranges, strict=True):
        if dtype.kind == "i":
            patterns.append(rng.integers(0, bound.high, size=(1, *shape), dtype=dtype))
        else:
            patterns.append(rng.random((1, *shape), dtype=dtype))
    return patterns[0] if len(patterns) == 1 else patterns


#: "[0, 1]" or "-1.5..1.5": a range as a model card states it.
_STATED_RANGE = re.compile(
    r"\[\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\]|(-?\d+(?:\.\d+)?)\.\.(-?\d+(?:\.\d+)?)"
)


def stated_input_range(text: str) -> tuple[float, float] | None:
    """The float input range a model card's ``input_scaling`` states, or None.

    Float inputs carry no range in a Keras model (integer ones do: :func:`integer_input_ranges`
    reads the ``Embedding`` they feed), so the range is what the card says: the first
    ``[low, high]`` or ``low..high`` in ``text`` ("grey levels in [0, 1]", "roughly
    -1.5..1.5"), when ``low < high``.
    """
    match = _STATED_RANGE.search(text or "")
    if match is None:
        return None
    low, high = (float(v) for v in (match.groups()[:2] if match[1] else match.groups()[2:]))
    return (low, high) if low < high else None


class IdRange(NamedTuple):
    """The ids an integer input takes: ``[0, high)``, and what says so (for messages)."""

    high: int
    why: str


def check_ids(arrays: Sequence[np.ndarray], names: Sequence[str], ranges) -> None:
    """Refuse ids outside the range an ``Embedding`` takes, naming the input and the range.

    Raises:
        PatternError: ``"input 'segment_ids': ids from 0 to 99, but Embedding 'segment' takes
            [0, 2)"``.
    """
    for array, name, bound in zip(arrays, names, ranges, strict=True):
        if bound is None or not bound.why.startswith("Embedding") or array.size == 0:
            continue
        low, high = int(array.min()), int(array.max())
        if low < 0 or high >= bound.high:
            raise PatternError(
                f"input {name!r}: ids from {low} to {high}, but {bound.why} takes [0, {bound.high})"
            )


def integer_input_ranges(model: Any) -> list[IdRange | None]:
    """Each input's id range (None for a float input), from the layers it feeds.

    An integer input that feeds an ``Embedding`` (directly or through layers that pass one
    tensor on) takes ``[0, input_dim)`` of that Embedding, the smallest when it feeds several;
    one that feeds none and is named like a mask (``padding_mask``) takes 0/1; any other
    takes the first Embedding's range in model order, else ``[0, INT_PATTERN_HIGH)``.
    """
    import keras

    embeddings = [la for la in _all_layers(model) if isinstance(la, keras.layers.Embedding)]
    fed = _inputs_fed(model, embeddings)
    first = _embedding_input_dim(model)
    ranges: list[IdRange | None] = []
    for i, (tensor, dtype) in enumerate(zip(model.inputs, input_dtypes_of(model), strict=True)):
        name = str(getattr(tensor, "name", f"input {i + 1}"))
        if dtype.kind != "i":
            ranges.append(None)
        elif fed.get(i):
            layer = min(fed[i], key=lambda la: la.input_dim)
            ranges.append(IdRange(int(layer.input_dim), f"Embedding {layer.name!r}"))
        elif "mask" in name.lower():
            ranges.append(IdRange(2, "a mask input (0/1)"))
        elif first:
            ranges.append(IdRange(first, "the model's first Embedding"))
        else:
            ranges.append(IdRange(INT_PATTERN_HIGH, "no Embedding says how many ids"))
    return ranges


def _all_layers(model: Any) -> list:
    import keras

    found = []
    for layer in getattr(model, "layers", []):
        found.append(layer)
        if isinstance(layer, keras.Model):
            found.extend(_all_layers(layer))
    return found


def _inputs_fed(model: Any, embeddings: list) -> dict[int, list]:
    """Which model input each Embedding reads, following single-tensor layers backwards
    (public ``layer.input`` / ``layer.output``; a layer called twice is skipped)."""
    producers = {}
    for layer in _all_layers(model):
        try:
            out = layer.output
        except (AttributeError, ValueError):  # never called, or called more than once
            continue
        if not isinstance(out, list | tuple | dict):
            producers[id(out)] = layer
    inputs = {id(t): i for i, t in enumerate(model.inputs)}
    fed: dict[int, list] = {}
    for embedding in embeddings:
        try:
            tensor = embedding.input
        except (AttributeError, ValueError):
            continue
        for _ in range(64):  # a chain of single-tensor layers, at most this long
            if id(tensor) in inputs:
                fed.setdefault(inputs[id(tensor)], []).append(embedding)
                break
            producer = producers.get(id(tensor))
            try:
                tensor = producer.input if producer is not None else None
            except (AttributeError, ValueError):
                tensor = None
            if tensor is None or isinstance(tensor, list | tuple | dict):
                break
    return fed


def _is_integer(dtype: Any) -> bool:
    name = str(getattr(dtype, "name", dtype))
    return name.startswith(("int", "uint"))


def _embedding_input_dim(model: Any) -> int | None:
    """``input_dim`` of the first ``Embedding`` in model order, nested models included."""
    import keras  # only a model has layers; a shape never needs Keras

    for layer in getattr(model, "layers", []):
        if isinstance(layer, keras.layers.Embedding):
            return int(layer.input_dim)
        if isinstance(layer, keras.Model):
            inner = _embedding_input_dim(layer)
            if inner:
                return inner
    return None


# --- fitting arrays ------------------------------------------------------------------------


def fit_array(array: Any, input_shape: Sequence[int], dtype: Any = np.float32) -> np.ndarray:
    """Check that an array can be the pattern for ``input_shape`` and return it as one.

    Accepted: exactly ``input_shape``; ``(1, *input_shape)``; or ``input_shape`` with a
    trailing channel axis of size 1 added or removed, e.g. ``(28, 28)`` for
    ``(28, 28, 1)`` and ``(50, 50, 1)`` for ``(50, 50)``.

    Args:
        array: an array or nested list of real numbers (bool is cast).
        input_shape: the model's input shape *without* the batch axis.
        dtype: the pattern's dtype: float32 (the default) or an integer type for token ids.

    Returns:
        A new C-contiguous array of ``dtype`` shaped ``(1, *input_shape)``.

    Raises:
        PatternError: the shape does not fit, the dtype is not real numbers, or a value
            is NaN or infinite (also after casting to float32).
        ArgumentError: ``input_shape`` is not a shape (see :func:`check_shape`).
    """
    target = check_shape(input_shape)
    try:
        arr = np.asarray(array)
    except ValueError:  # ragged nested lists
        raise PatternError("pattern is not a rectangular array of numbers") from None
    check_dtype(arr.dtype)
    check_fits(arr.shape, target)
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        return _as_ids(arr, dtype).reshape((1, *target))
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.array(arr, dtype=np.float32, order="C").reshape((1, *target))
    if not np.isfinite(out).all():
        raise PatternError("pattern holds NaN or infinite values (or values too big for float32)")
    return out


def _as_ids(arr: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Integer ids from an array of whole numbers (``2.0`` is fine, ``2.5`` is not)."""
    fractional = arr.dtype.kind == "f" and (
        not np.isfinite(arr).all() or not np.array_equal(arr, np.round(arr))
    )
    if fractional:
        raise PatternError("this input takes whole numbers (token ids), got fractions")
    info = np.iinfo(dtype)
    if arr.size and (arr.min() < info.min or arr.max() > info.max):
        raise PatternError(f"ids must lie between {info.min} and {info.max}")
    return np.array(arr, dtype=dtype, order="C")


def check_fits(shape: Sequence[int], target: Shape) -> None:
    """Refuse an array shape that cannot be the pattern for the input shape ``target``.

    Raises:
        PatternError: ``"pattern shape (28, 28, 3) does not fit input (28, 28, 1)"``.
    """
    shape = tuple(int(axis) for axis in shape)
    if shape in (target, (1, *target)) or (*shape, 1) == target or shape == (*target, 1):
        return
    raise PatternError(f"pattern shape {shape} does not fit input {target}")


def check_dtype(dtype: np.dtype) -> None:
    """Refuse dtypes that are not real numbers (objects, pickles, complex, strings).

    Raises:
        PatternError: naming the dtype.
    """
    if dtype.kind == "O" or dtype.hasobject:
        raise PatternError("pickled/object arrays are not accepted")
    if dtype.kind == "c":
        raise PatternError(f"complex values ({dtype}) are not accepted; give real numbers")
    if dtype.kind not in "biuf":
        raise PatternError(f"pattern dtype {dtype.str!r} is not a number type")


def fit_batch(array: Any, input_shape: Sequence[int], dtype: Any = np.float32) -> np.ndarray:
    """Check that an array is a batch of patterns for ``input_shape`` and return it as one.

    Accepted: ``(n, *input_shape)``, or that with a trailing channel axis of size 1 added or
    removed, e.g. ``(n, 28, 28)`` for ``(28, 28, 1)``; ``n`` is at least 1. Unlike
    :func:`fit_array`, the batch axis is never guessed: it must be there.

    Args:
        array: an array of real numbers.
        input_shape: the model's input shape *without* the batch axis.
        dtype: the patterns' dtype: float32 (the default) or an integer type for token ids.

    Returns:
        A new C-contiguous array of ``dtype`` shaped ``(n, *input_shape)``.

    Raises:
        PatternError: the shape does not fit (the message names the expected and received
            shapes), the batch is empty, the dtype is not real numbers, or a value is NaN or
            infinite.
        ArgumentError: ``input_shape`` is not a shape (see :func:`check_shape`).
    """
    target = check_shape(input_shape)
    arr = np.asarray(array)
    check_dtype(arr.dtype)
    check_batch_fits(arr.shape, target)
    # Each pattern goes through fit_array's casts and checks; one call on the whole batch,
    # seen as a single pattern of the batch's own shape, does the same work in one pass.
    fitted = fit_array(arr.reshape(-1, *target), (arr.shape[0], *target), dtype)
    return fitted.reshape((arr.shape[0], *target))


def check_batch_fits(shape: Sequence[int], target: Shape) -> None:
    """Refuse an array shape that cannot be a batch of patterns for the input ``target``.

    Raises:
        PatternError: ``"batch shape (5, 28, 28, 3) does not fit input (28, 28, 1): expected
            (n, 28, 28, 1)"``, or the batch holds no patterns.
    """
    shape = tuple(int(axis) for axis in shape)
    inner = shape[1:]
    if shape and (inner == target or (*inner, 1) == target or inner == (*target, 1)):
        if shape[0] == 0:
            raise PatternError(f"batch shape {shape} holds no patterns")
        return
    expected = ", ".join(map(str, target))
    raise PatternError(f"batch shape {shape} does not fit input {target}: expected (n, {expected})")
