"""How alike two layers' representations of one dataset are: linear CKA.

Centred kernel alignment with a linear kernel (Kornblith, Norouzi, Lee & Hinton 2019,
"Similarity of Neural Network Representations Revisited", eq. 5): with ``X`` (n × p) and
``Y`` (n × q) centred by column,

    CKA(X, Y) = ‖Yᵀ X‖²_F / (‖Xᵀ X‖_F ‖Yᵀ Y‖_F),

1 for representations equal up to an orthogonal transform and an isotropic scaling, 0 for
unrelated ones. The *debiased* form replaces each HSIC by its unbiased estimator (Song et al.
2012), as the paper's own code does for small datasets, where plain CKA of random features
is far above 0.

:func:`layer_similarity` gets every pair at once from the centred Gram matrices, built a block
of rows at a time (upper triangle only) so that memory stays about ``_BLOCK_BYTES`` rather than
``layers × n²``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from layerviz.errors import ArgumentError
from layerviz.lens.features import DatasetFeatures
from layerviz.lens.threads import blas_threads

__all__ = ["cka", "layer_similarity"]

#: Memory for one block of Gram rows of every layer in :func:`layer_similarity` (float32).
_BLOCK_BYTES = 96 * 2**20


def cka(a, b, debiased: bool = False) -> float:
    """Linear CKA between two representations of the same ``n`` patterns.

    Args:
        a: ``(n, p)`` features, one row per pattern (more axes are flattened).
        b: ``(n, q)`` features of the same patterns, in the same order.
        debiased: use unbiased HSIC estimates (needs n ≥ 4).

    Returns:
        A number in [0, 1] (the debiased form may dip slightly below 0); 0 when either
        representation is constant over the patterns.

    Raises:
        ArgumentError: different numbers of patterns, too few patterns, non-finite values.
    """
    x, y = _centred(a, "a"), _centred(b, "b")
    if x.shape[0] != y.shape[0]:
        raise ArgumentError(
            f"cka compares the same patterns: a holds {x.shape[0]} rows, b {y.shape[0]}"
        )
    _check_n(x.shape[0], debiased)
    cross = float(np.sum(np.square(y.T @ x)))
    self_x = float(np.sum(np.square(x.T @ x)))
    self_y = float(np.sum(np.square(y.T @ y)))
    if debiased:
        rows_x, rows_y = np.einsum("ij,ij->i", x, x), np.einsum("ij,ij->i", y, y)
        n = x.shape[0]
        cross = _debias(cross, rows_x, rows_y, n)
        self_x = _debias(self_x, rows_x, rows_x, n)
        self_y = _debias(self_y, rows_y, rows_y, n)
    return _ratio(cross, self_x, self_y)


def layer_similarity(
    features: DatasetFeatures | Sequence,
    layers: Sequence[str] | None = None,
    debiased: bool = False,
    progress: Callable[[int, int], object] | None = None,
) -> tuple[list[str], np.ndarray]:
    """Linear CKA between every pair of layers, over their pooled features.

    Args:
        features: what :func:`~layerviz.lens.features.dataset_features` kept, or a sequence
            of ``(name, (n, width) array)`` pairs.
        layers: names of the layers to compare (all when None), in the order wanted.
        debiased: use unbiased HSIC estimates, as :func:`cka`.
        progress: called as ``progress(done, total)`` over the blocks of rows.

    Returns:
        ``(names, matrix)``: the layers' names and a symmetric ``(L, L)`` float64 matrix
        whose ``[i, j]`` equals ``cka(features_i, features_j, debiased)``.

    Raises:
        ArgumentError: an unknown layer name, or as :func:`cka`.
    """
    pairs = _named_arrays(features, layers)
    names = [name for name, _ in pairs]
    # float32 for the Gram products: half the memory and twice the speed of float64, and
    # CKA's ratios keep ~1e-6 (the tests compare with ``cka`` to 1e-5).
    centred = [_centred32(array, name) for name, array in pairs]
    n = centred[0].shape[0]
    if any(x.shape[0] != n for x in centred):
        raise ArgumentError("layer_similarity needs the same patterns for every layer")
    _check_n(n, debiased)
    with blas_threads():
        sums = _gram_products(centred, progress)
    if debiased:
        row_norms = np.stack([np.einsum("ij,ij->i", x, x, dtype=np.float64) for x in centred])
        totals = row_norms.sum(axis=1)
        sums = sums - n / (n - 2.0) * (row_norms @ row_norms.T)
        sums = sums + np.outer(totals, totals) / ((n - 1.0) * (n - 2.0))
    diagonal = np.sqrt(np.clip(np.diag(sums), 0.0, None))
    scale = np.outer(diagonal, diagonal)
    matrix = np.divide(sums, scale, out=np.zeros_like(sums), where=scale > 0)
    return names, matrix


def _gram_products(centred: list[np.ndarray], progress) -> np.ndarray:
    """``tr(K_i K_j)`` for every pair of centred Gram matrices ``K_i = X_i X_iᵀ``.

    Both products are symmetric, so only the upper triangle of each ``K_i`` is formed, a block
    of rows at a time: block ``[a, b)`` gives its diagonal square and the strip right of it,
    the strip weighted by √2 so that one float32 GEMM of the stacked blocks (``rows @ rowsᵀ``,
    which numpy runs as a SYRK) counts every off-diagonal entry twice. Half the work of the
    full matrices: 2.5–4.2 s instead of 21.8 s for MobileNetV2's 155 outputs over 1,000 patterns
    (bench/lens.py, load 4–11 on 2 cores).
    """
    n, count = centred[0].shape[0], len(centred)
    step = max(16, min(n, _BLOCK_BYTES // (4 * n * count)))
    sums = np.zeros((count, count))
    blocks = range(0, n, step)
    root2 = np.float32(np.sqrt(2.0))
    for done, first in enumerate(blocks, start=1):
        last = min(first + step, n)
        rows = np.empty((count, (last - first) * (n - first)), dtype=np.float32)
        for i, x in enumerate(centred):
            block = rows[i].reshape(last - first, n - first)
            np.matmul(x[first:last], x[first:].T, out=block)
            block[:, last - first :] *= root2
        sums += rows @ rows.T
        if progress is not None:
            progress(done, len(blocks))
    return sums


def _debias(xty: float, rows_x: np.ndarray, rows_y: np.ndarray, n: int) -> float:
    """Unbiased HSIC from the plain one (the paper's code, ``_debiased_dot_product...``)."""
    return (
        xty
        - n / (n - 2.0) * float(rows_x @ rows_y)
        + float(rows_x.sum()) * float(rows_y.sum()) / ((n - 1.0) * (n - 2.0))
    )


def _ratio(cross: float, self_x: float, self_y: float) -> float:
    scale = np.sqrt(max(self_x, 0.0)) * np.sqrt(max(self_y, 0.0))
    return float(cross / scale) if scale > 0 else 0.0


def _centred(array, name: str) -> np.ndarray:
    x = np.asarray(array, dtype=np.float64)
    if x.ndim < 2:
        raise ArgumentError(f"{name}: features need one row per pattern, got shape {x.shape}")
    x = x.reshape(x.shape[0], -1)
    bad = np.flatnonzero(~np.isfinite(x).all(axis=1))
    if bad.size:
        raise ArgumentError(f"{name}: rows {_listed(bad)} hold NaN or infinite values")
    return x - x.mean(axis=0, keepdims=True)


def _centred32(array, name: str) -> np.ndarray:
    """``_centred`` for :func:`layer_similarity`: float32 out, no float64 copy of the layer."""
    x = np.asarray(array)
    if x.ndim < 2:
        raise ArgumentError(f"{name}: features need one row per pattern, got shape {x.shape}")
    x = x.reshape(x.shape[0], -1).astype(np.float32, copy=False)
    bad = np.flatnonzero(~np.isfinite(x).all(axis=1))
    if bad.size:
        raise ArgumentError(f"{name}: rows {_listed(bad)} hold NaN or infinite values")
    return x - x.mean(axis=0, dtype=np.float64).astype(np.float32)


def _check_n(n: int, debiased: bool) -> None:
    least = 4 if debiased else 2
    if n < least:
        kind = "debiased CKA" if debiased else "CKA"
        raise ArgumentError(f"{kind} needs at least {least} patterns, got {n}")


def _named_arrays(features, layers: Sequence[str] | None) -> list[tuple[str, np.ndarray]]:
    if isinstance(features, DatasetFeatures):
        pairs = [(lay.name, lay.pooled) for lay in features.layers]
    else:
        pairs = [(str(name), array) for name, array in features]
    if layers is not None:
        by_name = dict(pairs)
        unknown = [name for name in layers if name not in by_name]
        if unknown:
            raise ArgumentError(f"no layer named {unknown[0]!r} among {len(by_name)} layers")
        pairs = [(name, by_name[name]) for name in layers]
    if not pairs:
        raise ArgumentError("layer_similarity needs at least one layer")
    return pairs


def _listed(rows: np.ndarray, most: int = 10) -> str:
    shown = ", ".join(str(int(r)) for r in rows[:most])
    return shown + (f", ... ({len(rows)} rows)" if len(rows) > most else "")
