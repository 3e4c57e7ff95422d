"""PyTorch: the eager call and ``torch.autograd.grad`` (nothing to compile); the forward pass
is the eager call under ``torch.no_grad``."""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
import torch

from layerviz.extract.backends import (
    differentiable,
    input_dtypes,
    read_only,
    split_aux,
    structured_inputs,
    with_zeros,
)


@dataclass(frozen=True)
class TorchBackend:
    """Gradients with ``torch.autograd.grad``; see ``layerviz.extract.backends.Backend``."""

    name: str = "torch"
    supports_gradients: bool = True
    supports_compilation: bool = False
    stateless: bool = False

    def gradient_function(self, model, objective, *, has_aux: bool = False):
        """See ``Backend.gradient_function``."""
        dtypes = input_dtypes(model)
        watched = [differentiable(d) for d in dtypes]

        def fn(inputs, *extra):
            # convert_to_tensor puts the arrays on the device Keras uses (a GPU when it has one).
            tensors = [
                keras.ops.convert_to_tensor(np.asarray(x, d)).detach().requires_grad_(w)
                for x, d, w in zip(inputs, dtypes, watched, strict=True)
            ]
            extra = [keras.ops.convert_to_tensor(e) for e in extra]
            with torch.enable_grad():
                called = model(structured_inputs(model, tensors), training=False)
                outputs = keras.tree.flatten(called)
                values, aux = split_aux(objective(outputs, *extra), has_aux)
                sources = [t for t, w in zip(tensors, watched, strict=True) if w]
                grads = torch.autograd.grad(
                    values.sum(), sources, allow_unused=True, materialize_grads=True
                )
            result = (_numpy(values), with_zeros(inputs, watched, [_numpy(g) for g in grads]))
            return (*result, keras.tree.map_structure(_numpy, aux)) if has_aux else result

        return fn

    def forward_function(self, model):
        """See ``Backend.forward_function``: ``model(x)`` under ``torch.no_grad``, as
        ``predict_on_batch`` runs it, without its data-adapter machinery."""

        def fn(x):
            x = keras.tree.map_structure(keras.ops.convert_to_tensor, x)
            with torch.no_grad():
                outputs = model(x, training=False)
            return read_only([_numpy(o) for o in keras.tree.flatten(outputs)])

        return fn


def _numpy(tensor) -> np.ndarray:
    return tensor.detach().cpu().numpy()


BACKEND = TorchBackend()
