"""Linear CKA against the formula written out with Gram matrices and HSIC, by numpy alone."""

from __future__ import annotations

import numpy as np
import pytest

from layerviz.errors import ArgumentError
from layerviz.lens.similarity import cka, layer_similarity


def _hsic(k: np.ndarray, g: np.ndarray) -> float:
    """Biased HSIC of two Gram matrices: tr(K H L H), H the centring matrix (Gretton 2005)."""
    n = len(k)
    h = np.eye(n) - np.ones((n, n)) / n
    return float(np.trace(k @ h @ g @ h))


def _unbiased_hsic(k: np.ndarray, g: np.ndarray) -> float:
    """Song et al. 2012, eq. 5, on Gram matrices with zeroed diagonals."""
    n = len(k)
    k, g = k.copy(), g.copy()
    np.fill_diagonal(k, 0.0)
    np.fill_diagonal(g, 0.0)
    ones = np.ones(n)
    term = np.trace(k @ g) + (ones @ k @ ones) * (ones @ g @ ones) / ((n - 1) * (n - 2))
    term -= 2.0 / (n - 2) * (ones @ k @ g @ ones)
    return float(term / (n * (n - 3)))


def _reference(x: np.ndarray, y: np.ndarray, debiased: bool = False) -> float:
    k, g = x @ x.T, y @ y.T
    hsic = _unbiased_hsic if debiased else _hsic
    return hsic(k, g) / np.sqrt(hsic(k, k) * hsic(g, g))


@pytest.fixture
def xy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 7))
    y = np.tanh(x @ rng.normal(size=(7, 5))) + 0.3 * rng.normal(size=(40, 5))
    return x, y


def test_cka_of_a_representation_with_itself_is_one(xy):
    x, _ = xy
    assert cka(x, x) == pytest.approx(1.0, abs=1e-12)
    assert cka(x, x, debiased=True) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("debiased", [False, True])
def test_cka_equals_the_gram_matrix_formula(xy, debiased):
    x, y = xy
    assert abs(cka(x, y, debiased) - _reference(x, y, debiased)) < 1e-6
    assert 0.0 < cka(x, y) < 1.0


def test_cka_is_invariant_to_orthogonal_transforms_and_isotropic_scaling(xy):
    x, y = xy
    q, _ = np.linalg.qr(np.random.default_rng(3).normal(size=(7, 7)))
    base = cka(x, y)
    assert cka(x @ q, y) == pytest.approx(base, abs=1e-10)
    assert cka(3.7 * x, 0.01 * y) == pytest.approx(base, abs=1e-10)
    assert cka(x + 5.0, y) == pytest.approx(base, abs=1e-10)  # centring: offsets do not count
    # ...but not to an anisotropic one.
    assert abs(cka(x * np.arange(1, 8), y) - base) > 1e-3


@pytest.mark.parametrize("debiased", [False, True])
@pytest.mark.parametrize("blocks", [1, 3])
def test_layer_similarity_is_every_pair_of_cka(xy, debiased, blocks, monkeypatch):
    if blocks > 1:  # blocks of 16 rows over 40 patterns: the triangles' seams are crossed
        monkeypatch.setattr("layerviz.lens.similarity._BLOCK_BYTES", 1)
    x, y = xy
    z = np.random.default_rng(5).normal(size=(40, 300))
    names, matrix = layer_similarity([("x", x), ("y", y), ("z", z)], debiased=debiased)
    assert names == ["x", "y", "z"]
    arrays = [x, y, z]
    for i in range(3):
        for j in range(3):
            assert matrix[i, j] == pytest.approx(cka(arrays[i], arrays[j], debiased), abs=1e-5)
    names, sub = layer_similarity([("x", x), ("y", y), ("z", z)], layers=["z", "x"])
    assert names == ["z", "x"] and sub[0, 1] == pytest.approx(cka(z, x), abs=1e-5)


def test_layer_similarity_over_more_patterns_than_a_block(monkeypatch):
    monkeypatch.setattr("layerviz.lens.similarity._BLOCK_BYTES", 1)  # 19 blocks of 16 rows
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(300, 6)), rng.normal(size=(300, 4))
    b[:, 0] += a[:, 0]
    _, matrix = layer_similarity([("a", a), ("b", b)])
    assert matrix[0, 1] == pytest.approx(_reference(a - a.mean(0), b - b.mean(0)), abs=1e-5)


def test_bad_input_is_refused(xy):
    x, y = xy
    with pytest.raises(ArgumentError, match="a holds 40 rows, b 39"):
        cka(x, y[:39])
    bad = x.copy()
    bad[[3, 17]] = np.nan
    with pytest.raises(ArgumentError, match="rows 3, 17 hold NaN"):
        cka(bad, y)
    with pytest.raises(ArgumentError, match="at least 4 patterns"):
        cka(x[:3], y[:3], debiased=True)
    with pytest.raises(ArgumentError, match="no layer named 'w'"):
        layer_similarity([("x", x)], layers=["w"])
