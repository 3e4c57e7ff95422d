"""Perturbations of a pattern (noise, shift, occlusion, scaling) and the occlusion sweep.

A pattern here is one float array shaped ``(1, *input_shape)``. Its *spatial* axes are read
from the input shape by the rule the dashboard's input figure uses:

=======================  ===============================  ==========================
input shape              read as                          shift / occlusion move on
=======================  ===============================  ==========================
``(t,)``                 a 1-D signal                     time (``dx``, ``x``)
``(t, c)``, c ≤ 8 < t    a 1-D signal of ``c`` channels   time (``dx``, ``x``)
``(h, w)``               a 2-D image                      rows (``dy``, ``y``), columns
``(h, w, c)``            a 2-D image of ``c`` channels    rows, columns (all channels)
=======================  ===============================  ==========================

so a waveform shifts along time and a digit across the page. Noise is seeded: the same seed
gives the same perturbed pattern, so a view can be reproduced.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from layerviz.errors import ArgumentError, PatternError
from layerviz.patterns.inputs import check_seed

__all__ = [
    "KINDS",
    "OcclusionMap",
    "format_spec",
    "occlusion_sweep",
    "parse_spec",
    "perturb",
    "spatial_shape",
]

#: Each kind's parameters, in the order a spec such as ``"shift:2,-1"`` gives them, with defaults.
KINDS: dict[str, dict[str, float]] = {
    "noise": {"sigma": 0.1},
    "shift": {"dx": 0, "dy": 0},
    "occlude": {"x": 0, "y": 0, "size": 4, "value": 0.0},
    "scale": {"factor": 1.0},
}
#: Gaussian noise's standard deviation and the intensity factor, each within these bounds.
SIGMA_RANGE = (0.0, 100.0)
FACTOR_RANGE = (0.0, 100.0)
#: A ``(t, c)`` input with at most this many channels (and more steps) is a 1-D signal.
SIGNAL_MAX_CHANNELS = 8
#: Patterns per forward pass in the occlusion sweep, at most.
MAX_BATCH = 4096


def spatial_shape(input_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The axes a shift or an occlusion moves on: ``(t,)`` for a signal, ``(h, w)`` for an image.

    Raises:
        ArgumentError: the shape has more than three axes (no rule says which are spatial).
    """
    shape = tuple(int(d) for d in input_shape)
    if len(shape) == 1 or (len(shape) == 2 and shape[1] <= SIGNAL_MAX_CHANNELS < shape[0]):
        return shape[:1]
    if len(shape) in (2, 3):
        return shape[:2]
    raise ArgumentError(
        f"input shape {shape} is neither a signal (t,) / (t, c) nor an image (h, w) / "
        "(h, w, c); shift and occlusion need one of those"
    )


def perturb(pattern: Any, kind: str, seed: int = 0, **params: Any) -> np.ndarray:
    """A perturbed copy of ``pattern``: Gaussian noise, a shift, an occluding box, or scaling.

    Args:
        pattern: a float array shaped ``(1, *input_shape)``.
        kind: ``"noise"`` (``sigma``), ``"shift"`` (``dx``, ``dy``: whole pixels, right and
            down; edges filled with zeros; a 1-D signal shifts along time by ``dx``),
            ``"occlude"`` (``x``, ``y``: the box's top-left corner, ``size``: its side, clipped
            at the edges, ``value``: what fills it, on every channel) or ``"scale"``
            (``factor``). Missing parameters take ``KINDS``' defaults.
        seed: the noise's seed (``check_seed``'s range); other kinds ignore it.
        **params: the kind's parameters.

    Returns:
        A new float32 array of the pattern's shape.

    Raises:
        ArgumentError: an unknown kind or parameter, a value out of its range (the message
            names the range), or a pattern that is not one float array with a batch axis of 1.
    """
    arr = _as_pattern(pattern)
    values = _checked(kind, params, arr.shape[1:])
    if kind == "noise":
        rng = np.random.default_rng(_seed(seed))
        return arr + rng.normal(0.0, values["sigma"], arr.shape).astype(np.float32)
    if kind == "scale":
        return arr * np.float32(values["factor"])
    if kind == "shift":
        return _shifted(arr, values["dx"], values["dy"])
    return _occluded(arr, values["x"], values["y"], values["size"], values["value"])


