"""Tests for ``layerviz.extract.backends``: one gradient interface on whichever backend runs.

The gradients are checked against formulas (a linear model's gradient is its kernel), so the
same tests hold on TensorFlow, JAX and PyTorch (``make test`` runs them on each).
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from layerviz.extract.backends import BACKENDS, current_backend, forward_function

layers = keras.layers


def linear(units_in: int = 6, units_out: int = 3) -> tuple[keras.Model, np.ndarray, np.ndarray]:
    inputs = keras.Input((units_in,))
    dense = layers.Dense(units_out)
    model = keras.Model(inputs, dense(inputs))
    rng = np.random.default_rng(0)
    kernel = rng.normal(size=(units_in, units_out)).astype(np.float32)
    bias = rng.normal(size=units_out).astype(np.float32)
    dense.set_weights([kernel, bias])
    return model, kernel, bias


def test_the_backend_is_the_one_keras_runs_on():
    backend = current_backend()
    assert backend.name == keras.backend.backend() and backend.name in BACKENDS
    assert backend.supports_gradients
    assert backend.stateless == (backend.name == "jax")


@pytest.mark.usefixtures("keras_session")
def test_values_and_gradients_of_a_linear_model():
    model, kernel, bias = linear()
    x = np.random.default_rng(1).random((4, 6), dtype=np.float32)
    fn = current_backend().gradient_function(model, lambda outputs: outputs[0][:, 1])

    values, (grad,) = fn([x])

    np.testing.assert_allclose(values, x @ kernel[:, 1] + bias[1], atol=1e-5)
    assert values.shape == (4,) and grad.shape == (4, 6)
    np.testing.assert_allclose(grad, np.tile(kernel[:, 1], (4, 1)), atol=1e-6)


@pytest.mark.usefixtures("keras_session")
def test_extra_arrays_reach_the_objective_and_aux_comes_back():
    model, kernel, _ = linear()
    x = np.random.default_rng(2).random((2, 6), dtype=np.float32)

    def weighted(outputs, weights):
        values = keras.ops.sum(outputs[0] * weights, axis=-1)
        return values, keras.ops.argmax(outputs[0][0])

    fn = current_backend().gradient_function(model, weighted, has_aux=True)
    for weights in (np.array([1, 0, 0], np.float32), np.array([0, 2, -1], np.float32)):
        _, (grad,), top = fn([x], weights)
        np.testing.assert_allclose(grad[0], kernel @ weights, atol=1e-5)
        assert int(top) == int(np.argmax(x[0] @ kernel + model.get_weights()[1]))


@pytest.mark.usefixtures("keras_session")
def test_several_inputs_and_an_integer_one():
    floats = keras.Input((3,), name="floats")
    ids = keras.Input((2,), dtype="int32", name="ids")
    embedded = layers.Flatten()(layers.Embedding(5, 2)(ids))
    out = layers.Dense(1)(layers.Concatenate()([floats, embedded]))
    model = keras.Model([floats, ids], out)
    x = [np.ones((2, 3), np.float32), np.array([[1, 2], [3, 4]], np.int32)]

    values, grads = current_backend().gradient_function(model, lambda o: o[0][:, 0])(x)

    kernel = model.layers[-1].get_weights()[0]
    assert values.shape == (2,)
    np.testing.assert_allclose(grads[0], np.tile(kernel[:3, 0], (2, 1)), atol=1e-6)
    np.testing.assert_array_equal(grads[1], np.zeros((2, 2), np.float32))


@pytest.mark.usefixtures("keras_session")
def test_the_gradient_follows_weights_set_after_compiling():
    model, kernel, _ = linear()
    x = np.ones((1, 6), np.float32)
    fn = current_backend().gradient_function(model, lambda o: o[0][:, 0])
    fn([x])
    model.layers[-1].set_weights([2 * kernel, np.zeros(3, np.float32)])
    np.testing.assert_allclose(fn([x])[1][0][0], 2 * kernel[:, 0], atol=1e-5)


@pytest.mark.usefixtures("keras_session")
def test_the_forward_function_gives_every_output_as_read_only_numpy():
    model, kernel, bias = linear()
    inputs = model.inputs[0]
    two = keras.Model(inputs, [model(inputs), layers.ReLU()(model(inputs))])
    x = np.random.default_rng(3).random((5, 6), dtype=np.float32)
    fn = forward_function(two)

    first, second = fn(x)

    assert isinstance(first, np.ndarray) and not first.flags.writeable
    np.testing.assert_allclose(first, x @ kernel + bias, atol=1e-5)
    np.testing.assert_array_equal(second, np.maximum(first, 0))
    assert fn(x[:2])[0].shape == (2, 3)  # another batch size: traced again, not refused
    model.layers[-1].set_weights([2 * kernel, bias])  # the weights' current values are used
    np.testing.assert_allclose(fn(x)[0], x @ (2 * kernel) + bias, atol=1e-5)


@pytest.mark.usefixtures("keras_session")
def test_a_trainable_flag_set_after_compiling_changes_nothing():
    inputs = keras.Input((4, 4, 2))
    norm = layers.BatchNormalization()
    model = keras.Model(inputs, layers.Dense(3)(norm(inputs)))
    x = np.random.default_rng(4).random((2, 4, 4, 2), dtype=np.float32)
    forward = forward_function(model)
    gradient = current_backend().gradient_function(model, lambda o: keras.ops.sum(o[0], (1, 2, 3)))
    want, (want_grad,) = forward(x)[0], gradient([x])[1]
    norm.trainable = False  # its gamma and beta move to the non-trainable weights
    np.testing.assert_allclose(forward(x[:1])[0], want[:1], atol=1e-6)  # retraced
    np.testing.assert_allclose(gradient([x[:1]])[1][0], want_grad[:1], atol=1e-6)
