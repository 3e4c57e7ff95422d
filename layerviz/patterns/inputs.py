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
from collections.abc import Sequence
from typing import Any

import numpy as np

from layerviz.errors import ArgumentError, ModelStructureError, PatternError

__all__ = [
    "INT_PATTERN_HIGH",
    "SEED_LIMIT",
    "Shape",
    "check_seed",
    "check_shape",
    "fit_array",
    "fit_batch",
    "input_dtypes_of",
    "input_names_of",
    "input_shape_of",
    "input_shapes_of",
    "random_pattern",
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
    int32 ids in ``[0, input_dim)`` of the model's first ``Embedding``, or in
    ``[0, INT_PATTERN_HIGH)`` when it has none.

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
    high = _embedding_input_dim(model_or_shape) or INT_PATTERN_HIGH
    patterns = []
    for shape, dtype in zip(shapes, input_dtypes_of(model_or_shape), strict=True):
        if dtype.kind == "i":
            patterns.append(rng.integers(0, high, size=(1, *shape), dtype=dtype))
        else:
            patterns.append(rng.random((1, *shape), dtype=dtype))
    return patterns[0] if len(patterns) == 1 else patterns


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
