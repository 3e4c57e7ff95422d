"""Numbers about layer outputs: one score per channel, and one record of statistics per layer.

The channel axis is the last one, as in Keras' default ``channels_last``: a ``Conv2D`` output
``(h, w, c)`` has ``c`` channels of ``h × w`` values, a ``Conv1D`` or sequence output ``(t, c)``
has ``c`` channels of ``t`` values, and a ``Dense`` output ``(n,)`` has ``n`` channels (units)
of one value each.

Everything here is plain numpy on the arrays an extraction hands out, and fast enough to run on
every layer of a large model each time a pattern changes (``bench/inspector.py``: all 155 layers
of MobileNetV2 at 224² within 50 ms).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from layerviz.errors import ArgumentError
from layerviz.extract.activations import Extraction, LayerActivation
from layerviz.extract.reduce import ReducedExtraction, ReducedLayer

__all__ = [
    "CHANNEL_SCORES",
    "MOVES_VALUES",
    "ChannelScores",
    "LayerStatistics",
    "channel_extremes",
    "channel_max",
    "channel_min",
    "channel_scores",
    "counted_dead",
    "is_copy",
    "layer_statistics",
    "moves_values",
    "records_csv",
    "reduced_statistics",
    "value_movers",
]

#: Layers whose output only moves or copies their input's values (dropout and noise are off at
#: inference): their "dead" units are their input's channels seen again, so totals skip them.
MOVES_VALUES = frozenset(
    {
        "Flatten", "Reshape", "Permute", "RepeatVector", "Identity", "Cropping1D",
        "Cropping2D", "Cropping3D", "Dropout", "SpatialDropout1D", "SpatialDropout2D",
        "SpatialDropout3D", "GaussianDropout", "GaussianNoise", "AlphaDropout",
        "ActivityRegularization",
    }
)  # fmt: skip


def moves_values(layer: Any) -> bool:
    """Whether a layer only moves or copies its input's values.

    Args:
        layer: a Keras layer, judged by its class and, for an ``Activation``, by its config's
            activation (``Activation("linear")`` and ``Activation(None)`` are identities); or a
            class name, judged by the class alone.
    """
    if isinstance(layer, str):
        return layer in MOVES_VALUES
    class_name = type(layer).__name__
    return class_name in MOVES_VALUES or (class_name == "Activation" and _is_identity(layer))


def _is_identity(layer: Any) -> bool:
    """Whether an ``Activation`` layer's config names the identity (``None`` reads "linear")."""
    try:
        activation = layer.get_config().get("activation")
    except (NotImplementedError, TypeError, ValueError, AttributeError):
        return False
    return activation is None or activation == "linear"


def value_movers(model: Any) -> frozenset[str]:
    """The entry names (``backbone/conv1``, as an extraction names them) of the layers of
    ``model``, nested models' included, that only move or copy values (:func:`moves_values`)."""
    import keras

    found: set[str] = set()

    def walk(container, prefix: str) -> None:
        for layer in container.layers:
            if isinstance(layer, keras.Model):
                walk(layer, f"{prefix}{layer.name}/")
            elif moves_values(layer):
                found.add(prefix + layer.name)

    walk(model, "")
    return frozenset(found)


def is_copy(record: Any, movers: Collection[str] = ()) -> bool:
    """Whether a record (statistics or health) is of a layer that only moves values: by its
    class, or by its name in ``movers`` (:func:`value_movers`: identity activations)."""
    return moves_values(record.class_name) or record.name.split(":", 1)[0] in movers


def counted_dead(records: Iterable, movers: Collection[str] = ()) -> int:
    """Dead channels over ``records`` (statistics or health), each computed channel once:
    layers that only move values (:data:`MOVES_VALUES`, or named in ``movers``, see
    :func:`value_movers`) repeat their input's and are skipped."""
    return sum(r.n_dead for r in records if not is_copy(r, movers))


#: What ``channel_scores`` can rank channels by, and what each means.
CHANNEL_SCORES = {
    "mean": "mean value",
    "max": "largest value",
    "std": "standard deviation",
    "l2": "L2 norm (root of the sum of squares)",
    "positive": "fraction of values above 0",
}

# Reductions along the channel axis run fastest when each row numpy reduces is long: a row of
# 16 channels makes numpy loop 100,000 times over 16 values. Folding rows together until a row
# holds about this many values makes channel_max about 3x faster on MobileNetV2's early layers.
_ROW_TARGET = 1024
# Values per block when several reductions read one array: 256 KiB of float32 stays in the
# L2 cache while they all run over it.
_BLOCK_VALUES = 1 << 16


