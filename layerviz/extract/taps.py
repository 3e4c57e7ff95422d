"""What one layer call gives the extractor: one entry per output, and tapped attention scores.

A layer may return several tensors (an RNN with ``return_state``, a ``MultiHeadAttention`` asked
for its scores, a user layer that splits a tensor). Each becomes an entry of its own, named by
one rule:

=====================================================  ==========================================
layer call                                              entries (name: role)
=====================================================  ==========================================
one tensor                                              ``layer``: output
RNN (LSTM, GRU, SimpleRNN, ConvLSTM) with               ``lstm:sequence`` (``lstm:output`` without
``return_state=True``                                   ``return_sequences``): sequence / output,
                                                        then ``lstm:state_h``, ``lstm:state_c``
                                                        (LSTMs), ``gru:state`` (one state) or
                                                        ``rnn:state_0``, ... : state
``MultiHeadAttention`` (and subclasses with its call)   ``mha``: output, ``mha:attention``:
                                                        attention, shaped (heads, query, key)
anything else with several tensors                      ``layer:0``, ``layer:1``, ... (in
                                                        ``keras.tree.flatten`` order): output
=====================================================  ==========================================

Attention scores are *tapped*: while the extractor rebuilds the graph it calls every
``MultiHeadAttention`` with ``return_attention_scores=True`` (public argument of its ``call``)
and hands only the layer's normal output on to the next layers, so the model computes what it
always did and the scores, with the masks the model passes (padding, ``use_causal_mask``,
``attention_mask``), ride along as one more output.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import keras

__all__ = ["ROLES", "Entry", "LayerCall", "call_layer", "entries_of"]

#: Every role an entry can have.
ROLES = ("output", "sequence", "state", "attention")

_SCORES_ARG = "return_attention_scores"


@dataclass
class Entry:
    """One output tensor of one layer call, named by the module's rule."""

    name: str
    output_index: int
    role: str
    tensor: object


@dataclass
class LayerCall:
    """A layer call seen while the graph is rebuilt: its output(s) and tapped scores."""

    name: str
    class_name: str
    layer: object
    output: object
    scores: object = None


def call_layer(layer, args: tuple, kwargs: dict) -> tuple[object, object]:
    """Call ``layer`` as the model does; for attention layers, also get the scores.

    Returns:
        ``(output, scores)``: the output the model's next layers get, and the attention
        scores (None for other layers, and when the model's own call already returns them
        as part of ``output``).
    """
    if not _is_attention(layer):
        return layer(*args, **kwargs), None
    bound = inspect.signature(layer.call).bind_partial(*args, **kwargs)
    if bound.arguments.get(_SCORES_ARG):
        return layer(*args, **kwargs), None  # the model asked for them: part of its output
    output, scores = _ScoresTap(layer)(*args, **kwargs)
    return output, scores


class _ScoresTap(keras.layers.Layer):
    """Calls an attention layer with ``return_attention_scores=True``; returns both tensors.

    Why a layer of its own: a Functional graph checks each node against its layer's *first*
    call (``layer.output``), which gave one tensor; a second call of the same layer that gives
    two leaves the scores "not connected to inputs". This wrapper's only call gives two. It
    mirrors ``MultiHeadAttention.call``'s tensor arguments, so Keras fills ``value_mask`` and
    ``key_mask`` from the inputs' padding masks exactly as it does for the layer itself.
    """

    def __init__(self, attention, **kwargs):
        super().__init__(**kwargs)  # an automatic, unique name: a shared layer gets several
        self.attention = attention
        # The query's padding mask passes on to the output, as MultiHeadAttention does.
        self.supports_masking = True

    def call(
        self,
        query,
        value,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        training=None,
        **kwargs,
    ):
        return self.attention(
            query,
            value,
            key=key,
            query_mask=query_mask,
            value_mask=value_mask,
            key_mask=key_mask,
            training=training,
            **{**kwargs, _SCORES_ARG: True},
        )


def _is_attention(layer) -> bool:
    """``MultiHeadAttention`` or a subclass whose ``call`` still takes the scores flag."""
    if not isinstance(layer, keras.layers.MultiHeadAttention):
        return False
    try:
        return _SCORES_ARG in inspect.signature(layer.call).parameters
    except (TypeError, ValueError):
        return False


def entries_of(call: LayerCall) -> list[Entry]:
    """The entries of one layer call, in order, named by the module's rule."""
    if _is_attention(call.layer):
        return _attention_entries(call)
    parts = keras.tree.flatten(call.output)
    if len(parts) == 1 and not isinstance(call.output, (list, tuple, dict)):
        return [Entry(call.name, 0, "output", call.output)]
    roles = _rnn_roles(call.layer, len(parts))
    if roles is None:
        return [Entry(f"{call.name}:{i}", i, "output", t) for i, t in enumerate(parts)]
    return [
        Entry(f"{call.name}:{suffix}", i, role, t)
        for i, ((suffix, role), t) in enumerate(zip(roles, parts, strict=True))
    ]


def _attention_entries(call: LayerCall) -> list[Entry]:
    if call.scores is not None:
        output, scores = call.output, call.scores
    elif isinstance(call.output, (list, tuple)) and len(call.output) == 2:
        output, scores = call.output  # the model's own call returns (output, scores)
    else:
        return [Entry(call.name, 0, "output", call.output)]
    return [
        Entry(call.name, 0, "output", output),
        Entry(f"{call.name}:attention", 1, "attention", scores),
    ]


def _rnn_roles(layer, n: int) -> list[tuple[str, str]] | None:
    """``(suffix, role)`` of an RNN's ``n`` outputs with ``return_state``, or None."""
    if not isinstance(layer, keras.layers.RNN) or not getattr(layer, "return_state", False):
        return None
    first = "sequence" if getattr(layer, "return_sequences", False) else "output"
    n_states = n - 1
    if n_states == 2 and _is_lstm(layer):
        states = ["state_h", "state_c"]
    elif n_states == 1:
        states = ["state"]
    else:
        states = [f"state_{i}" for i in range(n_states)]
    return [(first, first)] + [(s, "state") for s in states]


def _is_lstm(layer) -> bool:
    lstm_kinds = (
        keras.layers.LSTM,
        keras.layers.ConvLSTM1D,
        keras.layers.ConvLSTM2D,
        keras.layers.ConvLSTM3D,
    )
    return isinstance(layer, lstm_kinds)
