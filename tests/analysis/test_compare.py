"""Tests for ``layerviz.analysis.compare`` (A/B per layer), ``extract_batch`` and ``layerviz
compare``."""

from __future__ import annotations

import csv
import math

import keras
import numpy as np
import pytest
from helpers import run_cli
from PIL import Image

from layerviz import ActivationExtractor, PatternError, compare, compare_patterns, perturb
from layerviz.analysis.compare import divergences

FLOAT_MODELS = ["sequential_cnn", "functional_cnn", "nested", "conv1d", "lstm", "multi_input"]


def one_of_each(model, seed: int):
    """A float pattern per input, with its batch axis (a list for several inputs)."""
    rng = np.random.default_rng(seed)
    parts = [rng.random((1, *t.shape[1:]), dtype=np.float32) for t in model.inputs]
    return parts if len(parts) > 1 else parts[0]


# --- compare ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", FLOAT_MODELS)
def test_a_pattern_against_itself_differs_nowhere(kind, build_model):
    model = build_model(kind)
    a = one_of_each(model, 0)
    layers = compare(model, a, a)

    extractor = ActivationExtractor(model)
    assert [(d.index, d.name) for d in layers] == [(i, n) for i, n, _ in extractor.layers]
    for d in layers:
        assert not d.diff.any(), d.name
        assert d.cosine == 0.0 and d.relative_l2 == 0.0, d.name
        assert not d.channel_change.any()
        assert d.shape == d.a.shape == d.b.shape


