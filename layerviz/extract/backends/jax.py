"""JAX: ``jax.value_and_grad`` over ``model.stateless_call``, compiled by ``jax.jit``.

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
            trainable = [v.value for v in model.trainable_variables]
            non_trainable = [v.value for v in model.non_trainable_variables]
            extra = [jnp.asarray(e) for e in extra]
            (_, (values, aux)), grads = step(diff, fixed, extra, trainable, non_trainable)
            result = (np.asarray(values), with_zeros(inputs, watched, grads))
            return (*result, keras.tree.map_structure(np.asarray, aux)) if has_aux else result

        return fn


def _merge(diff, fixed, watched) -> list:
    """The inputs back in model order from the differentiated and the integer ones."""
    diff, fixed = iter(diff), iter(fixed)
    return [next(diff) if w else next(fixed) for w in watched]


BACKEND = JaxBackend()
