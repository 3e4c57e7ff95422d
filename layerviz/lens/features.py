"""One streamed pass over a dataset, keeping per layer only what the dataset views need.

For every drawable layer and every pattern the pass keeps two numbers per channel (the
channel is the output's last axis, as in :mod:`layerviz.analysis.statistics`):

- the **pooled** feature: the channel's mean over all its positions (a Dense output's value
  itself), the row a projection, a probe or CKA reads;
- the **peak**: the channel's largest value at any position, which ranks the patterns that
  excite the channel most (:func:`top_examples`, as OpenAI Microscope ranks them);

plus running moments per channel over every position of every pattern (count, sum, sum of
squares). The reductions run inside one compiled forward pass (:mod:`layerviz.lens.pooling`),
so a batch's full activations never reach the host; what is kept is ``2 × n × channels`` floats
per layer, whatever the maps' sizes.

A dataset cut into shards (``start`` = each shard's first pattern) gives the same numbers as
one pass once :func:`merge_features` joins them: rows are concatenated in dataset order and moments
added, so the shards can run anywhere (Celery workers on a team deployment).
"""

from __future__ import annotations

import itertools
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import keras
import numpy as np

from layerviz.errors import ArgumentError, PatternError
from layerviz.extract.activations import ActivationExtractor
from layerviz.lens.pooling import PooledBatch, PoolingPass
from layerviz.patterns.inputs import fit_batch

__all__ = [
    "DatasetFeatures",
    "LayerFeatures",
    "TopExamples",
    "dataset_features",
    "merge_features",
    "top_examples",
]

#: Called as ``progress(done, total)`` after each batch; it may raise to stop the pass.
Progress = Callable[[int, int], object]
RANKINGS = ("max", "mean")


@dataclass(frozen=True, eq=False)
class LayerFeatures:
    """What the pass kept of one layer, for ``n`` patterns (compared by identity).

    Attributes:
        index, name, class_name: as in :class:`~layerviz.extract.activations.LayerActivation`.
        shape: the layer's output shape without the batch axis.
        pooled: ``(n, channels)`` float32, each channel's mean over its positions.
        peak: ``(n, channels)`` float32, each channel's largest value at any position.
        count: values seen per channel (patterns × positions).
        total: ``(channels,)`` float64 sum of every value seen per channel.
        total_sq: ``(channels,)`` float64 sum of their squares.
    """

    index: int
    name: str
    class_name: str
    shape: tuple[int, ...]
    pooled: np.ndarray
    peak: np.ndarray
    count: int
    total: np.ndarray
    total_sq: np.ndarray

    @property
    def n_channels(self) -> int:
        """The size of the output's last axis."""
        return int(self.pooled.shape[1])

    @property
    def mean(self) -> np.ndarray:
        """Each channel's mean over every position of every pattern."""
        return self.total / max(self.count, 1)

    @property
    def std(self) -> np.ndarray:
        """Each channel's standard deviation over every position of every pattern."""
        variance = self.total_sq / max(self.count, 1) - self.mean**2
        return np.sqrt(np.maximum(variance, 0.0))

    def channel_max(self) -> tuple[np.ndarray, np.ndarray]:
        """Each channel's largest value over the dataset, and the pattern it came from.

        Returns:
            ``(values, patterns)``, both ``(channels,)``; ``patterns`` are row numbers of
            ``pooled`` (the first such pattern on ties).
        """
        rows = np.argmax(self.peak, axis=0)
        return self.peak[rows, np.arange(self.n_channels)], rows


