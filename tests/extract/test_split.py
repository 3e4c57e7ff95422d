"""Tests for ``layerviz.extract.split``: the two halves of a model cut at one layer."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from layerviz.errors import ArgumentError, ModelStructureError
from layerviz.extract.split import cut_at, rebuilt, split_at

layers = keras.layers


def residual_model() -> keras.Model:
    """Two shortcuts across ``conv_b``: the block's input and a side branch from the input."""
    inputs = keras.Input((8, 8, 2), name="image")
    a = layers.Conv2D(4, 3, padding="same", activation="relu", name="conv_a")(inputs)
    side = layers.Conv2D(4, 1, name="side")(inputs)
    b = layers.Conv2D(4, 3, padding="same", activation="relu", name="conv_b")(a)
    x = layers.Add(name="add")([a, b, side])
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inputs, layers.Dense(3, activation="softmax", name="probs")(x))


def numpy_out(model: keras.Model, x) -> list[np.ndarray]:
    out = model.predict_on_batch(x)
    return [np.asarray(o) for o in keras.tree.flatten(out)]


def halves_agree(model: keras.Model, layer: str, x, **kwargs) -> int:
    """Check ``tail(head(x)) == model(x)``; the number of tensors that skip the cut."""
    cut = cut_at(model, layer, **kwargs)
    h = numpy_out(cut.head, x)
    assert len(h) == 1 + cut.skip_count
    np.testing.assert_allclose(numpy_out(cut.tail, h), numpy_out(model, x), atol=1e-5)
    return cut.skip_count


@pytest.mark.usefixtures("keras_session")
@pytest.mark.parametrize(("layer", "skips"), [("conv_a", 1), ("conv_b", 2), ("add", 0)])
def test_a_residual_model_cut_passes_the_shortcuts_to_the_tail(layer, skips):
    model = residual_model()
    x = np.random.default_rng(0).random((2, 8, 8, 2), dtype=np.float32)
    assert halves_agree(model, layer, x) == skips


@pytest.mark.parametrize(
    ("kind", "layer"),
    [
        ("nested", "backbone/conv1"),  # an inner layer of a Functional backbone
        ("nested", "head/flat"),  # of a Sequential head
        ("nested_sequential", "backbone/conv2"),
        ("sequential_cnn", "pool"),
        ("shared_layer", "shared@2"),  # a shared layer's second call
        ("lstm", "lstm_seq"),
        ("functional_cnn", "relu"),
    ],
)
def test_tail_of_head_is_the_model(as_tested, build_model, noise, kind, layer):
    model = as_tested(build_model(kind))
    halves_agree(model, layer, noise(model))


def test_split_at_gives_the_two_models(build_model, noise):
    model = build_model("nested")
    head, tail = split_at(model, "backbone/conv2")
    assert isinstance(head, keras.Model) and isinstance(tail, keras.Model)
    assert tuple(tail.inputs[0].shape[1:]) == (8, 8, 3)


@pytest.mark.usefixtures("keras_session")
def test_logits_end_before_the_softmax():
    model = residual_model()
    x = np.random.default_rng(1).random((2, 8, 8, 2), dtype=np.float32)
    head, tail = split_at(model, "conv_b", logits=True)
    scores = numpy_out(tail, numpy_out(head, x))[0]
    gap = numpy_out(keras.Model(model.inputs, model.get_layer("gap").output), x)[0]
    kernel, bias = model.get_layer("probs").get_weights()
    np.testing.assert_allclose(scores, gap @ kernel + bias, atol=1e-5)
    np.testing.assert_allclose(
        numpy_out(rebuilt(model, logits=True), x)[0], gap @ kernel + bias, atol=1e-5
    )


@pytest.mark.usefixtures("keras_session")
@pytest.mark.parametrize("last", ["activation_layer", "softmax_layer", "conv_head"])
def test_logits_of_other_endings(last):
    inputs = keras.Input((6, 6, 1))
    x = layers.Conv2D(3, 3, name="conv")(inputs)
    if last == "conv_head":  # a fully convolutional head: a copy without its sigmoid
        out = layers.Conv2D(2, 1, activation="sigmoid", name="head")(x)
        pre = layers.Conv2D(2, 1, name="pre")
    else:
        pre = layers.Conv2D(2, 1, name="pre")
        squash = layers.Activation("softmax") if last == "activation_layer" else layers.Softmax()
        out = squash(pre(x))
    model = keras.Model(inputs, out)
    x_in = np.random.default_rng(2).random((1, 6, 6, 1), dtype=np.float32)
    got = numpy_out(rebuilt(model, logits=True), x_in)[0]
    conv = numpy_out(keras.Model(inputs, model.get_layer("conv").output), x_in)[0]
    head = model.get_layer("head") if last == "conv_head" else pre
    kernel, bias = head.get_weights()
    np.testing.assert_allclose(got, conv @ kernel[0, 0] + bias, atol=1e-5)


def test_bad_cuts_say_why(build_model):
    model = build_model("nested")
    with pytest.raises(ArgumentError, match=r"no layer 'nope'; layers are: backbone/conv1"):
        split_at(model, "nope")
    inputs = keras.Input((4,))
    unused = layers.Dense(2, name="unused")(inputs)
    side = keras.Model(inputs, [layers.Dense(3, name="used")(inputs)])
    del unused
    with pytest.raises(ArgumentError, match=r"no layer 'unused'"):
        split_at(side, "unused")


def test_a_subclassed_model_cannot_be_cut():
    class Tiny(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    model = Tiny()
    model(np.zeros((1, 3), np.float32))
    with pytest.raises(ModelStructureError, match="subclassed"):
        split_at(model, "dense")