@dataclass(frozen=True, eq=False)
class ChannelScores:
    """One score per channel of a layer output, and the channels ranked by it.

    Attributes:
        by: what the scores measure, a key of :data:`CHANNEL_SCORES`.
        scores: float64, one per channel, in channel order.
        order: channel indices from the highest score to the lowest (ties keep channel order;
            NaN scores come last).
    """

    by: str
    scores: np.ndarray
    order: np.ndarray

    @property
    def n_channels(self) -> int:
        """How many channels the layer has."""
        return len(self.scores)

    def n_pages(self, k: int) -> int:
        """How many pages of ``k`` channels the ranking fills.

        Raises:
            ArgumentError: ``k`` is not between 1 and the number of channels.
        """
        return math.ceil(self.n_channels / self._checked_k(k))

    def top(self, k: int, page: int = 0) -> np.ndarray:
        """The channel indices on page ``page`` (from 0) of ``k`` channels, best first.

        The last page may hold fewer than ``k``.

        Raises:
            ArgumentError: ``k`` is not between 1 and the number of channels, or ``page`` is
                not between 0 and ``n_pages(k) - 1``.
        """
        pages = self.n_pages(k)
        if (
            isinstance(page, bool)
            or not isinstance(page, int | np.integer)
            or not (0 <= page < pages)
        ):
            raise ArgumentError(f"page must be a whole number from 0 to {pages - 1}, got {page!r}")
        return self.order[page * k : (page + 1) * k]

    def _checked_k(self, k: int) -> int:
        if (
            isinstance(k, bool)
            or not isinstance(k, int | np.integer)
            or not (1 <= k <= self.n_channels)
        ):
            raise ArgumentError(
                f"k must be a whole number from 1 to {self.n_channels} (the layer's channels), "
                f"got {k!r}"
            )
        return int(k)


@dataclass(frozen=True)
class LayerStatistics:
    """Statistics of one layer's output for one pattern.

    Attributes:
        index, name, class_name: as in :class:`~layerviz.extract.activations.LayerActivation`.
        shape: the output's shape without the batch axis.
        min, max, mean, std: over every value (NaN when a value is NaN, as numpy gives).
        zero_fraction: the fraction of values exactly 0 (``-0.0`` included).
        nan_count, inf_count: how many values are NaN, and how many are ±infinity.
        n_channels: the size of the last axis.
        dead_channels: channels whose every value is ≤ 0 for this pattern, in order.
    """

    index: int
    name: str
    class_name: str
    shape: tuple[int, ...]
    min: float
    max: float
    mean: float
    std: float
    zero_fraction: float
    nan_count: int
    inf_count: int
    n_channels: int
    dead_channels: tuple[int, ...]

    @property
    def n_dead(self) -> int:
        """How many channels are dead for this pattern."""
        return len(self.dead_channels)

    def as_row(self) -> dict[str, object]:
        """The record as one flat row of plain values (CSV, tables)."""
        row = {f.name: getattr(self, f.name) for f in fields(self)}
        row["shape"] = "x".join(map(str, self.shape))
        row["dead_channels"] = " ".join(map(str, self.dead_channels))
        row["n_dead"] = self.n_dead
        return row


