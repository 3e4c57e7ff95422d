"""The lens's forward pass: every layer pooled inside one compiled function.

Per layer and pattern the lens needs three numbers per channel: the mean over positions, the
maximum, and the mean of squares (for the running moments). They are computed with
``keras.ops`` on the extractor's rebuilt graph (``ActivationExtractor.gradient_model``, public),
so only ``(batch, channels)`` arrays cross to the host; the full maps die inside the pass.

Why not ``ActivationExtractor.extract_reduced``: it computes eleven statistics and the display
maps of every output, for the grid; on MobileNetV2 at 96² over 1,000 patterns it cost 5.6× the
bare forward passes where this pass costs about 1.2× (``bench/lens.py``).
"""

from __future__ import annotations

import math

import keras
import numpy as np

from layerviz.errors import ModelStructureError
from layerviz.extract.activations import ActivationExtractor

__all__ = ["PooledBatch", "PoolingPass"]


class PooledBatch:
    """One batch through :class:`PoolingPass`: per layer ``(mean, maximum, mean of squares)``,
    each ``(batch, channels)`` float32, and the model's own outputs."""

    def __init__(self, layers: list[tuple[np.ndarray, np.ndarray, np.ndarray]], outputs: list):
        self.layers = layers
        self.outputs = outputs


class PoolingPass:
    """A compiled pass from the model's inputs to every layer's pooled statistics.

    Args:
        extractor: the extractor whose layers (and order) are pooled.
    """

    def __init__(self, extractor: ActivationExtractor):
        names = [name for _, name, _ in extractor.layers]
        tapped = extractor.gradient_model(names)
        taps, finals = tapped.outputs[: len(names)], tapped.outputs[len(names) :]
        outputs = []
        self.positions: list[int] = []
        for tensor, name in zip(taps, names, strict=True):
            axes = tuple(range(1, len(tensor.shape) - 1))
            sides = [tensor.shape[a] for a in axes]
            if None in sides:  # the extractor refuses free input axes, so only a rare layer
                raise ModelStructureError(
                    f"layer {name!r} has an output of free size {tuple(tensor.shape[1:])}; "
                    "the dataset lens pools outputs of fixed sizes"
                )
            self.positions.append(math.prod(sides))
            if axes:
                outputs += [
                    keras.ops.mean(tensor, axis=axes),
                    keras.ops.max(tensor, axis=axes),
                    keras.ops.mean(keras.ops.square(tensor), axis=axes),
                ]
            else:  # a vector per pattern is its own pool
                outputs += [tensor, keras.ops.square(tensor)]
        self._vector = [len(t.shape) == 2 for t in taps]
        self._n_finals = len(finals)
        self.model = keras.Model(tapped.inputs, outputs + list(finals), name="layerviz_pool")
        self._forward = _compiled(self.model)
        self._multi_input = len(tapped.inputs) > 1

    def run(self, batch: list[np.ndarray]) -> PooledBatch:
        """Pool one batch (one array per input, already fitted to the inputs)."""
        out = self._forward(batch if self._multi_input else batch[0])
        layers, at = [], 0
        for vector in self._vector:
            if vector:
                value, square = out[at], out[at + 1]
                layers.append((value, value, square))
                at += 2
            else:
                layers.append((out[at], out[at + 1], out[at + 2]))
                at += 3
        return PooledBatch(layers, out[at:])


def _compiled(model: keras.Model):
    """``model`` on one batch, numpy out: a ``tf.function`` on TensorFlow, else
    ``predict_on_batch`` (as the extractor runs its own pass)."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        fn = tf.function(lambda x: model(x, training=False), reduce_retracing=True)

        def run(x):
            out = fn(x)
            return [np.asarray(o) for o in (out if isinstance(out, (list, tuple)) else [out])]

        return run

    def predict(x):
        out = model.predict_on_batch(x)
        return [np.asarray(o) for o in (out if isinstance(out, (list, tuple)) else [out])]

    return predict