# --- specs: "noise:0.1", "shift:2,-1", "occlude:x=4,y=4,size=8" -----------------------------


def parse_spec(text: str) -> tuple[str, dict[str, float]]:
    """Read a perturbation written as ``kind[:values]`` (the CLI's ``--perturb``, the URL's).

    Values are comma-separated, positional in ``KINDS``' order or named (``size=8``).

    Returns:
        ``(kind, params)``, params not yet range-checked (``perturb`` does that).

    Raises:
        ArgumentError: an unknown kind, an unknown or repeated name, a value not a number.
    """
    kind, _, rest = str(text).strip().partition(":")
    kind = kind.strip().lower()
    names = list(_kind_params(kind))
    params: dict[str, float] = {}
    items = [item.strip() for item in rest.split(",")] if rest.strip() else []
    for position, item in enumerate(items):
        name, eq, value = item.partition("=")
        if not eq:
            if position >= len(names):
                raise ArgumentError(f"{kind} takes at most {len(names)} values, got {rest!r}")
            name, value = names[position], item
        name = name.strip()
        if name not in names or name in params:
            raise ArgumentError(
                f"{kind} takes {', '.join(names)} once each, got {name!r} in {text!r}"
            )
        params[name] = _number(name, value)
    return kind, params


def format_spec(kind: str, params: Mapping[str, float]) -> str:
    """The spec ``parse_spec`` reads back: ``"occlude:x=4,y=4,size=8,value=0"``."""
    names = _kind_params(kind)
    return f"{kind}:" + ",".join(f"{n}={params.get(n, names[n]):g}" for n in names)


# --- the occlusion sweep -----------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class OcclusionMap:
    """How much the class's probability drops with a box at each position.

    Attributes:
        drop: ``base_probability − probability`` per position, shaped ``(len(ys), len(xs))``
            (one row for a 1-D signal); positive where covering the input hurts the class.
        probability: the class's probability with the box at each position, same shape.
        ys, xs: the boxes' top-left corners (``ys == [0]`` for a signal).
        size, stride: the box's side and the step between positions.
        class_index: the class whose probability is followed.
        base_probability: its probability with nothing covered.
        space: the input's spatial shape (``spatial_shape``): ``(t,)`` or ``(h, w)``.
    """

    drop: np.ndarray
    probability: np.ndarray
    ys: np.ndarray
    xs: np.ndarray
    size: int
    stride: int
    class_index: int
    base_probability: float
    space: tuple[int, ...]


