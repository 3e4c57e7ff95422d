"""Tests for layerviz.extract.activations: one forward pass gives every layer's output, in model
order.

Each model is tested as built and after a ``.keras`` round trip (``as_tested``). Values are
checked against references computed another way: the model itself, a sub-model cut with
``keras.Model(model.inputs, layer.output)``, or the nested model called on its own.
"""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest

from layerviz.errors import LayervizError, ModelStructureError, PatternError
from layerviz.extract.activations import (
    ActivationExtractor,
    Extraction,
    LayerActivation,
    extract_activations,
)

#: (name, class name, shape without the batch axis) of every layer, in model order.
EXPECTED_LAYERS = {
    "article": [
        ("dense", "Dense", (50, 75)),
        ("my_dense", "Dense", (50, 50)),
        ("dense_1", "Dense", (50, 25)),
        ("dense_2", "Dense", (50, 10)),
        ("flatten", "Flatten", (500,)),
        ("dense_3", "Dense", (5,)),
    ],
    "sequential_cnn": [
        ("conv1", "Conv2D", (10, 10, 4)),
        ("pool", "MaxPooling2D", (5, 5, 4)),
        ("conv2", "Conv2D", (3, 3, 6)),
        ("flat", "Flatten", (54,)),
        ("probs", "Dense", (3,)),
    ],
    "functional_cnn": [
        ("conv_a", "Conv2D", (16, 16, 5)),
        ("bn", "BatchNormalization", (16, 16, 5)),
        ("relu", "Activation", (16, 16, 5)),
        ("conv_b", "Conv2D", (7, 7, 2)),
        ("gap", "GlobalAveragePooling2D", (2,)),
        ("logits", "Dense", (4,)),
    ],
    "nested": [
        ("backbone/conv1", "Conv2D", (10, 10, 4)),
        ("backbone/conv2", "Conv2D", (8, 8, 3)),
        ("dropout", "Dropout", (8, 8, 3)),
        ("head/flat", "Flatten", (192,)),
        ("head/probs", "Dense", (2,)),
    ],
    "nested_sequential": [
        ("backbone/conv1", "Conv2D", (8, 8, 3)),
        ("backbone/conv2", "Conv2D", (6, 6, 2)),
        ("flat", "Flatten", (72,)),
        ("out", "Dense", (2,)),
    ],
    "conv1d": [
        ("conv1d", "Conv1D", (28, 4)),
        ("pool1d", "MaxPooling1D", (14, 4)),
        ("flat", "Flatten", (56,)),
        ("out", "Dense", (3,)),
    ],
    "lstm": [
        ("lstm_seq", "LSTM", (10, 6)),
        ("lstm_last", "LSTM", (4,)),
        ("out", "Dense", (2,)),
    ],
    "multi_input": [
        ("img_conv", "Conv2D", (4, 4, 2)),
        ("vec_dense", "Dense", (4,)),
        ("img_flat", "Flatten", (32,)),
        ("merge", "Concatenate", (36,)),
        ("out", "Dense", (3,)),
    ],
    "shared_layer": [
        ("shared", "Dense", (8,)),
        ("shared@2", "Dense", (8,)),
        ("out", "Dense", (2,)),
    ],
}

#: Models without nested models or shared layers: every layer can be cut out on its own.
FLAT_KINDS = ["article", "sequential_cnn", "functional_cnn", "conv1d", "lstm", "multi_input"]

ATOL = 1e-5


def cut(model: keras.Model, layer_name: str) -> keras.Model:
    """The article's sub-model: the model's input(s) to one layer's output."""
    inputs = model.inputs if len(model.inputs) > 1 else model.inputs[0]
    return keras.Model(inputs, model.get_layer(layer_name).output)


def as_numpy(outputs) -> list[np.ndarray]:
    """A model's output(s) as a list of numpy arrays, batch axis kept."""
    if isinstance(outputs, (list, tuple)):
        return [keras.ops.convert_to_numpy(o) for o in outputs]
    return [keras.ops.convert_to_numpy(outputs)]


# --- order, names, classes, shapes ----------------------------------------------------------


