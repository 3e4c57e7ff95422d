"""Tests for layers with several outputs and tapped attention scores (``layerviz.extract.taps``).

Every value is checked against Keras computing it another way: a sub-model cut at the layer
(``keras.Model(inputs, layer.output)``), or the attention layer called by hand with
``return_attention_scores=True`` on the same inputs.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from layerviz.extract.activations import ActivationExtractor

layers = keras.layers
ATOL = 1e-5


def as_list(outputs) -> list[np.ndarray]:
    items = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return [keras.ops.convert_to_numpy(o) for o in items]


def by_name(activations) -> dict:
    return {a.name: a for a in activations}


# --- several outputs -------------------------------------------------------------------------


def make_lstm_states() -> keras.Model:
    """The issue's model: Embedding, then an LSTM returning its sequence and both states."""
    tokens = keras.Input((12,), dtype="int32", name="tokens")
    x = layers.Embedding(30, 8, name="embed")(tokens)
    seq, state_h, state_c = layers.LSTM(6, return_sequences=True, return_state=True, name="lstm")(x)
    pooled = layers.GlobalAveragePooling1D(name="pool")(seq)
    x = layers.Concatenate(name="merge")([pooled, state_h, state_c])
    outputs = layers.Dense(3, activation="softmax", name="out")(x)
    return keras.Model(tokens, outputs, name="lstm_states")


TOKENS = np.array([[5, 3, 9, 1, 12, 7, 7, 2, 20, 4, 11, 6]], dtype=np.int32)


def test_lstm_states_are_three_named_entries_equal_to_the_cut_model(as_tested):
    model = as_tested(make_lstm_states())
    extractor = ActivationExtractor(model)
    extraction = extractor.run(TOKENS)
    acts = by_name(extraction.activations)

    assert [a.name for a in extraction.activations] == [
        "embed", "lstm:sequence", "lstm:state_h", "lstm:state_c", "pool", "merge", "out",
    ]  # fmt: skip
    assert extractor.skipped == []
    lstm = [acts[n] for n in ("lstm:sequence", "lstm:state_h", "lstm:state_c")]
    assert [(a.layer_name, a.output_index, a.role) for a in lstm] == [
        ("lstm", 0, "sequence"),
        ("lstm", 1, "state"),
        ("lstm", 2, "state"),
    ]
    assert {a.index for a in lstm} == {2}  # one layer, one index
    assert [a.shape for a in lstm] == [(12, 6), (6,), (6,)]
    cut = keras.Model(model.inputs[0], model.get_layer("lstm").output)
    for got, want in zip(lstm, as_list(cut(TOKENS)), strict=True):
        np.testing.assert_allclose(got.array, want[0], atol=ATOL, err_msg=got.name)
    # The last step of the sequence is the hidden state.
    np.testing.assert_allclose(lstm[0].array[-1], lstm[1].array, atol=ATOL)
    np.testing.assert_allclose(extraction.outputs[0], as_list(model(TOKENS))[0][0], atol=ATOL)


def test_single_output_layers_keep_their_plain_names_and_defaults(as_tested):
    acts = by_name(ActivationExtractor(as_tested(make_lstm_states())).extract(TOKENS))
    embed = acts["embed"]
    assert (embed.layer_name, embed.output_index, embed.role) == ("embed", 0, "output")


@pytest.mark.parametrize(
    ("make_rnn", "names", "roles"),
    [
        (
            lambda: layers.GRU(4, return_state=True, name="gru"),
            ["gru:output", "gru:state"],
            ["output", "state"],
        ),
        (
            lambda: layers.LSTM(4, return_state=True, name="lstm"),
            ["lstm:output", "lstm:state_h", "lstm:state_c"],
            ["output", "state", "state"],
        ),
        (
            lambda: layers.Bidirectional(
                layers.LSTM(4, return_sequences=True, return_state=True), name="bi"
            ),
            ["bi:0", "bi:1", "bi:2", "bi:3", "bi:4"],
            ["output"] * 5,
        ),
    ],
    ids=["gru", "lstm-last-step", "bidirectional"],
)
def test_other_multi_output_layers_follow_the_naming_rule(keras_session, make_rnn, names, roles):
    inputs = keras.Input((7, 3), name="sequence")
    outputs = make_rnn()(inputs)
    model = keras.Model(inputs, layers.Concatenate(name="merge")(list(outputs[1:])))
    pattern = np.random.default_rng(0).random((1, 7, 3), dtype=np.float32)

    acts = ActivationExtractor(model).extract(pattern)[:-1]

    assert [a.name for a in acts] == names
    assert [a.role for a in acts] == roles
    assert [a.output_index for a in acts] == list(range(len(names)))
    for got, want in zip(acts, as_list(keras.Model(inputs, outputs)(pattern)), strict=True):
        np.testing.assert_allclose(got.array, want[0], atol=ATOL, err_msg=got.name)


