"""Tiny Keras models built in code, shared by the tests (``BUILDERS`` by kind).

Imported by ``conftest.py`` for its fixtures and by tests that parametrize over the kinds
(``pyproject.toml`` puts ``tests/`` on the path; conftest modules are not importable by name).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from layerviz import _quiet  # noqa: F401  (quiets TensorFlow, so before keras is imported)

# isort: split
import keras
import numpy as np

REPO_MODELS = Path(__file__).resolve().parent.parent / "models"

layers = keras.layers


# --- the models ----------------------------------------------------------------------------


def make_article_model() -> keras.Model:
    """The article's model: Dense layers acting on each row of a 50×50 pattern."""
    inputs = keras.Input((50, 50), name="pattern")
    x = layers.Dense(75, activation="relu", name="dense")(inputs)
    x = layers.Dense(50, activation="relu", name="my_dense")(x)
    x = layers.Dense(25, activation="relu", name="dense_1")(x)
    x = layers.Dense(10, activation="relu", name="dense_2")(x)
    x = layers.Flatten(name="flatten")(x)
    outputs = layers.Dense(5, activation="softmax", name="dense_3")(x)
    return keras.Model(inputs, outputs, name="article")


def make_sequential_cnn() -> keras.Sequential:
    return keras.Sequential(
        [
            keras.Input((12, 12, 1)),
            layers.Conv2D(4, 3, activation="relu", name="conv1"),
            layers.MaxPooling2D(name="pool"),
            layers.Conv2D(6, 3, activation="relu", name="conv2"),
            layers.Flatten(name="flat"),
            layers.Dense(3, activation="softmax", name="probs"),
        ],
        name="seq_cnn",
    )


def make_functional_cnn() -> keras.Model:
    inputs = keras.Input((16, 16, 3), name="image")
    x = layers.Conv2D(5, 3, padding="same", name="conv_a")(inputs)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    x = layers.Conv2D(2, 3, strides=2, name="conv_b")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Dense(4, name="logits")(x)
    return keras.Model(inputs, outputs, name="func_cnn")


def make_nested_model() -> keras.Model:
    """A Functional backbone (called with ``training=False``) and a Sequential head."""
    backbone_in = keras.Input((12, 12, 1), name="backbone_in")
    y = layers.Conv2D(4, 3, activation="relu", name="conv1")(backbone_in)
    y = layers.Conv2D(3, 3, activation="relu", name="conv2")(y)
    backbone = keras.Model(backbone_in, y, name="backbone")
    head = keras.Sequential(
        [layers.Flatten(name="flat"), layers.Dense(2, activation="softmax", name="probs")],
        name="head",
    )
    inputs = keras.Input((12, 12, 1), name="image")
    x = backbone(inputs, training=False)  # the usual transfer-learning call
    x = layers.Dropout(0.5, name="dropout")(x)
    outputs = head(x)
    return keras.Model(inputs, outputs, name="classifier")


def make_nested_sequential() -> keras.Sequential:
    """A Sequential backbone inside a Sequential."""
    backbone = keras.Sequential(
        [
            keras.Input((10, 10, 1)),
            layers.Conv2D(3, 3, name="conv1"),
            layers.Conv2D(2, 3, name="conv2"),
        ],
        name="backbone",
    )
    return keras.Sequential(
        [
            keras.Input((10, 10, 1)),
            backbone,
            layers.Flatten(name="flat"),
            layers.Dense(2, name="out"),
        ],
        name="seq_in_seq",
    )


def make_conv1d_model() -> keras.Model:
    inputs = keras.Input((32, 2), name="signal")
    x = layers.Conv1D(4, 5, activation="relu", name="conv1d")(inputs)
    x = layers.MaxPooling1D(2, name="pool1d")(x)
    x = layers.Flatten(name="flat")(x)
    outputs = layers.Dense(3, name="out")(x)
    return keras.Model(inputs, outputs, name="conv1d_model")


def make_lstm_model() -> keras.Model:
    inputs = keras.Input((10, 3), name="sequence")
    x = layers.LSTM(6, return_sequences=True, name="lstm_seq")(inputs)
    x = layers.LSTM(4, name="lstm_last")(x)
    outputs = layers.Dense(2, name="out")(x)
    return keras.Model(inputs, outputs, name="lstm_model")


def make_multi_input_model() -> keras.Model:
    """Two inputs of different shapes, merged: a vector and a small image."""
    vector = keras.Input((8,), name="vector")
    image = keras.Input((6, 6, 1), name="image")
    a = layers.Dense(4, name="vec_dense")(vector)
    b = layers.Conv2D(2, 3, name="img_conv")(image)
    b = layers.Flatten(name="img_flat")(b)
    x = layers.Concatenate(name="merge")([a, b])
    outputs = layers.Dense(3, name="out")(x)
    return keras.Model([vector, image], outputs, name="two_inputs")


def make_shared_layer_model() -> keras.Model:
    """One Dense layer called twice."""
    inputs = keras.Input((8,), name="vector")
    shared = layers.Dense(8, activation="tanh", name="shared")
    x = shared(inputs)
    x = shared(x)
    outputs = layers.Dense(2, name="out")(x)
    return keras.Model(inputs, outputs, name="shared_model")