def occlusion_sweep(
    model,
    pattern: Any,
    size: int = 4,
    stride: int = 2,
    class_index: int | None = None,
    batch_size: int = 64,
    progress: Callable[[int, int], None] | None = None,
    value: float = 0.0,
) -> OcclusionMap:
    """Slide an occluding box over the pattern and record the class's probability drop.

    Every position's occluded pattern goes through the extractor's one compiled pass, in
    batches of ``batch_size``. The model's first output is read as class probabilities when
    its rows are (values in [0, 1] summing to 1); otherwise it is taken for logits and passed
    through a softmax (a sigmoid for a single unit).

    Args:
        model: a Keras model or an ``ActivationExtractor`` (single input).
        pattern: a float array shaped ``(1, *input_shape)``.
        size: the box's side, 1 up to the smallest spatial side.
        stride: the step between positions, at least 1.
        class_index: the class to follow; by default the class A is predicted as.
        batch_size: patterns per forward pass, 1 to ``MAX_BATCH``.
        progress: called as ``progress(done, total)`` after each batch.
        value: what fills the box.

    Returns:
        An ``OcclusionMap``.

    Raises:
        ArgumentError: a size, stride, batch size or class index out of its range, or a
            model with several inputs.
        PatternError: the pattern does not fit the model.
    """
    from layerviz.extract.activations import ActivationExtractor

    extractor = model if isinstance(model, ActivationExtractor) else ActivationExtractor(model)
    if len(extractor.input_shapes) != 1:
        raise ArgumentError("the occlusion sweep covers a model with one input")
    base = _fit(extractor, pattern)
    space = spatial_shape(extractor.input_shapes[0])
    size = _whole("size", size, 1, min(space))
    stride = _whole("stride", stride, 1, max(space))
    batch_size = _whole("batch_size", batch_size, 1, MAX_BATCH)
    value = _real("value", value, -math.inf, math.inf)
    base_probs = probabilities(extractor.run(base).outputs[0][np.newaxis])[0]
    if class_index is None:
        class_index = int(np.argmax(base_probs))
    class_index = _whole("class_index", class_index, 0, base_probs.size - 1)
    ys = np.arange(0, space[0] - size + 1, stride) if len(space) == 2 else np.zeros(1, int)
    xs = np.arange(0, space[-1] - size + 1, stride)
    corners = [(int(y), int(x)) for y in ys for x in xs]
    found = np.empty(len(corners), dtype=np.float32)
    for start in range(0, len(corners), batch_size):
        chunk = corners[start : start + batch_size]
        batch = np.repeat(base, len(chunk), axis=0)
        for row, (y, x) in enumerate(chunk):
            _fill_box(batch[row : row + 1], x, y, size, value)
        found[start : start + len(chunk)] = probabilities(
            extractor.predict_batch(batch)[0]  # outputs only: no layer's output kept
        )[:, class_index]
        if progress:
            progress(start + len(chunk), len(corners))
    probability = found.reshape(len(ys), len(xs))
    base_p = float(base_probs[class_index])
    drop = (np.float32(base_p) - probability).astype(np.float32)
    return OcclusionMap(drop, probability, ys, xs, size, stride, class_index, base_p, space)


