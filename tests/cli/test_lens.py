"""``layerviz lens``: probe curve and CKA matrix written as CSV and PNG."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tiny_models import make_sequential_cnn

import layerviz
from layerviz.cli import main
from layerviz.config import MODELS_DIR_VARIABLE

REPO_MODELS = Path(__file__).resolve().parents[2] / "models"


@pytest.fixture(autouse=True)
def repo_models(monkeypatch):
    monkeypatch.setenv(MODELS_DIR_VARIABLE, str(REPO_MODELS))


@pytest.fixture
def saved(tmp_path, keras_session):
    model = make_sequential_cnn()
    path = tmp_path / "seq.keras"
    model.save(path)
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 12)
    x = rng.random((36, 12, 12, 1), dtype=np.float32) + y[:, None, None, None]
    data = tmp_path / "data.npz"
    np.savez(data, x=x, y=y)
    return model, path, data, x


def test_lens_writes_probe_and_cka_files(saved, tmp_path, capsys):
    model, path, data, x = saved
    out = tmp_path / "out"
    assert main(["lens", str(path), str(data), "--out", str(out), "--folds", "3"]) == 0
    printed = capsys.readouterr().out
    assert "probes predict labels y" in printed and "wrote probe.csv" in printed
    rows = list(csv.DictReader((out / "probe.csv").open()))
    names = [name for _, name, _ in layerviz.ActivationExtractor(model).layers]
    assert [r["name"] for r in rows] == names
    assert all(0.0 <= float(r["accuracy"]) <= 1.0 for r in rows)
    assert float(rows[0]["chance"]) == pytest.approx(1 / 3, abs=1e-6)
    table = list(csv.reader((out / "cka.csv").open()))
    assert table[0] == ["layer", *names]
    matrix = np.array([[float(v) for v in row[1:]] for row in table[1:]])
    np.testing.assert_allclose(np.diag(matrix), 1.0, atol=1e-6)
    features = layerviz.dataset_features(model, x)
    want = layerviz.cka(features.layers[0].pooled, features.layers[2].pooled)
    assert matrix[0, 2] == pytest.approx(want, abs=1e-5)
    for png in ("probe.png", "cka.png"):
        assert Image.open(out / png).format == "PNG"


def test_lens_refuses_data_that_does_not_fit(saved, tmp_path, capsys):
    _, path, _, _ = saved
    bad = tmp_path / "bad.npz"
    np.savez(bad, x=np.zeros((4, 10, 10, 1), np.float32))
    assert main(["lens", str(path), str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "(4, 10, 10, 1) does not fit input (12, 12, 1)" in err
    assert main(["lens", str(path), "--out", str(tmp_path / "o")]) == 2
    assert "has no bundled dataset" in capsys.readouterr().err