def make_undrawable_model() -> keras.Model:
    """A layer whose output cannot be drawn (a rank-5 Conv3D), and an LSTM returning states."""
    volume = keras.Input((4, 6, 6, 1), name="volume")
    x = layers.Conv3D(2, 3, name="conv3d")(volume)  # (batch, 2, 4, 4, 2): rank 5
    x = layers.Reshape((2, 32), name="reshape")(x)
    seq, state_h, _ = layers.LSTM(3, return_sequences=True, return_state=True, name="lstm")(x)
    x = layers.Concatenate(name="merge")([layers.Flatten(name="flat")(seq), state_h])
    outputs = layers.Dense(2, name="out")(x)
    return keras.Model(volume, outputs, name="undrawable")


def make_two_images_model() -> keras.Model:
    """Two 8×8 images; the convolution reads only the second, though both fit its maps."""
    left = keras.Input((8, 8, 1), name="left")
    right = keras.Input((8, 8, 1), name="right")
    x = layers.Conv2D(3, 3, name="right_conv")(right)
    x = layers.Concatenate(name="merge")(
        [layers.Flatten(name="flat_l")(left), layers.Flatten(name="flat_r")(x)]
    )
    return keras.Model([left, right], layers.Dense(2, name="out")(x), name="two_images")


# --- one model per output rank, for the reduced pass (tests/extract/test_reduce.py) ------


def make_image_model() -> keras.Model:
    """Conv maps (rank 4), a 1-pixel strip (Dense, rank 2)."""
    inputs = keras.Input((36, 36, 3), name="image")
    x = layers.Conv2D(20, 3, padding="same", activation="relu", name="conv")(inputs)
    x = layers.MaxPooling2D(name="pool")(x)
    x = layers.Conv2D(5, 3, name="conv2")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dense(30, activation="relu", name="dense")(x)
    outputs = layers.Dense(4, name="logits")(x)
    return keras.Model(inputs, outputs, name="image_model")


def make_sequence_model() -> keras.Model:
    """A sequence (rank 3), attention scores (heads, query, key), an LSTM's states."""
    tokens = keras.Input((24,), dtype="int32", name="tokens")
    x = layers.Embedding(50, 16, name="embed")(tokens)
    h = layers.MultiHeadAttention(2, 8, name="mha")(x, x)
    x = layers.Add(name="add")([x, h])
    seq, state_h, state_c = layers.LSTM(12, return_sequences=True, return_state=True, name="lstm")(
        x
    )
    pooled = layers.GlobalAveragePooling1D(name="pool")(seq)
    x = layers.Concatenate(name="merge")([pooled, state_h, state_c])
    outputs = layers.Dense(3, name="out")(x)
    return keras.Model(tokens, outputs, name="sequence_model")


def make_nonfinite_model() -> keras.Model:
    """Channels of finite values, of ±Inf (with zeros), and of NaN (with zeros).

    The scalings are weights, not constants: XLA (JAX's jit, TensorFlow's ``jit_compile``)
    folds constant scalings together (``x * 1e15 * 1e30`` becomes ``x * inf``), which would
    turn the zeros into NaN on those backends and not on others.
    """
    inputs = keras.Input((20, 20, 2), name="image")
    up1 = layers.DepthwiseConv2D(1, use_bias=False, name="up1")
    up2 = layers.DepthwiseConv2D(1, use_bias=False, name="up2")
    inf = up2(up1(inputs))
    up1.set_weights([np.full((1, 1, 2, 1), 1e15, np.float32)])
    up2.set_weights([np.full((1, 1, 2, 1), 1e30, np.float32)])
    nan = layers.Add(name="nan")([inf, layers.Rescaling(-1.0, name="neg")(inf)])
    x = layers.Concatenate(name="mixed")([inputs, inf, nan])
    outputs = layers.GlobalMaxPooling2D(name="gmp")(x)
    return keras.Model(inputs, outputs, name="nonfinite")


def image_batch(n: int = 2) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(n, 36, 36, 3)).astype(np.float32)


def token_batch(n: int = 2) -> np.ndarray:
    return np.random.default_rng(1).integers(0, 50, size=(n, 24)).astype(np.int32)


def nonfinite_batch() -> np.ndarray:
    x = np.random.default_rng(2).normal(size=(2, 20, 20, 2)).astype(np.float32)
    x[0, :3, :3, :] = 0.0  # zeros stay 0 after the scaling: 0 - 0, not NaN
    x[1, :, :, 1] = -np.abs(x[1, :, :, 1])  # a channel all -Inf after the scaling
    return x


BUILDERS: dict[str, Callable[[], keras.Model]] = {
    "article": make_article_model,
    "sequential_cnn": make_sequential_cnn,
    "functional_cnn": make_functional_cnn,
    "nested": make_nested_model,
    "nested_sequential": make_nested_sequential,
    "conv1d": make_conv1d_model,
    "lstm": make_lstm_model,
    "multi_input": make_multi_input_model,
    "shared_layer": make_shared_layer_model,
    "undrawable": make_undrawable_model,
}
