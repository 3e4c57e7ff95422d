"""The arithmetic of explanation maps, on any backend: the class score differentiated, the
head's compiled forward pass, the bilinear resize and the scaling to [0, 1]."""

from __future__ import annotations

import keras
import numpy as np

from layerviz.extract.backends import forward_function

__all__ = ["class_objective", "compiled_forward", "resize", "unit_range"]


def class_objective(n_outputs: int, target: str):
    """``objective(outputs, k) -> (scores (batch,), class)``, in ``keras.ops`` (any backend).

    The score of class ``k``, or of row 0's top class when ``k`` < 0 (the clean pattern of
    a SmoothGrad batch picks it). Outputs with more axes than ``(batch, classes)`` (a class
    per time step, say) are summed over them; a one-unit head is widened to two classes:
    ``(-z, z)`` for logits, ``(1 - p, p)`` for probabilities.
    """
    ops = keras.ops

    def objective(outputs, k):
        y = outputs[0]
        if len(y.shape) == 1:
            y = ops.expand_dims(y, -1)
        if n_outputs == 1:
            other = ops.negative(y) if target == "logit" else ops.subtract(1.0, y)
            y = ops.concatenate([other, y], axis=-1)
        per_class = ops.sum(y, axis=tuple(range(1, len(y.shape) - 1))) if len(y.shape) > 2 else y
        top = ops.cast(ops.argmax(per_class[0]), "int32")
        chosen = ops.where(ops.less(k, 0), top, k)
        return ops.take(per_class, chosen, axis=1), chosen

    return objective


def compiled_forward(model: keras.Model):
    """``model`` on one batch, compiled, as a list of numpy arrays (its outputs)."""
    return forward_function(model)


def resize(heat: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Bilinear resize of a ``(h, w)`` or ``(t,)`` map to ``shape`` (``keras.ops``' resize,
    half-pixel centres as ``tf.image.resize`` and PIL's bilinear have them)."""
    image = heat[:, :, None] if len(shape) == 2 else heat[:, None, None]
    size = shape if len(shape) == 2 else (shape[0], 1)
    resized = keras.ops.image.resize(image.astype(np.float32), size, interpolation="bilinear")
    return keras.ops.convert_to_numpy(resized).reshape(shape)


def unit_range(heat: np.ndarray) -> np.ndarray:
    """Scale a non-negative map to [0, 1] by its maximum; an all-zero map stays zeros."""
    heat = np.maximum(np.asarray(heat, dtype=np.float32), 0.0)
    top = float(heat.max()) if heat.size else 0.0
    return heat / top if top > 0 else np.zeros_like(heat)