def test_differences_match_two_single_passes(build_model):
    model = build_model("functional_cnn")
    a, b = one_of_each(model, 0), one_of_each(model, 1)
    extractor = ActivationExtractor(model)
    comparison = compare_patterns(extractor, a, b)
    for d, act_a, act_b in zip(
        comparison.layers, extractor.extract(a), extractor.extract(b), strict=True
    ):
        np.testing.assert_allclose(d.a, act_a.array, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(d.diff, act_b.array - act_a.array, rtol=1e-4, atol=1e-5)
        flat_a, flat_b = act_a.array.ravel().astype(float), act_b.array.ravel().astype(float)
        cos = 1 - flat_a @ flat_b / (np.linalg.norm(flat_a) * np.linalg.norm(flat_b))
        assert d.cosine == pytest.approx(cos, abs=1e-5)
        rel = np.linalg.norm(flat_b - flat_a) / np.linalg.norm(flat_a)
        assert d.relative_l2 == pytest.approx(rel, rel=1e-4)
    np.testing.assert_allclose(comparison.b.outputs[0], extractor.run(b).outputs[0], rtol=1e-5)


def test_divergence_grows_with_the_noise(build_model):
    model = build_model("sequential_cnn")
    extractor = ActivationExtractor(model)
    a = one_of_each(model, 0)
    sigmas = (0.01, 0.05, 0.2, 0.5)
    mean_l2, mean_cos = [], []
    for sigma in sigmas:
        runs = [compare(extractor, a, perturb(a, "noise", seed=s, sigma=sigma)) for s in range(5)]
        mean_l2.append(np.mean([[d.relative_l2 for d in run] for run in runs], axis=0))
        mean_cos.append(np.mean([[d.cosine for d in run] for run in runs], axis=0))
    for i in range(len(sigmas) - 1):  # every layer, every step up in sigma
        assert (mean_l2[i + 1] > mean_l2[i]).all(), (sigmas[i], mean_l2)
        assert (mean_cos[i + 1] > mean_cos[i]).all(), (sigmas[i], mean_cos)


def test_a_zero_shift_changes_nothing(build_model):
    model = build_model("sequential_cnn")
    a = one_of_each(model, 3)
    assert all(d.relative_l2 == 0 for d in compare(model, a, perturb(a, "shift", dx=0, dy=0)))


def test_channels_are_ranked_by_change(keras_session):
    inputs = keras.Input((4, 4, 3))
    conv = keras.layers.Conv2D(3, 1, use_bias=False, name="same")
    model = keras.Model(inputs, conv(inputs))
    conv.set_weights([np.eye(3, dtype=np.float32).reshape(1, 1, 3, 3)])  # channel i → i
    a = np.ones((1, 4, 4, 3), np.float32)
    b = a.copy()
    b[..., 2] += 1.0  # channel 2 changes most
    b[0, 0, 0, 0] += 0.5  # channel 0 a little

    (layer,) = compare(model, a, b)
    np.testing.assert_array_equal(layer.ranked_channels, [2, 0, 1])
    np.testing.assert_allclose(layer.channel_change, [0.5, 0.0, 4.0])
    assert layer.max_abs == 1.0


def test_divergences_when_a_is_zero():
    zeros = np.zeros(5, np.float32)
    assert divergences(zeros, zeros) == (0.0, 0.0)
    cosine, relative = divergences(zeros, np.ones(5))
    assert cosine == 1.0 and math.isinf(relative)
    cosine, relative = divergences(np.ones(4), np.zeros(4))
    assert cosine == 1.0 and relative == 1.0
    cosine, relative = divergences(np.ones(4), -np.ones(4))
    assert cosine == 2.0 and relative == 2.0


def test_b_of_another_shape_says_which_pattern(build_model):
    model = build_model("sequential_cnn")
    a = one_of_each(model, 0)
    with pytest.raises(PatternError, match=r"pattern B: pattern shape \(12, 12, 3\) does not fit"):
        compare(model, a, np.zeros((12, 12, 3), np.float32))
    with pytest.raises(PatternError, match="pattern A: pattern holds NaN"):
        compare(model, np.full((12, 12, 1), np.nan), a)


def test_a_multi_input_model_wants_a_list(build_model):
    model = build_model("multi_input")
    with pytest.raises(PatternError, match="pattern B: the model has 2 inputs"):
        compare(model, one_of_each(model, 0), np.zeros((1, 8), np.float32))


# --- extract_batch -------------------------------------------------------------------------


def test_extract_batch_keeps_the_batch_axis_and_the_outputs(build_model):
    model = build_model("nested")
    extractor = ActivationExtractor(model)
    batch = np.random.default_rng(0).random((3, 12, 12, 1), dtype=np.float32)
    result = extractor.extract_batch(batch)

    assert result.size == 3
    assert result.layers == extractor.layers
    for array, act in zip(result.arrays, extractor.extract(batch[:1]), strict=True):
        assert array.shape == (3, *act.shape)
    single = extractor.run(batch[2:3])
    item = result.item(2)
    for got, want in zip(item.activations, single.activations, strict=True):
        assert (got.index, got.name, got.layer_name) == (want.index, want.name, want.layer_name)
        np.testing.assert_allclose(got.array, want.array, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(item.outputs[0], single.outputs[0], rtol=1e-5, atol=1e-6)
    assert result.nbytes == sum(a.nbytes for a in result.arrays) + result.outputs[0].nbytes
    for got, want in zip(extractor.run_batch(batch), result.arrays, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)  # run_batch: the arrays


def test_extract_batch_multi_input(build_model):
    extractor = ActivationExtractor(build_model("multi_input"))
    result = extractor.extract_batch([np.zeros((4, 8)), np.zeros((4, 6, 6, 1))])
    assert result.size == 4 and result.outputs[0].shape == (4, 3)
    with pytest.raises(PatternError, match="different numbers of patterns: 4, 2"):
        extractor.extract_batch([np.zeros((4, 8)), np.zeros((2, 6, 6, 1))])


def test_extract_batch_refuses_a_batch_of_another_shape(build_model):
    extractor = ActivationExtractor(build_model("sequential_cnn"))
    with pytest.raises(PatternError, match=r"batch shape \(2, 12, 12, 3\) does not fit input"):
        extractor.extract_batch(np.zeros((2, 12, 12, 3)))


# --- the command line ------------------------------------------------------------------------


@pytest.fixture
def saved_cnn(build_model, tmp_path):
    """A 24×24 CNN saved as .keras: conv maps larger than the default 15×15 limit."""
    inputs = keras.Input((24, 24, 1), name="image")
    x = keras.layers.Conv2D(3, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = keras.layers.Conv2D(2, 3, padding="same", name="conv2")(x)
    x = keras.layers.Flatten(name="flat")(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="probs")(x)
    path = tmp_path / "cnn.keras"
    keras.Model(inputs, outputs, name="cnn").save(path)
    return path


def test_cli_writes_the_table_the_csv_and_three_sets(saved_cnn, tmp_path, capsys):
    pattern = tmp_path / "a.png"
    pixels = np.random.default_rng(0).integers(0, 256, (24, 24), dtype=np.uint8)
    Image.fromarray(pixels).save(pattern)
    out, table = tmp_path / "out", tmp_path / "t.csv"

    code, stdout, stderr = run_cli(
        capsys, "compare", saved_cnn, "--pattern", pattern, "--perturb", "noise:0.2",
        "--csv", table, "--out", out, "--grid", "1x1",
    )  # fmt: skip

    assert code == 0, stderr
    assert stderr == ""
    lines = stdout.splitlines()
    assert lines[0] == "model: cnn"
    assert lines[1].startswith(f"A: {pattern}   prediction: class ")
    assert lines[2].startswith("B: A perturbed by noise:sigma=0.2, seed 0   prediction: class ")
    header = [cell.strip() for cell in lines[4].split("  ") if cell.strip()]
    assert header == ["#", "layer", "shape", "cosine dist", "rel. L2", "most changed channels"]
    assert [line.split()[1] for line in lines[5:9]] == ["conv1", "conv2", "flat", "probs"]
    with open(table, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["layer"] for r in rows] == ["conv1", "conv2", "flat", "probs"]
    assert all(float(r["relative_l2"]) > 0 for r in rows)
    for name in ("a", "b", "diff"):
        assert sorted(p.name for p in (out / name).iterdir()) == ["0.png", "1.png"]
    assert (out / "a" / "0.png").read_bytes() != (out / "diff" / "0.png").read_bytes()
    assert f"wrote 2 page(s) each to {out}/a, {out}/b and {out}/diff" in lines[-1]


def test_cli_b_from_a_seed_or_a_second_file(saved_cnn, tmp_path, capsys):
    a, b = tmp_path / "a.npy", tmp_path / "b.npy"
    np.save(a, np.zeros((24, 24, 1), np.float32))
    np.save(b, np.ones((24, 24), np.float32))
    code, stdout, _ = run_cli(capsys, "compare", saved_cnn, "--pattern", a, "--pattern", b)
    assert code == 0
    assert stdout.splitlines()[2].startswith(f"B: {b}   ")
    assert " inf " in stdout  # relu of zeros is silent for A, so B's change is unbounded

    code, stdout, _ = run_cli(capsys, "compare", saved_cnn, "--seed", "4")
    assert code == 0
    assert stdout.splitlines()[1].startswith("A: random pattern, seed 0   ")
    assert stdout.splitlines()[2].startswith("B: random pattern, seed 4   ")


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ([], "give pattern B once"),
        (["--seed", "1", "--perturb", "noise"], "(got 2 of them)"),
        (["--perturb", "blur:2"], "must be one of noise, shift, occlude, scale, got 'blur'"),
        (["--perturb", "shift:30"], "dx must be a whole number from -23 to 23, got 30"),
        (["--perturb", "noise:-1"], "sigma must be a number from 0 to 100, got -1"),
    ],
)
def test_cli_bad_b(extra, fragment, saved_cnn, tmp_path, capsys):
    code, stdout, stderr = run_cli(capsys, "compare", saved_cnn, *extra)
    assert code == 2
    assert stderr.startswith("layerviz: error: ") and len(stderr.splitlines()) == 1
    assert fragment in stderr
    assert stdout == ""


def test_cli_b_of_another_shape(saved_cnn, tmp_path, capsys):
    b = tmp_path / "b.npy"
    np.save(b, np.zeros((20, 20), np.float32))
    code, _, stderr = run_cli(
        capsys, "compare", saved_cnn, "--pattern", b, "--pattern", b, "--out", tmp_path / "out"
    )
    assert code == 2
    assert "pattern shape (20, 20) does not fit input (24, 24, 1)" in stderr
    assert not (tmp_path / "out").exists()


def test_attention_scores_are_compared_per_head(keras_session):
    inputs = keras.Input((6, 4), name="tokens")
    attended = keras.layers.MultiHeadAttention(3, 2, name="mha")(inputs, inputs)
    model = keras.Model(inputs, keras.layers.Flatten(name="flat")(attended))
    rng = np.random.default_rng(0)
    a = rng.random((1, 6, 4), dtype=np.float32)
    b = a + rng.normal(0, 0.5, a.shape).astype(np.float32)

    by_name = {d.name: d for d in compare(model, a, b)}
    scores = by_name["mha:attention"]
    assert scores.role == "attention" and scores.layer_name == "mha" and scores.output_index == 1
    assert scores.shape == (3, 6, 6)
    assert scores.channel_change.shape == (3,)  # one score per head
    np.testing.assert_allclose(
        scores.channel_change, np.linalg.norm(scores.diff.reshape(3, -1), axis=1), rtol=1e-5
    )
    assert scores.activation("diff").role == "attention"
    assert all(d.relative_l2 == 0 for d in compare(model, a, a))
