"""Where classes separate, and how a layer's patterns lie: linear probes and projections.

A *linear probe* (Alain & Bengio 2016) is a logistic regression trained on one layer's pooled
features to predict the label; its cross-validated accuracy against depth shows where the
classes become linearly separable. Features are standardised inside each fold (a
scikit-learn pipeline), so no statistic of the held-out fold leaks into the probe.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from layerviz.errors import ArgumentError
from layerviz.lens.features import DatasetFeatures
from layerviz.lens.threads import blas_threads

__all__ = ["PROJECTIONS", "ProbeCurve", "probe_accuracy", "project"]

PROJECTIONS = ("pca", "tsne")


@dataclass(frozen=True, eq=False)
class ProbeCurve:
    """Cross-validated probe accuracy per layer, in model order.

    Attributes:
        names: the layers' names.
        indices: the layers' 1-based positions (``LayerFeatures.index``).
        accuracy: ``(L,)`` mean accuracy over the folds.
        spread: ``(L,)`` standard deviation over the folds.
        chance: the accuracy of always answering the most common class.
        folds: how many folds each layer was scored on.
    """

    names: list[str]
    indices: list[int]
    accuracy: np.ndarray
    spread: np.ndarray
    chance: float
    folds: int

    def rows(self) -> list[dict[str, object]]:
        """One flat row per layer (CSV, tables)."""
        return [
            {"index": i, "name": n, "accuracy": float(a), "spread": float(s)}
            for i, n, a, s in zip(self.indices, self.names, self.accuracy, self.spread, strict=True)
        ]


def probe_accuracy(
    features: DatasetFeatures,
    labels,
    layers: Sequence[str] | None = None,
    folds: int = 5,
    seed: int = 0,
    progress: Callable[[int, int], object] | None = None,
) -> ProbeCurve:
    """Train a linear probe on each layer's pooled features; score it by cross-validation.

    Args:
        features: what :func:`~layerviz.lens.features.dataset_features` kept.
        labels: one class per pattern (``(n,)`` integers or strings).
        layers: names of the layers to probe (all when None).
        folds: stratified folds (fewer when the rarest class has fewer patterns).
        seed: shuffles the folds.
        progress: called as ``progress(done, total)`` after each layer.

    Returns:
        A :class:`ProbeCurve`.

    Raises:
        ArgumentError: labels of another length, fewer than two classes, a class with one
            pattern only, an unknown layer, or features with NaN rows.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    y = _labels(labels, features.n_patterns)
    _, counts = np.unique(y, return_counts=True)
    folds = min(int(folds), int(counts.min()))
    chosen = [features.layer(name) for name in layers] if layers else list(features.layers)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    means, spreads = [], []
    for done, layer in enumerate(chosen, start=1):
        x = _finite_rows(layer.pooled, layer.name)
        probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=200, tol=1e-3))
        with warnings.catch_warnings(), blas_threads():
            # lbfgs may stop at max_iter: 200 keeps a wide layer to seconds.
            warnings.simplefilter("ignore")
            scores = cross_val_score(probe, x, y, cv=splitter)
        means.append(scores.mean())
        spreads.append(scores.std())
        if progress is not None:
            progress(done, len(chosen))
    return ProbeCurve(
        [lay.name for lay in chosen],
        [lay.index for lay in chosen],
        np.asarray(means),
        np.asarray(spreads),
        float(counts.max() / counts.sum()),
        folds,
    )


def project(pooled, method: str = "pca", seed: int = 0) -> np.ndarray:
    """Two coordinates per pattern: PCA (default) or t-SNE of one layer's pooled features.

    Args:
        pooled: ``(n, width)`` features.
        method: ``"pca"`` or ``"tsne"`` (slower: seconds for a thousand patterns).
        seed: t-SNE's random state.

    Returns:
        ``(n, 2)`` float32 coordinates (zeros in the axes a constant layer cannot fill).

    Raises:
        ArgumentError: an unknown method, fewer than 2 patterns, or NaN rows.
    """
    if method not in PROJECTIONS:
        raise ArgumentError(f"projection must be one of {', '.join(PROJECTIONS)}; got {method!r}")
    x = _finite_rows(np.asarray(pooled, dtype=np.float64), "features")
    x = x.reshape(len(x), -1)
    if len(x) < 2:
        raise ArgumentError(f"a projection needs at least 2 patterns, got {len(x)}")
    x = x - x.mean(axis=0)
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30.0, (len(x) - 1) / 3.0))
        tsne = TSNE(2, perplexity=max(perplexity, 1.0), init="pca", random_state=seed)
        return tsne.fit_transform(x).astype(np.float32)
    # Two components by randomized SVD (Halko et al.; scikit-learn's PCA): a few products
    # with the data instead of a full SVD, ~0.06 s for 1,000 × 512 where LAPACK's full SVD
    # takes ~0.6 s on one core (bench/lens.py).
    from sklearn.decomposition import PCA

    out = np.zeros((len(x), 2), dtype=np.float32)
    k = min(2, len(x) - 1, x.shape[1])
    if k >= 1 and np.any(x):
        with blas_threads():
            out[:, :k] = PCA(k, svd_solver="randomized", random_state=seed).fit_transform(x)
    return out


def _labels(labels, n: int) -> np.ndarray:
    y = np.asarray(labels)
    if y.ndim != 1 or len(y) != n:
        raise ArgumentError(f"labels must be one per pattern: expected ({n},), got {y.shape}")
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise ArgumentError(f"a probe needs at least two classes; the labels hold {len(classes)}")
    if counts.min() < 2:
        rare = classes[np.argmin(counts)].item()
        raise ArgumentError(f"class {rare!r} has one pattern only; a probe needs two per class")
    return y


def _finite_rows(x: np.ndarray, name: str) -> np.ndarray:
    bad = np.flatnonzero(~np.isfinite(x.reshape(len(x), -1)).all(axis=1))
    if bad.size:
        shown = ", ".join(str(int(r)) for r in bad[:10])
        more = f", ... ({bad.size} rows)" if bad.size > 10 else ""
        raise ArgumentError(f"layer {name!r}: rows {shown}{more} hold NaN or infinite values")
    return x