# --- tapped attention scores ----------------------------------------------------------------


def make_block(*, causal: bool = False, heads: int = 3, length: int = 9) -> keras.Model:
    """A transformer encoder block, built the ordinary way: no attention scores asked for."""
    inputs = keras.Input((length, 4), name="sequence")
    x = layers.Dense(8, name="embed")(inputs)
    h = layers.LayerNormalization(name="norm1")(x)
    h = layers.MultiHeadAttention(heads, 4, name="mha")(h, h, use_causal_mask=causal)
    x = layers.Add(name="add1")([x, h])
    h = layers.LayerNormalization(name="norm2")(x)
    h = layers.Dense(8, activation="relu", name="ffn")(h)
    x = layers.Add(name="add2")([x, h])
    x = layers.GlobalAveragePooling1D(name="pool")(x)
    outputs = layers.Dense(2, activation="softmax", name="out")(x)
    return keras.Model(inputs, outputs, name="block")


def sequence(length: int = 9, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(1, length, 4)).astype(np.float32)


def scores_by_hand(model: keras.Model, pattern: np.ndarray, **kwargs) -> np.ndarray:
    """The attention layer called on its own input with ``return_attention_scores=True``."""
    norm = keras.Model(model.inputs[0], model.get_layer("norm1").output)(pattern)
    _, scores = model.get_layer("mha")(norm, norm, return_attention_scores=True, **kwargs)
    return keras.ops.convert_to_numpy(scores)[0]