@pytest.mark.parametrize("kind", list(EXPECTED_LAYERS))
def test_layers_come_in_model_order(kind, build_model, as_tested, noise):
    model = as_tested(build_model(kind))
    activations = ActivationExtractor(model).extract(noise(model))

    assert [(a.name, a.class_name, a.shape) for a in activations] == EXPECTED_LAYERS[kind]
    assert [a.index for a in activations] == list(range(1, len(activations) + 1))
    assert all(isinstance(a, LayerActivation) for a in activations)
    assert all(a.array.dtype == np.float32 for a in activations)


@pytest.mark.parametrize("kind", list(EXPECTED_LAYERS))
def test_layers_property_matches_extract(kind, build_model, noise):
    model = build_model(kind)
    extractor = ActivationExtractor(model)
    activations = extractor.extract(noise(model))
    assert extractor.layers == [(a.index, a.name, a.class_name) for a in activations]
    assert extractor.skipped == []


@pytest.mark.parametrize("kind", FLAT_KINDS)
def test_index_is_position_among_model_layers(kind, build_model, noise):
    """The article's ``num_layer``: the position in ``model.layers``, input layers not counted."""
    model = build_model(kind)
    positions = {
        layer.name: i
        for i, layer in enumerate(
            (lay for lay in model.layers if not isinstance(lay, keras.layers.InputLayer)),
            start=1,
        )
    }
    for act in ActivationExtractor(model).extract(noise(model)):
        assert act.index == positions[act.name]


# --- values ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", FLAT_KINDS)
def test_values_equal_one_submodel_per_layer(kind, build_model, as_tested, noise):
    """The article's way (one sub-model per layer) gives the same arrays as the one pass."""
    model = as_tested(build_model(kind))
    pattern = noise(model)
    for act in ActivationExtractor(model).extract(pattern):
        (expected,) = as_numpy(cut(model, act.name)(pattern))
        np.testing.assert_allclose(act.array, expected[0], atol=ATOL, err_msg=act.name)


@pytest.mark.parametrize("kind", list(EXPECTED_LAYERS))
def test_last_activation_and_outputs_equal_the_model(kind, build_model, as_tested, noise):
    model = as_tested(build_model(kind))
    pattern = noise(model, seed=3)
    extraction = ActivationExtractor(model).run(pattern)
    (expected,) = as_numpy(model(pattern))

    assert isinstance(extraction, Extraction)
    np.testing.assert_allclose(extraction.activations[-1].array, expected[0], atol=ATOL)
    assert len(extraction.outputs) == 1
    np.testing.assert_allclose(extraction.outputs[0], expected[0], atol=ATOL)
    assert extraction.nbytes == sum(a.array.nbytes for a in extraction.activations) + sum(
        o.nbytes for o in extraction.outputs
    )


def test_run_returns_every_output_of_a_multi_output_model(keras_session):
    inputs = keras.Input((4,), name="x")
    hidden = keras.layers.Dense(3, name="hidden")(inputs)
    logits = keras.layers.Dense(2, name="logits")(hidden)
    model = keras.Model(inputs, [hidden, logits])
    pattern = np.arange(4, dtype=np.float32)[np.newaxis]

    extraction = ActivationExtractor(model).run(pattern)

    expected = as_numpy(model(pattern))
    assert len(extraction.outputs) == 2
    for got, want in zip(extraction.outputs, expected, strict=True):
        np.testing.assert_allclose(got, want[0], atol=ATOL)


def test_nested_layers_equal_the_nested_models_called_alone(build_model, as_tested, noise):
    model = as_tested(build_model("nested"))
    pattern = noise(model)
    acts = {a.name: a.array for a in ActivationExtractor(model).extract(pattern)}

    backbone = model.get_layer("backbone")
    (features,) = as_numpy(backbone(pattern, training=False))
    (first,) = as_numpy(cut(backbone, "conv1")(pattern))
    (probs,) = as_numpy(model.get_layer("head")(features))

    np.testing.assert_allclose(acts["backbone/conv1"], first[0], atol=ATOL)
    np.testing.assert_allclose(acts["backbone/conv2"], features[0], atol=ATOL)
    # Extraction runs in inference mode: Dropout passes its input through unchanged.
    np.testing.assert_array_equal(acts["dropout"], acts["backbone/conv2"])
    np.testing.assert_allclose(acts["head/probs"], probs[0], atol=ATOL)


