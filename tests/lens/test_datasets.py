"""Datasets for the lens: .npz (x, optional y), folders of images, the bundled held-out set."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from layerviz.errors import PatternError
from layerviz.lens.datasets import bundled_dataset, load_dataset, read_dataset


def _npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_npz_with_x_and_y_is_read():
    x = np.random.default_rng(0).random((6, 8, 8, 1), dtype=np.float32)
    data = read_dataset(_npz(x=x, y=np.arange(6)), "d.npz", (8, 8, 1))
    np.testing.assert_array_equal(data.x, x)
    np.testing.assert_array_equal(data.y, np.arange(6))
    alone = read_dataset(_npz(x=x[..., 0]), "d.npz", (8, 8, 1))  # channel axis of 1 added
    assert alone.x.shape == (6, 8, 8, 1) and alone.y is None


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        (
            {"x": np.zeros((4, 8, 8, 3))},
            r"batch shape \(4, 8, 8, 3\) does not fit input \(8, 8, 1\)",
        ),
        ({"x": np.zeros((4, 8, 8, 1)), "y": np.arange(3)}, "y holds 3 labels for 4 patterns"),
        ({"x": np.zeros((4, 8, 8, 1)), "y": np.zeros((4, 2))}, r"one per pattern, shape \(n,\)"),
        ({"x": np.zeros((4, 8, 8, 1)), "y": np.zeros(4)}, "whole-number class labels"),
        ({"patterns": np.zeros((4, 8, 8, 1))}, "no array named 'x'"),
        ({"x": np.array([object()] * 4)}, "pickled|object"),
    ],
)
def test_bad_npz_is_refused_with_what_was_expected(arrays, message):
    with pytest.raises(PatternError, match=message):
        read_dataset(_npz(**arrays), "d.npz", (8, 8, 1))


def test_nan_rows_are_reported_by_number():
    x = np.zeros((30, 8, 8, 1), dtype=np.float32)
    x[[2, 11], 3, 3, 0] = np.nan
    x[25, 0, 0, 0] = np.inf
    with pytest.raises(PatternError, match=r"d.npz: x rows 2, 11, 25 hold NaN or infinite"):
        read_dataset(_npz(x=x), "d.npz", (8, 8, 1))


def test_over_the_cap_is_refused_before_reading(tmp_path, monkeypatch):
    big = tmp_path / "big.npz"
    big.write_bytes(_npz(x=np.zeros((64, 8, 8, 1), np.float32)))
    opened = []
    monkeypatch.setattr(type(big), "read_bytes", lambda self: opened.append(self) or b"")
    with pytest.raises(PatternError, match="over the 1000-byte limit"):
        load_dataset(big, (8, 8, 1), max_bytes=1000)
    assert opened == []
    # An .npz whose members unpack past the cap is refused from its directory.
    small = np.zeros((400, 8, 8, 1), np.float32)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, x=small)
    with pytest.raises(PatternError, match=r"declare .* over the limit of 50000"):
        read_dataset(buffer.getvalue(), "z.npz", (8, 8, 1), max_bytes=50_000)


def test_folder_of_images_with_class_subfolders(tmp_path):
    for label, value in (("a", 0), ("b", 255)):
        (tmp_path / label).mkdir()
        for i in range(3):
            Image.new("L", (16, 16), value).save(tmp_path / label / f"{i}.png")
    data = load_dataset(tmp_path, (8, 8, 1))
    assert data.x.shape == (6, 8, 8, 1) and data.classes == ("a", "b")
    np.testing.assert_array_equal(data.y, [0, 0, 0, 1, 1, 1])
    np.testing.assert_allclose(data.x[3:], 1.0)
    (tmp_path / "a" / "2.png").write_bytes(b"not a png")
    with pytest.raises(PatternError, match=r"2\.png: is not a PNG or JPEG"):
        load_dataset(tmp_path, (8, 8, 1))
    with pytest.raises(PatternError, match="no such file or folder"):
        load_dataset(tmp_path / "missing", (8, 8, 1))


def test_bundled_digits_set_is_held_out_and_labelled():
    data = bundled_dataset("digits_cnn", (32, 32, 1))
    assert data.x.shape == (360, 32, 32, 1) and data.y.shape == (360,)
    assert data.classes == tuple(str(i) for i in range(10))
    assert set(np.unique(data.y)) == set(range(10))
    assert data.x.min() >= 0.0 and data.x.max() <= 1.0
    assert bundled_dataset("article_dense", (1,)) is None