def probabilities(outputs: np.ndarray) -> np.ndarray:
    """A model output batch ``(n, ...)`` as class probabilities ``(n, k)`` (see the sweep)."""
    rows = np.asarray(outputs, dtype=np.float64).reshape(len(outputs), -1)
    if rows.shape[1] == 1:
        is_prob = bool(((rows >= 0) & (rows <= 1)).all())
        return rows if is_prob else 1.0 / (1.0 + np.exp(-rows))
    in_range = bool(((rows >= 0) & (rows <= 1)).all())
    if in_range and np.allclose(rows.sum(axis=1), 1.0, atol=1e-3):
        return rows
    shifted = np.exp(rows - rows.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


# --- helpers --------------------------------------------------------------------------------


def _as_pattern(pattern: Any) -> np.ndarray:
    if isinstance(pattern, (list, tuple)) and pattern and isinstance(pattern[0], np.ndarray):
        raise ArgumentError(
            f"perturb takes one pattern array, got {len(pattern)} (a model with several "
            "inputs): perturb each input's array on its own"
        )
    try:
        arr = np.asarray(pattern)
    except ValueError:
        raise ArgumentError("the pattern is not a rectangular array of numbers") from None
    if arr.dtype.kind in "iub":
        raise ArgumentError(
            f"perturbations change real values; this pattern holds {arr.dtype} (token ids?)"
        )
    if arr.dtype.kind != "f" or arr.ndim < 2 or arr.shape[0] != 1:
        raise ArgumentError(
            f"a pattern is a float array shaped (1, *input_shape), got {arr.dtype} {arr.shape}"
        )
    return np.array(arr, dtype=np.float32)


def _fit(extractor, pattern: Any) -> np.ndarray:
    from layerviz.patterns.inputs import fit_array

    return fit_array(pattern, extractor.input_shapes[0], extractor.input_dtypes[0])


def _kind_params(kind: str) -> dict[str, float]:
    if kind not in KINDS:
        raise ArgumentError(f"perturbation kind must be one of {', '.join(KINDS)}, got {kind!r}")
    return KINDS[kind]


def _checked(kind: str, params: Mapping[str, Any], shape: tuple[int, ...]) -> dict[str, Any]:
    """The kind's parameters with defaults filled in, each checked against its range."""
    names = _kind_params(kind)
    unknown = sorted(set(params) - set(names))
    if unknown:
        raise ArgumentError(f"{kind} takes {', '.join(names)}, got {', '.join(unknown)}")
    values = {**names, **params}
    if kind == "noise":
        return {"sigma": _real("sigma", values["sigma"], *SIGMA_RANGE)}
    if kind == "scale":
        return {"factor": _real("factor", values["factor"], *FACTOR_RANGE)}
    space = spatial_shape(shape)
    width, height = space[-1], space[0] if len(space) == 2 else 1
    if kind == "shift":
        return {
            "dx": _whole("dx", values["dx"], 1 - width, width - 1),
            "dy": _whole("dy", values["dy"], 1 - height, height - 1, signal=len(space) == 1),
        }
    return {
        "x": _whole("x", values["x"], 0, width - 1),
        "y": _whole("y", values["y"], 0, height - 1, signal=len(space) == 1),
        "size": _whole("size", values["size"], 1, max(space)),
        "value": _real("value", values["value"], -math.inf, math.inf),
    }


def _whole(name: str, value: Any, low: int, high: int, signal: bool = False) -> int:
    """``value`` as an int in ``[low, high]``; ``2.0`` is fine, ``2.5`` and ``True`` are not."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if ok and float(value).is_integer() and low <= value <= high:
        return int(value)
    where = " (a 1-D signal moves along time only)" if signal else ""
    raise ArgumentError(f"{name} must be a whole number from {low} to {high}{where}, got {value!r}")


def _real(name: str, value: Any, low: float, high: float) -> float:
    """``value`` as a finite float in ``[low, high]``."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if ok and math.isfinite(value) and low <= value <= high:
        return float(value)
    span = "a finite number" if math.isinf(low) else f"a number from {low:g} to {high:g}"
    raise ArgumentError(f"{name} must be {span}, got {value!r}")


def _number(name: str, text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise ArgumentError(f"{name} must be a number, got {text.strip()!r}") from None
    return int(number) if number.is_integer() else number


def _seed(seed: Any) -> int:
    try:
        return check_seed(seed)
    except PatternError as exc:
        raise ArgumentError(str(exc)) from None


def _shifted(arr: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """``arr`` moved ``dx`` along its last spatial axis and ``dy`` along the first; zeros in."""
    space = spatial_shape(arr.shape[1:])
    offsets = (dx,) if len(space) == 1 else (dy, dx)
    out = np.zeros_like(arr)
    target, source = [slice(None)], [slice(None)]
    for offset, side in zip(offsets, space, strict=True):
        target.append(slice(max(offset, 0), side + min(offset, 0)))
        source.append(slice(max(-offset, 0), side - max(offset, 0)))
    out[tuple(target)] = arr[tuple(source)]
    return out


def _occluded(arr: np.ndarray, x: int, y: int, size: int, value: float) -> np.ndarray:
    out = arr.copy()
    _fill_box(out, x, y, size, value)
    return out


def _fill_box(arr: np.ndarray, x: int, y: int, size: int, value: float) -> None:
    """Fill the box at ``(x, y)`` of side ``size`` (clipped) in a ``(1, *shape)`` array."""
    space = spatial_shape(arr.shape[1:])
    if len(space) == 1:
        arr[:, x : x + size] = value
    else:
        arr[:, y : y + size, x : x + size] = value
