"""Model health: which channels are dead or saturated over a batch of patterns.

A channel (the last axis of a layer's output, see :mod:`layerviz.analysis.statistics`) is

- **dead** when its output never exceeds ``threshold`` (0 by default), at any position, for
  any pattern: a ReLU unit whose input is always negative, a filter whose weights are all 0;
- **saturated** when it sits at one constant value above ``threshold`` at every position for
  every pattern: a sigmoid pinned at 1, a ``ReLU(max_value=6)`` pinned at 6.

A channel constant at or below the threshold is counted dead, not saturated, so the two sets
never overlap. The patterns run through the extractor's one compiled forward pass in batches
reduced inside it (:meth:`ActivationExtractor.extract_reduced`: per-channel numbers only); each
channel's running minimum and maximum are kept between batches.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from os import PathLike

import keras
import numpy as np

from layerviz.analysis.statistics import counted_dead, is_copy, value_movers
from layerviz.errors import ArgumentError, PatternError
from layerviz.extract.activations import ActivationExtractor
from layerviz.extract.reduce import ReducedLayer
from layerviz.load.bundled import BundledModel, bundled_model_of
from layerviz.patterns.inputs import random_pattern
from layerviz.patterns.readers import read_pattern

__all__ = [
    "LayerHealth",
    "ModelHealth",
    "model_health",
    "sample_patterns",
    "seeded_patterns",
]

#: Called as ``progress(done, total)`` with the number of patterns run so far.
Progress = Callable[[int, int], object]


@dataclass(frozen=True)
class LayerHealth:
    """Dead and saturated channels of one layer over a batch of patterns.

    Attributes:
        index, name, class_name: as in :class:`~layerviz.extract.activations.LayerActivation`.
        n_channels: the size of the output's last axis.
        dead: indices of the dead channels, in order.
        saturated: indices of the saturated channels, in order.
    """

    index: int
    name: str
    class_name: str
    n_channels: int
    dead: tuple[int, ...]
    saturated: tuple[int, ...]

    @property
    def n_dead(self) -> int:
        """How many channels are dead."""
        return len(self.dead)

    @property
    def n_saturated(self) -> int:
        """How many channels are saturated."""
        return len(self.saturated)

    def as_row(self) -> dict[str, object]:
        """The record as one flat row of plain values (CSV, tables)."""
        return {
            "index": self.index,
            "name": self.name,
            "class_name": self.class_name,
            "n_channels": self.n_channels,
            "n_dead": self.n_dead,
            "n_saturated": self.n_saturated,
            "dead": " ".join(map(str, self.dead)),
            "saturated": " ".join(map(str, self.saturated)),
        }


@dataclass(frozen=True)
class ModelHealth:
    """What :func:`model_health` found, one :class:`LayerHealth` per layer in model order."""

    layers: tuple[LayerHealth, ...]
    n_patterns: int
    threshold: float
    #: Names of layers that only move values beyond their class (identity activations).
    copies: frozenset[str] = frozenset()

    @property
    def n_dead(self) -> int:
        """Dead channels in all layers together, each computed channel once (a ``Flatten``
        or ``Dropout`` repeats its input's channels: :data:`~layerviz.analysis.statistics.
        MOVES_VALUES`)."""
        return counted_dead(self.layers, self.copies)

    @property
    def n_saturated(self) -> int:
        """Saturated channels in all layers together, each computed channel once."""
        return sum(r.n_saturated for r in self.layers if not is_copy(r, self.copies))

    def layer(self, name: str) -> LayerHealth:
        """The record of the layer called ``name``.

        Raises:
            ArgumentError: no layer has that name.
        """
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ArgumentError(f"no layer named {name!r} in the health report")


def model_health(
    model: keras.Model | ActivationExtractor,
    patterns,
    threshold: float = 0.0,
    batch_size: int = 32,
    progress: Progress | None = None,
) -> ModelHealth:
    """Find the dead and saturated channels of every layer over a batch of patterns.

    Args:
        model: a Keras model, or an :class:`ActivationExtractor` already built for one
            (reuse it: building one costs a graph rebuild).
        patterns: an array shaped ``(n, *input_shape)`` (see :func:`seeded_patterns`,
            :func:`sample_patterns`, :func:`layerviz.patterns.readers.read_pattern_batch`); for a
            model
            with several inputs, a list with one such array per input.
        threshold: a channel whose output never exceeds this is dead.
        batch_size: how many patterns go through the forward pass at once; only per-channel
            numbers come back, so what is kept does not grow with it (the pass itself works on
            one batch's outputs at a time).
        progress: called as ``progress(done, total)`` after each batch, ``done`` counting
            patterns.

    Returns:
        A :class:`ModelHealth` with one record per layer of ``extractor.layers``.

    Raises:
        PatternError: the patterns do not fit the model's input(s), or there are none.
        ArgumentError: ``threshold`` is not a finite number, or ``batch_size`` not a whole
            number ≥ 1.
        ModelStructureError: the model cannot be cut into layers.
    """
    threshold = _checked_threshold(threshold)
    batch_size = _checked_batch_size(batch_size)
    extractor = model if isinstance(model, ActivationExtractor) else ActivationExtractor(model)
    parts = patterns if isinstance(patterns, (list, tuple)) else [patterns]
    parts = [np.asarray(p) for p in parts]
    counts = {len(p) if p.ndim else 0 for p in parts}
    if len(counts) > 1:
        raise PatternError(
            "the inputs' batches hold different numbers of patterns: "
            f"{', '.join(str(len(p)) for p in parts)}"
        )
    total = counts.pop()
    if total == 0:
        raise PatternError("model_health needs at least one pattern; got an empty batch")
    if progress is not None:
        progress(0, total)
    lows: list[np.ndarray] = []
    highs: list[np.ndarray] = []
    for start in range(0, total, batch_size):
        batch = [p[start : start + batch_size] for p in parts]
        # Reduced inside the pass: only per-channel numbers come back, so memory does not grow
        # with the network's outputs (nor, beyond one batch, with the number of patterns).
        reduced = extractor.extract_reduced(batch if len(batch) > 1 else batch[0], max_side=1)
        _fold_extremes([_numpy_extremes(layer) for layer in reduced.layers], lows, highs)
        if progress is not None:
            progress(min(start + batch_size, total), total)
    records = tuple(
        _layer_health(layer, low, high, threshold)
        for layer, low, high in zip(extractor.layers, lows, highs, strict=True)
    )
    return ModelHealth(records, total, threshold, value_movers(extractor.model))


def seeded_patterns(model: keras.Model, n: int, first_seed: int = 0):
    """``n`` random patterns stacked into one batch: seeds ``first_seed`` … ``first_seed + n - 1``.

    Pattern ``i`` is exactly ``random_pattern(model, seed=first_seed + i)``, the pattern the
    dashboard and the CLI draw for that seed.

    Returns:
        An array shaped ``(n, *input_shape)``; a list of such arrays for several inputs.

    Raises:
        ArgumentError: ``n`` is not a whole number ≥ 1.
        PatternError: a seed out of range.
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ArgumentError(f"the number of patterns must be a whole number ≥ 1, got {n!r}")
    drawn = [random_pattern(model, seed=first_seed + i) for i in range(int(n))]
    if isinstance(drawn[0], list):
        return [np.concatenate(parts) for parts in zip(*drawn, strict=True)]
    return np.concatenate(drawn)


def sample_patterns(
    bundled: BundledModel | str | PathLike[str], input_shape, dtype=np.float32
) -> np.ndarray:
    """Every sample pattern of a bundled model, read and stacked into one batch.

    Args:
        bundled: a :class:`BundledModel`, or its name or ``.keras`` path.
        input_shape: the model's input shape without the batch axis.
        dtype: the patterns' dtype.

    Returns:
        An array shaped ``(n_samples, *input_shape)``, samples in the model's listed order.

    Raises:
        PatternError: the model is not a bundled one, has no samples, or a sample does not
            fit ``input_shape``.
    """
    if not isinstance(bundled, BundledModel):
        found = bundled_model_of(bundled)
        if found is None:
            raise PatternError(f"{str(bundled)!r} is not a bundled model, so it has no samples")
        bundled = found
    if not bundled.samples:
        raise PatternError(f"bundled model {bundled.name!r} has no sample patterns")
    return np.concatenate(
        [
            read_pattern(sample.path.read_bytes(), sample.name, input_shape, dtype)
            for sample in bundled.samples
        ]
    )


# --- internals -------------------------------------------------------------------------------


def _numpy_extremes(layer: ReducedLayer) -> tuple[np.ndarray, np.ndarray]:
    """A batch's per-channel minimum and maximum as numpy's reductions give them on the full
    output (``channel_extremes``): NaN where a NaN was, ±Inf where one was."""
    nans = layer.nans.any(axis=0)
    low, high = layer.minimum.min(axis=0), layer.maximum.max(axis=0)
    low[layer.neginf.any(axis=0)] = -np.inf
    high[layer.posinf.any(axis=0)] = np.inf
    low[nans] = high[nans] = np.nan
    return low, high


def _fold_extremes(
    extremes: list[tuple[np.ndarray, np.ndarray]], lows: list[np.ndarray], highs: list[np.ndarray]
) -> None:
    """Fold one batch's per-channel minima and maxima into the running ones (in place)."""
    for i, (low, high) in enumerate(extremes):
        if i == len(lows):
            lows.append(low)
            highs.append(high)
        else:
            np.minimum(lows[i], low, out=lows[i])
            np.maximum(highs[i], high, out=highs[i])


def _layer_health(
    layer: tuple[int, str, str], low: np.ndarray, high: np.ndarray, threshold: float
) -> LayerHealth:
    index, name, class_name = layer
    # NaN compares False both ways, so a channel that ever gave NaN is neither dead nor
    # saturated: the statistics table counts NaNs.
    dead = high <= threshold
    saturated = (low == high) & (high > threshold)
    return LayerHealth(
        index=index,
        name=name,
        class_name=class_name,
        n_channels=len(high),
        dead=tuple(int(c) for c in np.flatnonzero(dead)),
        saturated=tuple(int(c) for c in np.flatnonzero(saturated)),
    )


def _checked_threshold(threshold) -> float:
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        value = math.nan
    if isinstance(threshold, bool) or not math.isfinite(value):
        raise ArgumentError(f"threshold must be a finite number, got {threshold!r}")
    return value


def _checked_batch_size(batch_size) -> int:
    whole = isinstance(batch_size, int | np.integer) and not isinstance(batch_size, bool)
    if not whole or batch_size < 1:
        raise ArgumentError(f"batch_size must be a whole number ≥ 1, got {batch_size!r}")
    return int(batch_size)
