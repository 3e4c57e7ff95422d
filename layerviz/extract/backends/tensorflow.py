"""TensorFlow: ``tf.GradientTape`` around the model's call, compiled by ``tf.function``; the
forward pass is the same call under ``tf.function``."""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from layerviz.extract.backends import (
    differentiable,
    input_dtypes,
    read_only,
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

    def forward_function(self, model):
        """See ``Backend.forward_function``: ``tf.function`` over ``model(x)``.

        ``reduce_retracing``: a new batch size reuses the trace with a None batch axis.
        """
        call = tf.function(lambda x: model(x, training=False), reduce_retracing=True)

        def fn(x):
            # np.asarray shares the tensor's buffer; .numpy() copies it, which on MobileNetV2
            # is 83 MB into fresh pages per call and costs twice the forward pass itself
            # (bench/extract.py).
            return read_only(keras.tree.flatten(call(x)))

        return fn


BACKEND = TensorFlowBackend()
