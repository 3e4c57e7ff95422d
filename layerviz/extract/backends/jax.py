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

        weights = _Weights(model)

        def total(diff, fixed, extra, weight_values):
            inputs = _merge(diff, fixed, watched)
            trainable, non_trainable = weights.split(weight_values)
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
            extra = [jnp.asarray(e) for e in extra]
            (_, (values, aux)), grads = step(diff, fixed, extra, weights.values())
            result = (np.asarray(values), with_zeros(inputs, watched, grads))
            return (*result, keras.tree.map_structure(np.asarray, aux)) if has_aux else result

        return fn

    def forward_function(self, model):
        """See ``Backend.forward_function``: ``jax.jit`` over ``model.stateless_call``.

        Not ``predict_on_batch``: it copies each output with ``np.array`` and writes every
        weight back into the model after each call. Here the outputs stay in the buffers XLA
        wrote (``np.asarray`` shares them) and nothing is written back.
        """

        weights = _Weights(model)

        @jax.jit
        def call(values, x):
            trainable, non_trainable = weights.split(values)
            outputs, _ = model.stateless_call(trainable, non_trainable, x, training=False)
            return keras.tree.flatten(outputs)

        def fn(x):
            return read_only(call(weights.values(), x))

        return fn


class _Weights:
    """``model``'s weights, listed once, passed to a compiled function by value.

    Walking the layers for ``trainable_variables`` took ~10 ms a call on MobileNetV2, so the
    variables are listed here once and only their current values are read per call
    (``values()``). Inside the trace, ``split`` sorts those values into the trainable and
    non-trainable lists ``stateless_call`` takes, by the flags as they are when it traces: a
    ``trainable`` flag set later cannot make the two disagree.
    """

    def __init__(self, model):
        self.model = model
        self.variables = [*model.trainable_variables, *model.non_trainable_variables]

    def values(self) -> list:
        return [v.value for v in self.variables]

    def split(self, values) -> tuple[list, list]:
        by_id = {id(v): value for v, value in zip(self.variables, values, strict=True)}
        model = self.model
        return (
            [by_id[id(v)] for v in model.trainable_variables],
            [by_id[id(v)] for v in model.non_trainable_variables],
        )


def _merge(diff, fixed, watched) -> list:
    """The inputs back in model order from the differentiated and the integer ones."""
    diff, fixed = iter(diff), iter(fixed)
    return [next(diff) if w else next(fixed) for w in watched]


BACKEND = JaxBackend()
