"""Models with several inputs: one ``.npz`` per sample (``read_patterns``), ``--pattern NAME=FILE``
on the command line, and the bundled ``digits_meta``."""

from __future__ import annotations

import re

import numpy as np
import pytest
from helpers import npz_bytes, run_cli

from layerviz.errors import PatternError
from layerviz.load.bundled import get_bundled
from layerviz.patterns.readers import read_patterns

NAMES, SHAPES = ["vector", "image"], [(8,), (6, 6, 1)]


@pytest.fixture
def two_inputs(build_model, tmp_path):
    """The conftest's two-input model saved as ``.keras``, and one file per input."""
    path = tmp_path / "two.keras"
    build_model("multi_input").save(path)
    np.save(tmp_path / "v.npy", np.arange(8, dtype=np.float32))
    np.save(tmp_path / "im.npy", np.ones((6, 6), dtype=np.float32))
    return path


# --- read_patterns ---------------------------------------------------------------------------


def test_read_patterns_takes_each_input_by_name():
    data = npz_bytes(image=np.ones((6, 6)), vector=np.arange(8))
    vector, image = read_patterns(data, "both.npz", NAMES, SHAPES)
    assert (vector.shape, image.shape) == ((1, 8), (1, 6, 6, 1))
    assert vector.dtype == image.dtype == np.float32
    np.testing.assert_array_equal(vector[0], np.arange(8))


@pytest.mark.parametrize(
    ("data", "name", "reason"),
    [
        (npz_bytes(vector=np.zeros(8)), "a.npz", r"a.npz: .npz has no array named 'image'"),
        (npz_bytes(vector=np.zeros(8), image=np.zeros(5)), "a.npz", r"input 'image'.*does not fit"),
        (b"PK-not-a-zip", "a.npz", "could not read the file as .npz"),
        (npz_bytes(vector=np.zeros(8)), "a.npy", "reads one .npz with an array named after each"),
    ],
)
def test_read_patterns_refusals(data, name, reason):
    with pytest.raises(PatternError, match=reason):
        read_patterns(data, name, NAMES, SHAPES)


# --- the command line ------------------------------------------------------------------------


def test_export_names_a_file_per_input(two_inputs, tmp_path, capsys):
    out = tmp_path / "out"
    code, stdout, stderr = run_cli(
        capsys, "export", two_inputs, "--pattern", f"image={tmp_path / 'im.npy'}",
        "--pattern", f"vector={tmp_path / 'v.npy'}", "--limit", "1x1", "--out", out,
    )  # fmt: skip
    assert code == 0, stderr
    source = f"vector={tmp_path / 'v.npy'}, image={tmp_path / 'im.npy'}"  # in input order
    assert stdout.splitlines()[0] == f"model: two_inputs   pattern: {source}"
    assert (out / "0.png").is_file()


def test_export_takes_one_npz_for_all_inputs(two_inputs, tmp_path, capsys):
    both = tmp_path / "both.npz"
    both.write_bytes(npz_bytes(vector=np.zeros(8), image=np.zeros((6, 6, 1))))
    code, _, stderr = run_cli(
        capsys, "export", two_inputs, "--pattern", both, "--limit", "1x1", "--out", tmp_path / "o"
    )
    assert code == 0, stderr


@pytest.mark.parametrize(
    ("patterns", "reason"),
    [
        (["vector=v.npy"], "each input needs exactly one --pattern NAME=FILE"),
        (["vector=v.npy", "img=im.npy"], "unknown input 'img'"),
        (["vector=v.npy", "vector=v.npy"], "each input needs exactly one"),
        (
            ["v.npy"],
            r"the model has 2 inputs, vector \(8,\), image \(6, 6, 1\): give one --pattern",
        ),
        (["vector=v.npy", "image=v.npy"], "v.npy: pattern shape .* does not fit"),
    ],
)
def test_export_refuses_patterns_that_do_not_match_the_inputs(
    two_inputs, tmp_path, capsys, monkeypatch, patterns, reason
):
    monkeypatch.chdir(tmp_path)
    argv = [item for p in patterns for item in ("--pattern", p)]
    code, _, stderr = run_cli(capsys, "export", two_inputs, *argv, "--out", tmp_path / "o")
    assert code == 2
    assert "layerviz: error:" in stderr
    assert re.search(reason, stderr), stderr


def test_single_input_models_keep_the_plain_form_and_accept_their_name(
    saved_article_model, tmp_path, capsys
):
    np.save(tmp_path / "p.npy", np.zeros((50, 50), dtype=np.float32))
    for pattern in (tmp_path / "p.npy", f"pattern={tmp_path / 'p.npy'}"):
        code, _, stderr = run_cli(
            capsys, "export", saved_article_model, "--pattern", pattern, "--out", tmp_path / "o"
        )
        assert code == 0, stderr
    code, _, stderr = run_cli(
        capsys, "export", saved_article_model, "--pattern", f"nope={tmp_path / 'p.npy'}",
        "--out", tmp_path / "o",
    )  # fmt: skip
    assert code == 2 and "unknown input 'nope'; the model's inputs are pattern (50, 50)" in stderr


# --- the bundled two-input model ---------------------------------------------------------------


@pytest.mark.usefixtures("repo_models_dir")
def test_bundled_digits_meta_exports_its_default_sample(tmp_path, capsys):
    code, stdout, stderr = run_cli(capsys, "export", "digits_meta", "--out", tmp_path / "out")
    assert code == 0, stderr
    assert stdout.splitlines()[0] == "model: digits_meta   pattern: bundled sample digit_3.npz"
    assert [i.name for i in get_bundled("digits_meta").inputs] == ["image", "meta"]
