"""Tests for ``layerviz check``: a report and exit 0, or the refusal on stderr and exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import keras
import pytest
from helpers import run_cli


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
    assert "  my_dense (Dense)" in lines


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
