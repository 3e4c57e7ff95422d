"""Reading a recorded run: its records, the curves over epochs, and an epoch's maps as activations.

Everything here reads the files :mod:`layerviz.record.store` writes; a record's arrays are read
when asked for, so opening a run of hundreds of epochs reads only their stamps.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from layerviz.errors import ArgumentError, RunError
from layerviz.extract.activations import LayerActivation
from layerviz.record.store import (
    RECORDS,
    LayerInfo,
    LayerRecord,
    Record,
    RunHeader,
    read_header,
    read_record,
    read_stamp,
    record_name,
)

__all__ = ["LayerCurves", "Run", "Stamp", "layer_summary", "list_runs"]


@dataclass(frozen=True)
class Stamp:
    """What a run knows of a record without reading its arrays."""

    number: int
    epoch: int
    batch: int | None
    logs: dict[str, float]
    path: Path

    @property
    def label(self) -> str:
        """``"epoch 3"``, or ``"epoch 3 · batch 40"``."""
        return f"epoch {self.epoch}" + (f" · batch {self.batch}" if self.batch is not None else "")


@dataclass(frozen=True, eq=False)
class LayerCurves:
    """One layer's numbers over the run's records, each array one value per record.

    Attributes:
        mean, std, zero_fraction: over every value of the probe batch's full output.
        dead, saturated: how many channels are dead / saturated over the probe batch (as
            :func:`layerviz.model_health` counts them, threshold 0), among the finite ones.
        nonfinite: how many channels held a NaN or ±Inf for some probe pattern: reported apart,
            never counted as dead or saturated (a NaN-only channel is broken, not silent).
    """

    info: LayerInfo
    mean: np.ndarray
    std: np.ndarray
    zero_fraction: np.ndarray
    dead: np.ndarray
    saturated: np.ndarray
    nonfinite: np.ndarray


def layer_summary(record: LayerRecord, info: LayerInfo) -> dict[str, object]:
    """One layer's numbers in one record, over the whole probe batch.

    Returns:
        ``{"min", "max", "mean", "std", "zero_fraction", "nonfinite"}`` as floats and ints, and
        ``"dead"`` / ``"saturated"`` / ``"nonfinite_channels"``: the channel indices (dead:
        never above 0 for any pattern; saturated: one constant value above 0 everywhere;
        non-finite: a NaN or ±Inf somewhere). A channel with a non-finite value is neither dead
        nor saturated, as :func:`layerviz.model_health` (whose extremes turn NaN) counts it:
        a channel of NaN only has no finite maximum, which must not read as "never above 0".
    """
    # The sums are over finite values only, so they are divided by how many there were.
    count = record.total.size * info.positions - float(record.nonfinite.sum())
    total, squares = float(record.total.sum()), float(record.total_sq.sum())
    mean = total / count if count else math.nan
    variance = squares / count - mean * mean if count else math.nan
    low, high = record.minimum.min(axis=0), record.maximum.max(axis=0)
    broken = record.nonfinite.sum(axis=0) > 0
    return {
        "min": float(low.min()),
        "max": float(high.max()),
        "mean": mean,
        "std": math.sqrt(max(variance, 0.0)) if math.isfinite(variance) else math.nan,
        "zero_fraction": float(record.zeros.sum()) / count if count else math.nan,
        "nonfinite": int(record.nonfinite.sum()),
        "dead": np.flatnonzero((high <= 0) & ~broken),
        "saturated": np.flatnonzero((low == high) & (high > 0) & ~broken),
        "nonfinite_channels": np.flatnonzero(broken),
    }


class Run:
    """A recorded run, opened for reading.

    Args:
        folder: the run's folder (what ``Recorder(path)`` was given).
        salvage: when a record is damaged, read the run up to the last good one (its
            ``damage`` says what was left out) instead of raising.

    Raises:
        RunError: no run in ``folder``; or a damaged record, naming the last good epoch.
    """

    def __init__(self, folder: str | os.PathLike[str], salvage: bool = False):
        self.folder = Path(folder)
        self.header: RunHeader = read_header(self.folder)
        self.damage: str | None = None
        self.stamps: list[Stamp] = self._stamps(salvage)

    def _stamps(self, salvage: bool) -> list[Stamp]:
        stamps: list[Stamp] = []
        folder = self.folder / RECORDS
        names = sorted(p.name for p in folder.glob("*.h5")) if folder.is_dir() else []
        for number, name in enumerate(names):
            path = folder / name
            try:
                if name != record_name(number):
                    raise ValueError(f"record {number} is missing (found {name} in its place)")
                epoch, batch, logs = read_stamp(path)
            except (OSError, KeyError, ValueError) as exc:
                good = stamps[-1].label if stamps else "none (no record reads)"
                self.damage = (
                    f"run {self.folder}: record {name} is damaged ({exc}); the last good epoch "
                    f"is {good}"
                )
                if not salvage:
                    raise RunError(self.damage) from None
                break
            stamps.append(Stamp(number, epoch, batch, logs, path))
        return stamps

    def __len__(self) -> int:
        return len(self.stamps)

    @property
    def epochs(self) -> list[int]:
        """The epoch of every record, in order."""
        return [s.epoch for s in self.stamps]

    @property
    def nbytes(self) -> int:
        """The run's size on disk (header and records)."""
        return sum(p.stat().st_size for p in self.folder.rglob("*.h5"))

    def last_loss(self) -> float | None:
        """The loss in the last record's logs (None before any epoch ended)."""
        for stamp in reversed(self.stamps):
            if "loss" in stamp.logs:
                return stamp.logs["loss"]
        return None

    def record(self, number: int, maps: bool = True) -> Record:
        """Record ``number`` (from 0), read from disk.

        Raises:
            ArgumentError: no such record.
            RunError: its file is damaged.
        """
        stamp = self._stamp(number)
        try:
            return read_record(stamp.path, self.header, maps=maps)
        except (OSError, KeyError, ValueError) as exc:
            raise RunError(
                f"run {self.folder}: record {stamp.path.name} is damaged ({exc})"
            ) from None

    def number_at_epoch(self, epoch: int) -> int:
        """The record taken at the end of epoch ``epoch`` (0: before training).

        Raises:
            ArgumentError: the run has no record at that epoch's end.
        """
        for stamp in self.stamps:
            if stamp.epoch == epoch and stamp.batch is None:
                return stamp.number
        ends = sorted({s.epoch for s in self.stamps if s.batch is None})
        shown = f"{ends[0]}-{ends[-1]}" if ends else "none"
        raise ArgumentError(f"run {self.folder} has no record at epoch {epoch}; epochs: {shown}")

    def curves(self) -> list[LayerCurves]:
        """Every layer's mean, std, zero fraction, dead, saturated and non-finite channels over
        the run."""
        rows = [[] for _ in self.header.layers]
        for stamp in self.stamps:
            record = self.record(stamp.number, maps=False)
            for i, (layer, info) in enumerate(zip(record.layers, self.header.layers, strict=True)):
                rows[i].append(layer_summary(layer, info))
        return [
            LayerCurves(
                info,
                *(np.array([r[k] for r in row], np.float64) for k in ("mean", "std")),
                np.array([r["zero_fraction"] for r in row], np.float64),
                np.array([len(r["dead"]) for r in row], np.int64),
                np.array([len(r["saturated"]) for r in row], np.int64),
                np.array([len(r["nonfinite_channels"]) for r in row], np.int64),
            )
            for info, row in zip(self.header.layers, rows, strict=True)
        ]

    def logs(self) -> dict[str, np.ndarray]:
        """Each logged number (loss, metrics) over the records (NaN where a record lacks it)."""
        keys = sorted({k for s in self.stamps for k in s.logs})
        return {k: np.array([s.logs.get(k, math.nan) for s in self.stamps]) for k in keys}

    def activations(
        self, record: Record, pattern: int = 0, limit_size_layer: tuple[int, int] | None = None
    ) -> list[LayerActivation]:
        """One probe pattern's reduced maps in ``record``, as the grid and the export draw them.

        The arrays are float32 copies of the stored float16 maps (every ``stride``-th position
        of the full output).

        Args:
            limit_size_layer: ``(height, width)``: keep only the layers whose *full* maps are
                larger on both sides (the article's rule, as ``visible_layers`` applies it to
                full outputs); None keeps every layer. Draw the result with a limit of 0.

        Raises:
            ArgumentError: ``pattern`` is not one of the probe's.
        """
        self._check_pattern(pattern)
        return [
            LayerActivation(
                info.index, info.name, info.class_name, layer.maps[pattern].astype(np.float32)
            )
            for info, layer in zip(self.header.layers, record.layers, strict=True)
            if layer is not None
            and layer.maps is not None
            and (limit_size_layer is None or _passes(info.shape, limit_size_layer))
        ]

    def full_shapes(self) -> dict[str, tuple[int, ...]]:
        """Each layer's full output shape (batch axis removed), by name."""
        return {info.name: info.shape for info in self.header.layers}

    def channel_strip(self, layer: int, channel: int, pattern: int = 0) -> np.ndarray:
        """One channel's reduced map in every record, stacked: ``(records, ...reduced...)``.

        Args:
            layer: the layer's position in ``header.layers``.

        Raises:
            ArgumentError: a layer, channel or pattern out of range.
        """
        self._check_pattern(pattern)
        if not 0 <= layer < len(self.header.layers):
            raise ArgumentError(f"layer must be 0-{len(self.header.layers) - 1}, got {layer}")
        channels = self.header.layers[layer].shape[-1]
        if not 0 <= channel < channels:
            raise ArgumentError(f"channel must be 0-{channels - 1}, got {channel}")
        maps = []
        for stamp in self.stamps:
            record = read_record(stamp.path, self.header, layers=[layer])
            maps.append(record.layers[layer].maps[pattern, ..., channel].astype(np.float32))
        return np.stack(maps)

    def _check_pattern(self, pattern: int) -> None:
        n = self.header.n_patterns
        if isinstance(pattern, bool) or not isinstance(pattern, int | np.integer):
            raise ArgumentError(f"pattern must be a whole number 0-{n - 1}, got {pattern!r}")
        if not 0 <= pattern < n:
            raise ArgumentError(f"pattern must be 0-{n - 1} (the probe holds {n}), got {pattern}")

    def _stamp(self, number: int) -> Stamp:
        if not 0 <= number < len(self.stamps):
            raise ArgumentError(
                f"run {self.folder} has records 0-{len(self.stamps) - 1}, not {number}"
            )
        return self.stamps[number]


def _passes(shape: tuple[int, ...], limit: tuple[int, int]) -> bool:
    """The article's size rule on a full output's maps: ``(n,)`` is a ``1 × n`` strip."""
    h, w = (1, shape[0]) if len(shape) == 1 else (shape[0], shape[1])
    return h > limit[0] and w > limit[1]


def list_runs(folder: str | os.PathLike[str]) -> list[Path]:
    """The runs directly inside ``folder`` (or ``folder`` itself when it is one), sorted."""
    from layerviz.record.store import is_run

    folder = Path(folder)
    if is_run(folder):
        return [folder]
    if not folder.is_dir():
        raise RunError(f"{folder} is not a folder")
    return sorted(p for p in folder.iterdir() if p.is_dir() and is_run(p))
