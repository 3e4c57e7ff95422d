"""Files named on the command line are the operator's: checked, not capped at the upload limit.

``--max-model-mb`` sets a cap where one is wanted; uploads keep ``MAX_MODEL_BYTES``.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from layerviz.cli import main
from layerviz.errors import UnsafeModelError
from layerviz.load.loading import load_model
from layerviz.load.modelcheck import MAX_MODEL_BYTES, check_model_file


@pytest.fixture(scope="module")
def big_file(tmp_path_factory) -> Path:
    """A real model over the 100 MB upload cap: one Dense of 26.5 M weights (106 MB)."""
    inputs = keras.Input((5_000,), name="wide")
    outputs = keras.layers.Dense(5_300, name="huge")(inputs)
    model = keras.Model(inputs, outputs, name="big")
    path = tmp_path_factory.mktemp("big") / "big.keras"
    model.save(path)
    keras.backend.clear_session(free_memory=False)
    return path


def test_own_big_file_opens_while_an_upload_of_it_is_refused(big_file):
    assert big_file.stat().st_size > MAX_MODEL_BYTES
    with pytest.raises(UnsafeModelError, match="MB are accepted"):
        check_model_file(big_file, canary=False)  # the upload path's check
    model = load_model(big_file)
    assert model.get_layer("huge").kernel.shape == (5_000, 5_300)


def test_max_model_mb_caps_the_command_line_file(big_file, capsys):
    code = main(["stats", str(big_file), "--max-model-mb", "50"])
    captured = capsys.readouterr()
    assert code != 0
    assert "50.0 MB are accepted" in captured.err
    code = main(["stats", str(big_file), "--seed", "0", "--max-model-mb", "200"])
    assert code == 0, capsys.readouterr().err
    assert "huge" in capsys.readouterr().out


@pytest.mark.parametrize("bad", ["0", "-3", "abc", "inf"])
def test_max_model_mb_must_be_a_positive_number(bad, capsys):
    assert main(["stats", "digits_cnn", "--max-model-mb", bad]) != 0
    assert "positive number of megabytes" in capsys.readouterr().err


def test_load_model_cap_is_the_callers(tmp_path):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="d")])
    path = tmp_path / "small.keras"
    model.save(path)
    with pytest.raises(UnsafeModelError, match="accepted"):
        load_model(path, max_bytes=100)
    assert np.asarray(load_model(path).get_layer("d").kernel).shape == (4, 3)
