"""Tests for ``layerviz visualise`` (``layerviz/cli/visualise.py``), run in-process."""

from __future__ import annotations

import io

import numpy as np
import pytest
from helpers import PNG_MAGIC
from PIL import Image

from layerviz.cli import main
from layerviz.cli import visualise as command


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_one_png_per_channel_and_a_contact_sheet(tmp_path, capsys):
    out = tmp_path / "features"
    code, stdout, stderr = run_cli(
        capsys, "visualise", "digits_cnn", "--layer", "conv2", "--channels", "0-2,5",
        "--steps", "8", "--out", out,
    )  # fmt: skip
    assert code == 0, stderr
    names = sorted(p.name for p in out.iterdir())
    channels = [f"conv2_channel_{c}.png" for c in (0, 1, 2, 5)]
    assert names == sorted([*channels, "conv2_sheet.png"])
    for name in names:
        assert (out / name).read_bytes().startswith(PNG_MAGIC)
    tile = np.asarray(Image.open(io.BytesIO((out / channels[0]).read_bytes())))
    assert tile.shape == (128, 128, 3)  # 32² enlarged 4× by whole pixels
    assert "objective: channel mean" in stdout and "wrote 4 channel PNGs" in stdout


def test_the_output_layer_by_default_one_picture_per_class(tmp_path, capsys):
    code, stdout, stderr = run_cli(
        capsys, "visualise", "signals_conv1d", "--steps", "4", "--range=-1.5,1.5",
        "--out", tmp_path,
    )  # fmt: skip
    assert code == 0, stderr
    assert "objective: class log-probability" in stdout
    assert len(list(tmp_path.glob("*_channel_*.png"))) == 4  # sine, square, sawtooth, noise


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--layer", "conv2", "--channels", "40"], r"32 channels \(0 to 31\)"),
        (["--layer", "conv2", "--steps", "0"], "steps must be a whole number from 1 to 4096"),
        (["--layer", "conv2", "--learning-rate", "5"], r"learning_rate must be in \(0.0, 1.0\]"),
        (["--layer", "nope"], "no layer 'nope'"),
        (["--channels", "3-1"], "channels are numbers or ranges"),
        (["--range", "0"], "a range is LOW,HIGH"),
    ],
)
def test_bad_input_is_refused_in_one_line(tmp_path, capsys, argv, message):
    code, _, stderr = run_cli(capsys, "visualise", "digits_cnn", *argv, "--out", tmp_path)
    assert code == 2
    assert stderr.count("\n") == 1 and stderr.startswith("layerviz: error:")
    assert pytest.importorskip("re").search(message, stderr), stderr
    assert list(tmp_path.iterdir()) == []


def test_an_interrupt_while_writing_leaves_no_half_written_file(tmp_path, monkeypatch):
    target = tmp_path / "conv2_channel_0.png"

    real_fdopen = command.os.fdopen

    def fdopen_that_breaks(fd, mode):
        handle = real_fdopen(fd, mode)
        handle.write(b"\x89PNG half")  # some bytes reach the disk, then Ctrl-C
        handle.close()
        raise KeyboardInterrupt

    monkeypatch.setattr(command.os, "fdopen", fdopen_that_breaks)
    with pytest.raises(KeyboardInterrupt):
        command.write_whole(target, b"\x89PNG whole")
    assert list(tmp_path.iterdir()) == []


def test_an_interrupt_during_the_optimisation_writes_nothing(tmp_path, monkeypatch, capsys):
    def interrupt(done, total, unit):
        if done == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(command, "progress_bar", interrupt)
    code = main(["visualise", "digits_cnn", "--layer", "conv1", "--out", str(tmp_path / "o")])
    assert code == 130
    assert not (tmp_path / "o").exists()
