"""Tests for ``layerviz check``: a report and exit 0, or the refusal on stderr and exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import keras
import pytest
from helpers import run_cli

from layerviz.cli import main


def lambda_file(tmp_path: Path) -> Path:
    inputs = keras.Input((3,), name="x")
    path = tmp_path / "lambda.keras"
    keras.Model(inputs, keras.layers.Lambda(lambda t: t + 1, name="lambda_1")(inputs)).save(path)
    return path


def test_check_prints_the_report(saved_article_model, capsys):
    code, out, err = run_cli(capsys, "check", saved_article_model, "--no-canary")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith("article.keras: passed (")
    assert lines[1] == "model: article (Functional), 7 layers, parameters: not counted"
    assert lines[2] == "input pattern: 50x50 float32"
    assert "  my_dense (Dense)" not in lines  # issue 25, row 16: a count by class instead
    assert lines[3].startswith("layers: ") and "Dense" in lines[3]
    assert lines[-1] == "(--layers lists every layer)"


def test_check_summarises_a_big_model_by_class_and_lists_it_with_layers(
    keras_session, tmp_path, capsys
):
    """Issue 25, row 16: ``check`` printed all 156 layers of MobileNetV2."""
    path = tmp_path / "mobilenet.keras"
    keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3)).save(path)
    code, out, _ = run_cli(capsys, "check", path, "--no-canary")
    assert code == 0 and len(out.splitlines()) < 10
    assert out.splitlines()[3].startswith("layers: ") and " Conv2D" in out.splitlines()[3]
    code, full, _ = run_cli(capsys, "check", path, "--no-canary", "--layers")
    assert code == 0 and len(full.splitlines()) > 150 and "  Conv1 (Conv2D)" in full


def test_help_offers_only_files_that_load(capsys):
    """Issue 25, row 16: ``export --help`` offered ``.keras/.h5`` though ``.h5`` is refused."""
    for command in ("export", "stats", "health", "compare", "explain"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = capsys.readouterr().out
        assert ".keras file" in text and ".h5" not in text, command


def test_check_refuses_with_the_reason_and_exit_2(keras_session, tmp_path, capsys):
    code, out, err = run_cli(capsys, "check", lambda_file(tmp_path), "--no-canary")
    assert (code, out) == (2, "")
    assert err == (
        "layerviz: error: lambda.keras: layer 'lambda_1' (Lambda) runs arbitrary code; "
        "layerviz loads built-in layers only\n"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--max-mb", "0.001"], "model files of at most 0.0 MB are accepted"),
        (["--max-mb", "nope"], "expected a positive number, got 'nope'"),
        (["--timeout", "-1"], "expected a positive number, got '-1'"),
    ],
)
def test_check_limits_from_the_command_line(saved_article_model, capsys, argv, message):
    code, _, err = run_cli(capsys, "check", saved_article_model, "--no-canary", *argv)
    assert code == 2 and message in err


def test_check_a_missing_file(tmp_path, capsys):
    code, _, err = run_cli(capsys, "check", tmp_path / "absent.keras")
    assert code == 2 and "cannot read model file" in err


@pytest.mark.slow
def test_python_m_layerviz_check_with_its_canary(article_model, saved_article_model):
    """What a user sees: the report with the parameter count, and no TensorFlow noise."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run(
        [sys.executable, "-m", "layerviz", "check", str(saved_article_model)],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    params = f"{article_model.count_params():,}"
    assert f"model: article (Functional), 7 layers, parameters: {params}" in result.stdout
    assert "canary: loaded and ran on zeros in a child in" in result.stdout


@pytest.mark.parametrize(
    ("layer", "input_name", "said"),
    [("my conv", "picture", "'my conv' (Conv2D): its name has a space"),
     ("conv", "a<b", "'a<b' (InputLayer): its name has '<'")],
)  # fmt: skip
def test_names_keras_accepts_but_layerviz_cannot_use_are_refused_at_the_check(
    keras_session, tmp_path, capsys, layer, input_name, said
):
    """Issue 25, row 12: ``my conv`` passed the check, then failed to open (TensorFlow's name
    scopes refuse spaces) and ``export``/``stats`` exited 1 with a traceback; an input named
    with ``<`` crashed ``--plot-model`` in Graphviz."""
    inputs = keras.Input((6, 6, 1), name=input_name)
    model = keras.Model(inputs, keras.layers.Conv2D(2, 3, name=layer)(inputs))
    path = tmp_path / "named.keras"
    model.save(path)
    for argv in (["check", path, "--no-canary"], ["stats", path], ["export", path, "--out",
                 tmp_path / "out", "--plot-model"]):  # fmt: skip
        code, out, err = run_cli(capsys, *argv)
        assert code == 2 and out == "", argv
        assert (
            err.startswith(f"layerviz: error: named.keras: layer {said}") and err.count("\n") == 1
        )