def test_nested_sequential_layers_equal_the_backbone_alone(build_model, as_tested, noise):
    model = as_tested(build_model("nested_sequential"))
    pattern = noise(model)
    acts = {a.name: a.array for a in ActivationExtractor(model).extract(pattern)}
    (features,) = as_numpy(model.get_layer("backbone")(pattern))
    np.testing.assert_allclose(acts["backbone/conv2"], features[0], atol=ATOL)


def test_shared_layer_calls_are_named_apart_and_hold_each_call(build_model, as_tested, noise):
    model = as_tested(build_model("shared_layer"))
    pattern = noise(model)
    acts = ActivationExtractor(model).extract(pattern)

    assert [a.name for a in acts] == ["shared", "shared@2", "out"]
    shared = model.get_layer("shared")
    (once,) = as_numpy(shared(pattern))
    (twice,) = as_numpy(shared(shared(pattern)))
    np.testing.assert_allclose(acts[0].array, once[0], atol=ATOL)
    np.testing.assert_allclose(acts[1].array, twice[0], atol=ATOL)


def test_lstm_outputs_are_sequences_then_last_state(build_model, noise):
    model = build_model("lstm")
    acts = ActivationExtractor(model).extract(noise(model))
    (sequence,) = as_numpy(cut(model, "lstm_seq")(noise(model)))
    # The last step of the first LSTM's sequence feeds the second; its own output is one vector.
    np.testing.assert_allclose(acts[0].array, sequence[0], atol=ATOL)
    assert acts[0].shape == (10, 6)
    assert acts[1].shape == (4,)


# --- one extractor, many patterns ------------------------------------------------------------


def test_extractor_is_built_once_and_reused(build_model, noise, monkeypatch):
    model = build_model("functional_cnn")
    extractor = ActivationExtractor(model)

    def no_rebuild(*args, **kwargs):
        raise AssertionError("extract must not rebuild the graph")

    monkeypatch.setattr(keras.models, "clone_model", no_rebuild)
    first = extractor.extract(noise(model, seed=1))
    again = extractor.extract(noise(model, seed=1))
    other = extractor.extract(noise(model, seed=2))

    for a, b, c in zip(first, again, other, strict=True):
        np.testing.assert_array_equal(a.array, b.array)
        assert not np.array_equal(a.array, c.array), a.name


def test_extract_activations_is_the_one_call_form(article_model, article_pattern):
    one_call = extract_activations(article_model, article_pattern)
    reused = ActivationExtractor(article_model).extract(article_pattern)
    assert [a.name for a in one_call] == [a.name for a in reused]
    for a, b in zip(one_call, reused, strict=True):
        np.testing.assert_array_equal(a.array, b.array)


# --- patterns: what fits and what does not ---------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "shape", "error"),
    [
        ("article", (50, 50), None),
        ("article", (1, 50, 50), None),
        ("article", (50, 50, 1), None),
        ("article", (49, 50), "pattern shape (49, 50) does not fit input (50, 50)"),
        ("article", (2, 50, 50), "pattern shape (2, 50, 50) does not fit input (50, 50)"),
        ("article", (50,), "pattern shape (50,) does not fit input (50, 50)"),
        ("sequential_cnn", (12, 12, 1), None),
        ("sequential_cnn", (1, 12, 12, 1), None),
        ("sequential_cnn", (12, 12), None),
        ("sequential_cnn", (12, 12, 3), "pattern shape (12, 12, 3) does not fit input (12, 12, 1)"),
        ("sequential_cnn", (28, 28, 1), "pattern shape (28, 28, 1) does not fit input (12, 12, 1)"),
        ("conv1d", (32, 2), None),
        ("conv1d", (2, 32), "pattern shape (2, 32) does not fit input (32, 2)"),
    ],
)
def test_pattern_shapes(kind, shape, error, build_model):
    model = build_model(kind)
    extractor = ActivationExtractor(model)
    pattern = np.random.default_rng(0).random(shape)

    if error is None:
        batched = pattern.reshape((1, *model.inputs[0].shape[1:]))
        got = extractor.extract(pattern)
        reference = extractor.extract(batched)
        for a, b in zip(got, reference, strict=True):
            np.testing.assert_array_equal(a.array, b.array)
    else:
        with pytest.raises(PatternError, match=re.escape(error)):
            extractor.extract(pattern)