def channel_scores(activation: LayerActivation | np.ndarray, by: str = "mean") -> ChannelScores:
    """Score every channel of one layer output, and rank the channels by the score.

    Args:
        activation: a :class:`LayerActivation`, or a layer output without its batch axis.
        by: one of :data:`CHANNEL_SCORES`: ``"mean"``, ``"max"``, ``"std"``, ``"l2"`` or
            ``"positive"`` (the fraction of values above 0).

    Returns:
        A :class:`ChannelScores` with one float64 score per channel (the last axis).

    Raises:
        ArgumentError: ``by`` is not a known score, or the output has no values.
    """
    if not isinstance(by, str) or by not in CHANNEL_SCORES:
        raise ArgumentError(
            f"unknown channel score {by!r}; choose from {', '.join(map(repr, CHANNEL_SCORES))}"
        )
    rows = _channel_rows(_array_of(activation))
    if by == "max":
        scores = channel_max(rows)
    elif by == "positive":
        scores = np.count_nonzero(rows > 0, axis=0) / len(rows)
    elif by == "l2":
        wide = rows.astype(np.float64)
        scores = np.sqrt(np.einsum("ij,ij->j", wide, wide))
    else:
        scores = getattr(rows, by)(axis=0, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    # argsort of the negated scores is stable, so ties keep channel order, and NaN sorts last.
    return ChannelScores(by, scores, np.argsort(-scores, kind="stable"))


def channel_max(array: np.ndarray) -> np.ndarray:
    """Each channel's largest value: the maximum over every axis but the last.

    Args:
        array: any array of rank ≥ 1 (a layer output, with or without a batch axis).

    Returns:
        An array of ``array.shape[-1]`` values, of ``array``'s dtype.
    """
    return _channel_reduce(np.maximum, array)


def channel_min(array: np.ndarray) -> np.ndarray:
    """Each channel's smallest value; see :func:`channel_max`."""
    return _channel_reduce(np.minimum, array)


def channel_extremes(array: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each channel's smallest and largest value, reading ``array`` from memory once.

    Same as ``(channel_min(array), channel_max(array))``, but both reductions run on one
    cache-sized chunk before the next is read, which halves the memory traffic on the
    gigabytes a batch of MobileNetV2 outputs holds.
    """
    lows, highs = [], []
    for block in _blocks(_channel_rows(array)):
        lows.append(_channel_reduce(np.minimum, block))
        highs.append(_channel_reduce(np.maximum, block))
    return np.min(lows, axis=0), np.max(highs, axis=0)


def layer_statistics(
    extraction: Extraction | Iterable[LayerActivation],
) -> list[LayerStatistics]:
    """One :class:`LayerStatistics` record per layer of an extraction, in model order.

    Args:
        extraction: what ``ActivationExtractor.run`` returns, or its ``activations``.

    Returns:
        The records, one per layer.
    """
    activations = extraction.activations if isinstance(extraction, Extraction) else extraction
    scratch = _Scratch()
    return [_statistics_of(act, scratch) for act in activations]


def reduced_statistics(
    reduced: ReducedExtraction | Iterable[ReducedLayer], pattern: int = 0
) -> list[LayerStatistics]:
    """:func:`layer_statistics` of one pattern of a batch, from its reduced outputs alone.

    The same records as :func:`layer_statistics` on the full arrays (min, max, counts and dead
    channels exactly; mean and std to float32 rounding: ``std`` comes from the sums of squares,
    so on a layer whose spread is tiny next to its mean it keeps about 3 digits fewer than
    the two-pass ``np.std``). NaN and ±Inf give what numpy's reductions give on the full array.

    Args:
        reduced: what ``ActivationExtractor.extract_reduced`` returns, or its ``layers``.
        pattern: which pattern of the batch.
    """
    layers = reduced.layers if isinstance(reduced, ReducedExtraction) else reduced
    return [_reduced_record(layer, pattern) for layer in layers]


def _reduced_record(layer: ReducedLayer, i: int) -> LayerStatistics:
    n = layer.positions * layer.shape[-1]
    nans, pinf, ninf = (int(a[i].sum()) for a in (layer.nans, layer.posinf, layer.neginf))
    low, high = float(layer.minimum[i].min()), float(layer.maximum[i].max())
    if nans:
        low = high = mean = math.nan
    else:
        low, high = -math.inf if ninf else low, math.inf if pinf else high
        total = float(layer.total[i].astype(np.float64).sum())
        mean = math.nan if pinf and ninf else math.inf if pinf else -math.inf if ninf else total / n
    std = math.nan
    if not (nans or pinf or ninf):
        variance = float(layer.total_sq[i].astype(np.float64).sum()) / n - mean * mean
        std = math.sqrt(max(variance, 0.0))
    dead = (layer.nans[i] == 0) & (layer.posinf[i] == 0) & (layer.maximum[i] <= 0)
    return LayerStatistics(
        index=layer.index,
        name=layer.name,
        class_name=layer.layer_class,
        shape=tuple(layer.shape),
        min=low,
        max=high,
        mean=mean,
        std=std,
        zero_fraction=int(layer.zeros[i].sum()) / n,
        nan_count=nans,
        inf_count=pinf + ninf,
        n_channels=int(layer.shape[-1]),
        dead_channels=tuple(int(c) for c in np.flatnonzero(dead)),
    )


def records_csv(records: Sequence[LayerStatistics]) -> str:
    """The records as CSV text, one header line then one line per record.

    Works for any records with an ``as_row()`` method (statistics, health).
    """
    out = io.StringIO()
    if records:
        writer = csv.DictWriter(out, fieldnames=list(records[0].as_row()), lineterminator="\n")
        writer.writeheader()
        writer.writerows(record.as_row() for record in records)
    return out.getvalue()


# --- internals -------------------------------------------------------------------------------


def _array_of(activation: LayerActivation | np.ndarray) -> np.ndarray:
    array = activation.array if isinstance(activation, LayerActivation) else np.asarray(activation)
    if array.ndim == 0 or array.size == 0:
        raise ArgumentError(f"a layer output of shape {array.shape} has no channels to score")
    if array.dtype.kind not in "biuf":
        raise ArgumentError(f"a layer output of dtype {array.dtype} cannot be scored")
    return array


def _channel_rows(array: np.ndarray) -> np.ndarray:
    """``array`` as ``(values per channel, channels)``: one column per channel."""
    return array.reshape(-1, array.shape[-1])


def _channel_reduce(ufunc: np.ufunc, array: np.ndarray) -> np.ndarray:
    """``ufunc.reduce`` over every axis but the last, with rows folded to about _ROW_TARGET."""
    channels = array.shape[-1]
    rows = array.size // channels
    fold = 1
    while fold * channels < _ROW_TARGET and rows % (2 * fold) == 0:
        fold *= 2
    folded = ufunc.reduce(np.ascontiguousarray(array).reshape(-1, fold * channels), axis=0)
    return ufunc.reduce(folded.reshape(fold, channels), axis=0)


def _blocks(rows: np.ndarray):
    """Consecutive row blocks of a ``(values, channels)`` array, each about _BLOCK_VALUES."""
    step = max(1, _BLOCK_VALUES // rows.shape[1])
    for start in range(0, len(rows), step):
        yield rows[start : start + step]


@dataclass
class _Totals:
    """What one read of a layer output gathers, block by block."""

    lows: list[np.float32] = field(default_factory=list)
    highs: list[np.ndarray] = field(default_factory=list)
    total: float = 0.0
    squares: float = 0.0
    zeros: int = 0


class _Scratch:
    """Buffers the block reductions reuse, grown to the largest block seen."""

    def __init__(self) -> None:
        self.ones = np.ones(0, np.float32)
        self.zeros = np.empty(0, np.bool_)

    def fit(self, size: int) -> None:
        if size > self.ones.size:
            self.ones = np.ones(size, np.float32)
            self.zeros = np.empty(size, np.bool_)


def _statistics_of(act: LayerActivation, scratch: _Scratch) -> LayerStatistics:
    array = act.array
    if array.dtype != np.float32:
        array = array.astype(np.float32)
    rows = np.ascontiguousarray(_channel_rows(array))
    totals = _Totals()
    # Five reductions over one block while it sits in the cache, instead of five passes over
    # memory; sums as BLAS dot products (with ones, and with itself), zeros counted as bools.
    # Together about 2.5x less CPU than one numpy call per number (bench/inspector.py).
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf: the counts say why
        for block in _blocks(rows):
            _gather(block.reshape(-1), block, totals, scratch)
    highs = np.max(totals.highs, axis=0)  # np.min and np.max keep a NaN; Python's min does not
    low, high, n = float(np.min(totals.lows)), float(highs.max()), rows.size
    nans = infs = 0
    if not (math.isfinite(low) and math.isfinite(high)):  # min and max see any NaN or inf
        nans, infs = int(np.count_nonzero(np.isnan(rows))), int(np.count_nonzero(np.isinf(rows)))
    mean = totals.total / n
    return LayerStatistics(
        index=act.index,
        name=act.name,
        class_name=act.class_name,
        shape=act.shape,
        min=low,
        max=high,
        mean=mean,
        std=_std(rows, mean, totals.squares / n),
        zero_fraction=totals.zeros / n,
        nan_count=nans,
        inf_count=infs,
        n_channels=int(array.shape[-1]),
        dead_channels=tuple(int(c) for c in np.flatnonzero(highs <= 0)),
    )


def _gather(flat: np.ndarray, block: np.ndarray, totals: _Totals, scratch: _Scratch) -> None:
    """Add one block's extremes, sums and zeros to ``totals``."""
    scratch.fit(flat.size)
    totals.highs.append(_channel_reduce(np.maximum, block))
    totals.lows.append(flat.min())
    totals.total += float(np.dot(flat, scratch.ones[: flat.size]))
    totals.squares += float(np.dot(flat, flat))
    zeros = np.equal(flat, 0, out=scratch.zeros[: flat.size])  # -0.0 == 0 too
    totals.zeros += int(np.count_nonzero(zeros))


def _std(rows: np.ndarray, mean: float, mean_square: float) -> float:
    """The standard deviation from ``E[x²] - E[x]²``, as ``np.std`` gives it.

    That difference loses digits when the spread is tiny next to the mean (a saturated
    layer), so then ``np.std`` does it the careful way, in two passes.
    """
    variance = mean_square - mean * mean
    if not math.isfinite(variance) or variance <= 1e-3 * mean_square:
        return float(rows.std(dtype=np.float64))
    return math.sqrt(variance)
