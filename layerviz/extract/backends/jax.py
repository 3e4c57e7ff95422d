"""JAX: ``jax.value_and_grad`` over ``model.stateless_call``, compiled by ``jax.jit``; the
forward pass is the same ``stateless_call`` under ``jax.jit``.

The weights go in as arguments on every call (their current values), so one compiled
function stays right after the model is trained further.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import keras
import numpy as np

from layerviz.extract.backends import (
    differentiable,
    input_dtypes,
    read_only,
    split_aux,
    structured_inputs,
    with_zeros,
)


@dataclass(frozen=True)
class JaxBackend:
    """Gradients with ``jax.value_and_grad``; see ``layerviz.extract.backends.Backend``."""

    name: str = "jax"
    supports_gradients: bool = True
    supports_compilation: bool = True
    stateless: bool = True

    def gradient_function(self, model, objective, *, has_aux: bool = False):
        """See ``Backend.gradient_function``."""
        dtypes = input_dtypes(model)
        watched = [differentiable(d) for d in dtypes]

        def total(diff, fixed, extra, trainable, non_trainable):
            inputs = _merge(diff, fixed, watched)
            outputs, _ = model.stateless_call(
                trainable, non_trainable, structured_inputs(model, inputs), training=False
            )
            values, aux = split_aux(objective(keras.tree.flatten(outputs), *extra), has_aux)
            return jnp.sum(values), (values, aux)

        step = jax.jit(jax.value_and_grad(total, has_aux=True))

        def fn(inputs, *extra):
            arrays = [jnp.asarray(np.asarray(x, d)) for x, d in zip(inputs, dtypes, strict=True)]
            diff = [a for a, w in zip(arrays, watched, strict=True) if w]
            fixed = [a for a, w in zip(arrays, watched, strict=True) if not w]
            trainable, non_trainable = _weights(model)
            extra = [jnp.asarray(e) for e in extra]
            (_, (values, aux)), grads = step(diff, fixed, extra, trainable, non_trainable)
            result = (np.asarray(values), with_zeros(inputs, watched, grads))
            return (*result, keras.tree.map_structure(np.asarray, aux)) if has_aux else result

        return fn

    def forward_function(self, model):
        """See ``Backend.forward_function``: ``jax.jit`` over ``model.stateless_call``.

        Not ``predict_on_batch``: it copies each output with ``np.array`` and writes every
        weight back into the model after each call. Here the outputs stay in the buffers XLA
        wrote (``np.asarray`` shares them) and nothing is written back.
        """

        @jax.jit
        def call(trainable, non_trainable, x):
            outputs, _ = model.stateless_call(trainable, non_trainable, x, training=False)
            return keras.tree.flatten(outputs)

        def fn(x):
            trainable, non_trainable = _weights(model)
            return read_only(call(trainable, non_trainable, x))

        return fn


def _weights(model) -> tuple[list, list]:
    """The current values of ``model``'s trainable and non-trainable weights, in the order
    ``stateless_call`` takes them (read on every call: a trainable flag set later changes the
    lists' lengths, and so retraces instead of mismatching)."""
    return (
        [v.value for v in model.trainable_variables],
        [v.value for v in model.non_trainable_variables],
    )


def _merge(diff, fixed, watched) -> list:
    """The inputs back in model order from the differentiated and the integer ones."""
    diff, fixed = iter(diff), iter(fixed)
    return [next(diff) if w else next(fixed) for w in watched]


BACKEND = JaxBackend()
