"""TensorFlow: ``tf.GradientTape`` around the model's call, compiled by ``tf.function``."""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from layerviz.extract.backends import (
    differentiable,
    input_dtypes,
    split_aux,
    structured_inputs,
    with_zeros,
)


@dataclass(frozen=True)
class TensorFlowBackend:
    """Gradients with ``tf.GradientTape``; see ``layerviz.extract.backends.Backend``."""

    name: str = "tensorflow"
    supports_gradients: bool = True
    supports_compilation: bool = True
    stateless: bool = False

    def gradient_function(self, model, objective, *, has_aux: bool = False):
        """See ``Backend.gradient_function``."""
        dtypes = input_dtypes(model)
        watched = [differentiable(d) for d in dtypes]

        # reduce_retracing: a new batch size reuses the trace with a None batch axis.
        @tf.function(reduce_retracing=True)
        def step(inputs, extra):
            with tf.GradientTape() as tape:
                for x, watch in zip(inputs, watched, strict=True):
                    if watch:
                        tape.watch(x)
                called = model(structured_inputs(model, inputs), training=False)
                outputs = keras.tree.flatten(called)
                values, aux = split_aux(objective(outputs, *extra), has_aux)
                total = tf.reduce_sum(values)
            sources = [x for x, watch in zip(inputs, watched, strict=True) if watch]
            grads = tape.gradient(total, sources, unconnected_gradients="zero")
            return values, grads, aux

        def fn(inputs, *extra):
            pairs = zip(inputs, dtypes, strict=True)
            tensors = [tf.convert_to_tensor(np.asarray(x, d)) for x, d in pairs]
            values, grads, aux = step(tensors, [tf.convert_to_tensor(e) for e in extra])
            result = (np.asarray(values), with_zeros(inputs, watched, grads))
            return (*result, keras.tree.map_structure(np.asarray, aux)) if has_aux else result

        return fn


BACKEND = TensorFlowBackend()
