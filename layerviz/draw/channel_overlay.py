"""One channel of a layer laid over the input: its map scaled to [0, 1] and stretched onto the
input's spatial axes (numpy and Pillow, no Dash, no Keras).

An image input ``(H, W[, C])`` takes the channel of a ``(h, w, c)`` output, resized to
``H × W``; a sequence input ``(T[, C])`` takes the channel of a ``(t, c)`` output, resized to
``T`` steps. The stretch is bilinear with pixel centres aligned, so a ``26 × 26`` map of a
``valid`` convolution covers the whole ``28 × 28`` picture: an approximation of where the
channel looked, as Grad-CAM's own upsampling is. Outputs without such axes (a ``Dense``, a
``Flatten``) have no place on the input: :func:`overlay_problem` says so in a sentence.
The heat it returns is what :func:`layerviz.draw.figures.explanation_figure` draws.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

from layerviz.errors import ArgumentError

__all__ = [
    "channel_heat",
    "channel_map",
    "input_kind",
    "overlay_problem",
    "spatial_shape",
    "unit_range",
    "upsample",
]

#: A ``(t, c)`` input with at most this many channels (and more steps) is a sequence, as
#: :func:`layerviz.draw.figures.pattern_figure` draws it; wider ones are images.
MAX_SEQUENCE_CHANNELS = 8


def input_kind(shape: Sequence[int]) -> str | None:
    """``"image"`` for ``(H, W)`` or ``(H, W, C)``, ``"sequence"`` for ``(T,)`` or ``(T, C)``
    with ``C ≤ 8 < T``; None for any other input (nothing to lay a channel over)."""
    shape = tuple(shape)
    if len(shape) == 1:
        return "sequence"
    if len(shape) == 2:
        steps, channels = shape
        return "sequence" if channels <= MAX_SEQUENCE_CHANNELS < steps else "image"
    return "image" if len(shape) == 3 else None


def spatial_shape(shape: Sequence[int]) -> tuple[int, ...]:
    """The axes a heat map covers: ``(H, W)`` of an image, ``(T,)`` of a sequence.

    Raises:
        ArgumentError: an input that is neither.
    """
    kind = input_kind(shape)
    if kind is None:
        raise ArgumentError(f"input {tuple(shape)} is neither an image nor a sequence")
    return tuple(shape[:2]) if kind == "image" else (int(shape[0]),)


def overlay_problem(layer_shape: Sequence[int], input_shape: Sequence[int]) -> str | None:
    """Why a layer's channels cannot be laid over the input, as a sentence; None when they can.

    Args:
        layer_shape: the layer's output shape without the batch axis, channels last.
        input_shape: the input's shape without the batch axis.
    """
    layer_shape, input_shape = tuple(layer_shape), tuple(input_shape)
    kind = input_kind(input_shape)
    if kind is None:
        return f"The input {input_shape} is neither an image nor a sequence to lay a channel over."
    if kind == "image" and len(layer_shape) != 3:
        return (
            f"This layer's output {layer_shape} has no height × width maps to lay over the "
            f"{input_shape[0]}×{input_shape[1]} input image."
        )
    if kind == "sequence" and len(layer_shape) != 2:
        return (
            f"This layer's output {layer_shape} has no time axis to lay along the "
            f"{input_shape[0]}-step input."
        )
    return None


def channel_map(array: np.ndarray, channel: int, input_shape: Sequence[int]) -> np.ndarray:
    """Channel ``channel`` of a layer output (no batch axis) as the map it lays over the input:
    ``(h, w)`` over an image, ``(t,)`` along a sequence.

    Raises:
        ArgumentError: the output has no such map (:func:`overlay_problem`), or ``channel`` is
            not a whole number from 0 to the number of channels − 1.
    """
    array = np.asarray(array)
    problem = overlay_problem(array.shape, input_shape)
    if problem is not None:
        raise ArgumentError(problem)
    n = array.shape[-1]
    whole = isinstance(channel, int | np.integer) and not isinstance(channel, bool)
    if not whole or not 0 <= channel < n:
        # repr() of an int past 4,300 digits raises ValueError itself: say its size instead
        bits = abs(int(channel)).bit_length() if whole else 0
        shown = f"a number of about {int(bits * 0.30103)} digits" if bits > 64 else repr(channel)
        raise ArgumentError(f"channel must be a whole number from 0 to {n - 1}, got {shown}")
    return array[..., int(channel)]


def unit_range(values: np.ndarray) -> np.ndarray:
    """``values`` scaled so its smallest finite value is 0 and its largest 1, as float32.

    A constant map is all zeros (nothing stands out); NaN and ±Inf become 0.
    """
    values = np.asarray(values, dtype=np.float32)
    finite = np.isfinite(values)
    if not finite.any():
        return np.zeros(values.shape, np.float32)
    low, high = float(values[finite].min()), float(values[finite].max())
    scaled = (values - low) / (high - low) if high > low else np.zeros_like(values)
    return np.where(finite, scaled, 0.0).astype(np.float32)


def upsample(values: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Bilinear resize of an ``(h, w)`` map to ``shape == (H, W)``, or of a ``(t,)`` strip to
    ``shape == (T,)``; pixel centres aligned (the corners are not pinned), float32.

    Raises:
        ArgumentError: ``values`` and ``shape`` differ in rank, or either is empty or not 1-D
            or 2-D.
    """
    values = np.asarray(values, dtype=np.float32)
    shape = tuple(int(s) for s in shape)
    if values.ndim != len(shape) or values.ndim not in (1, 2) or not values.size:
        raise ArgumentError(f"cannot resize a map of shape {values.shape} to {shape}")
    if min(shape) < 1:
        raise ArgumentError(f"cannot resize a map to the empty shape {shape}")
    if values.shape == shape:
        return values.copy()
    plane = values if values.ndim == 2 else values[np.newaxis, :]
    size = (shape[1], shape[0]) if values.ndim == 2 else (shape[0], 1)  # Pillow: (width, height)
    image = Image.fromarray(np.ascontiguousarray(plane))  # float32 → mode "F"
    resized = np.array(image.resize(size, Image.Resampling.BILINEAR), dtype=np.float32)
    return resized.reshape(shape)


def channel_heat(array: np.ndarray, channel: int, input_shape: Sequence[int]) -> np.ndarray:
    """Channel ``channel`` of a layer output scaled to [0, 1] and stretched onto the input's
    spatial axes: the heat map :func:`layerviz.draw.figures.explanation_figure` draws over it.

    Args:
        array: the layer's output without the batch axis, channels last.
        channel: which channel, from 0.
        input_shape: the input's shape without the batch axis.

    Returns:
        ``(H, W)`` for an image input, ``(T,)`` for a sequence, float32 in [0, 1].

    Raises:
        ArgumentError: as :func:`channel_map`.
    """
    heat = upsample(
        unit_range(channel_map(array, channel, input_shape)), spatial_shape(input_shape)
    )
    return np.clip(heat, 0.0, 1.0, out=heat)
