"""Tests for the ``layerviz`` command line.

``layerviz.cli.main`` runs in-process (fast, output read with capsys); one test runs
``python -m layerviz`` in a subprocess to see what a user sees, TensorFlow's start-up included.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from helpers import run_cli

from layerviz.cli import main, parse_pair
from layerviz.draw import export

pytestmark = pytest.mark.usefixtures("repo_models_dir")

#: What TensorFlow prints on stderr when ``layerviz._quiet`` is not in effect (TF 2.21 on CPU):
#: absl's "WARNING: All log messages before absl::InitializeLog() is called ...", oneDNN's
#: "I0000 ... port.cc:153] oneDNN custom operations are on ...", and cpu_feature_guard's
#: "To enable the following instructions: AVX2 ...". The rest are other builds' usual lines.
TF_NOISE = (
    "oneDNN",
    "absl",
    "I0000",
    "W0000",
    "port.cc",
    "cpu_feature_guard",
    "To enable the following instructions",
    "rebuild TensorFlow",
    "cuda",
    "I tensorflow",
    "W tensorflow",
)


# --- export ----------------------------------------------------------------------------------


def test_export_writes_and_lists_the_files(saved_article_model, tmp_path, capsys):
    out = tmp_path / "out"
    code, stdout, stderr = run_cli(
        capsys,
        "export", saved_article_model, "--seed", "0", "--grid", "2x2", "--limit", "15x15",
        "--out", out,
    )  # fmt: skip

    assert code == 0, stderr
    assert sorted(p.name for p in out.iterdir()) == ["0.png"]
    lines = stdout.splitlines()
    assert lines[0] == "model: article   pattern: random pattern, seed 0"
    assert str(out / "0.png") in lines
    assert lines[-1] == f"wrote 1 page(s) of 2x2 to {out}"
    assert stderr == ""


def test_export_small_grid_writes_several_pages(saved_article_model, tmp_path, capsys):
    out = tmp_path / "out"
    code, stdout, _ = run_cli(
        capsys, "export", saved_article_model, "--seed", "1", "--grid", "1", "--out", out
    )
    assert code == 0
    names = ["0.png", "1.png", "2.png"]
    assert sorted(p.name for p in out.iterdir()) == names
    assert [line for line in stdout.splitlines() if line.endswith(".png")] == [
        str(out / name) for name in names
    ]


def test_export_reads_a_pattern_file(saved_article_model, article_pattern, tmp_path, capsys):
    pattern = tmp_path / "noise.npy"
    np.save(pattern, article_pattern[0].astype(np.float32))
    code, stdout, _ = run_cli(
        capsys, "export", saved_article_model, "--pattern", pattern, "--out", tmp_path / "out"
    )
    assert code == 0
    assert f"pattern: {pattern}" in stdout.splitlines()[0]


def test_export_same_seed_same_files(saved_article_model, tmp_path, capsys):
    for name in ("a", "b"):
        run_cli(capsys, "export", saved_article_model, "--seed", "7", "--out", tmp_path / name)
    assert (tmp_path / "a" / "0.png").read_bytes() == (tmp_path / "b" / "0.png").read_bytes()


def test_export_bundled_model_uses_its_default_sample(tmp_path, capsys):
    code, stdout, stderr = run_cli(capsys, "export", "article_dense", "--out", tmp_path)
    assert code == 0, stderr
    assert stdout.splitlines()[0].endswith("   pattern: bundled sample random.npy")
    assert (tmp_path / "0.png").is_file()


def test_export_of_the_transformer_lists_its_attention_panels(tmp_path, capsys):
    code, stdout, stderr = run_cli(capsys, "export", "signals_transformer", "--out", tmp_path)
    assert code == 0, stderr
    lines = stdout.splitlines()
    first_page = lines[lines.index(str(tmp_path / "0.png")) + 1]
    assert first_page.startswith("    1: patch_embed, 2: norm1, 3: mha, ")
    heads = [f"3: mha:attention head {h}" for h in range(4)]
    assert all(head in first_page.split(", ") for head in heads)
    assert (tmp_path / "0.png").is_file()


def test_export_with_nothing_visible_says_so(saved_article_model, tmp_path, capsys):
    code, stdout, _ = run_cli(
        capsys, "export", saved_article_model, "--seed", "0", "--limit", "50x50",
        "--out", tmp_path / "out",
    )  # fmt: skip
    assert code == 0
    assert "no layer output is larger than 50x50" in stdout
    assert "wrote 0 page(s)" in stdout
    assert list((tmp_path / "out").iterdir()) == []


# --- bad input: exit 2 and one line ----------------------------------------------------------


def assert_one_error_line(stderr: str, *fragments: str) -> None:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("layerviz: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.parametrize(
    ("shape", "fragments"),
    [
        ((49, 50), ("bad.npy", "pattern shape (49, 50)", "input (50, 50)")),
        ((50, 50, 3), ("pattern shape (50, 50, 3)", "input (50, 50)")),
        ((2, 50, 50), ("pattern shape (2, 50, 50)", "input (50, 50)")),
    ],
)
def test_export_pattern_of_the_wrong_shape(shape, fragments, saved_article_model, tmp_path, capsys):
    pattern = tmp_path / "bad.npy"
    np.save(pattern, np.zeros(shape, dtype=np.float32))
    out = tmp_path / "out"

    code, stdout, stderr = run_cli(
        capsys, "export", saved_article_model, "--pattern", pattern, "--out", out
    )

    assert code == 2
    assert_one_error_line(stderr, *fragments)
    assert stdout == ""
    assert not out.exists()


def test_export_missing_pattern_file(saved_article_model, tmp_path, capsys):
    code, _, stderr = run_cli(
        capsys, "export", saved_article_model, "--pattern", tmp_path / "nope.npy",
        "--out", tmp_path / "out",
    )  # fmt: skip
    assert code == 2
    assert_one_error_line(stderr, "cannot read pattern file", "nope.npy")


def test_export_missing_model(tmp_path, capsys):
    code, _, stderr = run_cli(
        capsys, "export", tmp_path / "nope.keras", "--seed", "0", "--out", tmp_path / "out"
    )
    assert code == 2
    assert_one_error_line(
        stderr, "nope.keras", "article_dense, digits_cnn, digits_meta, signals_conv1d"
    )
    assert not (tmp_path / "out").exists()


def test_export_without_graphviz(saved_article_model, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(export, "shutil", SimpleNamespace(which=lambda name: None))
    out = tmp_path / "out"
    code, _, stderr = run_cli(
        capsys, "export", saved_article_model, "--seed", "0", "--plot-model", "--out", out
    )
    assert code == 2
    assert_one_error_line(stderr, "Graphviz")
    assert not out.exists()


@pytest.mark.parametrize("target", ["a_file", "a_file/sub"])
def test_export_out_that_cannot_be_a_folder(target, saved_article_model, tmp_path, capsys):
    (tmp_path / "a_file").write_text("not a folder")
    code, _, stderr = run_cli(
        capsys, "export", saved_article_model, "--seed", "0", "--out", tmp_path / target
    )
    assert code == 2
    assert_one_error_line(stderr, "a_file")


@pytest.mark.parametrize(
    "option",
    [
        ["--grid", "3x"],
        ["--grid", "abc"],
        ["--grid", "3x3x3"],
        ["--grid", "-1x2"],
        ["--grid", "0x3"],  # a page needs at least one row and one column
        ["--grid", "2x0"],
        ["--limit", "15by15"],
        ["--seed", "one"],
        ["--seed", "-1"],  # numpy's generator takes 0 .. 2**32 - 1
        ["--seed", str(2**32)],
        ["--grid", "7x7"],  # one cap for the CLI, the library and the dashboard: 6 a side
        ["--grid", "1000x1000"],
        ["--limit", "5000x5000"],
    ],
)
def test_export_bad_option_is_a_usage_error(option, saved_article_model, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["export", str(saved_article_model), "--seed", "0", *option, "--out", str(out)])
    assert code == 2
    stderr = capsys.readouterr().err
    assert_one_error_line(stderr, f"argument {option[0]}")
    assert "usage:" not in stderr
    assert not out.exists()


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["export"],  # no model, no --out
        ["export", "article_dense"],  # no --out
        ["export", "article_dense", "--seed", "1", "--pattern", "p.npy", "--out", "o"],
        ["frobnicate"],
    ],
)
def test_bad_command_lines_are_usage_errors(argv, capsys):
    assert main(argv) == 2
    stderr = capsys.readouterr().err
    assert_one_error_line(stderr, "layerviz")
    assert "usage:" not in stderr


def test_help_still_prints_the_usage(capsys):
    with pytest.raises(SystemExit) as info:
        main(["export", "--help"])
    assert info.value.code == 0
    assert "usage: layerviz export" in capsys.readouterr().out


@pytest.mark.parametrize("special", ["/dev/zero", "fifo", "folder"])
def test_pattern_must_be_a_regular_file(special, saved_article_model, tmp_path, capsys):
    import os

    if special == "fifo":
        special = str(tmp_path / "pipe.npy")
        os.mkfifo(special)  # opening it for reading would block without O_NONBLOCK
    elif special == "folder":
        special = str(tmp_path)
    out = tmp_path / "out"
    code = main(["export", str(saved_article_model), "--pattern", special, "--out", str(out)])
    assert code == 2
    assert_one_error_line(capsys.readouterr().err, "not a regular file")
    assert not out.exists()


def test_a_bundled_model_by_path_opens_with_its_default_sample(repo_models_dir, tmp_path, capsys):
    by_name = tmp_path / "by-name"
    by_path = tmp_path / "by-path"
    assert main(["export", "digits_cnn", "--out", str(by_name)]) == 0
    assert main(["export", str(repo_models_dir / "digits_cnn.keras"), "--out", str(by_path)]) == 0
    printed = capsys.readouterr().out
    assert printed.count("pattern: bundled sample digit_3.png") == 2
    assert (by_name / "0.png").read_bytes() == (by_path / "0.png").read_bytes()


@pytest.mark.parametrize(
    ("text", "pair"),
    [("3x3", (3, 3)), ("2x5", (2, 5)), ("4,2", (4, 2)), ("5", (5, 5)), ("3X4", (3, 4))],
)
def test_parse_pair(text, pair):
    assert parse_pair(text) == pair


# --- models ----------------------------------------------------------------------------------


def test_models_lists_the_bundled_models(capsys):
    code, stdout, _ = run_cli(capsys, "models")
    assert code == 0
    names = [line.split()[0] for line in stdout.splitlines() if not line.startswith(" ")]
    assert names == [
        "digits_cnn",
        "article_dense",
        "digits_meta",
        "signals_conv1d",
        "signals_transformer",
    ]
    assert "inputs image 16x16x1 + meta 16" in stdout
    assert "input 50x50" in stdout
    assert "sample random.npy" in stdout


# --- the real thing, in a subprocess ---------------------------------------------------------


def test_python_m_layerviz_export_is_quiet(saved_article_model, tmp_path):
    out = tmp_path / "out"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS", "LAYERVIZ_MODELS_DIR")
    }
    result = subprocess.run(
        [sys.executable, "-m", "layerviz", "export", str(saved_article_model), "--seed", "1",
         "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        timeout=180,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert (out / "0.png").is_file()
    assert str(out / "0.png") in result.stdout.splitlines()
    noise = [line for line in result.stderr.splitlines() if any(word in line for word in TF_NOISE)]
    assert noise == [], result.stderr


def test_export_norm_page_differs_and_layer_is_the_default(saved_article_model, tmp_path, capsys):
    for norm in ("default", "layer", "page", "map"):
        args = [] if norm == "default" else ["--norm", norm]
        code, _, stderr = run_cli(
            capsys, "export", saved_article_model, "--seed", "3", "--grid", "2x2",
            *args, "--out", tmp_path / norm,
        )  # fmt: skip
        assert code == 0, stderr
    read = {n: (tmp_path / n / "0.png").read_bytes() for n in ("default", "layer", "page", "map")}
    assert read["layer"] == read["default"] != read["page"]
    assert read["map"] == read["default"]  # the article's layers are single maps


def test_export_unknown_norm_is_an_argument_error(saved_article_model, tmp_path, capsys):
    code, _, stderr = run_cli(
        capsys, "export", saved_article_model, "--norm", "global", "--out", tmp_path
    )
    assert code == 2
    assert "invalid choice: 'global'" in stderr
