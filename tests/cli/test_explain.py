"""Tests for ``layerviz explain`` (``layerviz/cli/explain.py``), run in-process."""

from __future__ import annotations

import io

import numpy as np
import pytest
from analysis.test_explain import make_halves_model, symmetric_pattern
from helpers import PNG_MAGIC, run_cli
from PIL import Image


@pytest.fixture
def halves(tmp_path, keras_session):
    """``(rank) -> (model file, pattern file)`` of the left-half models of ``test_explain``."""

    def save(rank: int):
        model_path = tmp_path / f"halves_{rank}d.keras"
        make_halves_model(rank, weights=(1.0, 0.0)).save(model_path)
        pattern_path = tmp_path / f"symmetric_{rank}d.npy"
        np.save(pattern_path, symmetric_pattern(rank)[0])
        return model_path, pattern_path

    return save


@pytest.mark.parametrize(
    ("rank", "method", "line"),
    [
        (2, "gradcam", "Grad-CAM at layer 'halves', class 1"),
        (2, "saliency", "saliency, class 1"),
        (1, "smoothgrad", "SmoothGrad, class 1"),
        (1, "gradcam", "Grad-CAM at layer 'halves', class 1"),
    ],
)
def test_explain_writes_the_overlay_png(halves, tmp_path, capsys, rank, method, line):
    model, pattern = halves(rank)
    out = tmp_path / "deep" / "heat.png"
    code, stdout, stderr = run_cli(
        capsys, "explain", model, "--pattern", pattern, "--method", method, "--out", out
    )

    assert code == 0, stderr
    assert stderr == ""
    assert stdout.splitlines() == [
        f"model: halves_{rank}d_softmax   pattern: {pattern}",
        line,
        f"wrote {out}",
    ]
    data = out.read_bytes()
    assert data.startswith(PNG_MAGIC)
    width, height = Image.open(io.BytesIO(data)).size
    assert width > 300 and height > 300


def test_explain_takes_a_layer_and_a_class(halves, tmp_path, capsys):
    model, pattern = halves(2)
    out = tmp_path / "heat.png"
    code, stdout, stderr = run_cli(
        capsys, "explain", model, "--pattern", pattern, "--layer", "left", "--class", "0",
        "--opacity", "0.8", "--out", out,
    )  # fmt: skip

    assert code == 0, stderr
    assert stdout.splitlines()[1] == "Grad-CAM at layer 'left', class 0"
    assert out.read_bytes().startswith(PNG_MAGIC)


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--layer", "flatten"], "layer 'flatten' has output shape (128,), not spatial maps"),
        (["--layer", "nope"], "has no layer 'nope'"),
        (["--class", "2"], "class index must be 0 to 1"),
        (["--method", "saliency", "--layer", "left"], "Grad-CAM only, not for saliency"),
        (["--method", "lime"], "invalid choice: 'lime'"),
        (["--opacity", "2"], "opacity is a number from 0 to 1, got '2'"),
        (["--class", "x"], "invalid int value: 'x'"),
    ],
)
def test_explain_bad_input_is_one_line_and_exit_2(halves, tmp_path, capsys, extra, fragment):
    model, pattern = halves(2)
    out = tmp_path / "heat.png"
    code, _, stderr = run_cli(capsys, "explain", model, "--pattern", pattern, *extra, "--out", out)

    assert code == 2
    assert len(stderr.splitlines()) == 1, stderr
    assert stderr.startswith("layerviz: error: ")
    assert fragment in stderr
    assert not out.exists()