def test_pattern_errors_are_value_errors_and_layerviz_errors(article_model):
    with pytest.raises(ValueError) as info:
        ActivationExtractor(article_model).extract(np.zeros((3, 3)))
    assert isinstance(info.value, LayervizError)


def test_one_pattern_in_a_list_is_accepted(article_model, article_pattern):
    extractor = ActivationExtractor(article_model)
    listed = extractor.extract([article_pattern])
    plain = extractor.extract(article_pattern)
    np.testing.assert_array_equal(listed[0].array, plain[0].array)


def test_multi_input_takes_one_pattern_per_input(build_model, as_tested):
    model = as_tested(build_model("multi_input"))
    vector = np.linspace(0, 1, 8, dtype=np.float32)
    image = np.linspace(0, 1, 36, dtype=np.float32).reshape(6, 6, 1)
    extractor = ActivationExtractor(model)

    acts = {a.name: a.array for a in extractor.extract([vector, image])}
    as_tuple = {a.name: a.array for a in extractor.extract((vector[None], image[None]))}

    (expected,) = as_numpy(model([vector[None], image[None]]))
    np.testing.assert_allclose(acts["out"], expected[0], atol=ATOL)
    np.testing.assert_array_equal(as_tuple["out"], acts["out"])
    assert extractor.input_shapes == [(8,), (6, 6, 1)]


@pytest.mark.parametrize(
    ("make_pattern", "message"),
    [
        (lambda v, i: v, "got 1 array"),
        (lambda v, i: [v], "got 1 arrays"),
        (lambda v, i: [v, i, v], "got 3 arrays"),
        (lambda v, i: [i, v], "does not fit input"),
    ],
    ids=["bare-array", "list-of-one", "list-of-three", "swapped"],
)
def test_multi_input_wrong_patterns(make_pattern, message, build_model):
    model = build_model("multi_input")
    vector = np.zeros((8,), dtype=np.float32)
    image = np.zeros((6, 6, 1), dtype=np.float32)
    with pytest.raises(PatternError, match=message) as info:
        ActivationExtractor(model).extract(make_pattern(vector, image))
    if "array" in message:  # a count error names every input and its shape
        assert "2 inputs" in str(info.value)
        assert "(8,)" in str(info.value)
        assert "(6, 6, 1)" in str(info.value)


# --- layers that cannot be drawn, models that cannot be cut ----------------------------------


def test_undrawable_layers_are_skipped_with_a_reason(build_model, as_tested, noise):
    model = as_tested(build_model("undrawable"))
    pattern = noise(model)
    extractor = ActivationExtractor(model)
    extraction = extractor.run(pattern)

    assert [(s.index, s.name, s.class_name) for s in extractor.skipped] == [
        (1, "conv3d", "Conv3D"),
    ]
    (conv3d,) = extractor.skipped
    assert "rank 5" in conv3d.reason
    assert "(None, 2, 4, 4, 2)" in conv3d.reason
    # The other layers keep their indices: the skipped one leaves a gap. The LSTM's three
    # outputs are entries of their own, sharing its index.
    assert [(a.index, a.name) for a in extraction.activations] == [
        (2, "reshape"),
        (3, "lstm:sequence"),
        (3, "lstm:state_h"),
        (3, "lstm:state_c"),
        (4, "flat"),
        (5, "merge"),
        (6, "out"),
    ]
    (expected,) = as_numpy(model(pattern))
    np.testing.assert_allclose(extraction.outputs[0], expected[0], atol=ATOL)


def test_unbuilt_sequential_is_a_structure_error(keras_session):
    model = keras.Sequential([keras.layers.Dense(3, name="a")], name="unbuilt")
    with pytest.raises(ModelStructureError, match="'unbuilt' has not been built"):
        ActivationExtractor(model)


def test_sequential_built_by_a_call_can_be_cut(keras_session):
    model = keras.Sequential([keras.layers.Dense(3, name="a"), keras.layers.Dense(2, name="b")])
    pattern = np.ones((1, 4), dtype=np.float32)
    expected = keras.ops.convert_to_numpy(model(pattern))
    acts = ActivationExtractor(model).extract(pattern)
    assert [a.name for a in acts] == ["a", "b"]
    np.testing.assert_allclose(acts[-1].array, expected[0], atol=ATOL)


# --- inputs of less common shapes ------------------------------------------------------------


