"""``layerviz record``, ``layerviz runs`` and ``layerviz export --run``, in-process."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from record.training import data, make_model

from layerviz.cli import main


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A model file, its training data, and a run of 2 epochs ``layerviz record`` wrote."""
    folder = tmp_path_factory.mktemp("cli")
    model_path = folder / "tiny.keras"
    make_model().save(model_path)
    x, y = data()
    np.savez(folder / "data.npz", x=x[:40], y=y[:40])
    code = main(
        ["record", str(model_path), str(folder / "data.npz"), "--epochs", "2", "--out",
         str(folder / "runs" / "first")]
    )  # fmt: skip
    assert code == 0
    return folder


def test_record_trains_and_writes_a_run(recorded, capsys):
    code, out, _ = run_cli(capsys, "runs", recorded / "runs")
    assert code == 0
    header, row = out.splitlines()
    assert header.split()[:4] == ["run", "model", "epochs", "records"]
    assert row.split()[:4] == ["first", "tiny_trained", "2", "3"]


def test_export_run_writes_the_epochs_pages(recorded, capsys, tmp_path):
    code, out, err = run_cli(
        capsys, "export", "--run", recorded / "runs" / "first", "--epoch", "2",
        "--limit", "3x3", "--grid", "1x2", "--out", tmp_path,
    )  # fmt: skip
    assert code == 0, err
    # c1 12x12, p1 6x6 and c2 4x4 are over 3x3 (on their full maps); gap and out are not.
    assert "epoch 2" in out and "1: c1, 2: p1\n" in out and "3: c2\n" in out
    pngs = sorted(tmp_path.glob("*.png"))
    assert [p.name for p in pngs] == ["0.png", "1.png"]
    assert Image.open(io.BytesIO(pngs[0].read_bytes())).size[0] > 100


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--epoch", "9"], "no record at epoch 9; epochs: 0-2"),
        ([], "--run DIR --epoch K"),
        (["--epoch", "1", "--seed", "3"], "do not apply to --run"),
    ],
)
def test_export_run_refuses_what_it_cannot_do(recorded, capsys, tmp_path, argv, message):
    code, _, err = run_cli(
        capsys, "export", "--run", recorded / "runs" / "first", *argv, "--out", tmp_path
    )
    assert code == 2 and message in err


def test_record_refuses_data_without_labels(recorded, capsys, tmp_path):
    x, _ = data()
    np.savez(tmp_path / "x_only.npz", x=x[:4])
    code, _, err = run_cli(
        capsys, "record", recorded / "tiny.keras", tmp_path / "x_only.npz", "--out", tmp_path / "r"
    )
    assert code == 2 and "expected x and y" in err


def test_record_refuses_inputs_that_do_not_fit(recorded, capsys, tmp_path):
    np.savez(tmp_path / "wrong.npz", x=np.zeros((4, 9, 9, 1), np.float32), y=np.zeros(4, int))
    code, _, err = run_cli(
        capsys, "record", recorded / "tiny.keras", tmp_path / "wrong.npz", "--out", tmp_path / "r"
    )
    assert code == 2 and "(4, 9, 9, 1)" in err and "(12, 12, 1)" in err


def test_runs_says_when_a_folder_holds_none(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "runs", tmp_path)
    assert code == 0 and "no recorded runs" in out
