"""Tests for ``layerviz stats`` and ``layerviz health``, run in-process through ``cli.main``."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from helpers import run_cli

from layerviz.analysis.statistics import layer_statistics
from layerviz.config import MODELS_DIR_VARIABLE
from layerviz.extract.activations import ActivationExtractor
from layerviz.patterns.inputs import random_pattern

REPO_MODELS = Path(__file__).resolve().parents[2] / "models"
ARTICLE_LAYERS = ["dense", "my_dense", "dense_1", "dense_2", "flatten", "dense_3"]


@pytest.fixture(autouse=True)
def repo_models(monkeypatch):
    """Bundled models from the repo's own ``models/``, whatever the environment says."""
    monkeypatch.setenv(MODELS_DIR_VARIABLE, str(REPO_MODELS))


@pytest.fixture
def dead_filter_file(tmp_path, keras_session) -> Path:
    """A conv -> ReLU model saved as .keras, its filter 1 zeroed (so dead)."""
    inputs = keras.Input((8, 8, 1))
    conv = keras.layers.Conv2D(3, 3, name="conv")
    outputs = keras.layers.ReLU(name="relu")(conv(inputs))
    model = keras.Model(inputs, outputs, name="dead_filter")
    kernel, bias = conv.get_weights()
    kernel = np.abs(kernel) + 0.1  # every other filter fires on inputs in [0, 1)
    kernel[..., 1] = 0
    conv.set_weights([kernel, np.zeros_like(bias)])
    path = tmp_path / "dead_filter.keras"
    model.save(path)
    return path


def table_rows(stdout: str, n: int) -> list[list[str]]:
    """The ``n`` table lines after the model line and the header, split on spaces."""
    return [line.split() for line in stdout.splitlines()[2 : 2 + n]]


# --- stats ---------------------------------------------------------------------------------


def test_stats_prints_one_line_per_layer(saved_article_model, capsys):
    code, stdout, stderr = run_cli(capsys, "stats", saved_article_model, "--seed", "3")
    assert code == 0, stderr
    lines = stdout.splitlines()
    assert lines[0] == "model: article   pattern: random pattern, seed 3"
    assert lines[1].split() == [
        "#", "layer", "class", "shape", "min", "max", "mean", "std", "zeros", "NaN", "Inf",
        "channels", "dead",
    ]  # fmt: skip
    rows = table_rows(stdout, 6)
    assert [row[1] for row in rows] == ARTICLE_LAYERS
    assert rows[0][:4] == ["1", "dense", "Dense", "50x75"]
    assert lines[8].startswith("6 layers, ")
    assert stderr == ""


def test_stats_csv_holds_the_library_s_numbers(saved_article_model, tmp_path, capsys):
    out = tmp_path / "stats.csv"
    code, stdout, _ = run_cli(capsys, "stats", saved_article_model, "--seed", "3", "--csv", out)
    assert code == 0
    assert stdout.splitlines()[-1] == f"wrote 6 rows to {out}"
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    model = keras.saving.load_model(saved_article_model, safe_mode=True, compile=False)
    expected = layer_statistics(ActivationExtractor(model).run(random_pattern(model, seed=3)))
    assert [row["name"] for row in rows] == ARTICLE_LAYERS
    for row, record in zip(rows, expected, strict=True):
        assert float(row["mean"]) == pytest.approx(record.mean)
        assert float(row["std"]) == pytest.approx(record.std)
        assert int(row["n_dead"]) == record.n_dead


def test_stats_of_a_bundled_model_uses_its_default_sample(capsys):
    code, stdout, _ = run_cli(capsys, "stats", "digits_cnn")
    assert code == 0
    assert stdout.splitlines()[0] == "model: digits_cnn   pattern: bundled sample digit_3.png"


def test_stats_pattern_of_the_wrong_shape(saved_article_model, tmp_path, capsys):
    bad = tmp_path / "bad.npy"
    np.save(bad, np.zeros((28, 28, 3), np.float32))
    code, stdout, stderr = run_cli(capsys, "stats", saved_article_model, "--pattern", bad)
    assert code == 2
    assert stdout == ""
    assert stderr == (
        "layerviz: error: bad.npy: pattern shape (28, 28, 3) does not fit input (50, 50)\n"
    )


# --- health --------------------------------------------------------------------------------


def test_health_finds_the_dead_filter(dead_filter_file, capsys):
    code, stdout, stderr = run_cli(capsys, "health", dead_filter_file, "--seeds", "8")
    assert code == 0, stderr
    lines = stdout.splitlines()
    assert lines[0] == "model: dead_filter   patterns: 8 random (seeds 0-7)   threshold: 0"
    assert table_rows(stdout, 2) == [
        ["1", "conv", "Conv2D", "3", "1", "0", "1"],
        ["2", "relu", "ReLU", "3", "1", "0", "1"],
    ]
    assert lines[-1] == "2 dead and 0 saturated channel(s) in 2 layers over 8 pattern(s)"
    assert stderr == ""  # no progress bar when stderr is not a terminal