def test_input_whose_first_axis_is_1(keras_session):
    """A channels-first grey image ``(1, 6, 6)``: its own leading 1 is not a batch axis."""
    inputs = keras.Input((1, 6, 6), name="chw")
    x = keras.layers.Flatten(name="flat")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2, name="out")(x))
    pattern = np.random.default_rng(0).random((1, 1, 6, 6)).astype(np.float32)
    (expected,) = as_numpy(model(pattern))
    extractor = ActivationExtractor(model)

    for given in (pattern, pattern[0]):  # with and without the batch axis
        acts = extractor.extract(given)
        assert [(a.name, a.shape) for a in acts] == [("flat", (36,)), ("out", (2,))]
        np.testing.assert_allclose(acts[-1].array, expected[0], atol=ATOL)


def test_free_axis_is_named_in_the_error(keras_session):
    """A variable-length input ``(None, 3)`` is refused up front, naming its shape."""
    inputs = keras.Input((None, 3), name="steps")
    model = keras.Model(inputs, keras.layers.LSTM(4, name="lstm")(inputs))
    with pytest.raises(ModelStructureError) as info:
        ActivationExtractor(model)
    assert "(None, 3)" in str(info.value) and "free axes" in str(info.value)


def test_subclassed_model_is_refused_with_a_clear_reason(keras_session):
    class Tiny(keras.Model):
        def __init__(self):
            super().__init__(name="tiny")
            self.dense = keras.layers.Dense(3)

        def call(self, x):
            return self.dense(x)

    model = Tiny()
    model(np.zeros((1, 4), dtype=np.float32))  # built, yet still has no layer graph
    with pytest.raises(ModelStructureError, match=r"subclassed keras\.Model"):
        ActivationExtractor(model)


