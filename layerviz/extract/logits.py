"""Class scores before the final softmax or sigmoid (logits), read through the public API.

Grad-CAM (Selvaraju et al., 2017) and keras.io's example differentiate the class *score*, not
the probability: a confident model's softmax saturates (digits_cnn gives p = 1.0 in float32 on
3 of its 5 samples), its gradient vanishes, and what is left is anti-correlated with the score's
map. So the rebuilt graph's output is taken before the squashing:

=====================================================  ======================================
the model ends with                                    the logit is
=====================================================  ======================================
``Activation("softmax" | "sigmoid")`` or ``Softmax``   that layer's input
``Dense(..., activation="softmax" | "sigmoid")``       ``x @ kernel + bias``, by ``_DenseScores``,
                                                       a layer that reads the Dense's own
                                                       variables (shared: it follows training)
another layer with such an ``activation`` (a Conv      a copy of it from its config with
head)                                                  ``activation=None`` and its weights
                                                       (copied when the graph is rebuilt)
anything else (no activation, or one set to ``None``   the output as it is
after building, as keras.io's example does)
=====================================================  ======================================

The original layers are never changed: the dashboard's other threads keep using them.
"""

from __future__ import annotations

import keras

__all__ = ["SQUASHING", "squashing_of", "without_final_activation"]

#: The final activations whose input is the class score.
SQUASHING = {"softmax": keras.activations.softmax, "sigmoid": keras.activations.sigmoid}


def squashing_of(layer) -> str | None:
    """``"softmax"`` or ``"sigmoid"`` when ``layer`` ends with one, else None."""
    if isinstance(layer, keras.layers.Softmax):
        return "softmax"
    activation = getattr(layer, "activation", None)
    for name, function in SQUASHING.items():
        if activation is function:
            return name
    return None


def without_final_activation(outputs, ops):
    """``outputs`` (one tensor) rebuilt without the final softmax / sigmoid, if it has one.

    Args:
        outputs: the rebuilt graph's outputs (``layerviz.extract.split.trace``).
        ops: the operation calls of that graph, in order.

    Returns:
        ``(outputs, consumed)``: the logit tensor, or ``outputs`` unchanged (several outputs,
        or no squashing); and the tensors a new layer call read to make it (none when the
        logit is a tensor the graph already had).
    """
    flat = keras.tree.flatten(outputs)
    if len(flat) != 1:
        return outputs, []
    out = flat[0]
    last = next((op for op in reversed(ops) if any(t is out for t in _flat(op.output))), None)
    if last is None or squashing_of(last.layer) is None:
        return outputs, []
    layer = last.layer
    if isinstance(layer, (keras.layers.Activation, keras.layers.Softmax)):
        return last.inputs[0], []
    if isinstance(layer, keras.layers.Dense):
        return _DenseScores(layer)(*last.args), last.inputs
    twin = type(layer).from_config({**layer.get_config(), "activation": None})
    result = twin(*last.args, **last.kwargs)
    twin.set_weights(layer.get_weights())
    return result, last.inputs


def _flat(structure) -> list:
    return keras.tree.flatten(structure)


class _DenseScores(keras.layers.Layer):
    """A ``Dense`` layer's output before its activation, from the Dense's own variables."""

    def __init__(self, dense: keras.layers.Dense, **kwargs):
        super().__init__(name=f"{dense.name}_scores", **kwargs)
        self.dense = dense

    def call(self, inputs):
        scores = keras.ops.matmul(inputs, self.dense.kernel)
        return scores if self.dense.bias is None else keras.ops.add(scores, self.dense.bias)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.dense.units)