def test_health_draws_progress_on_a_terminal(dead_filter_file, capsys, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, _, stderr = run_cli(
        capsys, "health", dead_filter_file, "--seeds", "6", "--batch-size", "4"
    )
    assert code == 0
    assert "4/6 patterns" in stderr
    assert stderr.endswith("] 6/6 patterns\n")


def test_health_reads_a_batch_and_writes_csv(dead_filter_file, tmp_path, capsys):
    batch = tmp_path / "batch.npz"
    np.savez(batch, patterns=np.random.default_rng(0).random((5, 8, 8), dtype=np.float32))
    out = tmp_path / "health.csv"
    code, stdout, stderr = run_cli(
        capsys, "health", dead_filter_file, "--patterns", batch, "--csv", out
    )
    assert code == 0, stderr
    assert f"patterns: 5 from {batch}" in stdout.splitlines()[0]
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [(row["name"], row["n_dead"], row["dead"]) for row in rows] == [
        ("conv", "1", "1"),
        ("relu", "1", "1"),
    ]


def test_health_over_a_bundled_model_s_samples(capsys):
    code, stdout, stderr = run_cli(capsys, "health", "digits_cnn", "--samples")
    assert code == 0, stderr
    assert "patterns: the 5 bundled samples" in stdout.splitlines()[0]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda p: np.savez(p, x=np.zeros((4, 8, 8, 3), np.float32)),
            "batch.npz: member 'x.npy': batch shape (4, 8, 8, 3) does not fit input (8, 8, 1): "
            "expected (n, 8, 8, 1)",
        ),
        (lambda p: p.write_bytes(b"PK\x03\x04 no"), "batch.npz: could not read the file as .npz"),
    ],
)
def test_health_bad_batch_file(make, message, dead_filter_file, tmp_path, capsys):
    batch = tmp_path / "batch.npz"
    make(batch)
    code, stdout, stderr = run_cli(capsys, "health", dead_filter_file, "--patterns", batch)
    assert code == 2
    assert stdout == ""
    assert stderr.startswith(f"layerviz: error: {message}")


def test_health_samples_of_a_model_that_is_not_bundled(dead_filter_file, capsys):
    code, _, stderr = run_cli(capsys, "health", dead_filter_file, "--samples")
    assert code == 2
    assert "is not a bundled model, so it has no samples" in stderr


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        (["--seeds", "0"], "expected a whole number >= 1, got '0'"),
        (["--threshold", "nan"], "expected a finite number, got 'nan'"),
        (["--batch-size", "-2"], "expected a whole number >= 1, got '-2'"),
        (["--seeds", "3", "--samples"], "not allowed with argument"),
    ],
)
def test_health_bad_options_are_usage_errors(options, fragment, dead_filter_file, capsys):
    code, _, stderr = run_cli(capsys, "health", dead_filter_file, *options)
    assert code == 2
    assert fragment in stderr
    assert stderr.startswith("layerviz: error: layerviz health: ")


def test_the_dead_total_counts_each_computed_channel_once(capsys):
    """Issue 25, row 15: ``layerviz stats`` said "332 dead channel(s)" on digits_cnn, counting
    the Flatten's units and the Dropout's copy of the Dense again."""
    from layerviz.analysis.statistics import MOVES_VALUES
    from layerviz.cli import main

    assert main(["stats", "digits_cnn"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line.split() for line in lines[2:-1]]
    computed = sum(int(row[-1]) for row in rows if row[2] not in MOVES_VALUES)
    copies = sum(int(row[-1]) for row in rows if row[2] in MOVES_VALUES)
    assert copies > 0  # the case the probe found: the Flatten and the Dropout have some
    assert lines[-1].startswith(f"10 layers, {computed} dead channel(s)")


def test_an_identity_activation_is_not_counted_again(capsys, tmp_path):
    """Issue 25, row 15: ``Activation("linear")`` repeats its input's channels, like a Flatten."""
    from layerviz.cli import main

    dead = keras.initializers.Constant(-10.0)
    inputs = keras.Input((6, 6, 1), name="x")
    x = keras.layers.Conv2D(4, 3, activation="relu", bias_initializer=dead, name="conv")(inputs)
    x = keras.layers.Activation("linear", name="same")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    keras.Model(inputs, keras.layers.Dense(3, name="out")(x)).save(tmp_path / "m.keras")
    assert main(["stats", str(tmp_path / "m.keras")]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split()[1]: int(line.split()[-1]) for line in lines[2:-1]}
    assert rows["conv"] == rows["same"] == 4 and rows["pool"] == 4
    assert lines[-1].startswith(f"4 layers, {4 + 4 + rows['out']} dead channel(s)")