def test_mask_computation_is_not_a_layer(keras_session):
    """``Embedding(mask_zero=True)`` adds a ``not_equal`` op to the graph; it is no layer."""
    tokens = keras.Input((5,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(10, 4, mask_zero=True, name="emb")(tokens)
    x = keras.layers.LSTM(3, name="lstm")(x)
    model = keras.Model(tokens, keras.layers.Dense(2, name="out")(x))
    pattern = np.array([[3, 1, 4, 0, 0]])

    acts = ActivationExtractor(model).extract(pattern)

    assert [(a.index, a.name) for a in acts] == [(1, "emb"), (2, "lstm"), (3, "out")]
    (expected,) = as_numpy(model(pattern))
    np.testing.assert_allclose(acts[-1].array, expected[0], atol=ATOL)


def test_named_dict_inputs(keras_session):
    """A model built on a dict of inputs takes one pattern per input, in ``model.inputs`` order."""
    a = keras.Input((3,), name="a")
    b = keras.Input((2,), name="b")
    x = keras.layers.Concatenate(name="merge")([a, b])
    model = keras.Model({"a": a, "b": b}, keras.layers.Dense(1, name="out")(x))
    va = np.array([[1.0, 2.0, 3.0]], dtype=np.float32)
    vb = np.array([[4.0, 5.0]], dtype=np.float32)

    acts = ActivationExtractor(model).extract([va, vb])

    assert [a.name for a in acts] == ["merge", "out"]
    np.testing.assert_array_equal(acts[0].array, [1, 2, 3, 4, 5])
    (expected,) = as_numpy(model({"a": va, "b": vb}))
    np.testing.assert_allclose(acts[-1].array, expected[0], atol=ATOL)


def test_arrays_from_one_pass_survive_later_passes(build_model, noise):
    # extract() hands out views of the forward pass's own buffers (no copy): they must not be
    # overwritten when the extractor runs again.
    import gc

    model = build_model("functional_cnn")
    extractor = ActivationExtractor(model)
    first = extractor.extract(noise(model, seed=1))
    kept = [a.array.copy() for a in first]
    for seed in range(2, 6):
        extractor.extract(noise(model, seed=seed))
        gc.collect()
    for act, copy in zip(first, kept, strict=True):
        np.testing.assert_array_equal(act.array, copy)
        assert not act.array.flags.writeable


def test_nested_functional_backbone_after_other_layers(keras_session, noise):
    # A backbone behind a preprocessing layer is called on an intermediate tensor, which
    # clone_model alone cannot rebuild on ("not connected to inputs").
    backbone_in = keras.Input((12, 12, 3))
    b = keras.layers.Conv2D(4, 3, name="conv1")(backbone_in)
    backbone = keras.Model(backbone_in, keras.layers.Conv2D(5, 3, name="conv2")(b), name="bb")
    inp = keras.Input((12, 12, 3))
    x = keras.layers.Rescaling(1 / 255.0, name="scale")(inp)
    x = backbone(x, training=False)
    out = keras.layers.Dense(3, name="head")(keras.layers.GlobalAveragePooling2D(name="gap")(x))
    model = keras.Model(inp, out)

    pattern = noise(model) * 255
    result = ActivationExtractor(model).run(pattern)
    names = [(a.index, a.name) for a in result.activations]
    assert names == [(1, "scale"), (2, "bb/conv1"), (3, "bb/conv2"), (4, "gap"), (5, "head")]
    np.testing.assert_allclose(result.outputs[0], model.predict_on_batch(pattern)[0], atol=1e-5)
    inner = keras.Model(backbone_in, backbone.get_layer("conv1").output)(pattern / 255.0)
    inner = keras.ops.convert_to_numpy(inner)
    np.testing.assert_allclose(result.activations[1].array, inner[0], atol=1e-5)


def test_activations_and_extractions_compare_by_identity(article_model, article_pattern):
    # Frozen dataclasses holding arrays: value equality would ask an array for its truth.
    run = ActivationExtractor(article_model).run(article_pattern)
    first = run.activations[0]
    same = type(first)(first.index, first.name, first.class_name, first.array)
    assert first == first and first != same
    assert run == run
    assert len({first, same, run}) == 3


# --- run_batch ---------------------------------------------------------------------------------


def batch_of(model: keras.Model, n: int) -> np.ndarray | list[np.ndarray]:
    rng = np.random.default_rng(3)
    arrays = [rng.random((n, *t.shape[1:]), dtype=np.float32) for t in model.inputs]
    return arrays if len(arrays) > 1 else arrays[0]


@pytest.mark.parametrize("kind", ["article", "functional_cnn", "nested", "lstm", "multi_input"])
def test_run_batch_equals_one_pattern_at_a_time(kind, build_model, as_tested):
    model = as_tested(build_model(kind))
    extractor = ActivationExtractor(model)
    batch = batch_of(model, 3)
    outputs = extractor.run_batch(batch)
    assert len(outputs) == len(extractor.layers)
    for i in range(3):
        one = [b[i : i + 1] for b in batch] if isinstance(batch, list) else batch[i : i + 1]
        for out, act in zip(outputs, extractor.extract(one), strict=True):
            assert out.shape == (3, *act.shape)
            np.testing.assert_allclose(out[i], act.array, rtol=1e-5, atol=1e-6)


def test_run_batch_takes_any_batch_size_and_a_dropped_channel_axis(build_model):
    model = build_model("sequential_cnn")  # input (12, 12, 1)
    extractor = ActivationExtractor(model)
    for n in (1, 5, 2):
        outputs = extractor.run_batch(np.zeros((n, 12, 12), np.float32))
        assert [o.shape[0] for o in outputs] == [n] * len(extractor.layers)
        assert not outputs[0].flags.writeable


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        (
            np.zeros((4, 12, 12, 3)),
            "batch shape (4, 12, 12, 3) does not fit input (12, 12, 1): expected (n, 12, 12, 1)",
        ),
        (np.zeros((12, 12, 1)), "batch shape (12, 12, 1) does not fit input (12, 12, 1)"),
        (np.zeros((0, 12, 12, 1)), "batch shape (0, 12, 12, 1) holds no patterns"),
        (np.array([["a"]]), "pattern dtype '<U1' is not a number type"),
    ],
)
def test_run_batch_bad_batches(batch, message, build_model):
    extractor = ActivationExtractor(build_model("sequential_cnn"))
    with pytest.raises(PatternError, match=re.escape(message)):
        extractor.run_batch(batch)


def test_run_batch_multi_input_counts_must_agree(build_model):
    model = build_model("multi_input")
    extractor = ActivationExtractor(model)
    vector, image = batch_of(model, 3)
    with pytest.raises(PatternError, match="hold different numbers of patterns: 3, 2"):
        extractor.run_batch([vector, image[:2]])
    with pytest.raises(PatternError, match="give one batch per input, in order"):
        extractor.run_batch(vector)