def test_tapped_scores_equal_the_layers_own(as_tested):
    model = as_tested(make_block())
    pattern = sequence()
    extractor = ActivationExtractor(model)
    extraction = extractor.run(pattern)
    acts = by_name(extraction.activations)

    names = [a.name for a in extraction.activations]
    assert names[names.index("mha") : names.index("mha") + 2] == ["mha", "mha:attention"]
    assert extractor.skipped == []
    scores = acts["mha:attention"]
    assert (scores.role, scores.layer_name, scores.output_index) == ("attention", "mha", 1)
    assert scores.index == acts["mha"].index
    assert scores.shape == (3, 9, 9)  # (heads, query length, key length)
    np.testing.assert_allclose(scores.array.sum(axis=-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(scores.array, scores_by_hand(model, pattern), atol=ATOL)


def test_tapping_leaves_every_output_as_it_was(as_tested):
    model = as_tested(make_block())
    pattern = sequence(seed=1)
    extraction = ActivationExtractor(model).run(pattern)

    np.testing.assert_allclose(extraction.outputs[0], as_list(model(pattern))[0][0], atol=ATOL)
    for act in extraction.activations:
        if act.role == "attention":
            continue
        cut = keras.Model(model.inputs[0], model.get_layer(act.name).output)
        np.testing.assert_allclose(act.array, as_list(cut(pattern))[0][0], atol=ATOL)


def test_causal_mask_is_honoured(as_tested):
    model = as_tested(make_block(causal=True))
    pattern = sequence(seed=2)
    scores = by_name(ActivationExtractor(model).extract(pattern))["mha:attention"].array

    upper = np.triu(np.ones((9, 9), dtype=bool), k=1)
    assert np.all(scores[:, upper] == 0.0)
    assert np.all(scores[:, ~upper] > 0.0)
    np.testing.assert_allclose(scores.sum(axis=-1), 1.0, atol=1e-5)
    want = scores_by_hand(model, pattern, use_causal_mask=True)
    np.testing.assert_allclose(scores, want, atol=ATOL)


def make_padded_classifier() -> keras.Model:
    """Token ids with 0 as padding: the Embedding's mask reaches the attention and the pool."""
    tokens = keras.Input((8,), dtype="int32", name="tokens")
    x = layers.Embedding(20, 8, mask_zero=True, name="embed")(tokens)
    h = layers.MultiHeadAttention(2, 4, name="mha")(x, x)
    x = layers.Add(name="add")([x, h])
    x = layers.GlobalAveragePooling1D(name="pool")(x)
    outputs = layers.Dense(2, name="out")(x)
    return keras.Model(tokens, outputs, name="padded")


def test_padding_mask_is_honoured(as_tested):
    model = as_tested(make_padded_classifier())
    padded = np.array([[4, 9, 2, 7, 5, 0, 0, 0]], dtype=np.int32)
    extraction = ActivationExtractor(model).run(padded)
    scores = by_name(extraction.activations)["mha:attention"].array

    assert scores.shape == (2, 8, 8)
    assert np.all(scores[:, :5, 5:] == 0.0)  # no real token attends to padding
    np.testing.assert_allclose(scores[:, :5].sum(axis=-1), 1.0, atol=1e-5)
    embedded = model.get_layer("embed")(padded)  # carries the padding mask, as in the model
    _, want = model.get_layer("mha")(embedded, embedded, return_attention_scores=True)
    np.testing.assert_allclose(scores, keras.ops.convert_to_numpy(want)[0], atol=ATOL)
    # The pooling still skips the padding: the prediction is the model's own.
    np.testing.assert_allclose(extraction.outputs[0], as_list(model(padded))[0][0], atol=ATOL)


def test_cross_attention_scores_are_query_by_key(keras_session):
    query = keras.Input((5, 4), name="query")
    context = keras.Input((7, 4), name="context")
    attended = layers.MultiHeadAttention(2, 3, name="cross")(query, context)
    model = keras.Model([query, context], layers.Flatten(name="flat")(attended))
    rng = np.random.default_rng(3)
    q, c = rng.random((1, 5, 4), dtype=np.float32), rng.random((1, 7, 4), dtype=np.float32)

    scores = by_name(ActivationExtractor(model).extract([q, c]))["cross:attention"].array

    assert scores.shape == (2, 5, 7)
    _, want = model.get_layer("cross")(q, c, return_attention_scores=True)
    np.testing.assert_allclose(scores, keras.ops.convert_to_numpy(want)[0], atol=ATOL)


def test_scores_the_model_asks_for_are_not_tapped_twice(keras_session):
    inputs = keras.Input((6, 4), name="sequence")
    out, scores = layers.MultiHeadAttention(2, 4, name="mha")(
        inputs, inputs, return_attention_scores=True
    )
    model = keras.Model(inputs, [layers.Flatten(name="flat")(out), scores])
    pattern = sequence(length=6)

    extraction = ActivationExtractor(model).run(pattern)

    assert [(a.name, a.role) for a in extraction.activations] == [
        ("mha", "output"),
        ("mha:attention", "attention"),
        ("flat", "output"),
    ]
    want = as_list(model(pattern))[1][0]
    np.testing.assert_allclose(extraction.activations[1].array, want, atol=ATOL)
    np.testing.assert_allclose(extraction.outputs[1], want, atol=ATOL)


def test_attention_inside_a_nested_model_is_tapped(keras_session):
    """A block used as a layer after another layer: the nested-model expansion path."""
    block = make_block()
    inputs = keras.Input((9, 4), name="raw")
    x = layers.Dense(4, name="pre")(inputs)
    model = keras.Model(inputs, block(x), name="outer")
    pattern = sequence(seed=4)

    acts = by_name(ActivationExtractor(model).extract(pattern))

    assert acts["block/mha:attention"].shape == (3, 9, 9)
    pre = keras.Model(inputs, model.get_layer("pre").output)(pattern)
    np.testing.assert_allclose(
        acts["block/mha:attention"].array, scores_by_hand(block, pre), atol=ATOL
    )


def test_scores_over_several_axes_are_skipped_with_a_reason(keras_session):
    image = keras.Input((4, 4, 3), name="image")
    attended = layers.MultiHeadAttention(2, 3, attention_axes=(1, 2), name="mha2d")(image, image)
    model = keras.Model(image, layers.GlobalAveragePooling2D(name="gap")(attended))

    extractor = ActivationExtractor(model)

    assert [(s.name, s.class_name) for s in extractor.skipped] == [
        ("mha2d:attention", "MultiHeadAttention")
    ]
    assert "rank 6" in extractor.skipped[0].reason
    assert [a.name for a in extractor.extract(np.zeros((4, 4, 3)))] == ["mha2d", "gap"]


def test_a_shared_attention_layer_is_tapped_at_each_call(keras_session):
    inputs = keras.Input((6, 4), name="sequence")
    mha = layers.MultiHeadAttention(2, 2, name="mha")
    x = mha(inputs, inputs)
    x = mha(x, x, use_causal_mask=True)
    model = keras.Model(inputs, layers.Flatten(name="flat")(x))
    pattern = sequence(length=6)

    acts = by_name(ActivationExtractor(model).extract(pattern))

    first, second = acts["mha:attention"].array, acts["mha@2:attention"].array
    _, want = mha(pattern, pattern, return_attention_scores=True)
    np.testing.assert_allclose(first, keras.ops.convert_to_numpy(want)[0], atol=ATOL)
    assert np.all(second[:, np.triu(np.ones((6, 6), dtype=bool), k=1)] == 0.0)
    assert acts["mha@2:attention"].layer_name == "mha@2"
