"""Tests for layerviz.analysis.health (dead and saturated channels) and the batches it runs on.

The models are built here with weights set by hand, so which channel is dead or saturated is
known before the test runs: a filter with zero weights and bias behind a ReLU never fires; a
large positive bias in front of a capped activation pins it at its cap.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest
from helpers import npz_bytes

from layerviz.analysis.health import model_health, sample_patterns, seeded_patterns
from layerviz.config import MODELS_DIR_VARIABLE
from layerviz.errors import ArgumentError, PatternError
from layerviz.extract.activations import ActivationExtractor
from layerviz.patterns.inputs import random_pattern
from layerviz.patterns.readers import MAX_BATCH_BYTES, read_pattern_batch

layers = keras.layers
REPO_MODELS = Path(__file__).resolve().parents[2] / "models"
DEAD_FILTER = 2
SATURATED_UNIT = 1


def positive_weights(layer: keras.layers.Layer, seed: int = 0) -> list[np.ndarray]:
    """Kernel in [0.1, 1) and bias 0: on inputs in [0, 1) every output is above 0 and varies."""
    kernel, bias = layer.get_weights()
    rng = np.random.default_rng(seed)
    return [rng.uniform(0.1, 1.0, kernel.shape).astype(np.float32), np.zeros_like(bias)]


def dead_filter_model() -> keras.Model:
    """Conv2D -> ReLU, with filter ``DEAD_FILTER``'s weights and bias zeroed."""
    inputs = keras.Input((8, 8, 1), name="image")
    conv = layers.Conv2D(4, 3, name="conv")
    x = layers.ReLU(name="relu")(conv(inputs))
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    model = keras.Model(inputs, x, name="dead_filter")
    kernel, bias = positive_weights(conv)
    kernel[..., DEAD_FILTER] = 0
    bias[DEAD_FILTER] = 0
    conv.set_weights([kernel, bias])
    return model


def saturated_model(capped: str) -> keras.Model:
    """A layer whose unit ``SATURATED_UNIT`` has bias +100, then a capped activation."""
    inputs = keras.Input((6, 6, 1), name="image")
    if capped == "relu_max_value":
        pre = layers.Conv2D(3, 3, name="pre")
        out = layers.ReLU(max_value=1.0, name="capped")(pre(inputs))
    else:
        flat = layers.Flatten(name="flat")(inputs)
        pre = layers.Dense(3, name="pre")
        out = layers.Activation("sigmoid", name="capped")(pre(flat))
    model = keras.Model(inputs, out, name=f"saturated_{capped}")
    kernel, bias = positive_weights(pre)
    kernel *= 0.1  # keep the other units below the cap, so only the biased one saturates
    bias[SATURATED_UNIT] = 100.0
    pre.set_weights([kernel, bias])
    return model


def found(report) -> dict[str, tuple[tuple[int, ...], tuple[int, ...]]]:
    """``{layer name: (dead, saturated)}`` for the layers where anything was found."""
    return {
        layer.name: (layer.dead, layer.saturated)
        for layer in report.layers
        if layer.dead or layer.saturated
    }


# --- model_health --------------------------------------------------------------------------


def test_zeroed_filter_behind_relu_is_exactly_the_dead_channel(as_tested):
    model = as_tested(dead_filter_model())
    report = model_health(model, seeded_patterns(model, 20))
    # The conv output of the zeroed filter is 0 everywhere (≤ 0, so dead there too), and the
    # ReLU and the pooling pass the 0 on; nothing else is dead, and a constant 0 is not
    # "saturated".
    dead_only = ((DEAD_FILTER,), ())
    assert found(report) == {"conv": dead_only, "relu": dead_only, "gap": dead_only}
    assert (report.n_dead, report.n_saturated, report.n_patterns) == (3, 0, 20)
    assert report.layer("relu").n_channels == 4


@pytest.mark.parametrize("capped", ["relu_max_value", "sigmoid"])
def test_large_bias_before_a_capped_activation_is_saturated(capped, keras_session):
    model = saturated_model(capped)
    report = model_health(model, seeded_patterns(model, 16))
    assert found(report) == {"capped": ((), (SATURATED_UNIT,))}
    assert report.layer("capped").n_saturated == 1


def test_threshold_moves_the_line_for_dead(keras_session):
    model = dead_filter_model()
    patterns = seeded_patterns(model, 8)
    everything = model_health(model, patterns, threshold=1e6)
    assert everything.layer("relu").dead == (0, 1, 2, 3)
    assert model_health(model, patterns, threshold=-1.0).n_dead == 0


