"""The lens's forward pass: every layer pooled inside one compiled function.

Per layer and pattern the lens needs three numbers per channel: the mean over positions, the
maximum, and the mean of squares (for the running moments). They are computed inside the pass on
the extractor's rebuilt graph (``ActivationExtractor.gradient_model``, public), so only
``(batch, channels)`` arrays cross to the host; the full maps die inside the pass.

The pass is memory-bound: MobileNetV2 at 96² writes 488 MiB of outputs per batch of 32, and
each reduction reads them again. On TensorFlow the three are the cheapest reads found
(``bench/lens.py``; ``/tmp`` profiles under a load of 6–9 on 2 cores, 6 batches of 32, ×bare):
``reduce_mean``/``reduce_max``/``reduce_mean(square)`` 2.4–2.6×; the same over the batch axis
too 2.2×; XLA-fused reductions 3.7×; oneDNN global ``avg_pool``/``max_pool`` plus
``reduce_euclidean_norm`` (one read, no squared copy) 1.9–2.2×, and 1.55× at batches of 16;
mean and max alone 1.2–1.7×. Other backends run the same statistics as a ``keras.ops`` model.

Why not ``ActivationExtractor.extract_reduced``: it computes eleven statistics and the display
maps of every output, for the grid; on MobileNetV2 at 96² over 1,000 patterns it cost 5.6× the
bare forward passes.
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
        taps = tapped.outputs[: len(names)]
        self.positions = [
            _positions(tensor, name) for tensor, name in zip(taps, names, strict=True)
        ]
        self._vector = [len(t.shape) == 2 for t in taps]
        self._multi_input = len(tapped.inputs) > 1
        if keras.backend.backend() == "tensorflow":
            self._forward = _tensorflow_pass(tapped, len(names))
        else:
            self._forward = _predicting(_statistics_model(tapped, len(names)))

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


def _positions(tensor, name: str) -> int:
    """Positions per channel of a layer's output (1 for a vector per pattern)."""
    sides = list(tensor.shape[1:-1])
    if None in sides:  # the extractor refuses free input axes, so only a rare layer
        raise ModelStructureError(
            f"layer {name!r} has an output of free size {tuple(tensor.shape[1:])}; "
            "the dataset lens pools outputs of fixed sizes"
        )
    return math.prod(sides)


def _tensorflow_pass(tapped: keras.Model, n_taps: int):
    """One ``tf.function``: the tapped model, then per tap oneDNN global pools and a norm."""
    import tensorflow as tf

    def pooled(tensor) -> list:
        if tensor.dtype != tf.float32:  # float16 maps would overflow the sum of squares
            tensor = tf.cast(tensor, tf.float32)
        if len(tensor.shape) == 2:  # a vector per pattern is its own pool
            return [tensor, tf.square(tensor)]
        axes = list(range(1, len(tensor.shape) - 1))
        # sqrt(Σx²) in one read, squared back on the way out: no squared copy of the map.
        norm = tf.math.reduce_euclidean_norm(tensor, axis=axes)
        mean_sq = tf.square(norm) / float(math.prod(tensor.shape[1:-1]))
        if len(tensor.shape) == 4:
            window = tuple(tensor.shape[1:3])
            flat = (-1, tensor.shape[-1])
            mean = tf.reshape(tf.nn.avg_pool2d(tensor, window, window, "VALID"), flat)
            peak = tf.reshape(tf.nn.max_pool2d(tensor, window, window, "VALID"), flat)
            return [mean, peak, mean_sq]
        return [tf.reduce_mean(tensor, axis=axes), tf.reduce_max(tensor, axis=axes), mean_sq]

    @tf.function(reduce_retracing=True)
    def forward(x):
        out = tapped(x, training=False)
        stats = [s for tensor in out[:n_taps] for s in pooled(tensor)]
        return stats + list(out[n_taps:])

    return lambda x: [np.asarray(o) for o in forward(x)]


def _statistics_model(tapped: keras.Model, n_taps: int) -> keras.Model:
    """The same statistics as a ``keras.ops`` model, for backends other than TensorFlow."""
    outputs = []
    for tensor in tapped.outputs[:n_taps]:
        axes = tuple(range(1, len(tensor.shape) - 1))
        if axes:
            outputs += [
                keras.ops.mean(tensor, axis=axes),
                keras.ops.max(tensor, axis=axes),
                keras.ops.mean(keras.ops.square(tensor), axis=axes),
            ]
        else:
            outputs += [tensor, keras.ops.square(tensor)]
    finals = list(tapped.outputs[n_taps:])
    return keras.Model(tapped.inputs, outputs + finals, name="layerviz_pool")


def _predicting(model: keras.Model):
    """``model`` on one batch, numpy out, as the extractor runs its own pass off TensorFlow."""

    def predict(x):
        out = model.predict_on_batch(x)
        return [np.asarray(o) for o in (out if isinstance(out, (list, tuple)) else [out])]

    return predict