@dataclass(frozen=True, eq=False)
class DatasetFeatures:
    """What one pass (or a merge of shards) kept, one :class:`LayerFeatures` per layer.

    Attributes:
        layers: the layers in model order.
        n_patterns: how many patterns were run.
        start: the first pattern's position in the whole dataset (0 unless a shard).
        predictions: the model's first output, ``(n, classes)``, when it is a vector per
            pattern; None otherwise.
    """

    layers: tuple[LayerFeatures, ...]
    n_patterns: int
    start: int = 0
    predictions: np.ndarray | None = None

    @property
    def names(self) -> list[str]:
        """The layers' names, in model order."""
        return [layer.name for layer in self.layers]

    @property
    def predicted(self) -> np.ndarray | None:
        """The predicted class of each pattern (argmax of ``predictions``), or None."""
        return None if self.predictions is None else np.argmax(self.predictions, axis=1)

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays."""
        held = sum(lay.pooled.nbytes + lay.peak.nbytes for lay in self.layers)
        return held + (0 if self.predictions is None else self.predictions.nbytes)

    def layer(self, name: str) -> LayerFeatures:
        """The features of the layer called ``name``.

        Raises:
            ArgumentError: no layer has that name.
        """
        for layer in self.layers:
            if layer.name == name:
                return layer
        shown = ", ".join(self.names[:8]) + (f", ... ({len(self.names)})" if self.names else "")
        raise ArgumentError(f"no layer named {name!r} in the dataset features; layers: {shown}")


@dataclass(frozen=True)
class TopExamples:
    """The patterns that excite one channel most (or least), best first."""

    layer: str
    channel: int
    patterns: np.ndarray
    values: np.ndarray
    by: str
    least: bool


def dataset_features(
    model: keras.Model | ActivationExtractor,
    x,
    batch_size: int = 32,
    progress: Progress | None = None,
    start: int = 0,
) -> DatasetFeatures:
    """Run a dataset through every layer once, in batches, keeping pooled features and peaks.

    Args:
        model: a Keras model, or an :class:`ActivationExtractor` already built for one.
        x: the patterns, ``(n, *input_shape)``; for a model with several inputs a list with
            one such array per input.
        batch_size: patterns per forward pass; memory grows with it (one batch's full
            activations are held while it is reduced).
        progress: called as ``progress(done, total)`` after each batch; an exception it
            raises (a cancelled job) stops the pass.
        start: where these patterns begin in a larger dataset (for shards; see
            :func:`merge_features`).

    Returns:
        A :class:`DatasetFeatures` with one record per layer of ``extractor.layers``.

    Raises:
        PatternError: the patterns do not fit the model's input(s), or there are none.
        ArgumentError: ``batch_size`` or ``start`` not a whole number in range.
    """
    batch_size = _whole(batch_size, "batch_size", 1)
    start = _whole(start, "start", 0)
    extractor = model if isinstance(model, ActivationExtractor) else ActivationExtractor(model)
    parts = [np.asarray(p) for p in (x if isinstance(x, (list, tuple)) else [x])]
    total = _count(parts)
    acc = _Accumulator(extractor)
    pooling = _pooling_pass(extractor)
    if progress is not None:
        progress(0, total)
    for first in range(0, total, batch_size):
        batch = [p[first : first + batch_size] for p in parts]
        acc.add_pooled(pooling.run(_fitted(extractor, batch)), pooling.positions)
        if progress is not None:
            progress(min(first + batch_size, total), total)
    return acc.result(total, start)


def merge_features(shards: Sequence[DatasetFeatures]) -> DatasetFeatures:
    """Join shards of one dataset (in any order) into what one pass over it gives.

    Args:
        shards: results of :func:`dataset_features` over consecutive slices, each with its
            ``start``; together they must cover one range without gaps or overlaps.

    Returns:
        The rows concatenated in dataset order, the moments added.

    Raises:
        ArgumentError: no shards, shards of different layers, or a gap or overlap.
    """
    if not shards:
        raise ArgumentError("merge needs at least one shard")
    ordered = sorted(shards, key=lambda s: s.start)
    first = ordered[0]
    for before, after in itertools.pairwise(ordered):
        if after.start != before.start + before.n_patterns:
            raise ArgumentError(
                f"shards do not join: one covers patterns {before.start}.."
                f"{before.start + before.n_patterns - 1}, the next starts at {after.start}"
            )
        if [(lay.name, lay.shape) for lay in after.layers] != [
            (lay.name, lay.shape) for lay in first.layers
        ]:
            raise ArgumentError("shards come from different models: their layers differ")
    layers = tuple(_merge_layer([s.layers[i] for s in ordered]) for i in range(len(first.layers)))
    predictions = None
    if all(s.predictions is not None for s in ordered):
        predictions = np.concatenate([s.predictions for s in ordered])
    n = sum(s.n_patterns for s in ordered)
    return DatasetFeatures(layers, n, first.start, predictions)


def top_examples(
    features: DatasetFeatures | LayerFeatures,
    layer: str | None = None,
    channel: int = 0,
    k: int = 9,
    by: str = "max",
    least: bool = False,
) -> TopExamples:
    """The ``k`` patterns of the dataset that excite a channel most (or least).

    Args:
        features: what :func:`dataset_features` kept, or one layer of it.
        layer: the layer's name (not needed when ``features`` is one layer).
        channel: the channel (an index into the output's last axis).
        k: how many patterns (fewer when the dataset holds fewer).
        by: ``"max"`` ranks by the channel's peak value in each pattern (as OpenAI
            Microscope), ``"mean"`` by its pooled mean.
        least: the patterns that excite it least instead, lowest first.

    Returns:
        A :class:`TopExamples`: pattern row numbers and their values; ties keep dataset order.

    Raises:
        ArgumentError: an unknown layer, ranking, a channel out of range or ``k`` < 1.
    """
    lay = features if isinstance(features, LayerFeatures) else features.layer(str(layer))
    if by not in RANKINGS:
        raise ArgumentError(f"by must be one of {', '.join(RANKINGS)}; got {by!r}")
    k = _whole(k, "k", 1)
    channel = _whole(channel, "channel", 0)
    if channel >= lay.n_channels:
        raise ArgumentError(
            f"channel {channel} is out of range: layer {lay.name!r} has {lay.n_channels}"
        )
    values = (lay.peak if by == "max" else lay.pooled)[:, channel]
    keys = values if least else -values.astype(np.float64)
    rows = np.lexsort((np.arange(len(values)), keys))[:k]
    return TopExamples(lay.name, channel, rows, values[rows], by, least)


class _Accumulator:
    """Per-layer lists of reduced batches and running moments, while a pass runs."""

    def __init__(self, extractor: ActivationExtractor):
        self.layers = extractor.layers
        self.shapes = [tuple(s) for s in extractor.layer_shapes]
        n = len(self.layers)
        self.pooled: list[list[np.ndarray]] = [[] for _ in range(n)]
        self.peak: list[list[np.ndarray]] = [[] for _ in range(n)]
        self.count = [0] * n
        self.total: list[np.ndarray | float] = [0.0] * n
        self.total_sq: list[np.ndarray | float] = [0.0] * n
        self.predictions: list[np.ndarray] = []

    def add_pooled(self, pooled: PooledBatch, positions: list[int]) -> None:
        """Fold one batch of :class:`~layerviz.lens.pooling.PoolingPass` in."""
        for i, (mean, peak, mean_sq) in enumerate(pooled.layers):
            self.pooled[i].append(np.asarray(mean, dtype=np.float32))
            self.peak[i].append(np.asarray(peak, dtype=np.float32))
            self.count[i] += len(mean) * positions[i]
            wide = np.asarray(mean, dtype=np.float64).sum(axis=0) * positions[i]
            self.total[i] = self.total[i] + wide
            squares = np.asarray(mean_sq, dtype=np.float64).sum(axis=0) * positions[i]
            self.total_sq[i] = self.total_sq[i] + squares
        self._predictions(pooled.outputs)

    def _predictions(self, outputs) -> None:
        first = outputs[0] if outputs else None
        if first is not None and first.ndim == 2:
            self.predictions.append(np.array(first, dtype=np.float32))

    def result(self, n: int, start: int) -> DatasetFeatures:
        layers = tuple(
            LayerFeatures(
                index,
                name,
                class_name,
                self.shapes[i],
                np.concatenate(self.pooled[i]),
                np.concatenate(self.peak[i]),
                self.count[i],
                np.asarray(self.total[i], dtype=np.float64),
                np.asarray(self.total_sq[i], dtype=np.float64),
            )
            for i, (index, name, class_name) in enumerate(self.layers)
        )
        predictions = np.concatenate(self.predictions) if self.predictions else None
        return DatasetFeatures(layers, n, start, predictions)


def _merge_layer(parts: list[LayerFeatures]) -> LayerFeatures:
    head = parts[0]
    return LayerFeatures(
        head.index,
        head.name,
        head.class_name,
        head.shape,
        np.concatenate([p.pooled for p in parts]),
        np.concatenate([p.peak for p in parts]),
        sum(p.count for p in parts),
        np.sum([p.total for p in parts], axis=0),
        np.sum([p.total_sq for p in parts], axis=0),
    )


#: One pooled pass per extractor: building it rebuilds a model and traces a function (seconds
#: on MobileNetV2), which a second dataset through the same extractor must not pay again.
_POOLING: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_POOLING_LOCK = threading.Lock()


def _pooling_pass(extractor: ActivationExtractor) -> PoolingPass:
    with _POOLING_LOCK:
        pooling = _POOLING.get(extractor)
        if pooling is None:
            pooling = _POOLING[extractor] = PoolingPass(extractor)
    return pooling


def _fitted(extractor: ActivationExtractor, batch: list[np.ndarray]) -> list[np.ndarray]:
    if len(batch) != len(extractor.input_shapes):
        raise PatternError(
            f"the model has {len(extractor.input_shapes)} inputs "
            f"({', '.join(extractor.input_names)}); got {len(batch)} arrays: give one per input"
        )
    pairs = zip(batch, extractor.input_shapes, extractor.input_dtypes, strict=True)
    return [fit_batch(part, shape, dtype) for part, shape, dtype in pairs]


def _count(parts: list[np.ndarray]) -> int:
    counts = {len(p) if p.ndim else 0 for p in parts}
    if len(counts) > 1:
        sizes = ", ".join(str(len(p)) for p in parts)
        raise PatternError(f"the inputs' batches hold different numbers of patterns: {sizes}")
    total = counts.pop()
    if total == 0:
        raise PatternError("dataset_features needs at least one pattern; got an empty batch")
    return total


def _whole(value, what: str, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least:
        raise ArgumentError(f"{what} must be a whole number ≥ {least}, got {value!r}")
    return int(value)