def test_batches_give_the_same_answer_as_one_pattern_at_a_time(build_model):
    model = build_model("sequential_cnn")
    extractor = ActivationExtractor(model)
    patterns = seeded_patterns(model, 7)
    per_pattern = [extractor.extract(p) for p in patterns]
    for batch_size in (1, 3, 32):
        report = model_health(extractor, patterns, batch_size=batch_size)
        for i, layer in enumerate(report.layers):
            stacked = np.stack([acts[i].array for acts in per_pattern])
            highs = stacked.reshape(-1, stacked.shape[-1]).max(axis=0)
            lows = stacked.reshape(-1, stacked.shape[-1]).min(axis=0)
            assert layer.dead == tuple(np.flatnonzero(highs <= 0).tolist())
            assert layer.saturated == tuple(np.flatnonzero((lows == highs) & (highs > 0)))


def test_patterns_go_through_in_batches_with_progress(build_model, monkeypatch):
    model = build_model("sequential_cnn")
    extractor = ActivationExtractor(model)
    sizes: list[int] = []
    reduced = extractor.extract_reduced

    def counted(batch, **kw):
        sizes.append(len(batch))
        return reduced(batch, **kw)

    monkeypatch.setattr(extractor, "extract_reduced", counted)
    calls: list[tuple[int, int]] = []
    report = model_health(
        extractor,
        seeded_patterns(model, 10),
        batch_size=4,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert sizes == [4, 4, 2]  # three passes for ten patterns, never one pass per pattern
    assert calls == [(0, 10), (4, 10), (8, 10), (10, 10)]
    assert report.n_patterns == 10


def test_multi_input_models_take_one_batch_per_input(build_model):
    model = build_model("multi_input")
    report = model_health(model, seeded_patterns(model, 5), batch_size=2)
    assert report.n_patterns == 5
    assert [layer.name for layer in report.layers] == [
        name for _, name, _ in ActivationExtractor(model).layers
    ]


@pytest.mark.parametrize(
    ("patterns", "fragment"),
    [
        (np.zeros((0, 12, 12, 1), np.float32), "needs at least one pattern"),
        (
            np.zeros((5, 12, 12, 3), np.float32),
            "batch shape (5, 12, 12, 3) does not fit input (12, 12, 1): expected (n, 12, 12, 1)",
        ),
        (np.zeros((12, 12, 1), np.float32), "batch shape (12, 12, 1) does not fit input"),
        (np.full((2, 12, 12, 1), np.nan, np.float32), "NaN or infinite"),
    ],
)
def test_bad_patterns_are_clear_errors(patterns, fragment, build_model):
    with pytest.raises(PatternError, match=re.escape(fragment)):
        model_health(build_model("sequential_cnn"), patterns)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"threshold": float("nan")}, "threshold must be a finite number, got nan"),
        ({"threshold": "low"}, "threshold must be a finite number, got 'low'"),
        ({"threshold": True}, "threshold must be a finite number, got True"),
        ({"batch_size": 0}, "batch_size must be a whole number ≥ 1, got 0"),
        ({"batch_size": 2.5}, "batch_size must be a whole number ≥ 1, got 2.5"),
    ],
)
def test_bad_arguments_are_clear_errors(kwargs, fragment, build_model):
    model = build_model("sequential_cnn")
    with pytest.raises(ArgumentError, match=re.escape(fragment)):
        model_health(model, seeded_patterns(model, 2), **kwargs)


def test_unknown_layer_in_a_report(keras_session):
    model = dead_filter_model()
    report = model_health(model, seeded_patterns(model, 2))
    with pytest.raises(ArgumentError, match="no layer named 'nope' in the health report"):
        report.layer("nope")


# --- pattern batches -----------------------------------------------------------------------


@pytest.fixture
def repo_models(monkeypatch):
    """Bundled models from the repo's own ``models/``, whatever the environment says."""
    monkeypatch.setenv(MODELS_DIR_VARIABLE, str(REPO_MODELS))


def test_seeded_patterns_are_the_seeds_patterns(build_model):
    model = build_model("sequential_cnn")
    batch = seeded_patterns(model, 4, first_seed=7)
    assert batch.shape == (4, 12, 12, 1)
    for i in range(4):
        np.testing.assert_array_equal(batch[i : i + 1], random_pattern(model, seed=7 + i))


@pytest.mark.parametrize("n", [0, -3, 2.0, True])
def test_seeded_patterns_refuse_bad_counts(n, build_model):
    with pytest.raises(ArgumentError, match="number of patterns must be a whole number ≥ 1"):
        seeded_patterns(build_model("sequential_cnn"), n)


