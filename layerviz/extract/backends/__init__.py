"""Gradients on every Keras 3 backend, behind one small interface (a module per backend).

Keras 3 runs one model on TensorFlow, JAX or PyTorch but has no backend-neutral gradient
(``keras.ops.grad`` is not released; keras-team/keras #20760). Each module here declares what
its backend supports (capability flags, as TorchLens's ``backends/`` registry does) and builds
one compiled gradient function per (model, objective):

=============  ===================================================  =========================
module         how                                                  compiled by
=============  ===================================================  =========================
tensorflow     ``tf.GradientTape`` around ``model(x)``              ``tf.function``
jax            ``jax.value_and_grad`` over ``model.stateless_call``  ``jax.jit``
torch          ``torch.autograd.grad`` on the eager call            (eager)
=============  ===================================================  =========================

Each module also builds the compiled forward pass the extractor runs
(``forward_function(model) -> fn(x) -> [numpy array per output]``): ``tf.function`` on
TensorFlow, ``jax.jit`` over ``model.stateless_call`` on JAX, the eager call under
``torch.no_grad`` on PyTorch. ``predict_on_batch`` is the fallback for any other backend: on JAX
it copies every output into a fresh numpy array and writes every weight back after each call,
which cost the extractor 2.6× a bare forward pass on digits_cnn (issue 21).

Only the running backend's module is imported, and only when ``current_backend()`` is first
called: TensorFlow is never imported by a layerviz whose Keras runs on JAX or PyTorch.

Example:
    >>> from layerviz.extract.backends import current_backend
    >>> from layerviz.extract.split import split_at
    >>> head, tail = split_at(model, "conv2")          # Grad-CAM's cut
    >>> def score(outputs):                            # keras.ops only: any backend
    ...     return keras.ops.max(outputs[0], axis=-1)  # shape (batch,)
    >>> fn = current_backend().gradient_function(tail, score)
    >>> values, grads = fn(head_outputs)               # numpy: (batch,), one per tail input
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

__all__ = [
    "BACKENDS",
    "Backend",
    "ForwardFunction",
    "GradientFunction",
    "Objective",
    "current_backend",
    "forward_function",
]

#: Keras backend name -> the module that implements it here.
BACKENDS = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}

#: ``objective(outputs, *extra) -> (batch,)``: the model's outputs (a flat list of backend
#: tensors) to one value per row, written with ``keras.ops``. ``extra`` are the arrays given to
#: the gradient function after the inputs (a class's one-hot, say), as backend tensors.
Objective = Callable[..., object]

#: ``fn(inputs, *extra) -> (values (batch,), [d sum(values) / d input, per model input])``.
GradientFunction = Callable[..., tuple[np.ndarray, list[np.ndarray]]]

#: ``fn(x) -> [one read-only numpy array per model output]``, ``x`` in the model's input
#: structure (one array, or a list with one per input).
ForwardFunction = Callable[..., list[np.ndarray]]


class Backend(Protocol):
    """What every backend module provides (``layerviz.extract.backends.<name>.BACKEND``).

    Attributes:
        name: the Keras backend name (``keras.backend.backend()``).
        supports_gradients: gradients of a model's outputs with respect to its inputs.
        supports_compilation: the gradient function is compiled (traced once), not eager.
        stateless: the model is called through ``stateless_call`` (weights passed in).
    """

    name: str
    supports_gradients: bool
    supports_compilation: bool
    stateless: bool

    def gradient_function(
        self, model, objective: Objective, *, has_aux: bool = False
    ) -> GradientFunction:
        """One compiled ``fn(inputs: list[np.ndarray], *extra)`` for ``model`` and ``objective``.

        ``fn`` returns ``(values, grads)``: the objective's values, shaped ``(batch,)``, and
        the gradient of ``sum(values)`` with respect to each of the model's inputs (in
        ``model.inputs`` order), all numpy. An input the objective does not depend on, and an
        integer input (token ids), get a zero gradient. Arrays given after the inputs reach the
        objective as tensors (``objective(outputs, *extra)``): one compiled function then
        serves every class index, say. With ``has_aux`` (as in ``jax.value_and_grad``) the
        objective returns ``(values, aux)`` and ``fn`` returns ``(values, grads, aux)``, aux
        as numpy (e.g. which class the objective picked).
        """
        ...

    def forward_function(self, model) -> ForwardFunction:
        """One compiled inference pass of ``model`` (``training=False``), traced once per
        input shape, whose outputs (flattened) come back as read-only numpy arrays. The
        weights' current values are used on every call."""
        ...


_loaded: dict[str, Backend] = {}


def current_backend() -> Backend:
    """The ``Backend`` for the backend Keras runs on (``keras.backend.backend()``).

    Raises:
        ModelStructureError: Keras runs on a backend layerviz has no module for (numpy,
            openvino: they have no gradients).
    """
    import keras

    from layerviz.errors import ModelStructureError

    name = keras.backend.backend()
    if name not in BACKENDS:
        raise ModelStructureError(
            f"Keras runs on {name!r}; gradients need one of {', '.join(BACKENDS)} "
            "(set KERAS_BACKEND before Python starts)"
        )
    if name not in _loaded:
        module = importlib.import_module(f"{__name__}.{BACKENDS[name]}")
        _loaded[name] = module.BACKEND
    return _loaded[name]


def forward_function(model) -> ForwardFunction:
    """The running backend's compiled forward pass for ``model`` (see
    ``Backend.forward_function``); ``predict_on_batch`` on a backend without a module here."""
    import keras

    if keras.backend.backend() in BACKENDS:
        return current_backend().forward_function(model)

    def run(x) -> list[np.ndarray]:
        return read_only(keras.tree.flatten(model.predict_on_batch(x)))

    return run


def read_only(arrays) -> list[np.ndarray]:
    """``arrays`` as numpy arrays that refuse writes, as every forward function gives them."""
    arrays = [np.asarray(a) for a in arrays]
    for array in arrays:
        array.flags.writeable = False
    return arrays


def structured_inputs(model, inputs: Sequence):
    """``inputs`` (a flat list) in the structure ``model`` is called with: one tensor, a list,
    or the dict/nesting of ``model.input``."""
    import keras

    if len(inputs) == 1:
        return inputs[0]
    return keras.tree.pack_sequence_as(model.input, list(inputs))


def differentiable(dtype) -> bool:
    """True for floating dtypes (token ids and other integers have no gradient)."""
    return np.issubdtype(np.dtype(dtype), np.floating)


def input_dtypes(model) -> list[np.dtype]:
    """The numpy dtype of each of ``model.inputs``."""
    import keras

    return [np.dtype(keras.backend.standardize_dtype(t.dtype)) for t in model.inputs]


def split_aux(result, has_aux: bool):
    """``(values, aux)`` from an objective's result (``aux`` is ``()`` without ``has_aux``)."""
    return result if has_aux else (result, ())


def with_zeros(inputs, watched, grads) -> list[np.ndarray]:
    """One float32 gradient per input: the computed ones, zeros for integer inputs."""
    grads = iter(grads)
    return [
        np.asarray(next(grads)) if watch else np.zeros(np.shape(x), np.float32)
        for x, watch in zip(inputs, watched, strict=True)
    ]