def test_sample_patterns_read_every_bundled_sample(repo_models):
    from layerviz.load.bundled import get_bundled

    bundled = get_bundled("digits_cnn")
    batch = sample_patterns("digits_cnn", bundled.input_shape)
    assert batch.shape == (len(bundled.samples), *bundled.input_shape)
    assert batch.dtype == np.float32
    assert sample_patterns(bundled, bundled.input_shape).tobytes() == batch.tobytes()


def test_sample_patterns_of_a_model_that_is_not_bundled(repo_models, tmp_path):
    with pytest.raises(PatternError, match="is not a bundled model, so it has no samples"):
        sample_patterns(tmp_path / "mine.keras", (28, 28, 1))


def npy_bytes(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.save(out, array, allow_pickle=False)
    return out.getvalue()


@pytest.mark.parametrize(
    ("filename", "make"),
    [
        ("b.npy", lambda a: npy_bytes(a)),
        ("b.NPY", lambda a: npy_bytes(a[..., 0])),  # the channel axis of 1 left out
        ("b.npz", lambda a: npz_bytes(whatever=a)),
        ("b.npz", lambda a: npz_bytes(patterns=a, labels=np.arange(len(a)))),
        ("b.npy", lambda a: npy_bytes(a.astype(np.float64))),
    ],
)
def test_read_pattern_batch(filename, make):
    array = np.random.default_rng(1).random((6, 28, 28, 1), dtype=np.float32)
    batch = read_pattern_batch(make(array), filename, (28, 28, 1))
    assert batch.shape == (6, 28, 28, 1)
    assert batch.dtype == np.float32
    np.testing.assert_array_equal(batch, array)


def huge_header_npy() -> bytes:
    """A valid .npy header declaring 10**9 patterns (3 TB), followed by 16 bytes."""
    out = io.BytesIO()
    header = {"descr": "<f4", "fortran_order": False, "shape": (10**9, 28, 28, 1)}
    np.lib.format.write_array_header_1_0(out, header)
    return out.getvalue() + bytes(16)


@pytest.mark.parametrize(
    ("filename", "data", "fragment"),
    [
        (
            "b.npz",
            npz_bytes(x=np.zeros((5, 28, 28, 3), np.float32)),
            "b.npz: member 'x.npy': batch shape (5, 28, 28, 3) does not fit input (28, 28, 1): "
            "expected (n, 28, 28, 1)",
        ),
        (
            "b.npy",
            npy_bytes(np.zeros((28, 28, 1), np.float32)),
            "b.npy: batch shape (28, 28, 1) does not fit input (28, 28, 1)",
        ),
        ("b.npy", npy_bytes(np.zeros((0, 28, 28, 1), np.float32)), "holds no patterns"),
        ("b.npz", npz_bytes(a=np.zeros(3), b=np.zeros(3)), "none is named 'patterns' or 'x'"),
        ("b.npy", npy_bytes(np.zeros((2, 28, 28, 1), np.complex64)), "complex values"),
        ("b.png", b"\x89PNG", "a batch of patterns is a .npy or .npz file, got '.png'"),
        ("b.npy", b"", "b.npy: file is empty"),
        ("b.npy", b"not numpy at all", "does not start with the .npy magic string"),
        ("b.npy", npy_bytes(np.zeros((2, 28, 28, 1), np.float32))[:-8], "file is truncated"),
        ("b.npy", huge_header_npy(), "file is truncated (header declares 3136000000000 bytes"),
    ],
)
def test_read_pattern_batch_refuses(filename, data, fragment):
    with pytest.raises(PatternError, match=re.escape(fragment)):
        read_pattern_batch(data, filename, (28, 28, 1))


def test_read_pattern_batch_refuses_pickles():
    data = io.BytesIO()
    np.save(data, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with pytest.raises(PatternError, match="pickled/object arrays are not accepted"):
        read_pattern_batch(data.getvalue(), "b.npy", (28, 28, 1))


def test_read_pattern_batch_size_limits(monkeypatch):
    from layerviz.patterns import readers

    limit = MAX_BATCH_BYTES
    with pytest.raises(PatternError, match=f"over the {limit}-byte limit for patterns"):
        read_pattern_batch(bytes(limit + 1), "b.npy", (28, 28, 1))
    # An .npz whose member would unpack past the limit is refused before it is unpacked.
    monkeypatch.setattr(readers, "MAX_BATCH_BYTES", 10_000)
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("x.npy", npy_bytes(np.zeros((20, 28, 28, 1), np.float32)))
    with pytest.raises(PatternError, match="over the limit of 10000 bytes unpacked"):
        read_pattern_batch(zipped.getvalue(), "b.npz", (28, 28, 1))


def test_layers_that_only_move_values_are_not_counted_again(keras_session):
    """Issue 25, row 15: digits_cnn's "176 dead" counted a Flatten's units of a pool with no
    dead channel, and a Dropout repeating the Dense before it."""
    from layerviz.analysis.statistics import MOVES_VALUES, layer_statistics

    inputs = keras.Input((8, 8, 1), name="x")
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(inputs)
    x = keras.layers.MaxPooling2D(name="pool")(x)
    x = keras.layers.Flatten(name="flat")(x)
    x = keras.layers.Reshape((4, 9), name="reshape")(x)
    x = keras.layers.Permute((2, 1), name="permute")(x)
    x = keras.layers.Flatten(name="flat2")(x)
    x = keras.layers.Dense(16, activation="relu", name="dense")(x)
    x = keras.layers.Dropout(0.5, name="drop")(x)
    model = keras.Model(inputs, keras.layers.Dense(3, name="out")(x))
    patterns = np.random.default_rng(0).normal(size=(8, 8, 8, 1)).astype("float32")
    report = model_health(model, patterns)
    dense, drop = report.layer("dense"), report.layer("drop")
    assert drop.dead == dense.dead  # the copy has its input's verdict ...
    computed = [r for r in report.layers if r.class_name not in MOVES_VALUES]
    assert [r.name for r in computed] == ["conv", "pool", "dense", "out"]
    assert report.n_dead == sum(r.n_dead for r in computed)  # ... and is not counted again
    # Reference: the same totals straight from numpy over the computing layers' outputs.
    names = ["conv", "pool", "dense", "out"]
    probe = keras.Model(inputs, [model.get_layer(n).output for n in names])
    outputs = probe.predict(patterns, verbose=0)
    expected = sum(int(np.sum(o.reshape(-1, o.shape[-1]).max(axis=0) <= 0)) for o in outputs)
    assert report.n_dead == expected
    stats = layer_statistics(ActivationExtractor(model).run(patterns[:1]))
    assert {s.name for s in stats} >= {"flat", "reshape", "permute", "drop"}


@pytest.mark.parametrize("identity", ["linear", None])
def test_an_identity_activation_is_told_by_its_config_not_its_class(keras_session, identity):
    """Issue 25, row 15: ``Activation("linear")`` only moves values, yet its class is the
    ``Activation`` that also computes ReLUs: its config's activation tells which it is."""
    from layerviz.analysis.statistics import moves_values, value_movers

    dead = keras.initializers.Constant(-10.0)  # every unit of these layers is dead
    inputs = keras.Input((6, 6, 1), name="x")
    x = keras.layers.Conv2D(4, 3, activation="relu", bias_initializer=dead, name="conv")(inputs)
    x = keras.layers.Activation(identity, name="same")(x)
    x = keras.layers.Activation("relu", name="relu")(x)  # an Activation that computes
    inner = keras.Model(inputs, x, name="inner")
    outer_in = keras.Input((6, 6, 1), name="x")
    y = keras.layers.Flatten(name="flat")(inner(outer_in))
    y = keras.layers.Activation(identity, name="again")(y)
    model = keras.Model(outer_in, keras.layers.Dense(3, bias_initializer=dead, name="out")(y))
    assert moves_values(inner.get_layer("same")) and not moves_values(inner.get_layer("relu"))
    assert not moves_values(model.get_layer("out"))
    assert value_movers(model) == {"inner/same", "again", "flat"}

    patterns = np.random.default_rng(0).normal(size=(4, 6, 6, 1)).astype("float32")
    report = model_health(model, patterns)
    assert report.layer("inner/same").n_dead == report.layer("inner/conv").n_dead == 4
    # Reference: numpy over the outputs of the layers that compute (conv, relu, out).
    probe = keras.Model(inputs, [inner.get_layer(n).output for n in ("conv", "relu")])
    outputs = [*probe.predict(patterns, verbose=0), model.predict(patterns, verbose=0)]
    expected = sum(int(np.sum(o.reshape(-1, o.shape[-1]).max(axis=0) <= 0)) for o in outputs)
    assert expected == 4 + 4 + 3
    assert report.n_dead == expected


def test_health_from_reduced_passes_equals_numpy_on_the_full_outputs(build_model):
    """The reference: each channel's min and max over the full batch outputs, in numpy."""
    model = build_model("functional_cnn")
    patterns = seeded_patterns(model, 6)
    report = model_health(model, patterns, batch_size=4)
    arrays = ActivationExtractor(model).run_batch(patterns)
    for record, array in zip(report.layers, arrays, strict=True):
        rows = array.reshape(-1, array.shape[-1])
        low, high = rows.min(axis=0), rows.max(axis=0)
        assert record.dead == tuple(np.flatnonzero(high <= 0)), record.name
        assert record.saturated == tuple(np.flatnonzero((low == high) & (high > 0))), record.name
