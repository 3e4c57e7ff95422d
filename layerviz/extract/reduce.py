"""Layer outputs reduced to what the views draw and count, inside the compiled pass.

A dashboard page draws a few panels a few hundred pixels wide, and its tables read one number
per channel; a big model's full outputs are gigabytes (EfficientNetB7 at 600²: 3.9 GiB for one
pattern). So the extractor can reduce each output where it is computed, and hand the host only:

- its **maps at display resolution**: every ``stride``-th line along each map axis, from
  ``stride // 2``, exactly the pixels the grid's tiles keep (:func:`display_stride` is the rule
  ``layerviz.draw.tiles.tile_step`` applies, :func:`kept_lines` the lines it keeps);
- **per-channel statistics** for each pattern (the channel is the last axis, as in
  ``layerviz.analysis.statistics``): finite minimum and maximum, sum and sum of squares of the
  finite values, and counts of zeros, NaN, +Inf and every non-finite value.

:func:`reduce_activation` is the reference, in numpy on a full array; the compiled pass
(``ActivationExtractor.extract_reduced``) computes the same with ``keras.ops`` (any backend), in
the :class:`Reduction` layer below.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np

from layerviz.errors import ArgumentError

__all__ = [
    "DISPLAY_SIDE",
    "ReducedExtraction",
    "ReducedLayer",
    "Reduction",
    "display_stride",
    "kept_lines",
    "map_axes",
    "reduce_activation",
]

#: The grid's largest panel side in image pixels (the dashboard's ``MAX_TILE_PIXELS``): a panel
#: gets at most ~240 CSS pixels a side, so 320 still gives every screen pixel its own.
DISPLAY_SIDE = 320


def montage_tiles(n_maps: int) -> tuple[int, int]:
    """Rows and columns of the near-square montage of ``n_maps`` maps, as the grid tiles them
    (``layerviz.draw.selection.montage_grid``; ``(1, 1)`` for a single map)."""
    if n_maps <= 1:
        return 1, 1
    cols = math.ceil(math.sqrt(n_maps))
    return math.ceil(n_maps / cols), cols


def kept_lines(length: int, stride: int) -> np.ndarray:
    """The lines a map of ``length`` keeps at ``stride``: every ``stride``-th from
    ``stride // 2`` (the middle one of a map shorter than ``stride``, such as a 1-pixel strip)."""
    return np.arange(min(stride // 2, (length - 1) // 2), length, stride)


def display_stride(map_shape: tuple[int, int], n_maps: int, max_side: int | None) -> int:
    """The smallest stride that fits a panel of ``n_maps`` maps of ``map_shape`` (tiled with one
    gap line between maps) in ``max_side`` pixels a side: 1 when it fits or ``max_side`` is None.

    Raises:
        ArgumentError: ``max_side`` below 1.
    """
    if max_side is None:
        return 1
    if max_side < 1:
        raise ArgumentError(f"max_side must be at least 1, got {max_side}")
    (h, w), (tiles_r, tiles_c) = map_shape, montage_tiles(n_maps)
    step = 1
    while step < max(h, w):
        side_h = tiles_r * (len(kept_lines(h, step)) + 1) - 1
        side_w = tiles_c * (len(kept_lines(w, step)) + 1) - 1
        if max(side_h, side_w) <= max_side:
            break
        step += 1
    return step


def map_axes(shape: tuple[int, ...], role: str = "output") -> tuple[tuple[int, ...], int]:
    """Which axes of an output (no batch axis) its drawn maps span, and how many maps a panel
    holds: ``(n,)`` one ``1 × n`` strip; ``(h, w)`` one map; ``(h, w, c)`` ``c`` maps of ``h × w``;
    attention scores ``(heads, query, key)`` one ``query × key`` map per head (one panel each).

    Raises:
        ArgumentError: a rank other than 1, 2 or 3.
    """
    rank = len(shape)
    if rank == 3 and role == "attention":
        return (1, 2), 1
    if rank == 3:
        return (0, 1), int(shape[-1])
    if rank in (1, 2):
        return tuple(range(rank)), 1
    raise ArgumentError(f"a layer output of shape {tuple(shape)} cannot be seen as 2-D maps")


def _map_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, int]:
    sides = [int(shape[a]) for a in axes]
    return (1, sides[0]) if len(sides) == 1 else (sides[0], sides[1])


@dataclass(frozen=True, eq=False)
class ReducedLayer:
    """One layer output for a batch, reduced to its display maps and per-channel statistics.

    Compared by identity (it holds arrays). Statistics are per pattern and channel, shaped
    ``(batch, channels)``; NaN and ±Inf never enter ``minimum``, ``maximum``, ``total`` or
    ``total_sq`` (they are counted apart), so ``layer_statistics``'s NaN-propagating numbers
    can be rebuilt from the counts (``layerviz.analysis.statistics.reduced_statistics``).

    Attributes:
        index, name: as in ``LayerActivation``.
        layer_class: the layer's class, e.g. ``"Conv2D"``.
        shape: one pattern's full output shape (no batch axis).
        stride: every ``stride``-th line is kept along each map axis (:func:`kept_lines`).
        maps: ``(batch, ...)`` float32: the output with only the kept lines of its map axes
            (channels and attention heads all kept).
        minimum, maximum: float32, the finite extremes (``+inf``/``-inf`` when a channel has
            no finite value).
        total, total_sq: float32, sum and sum of squares of the finite values.
        zeros: int, values exactly 0 (``-0.0`` too).
        nonfinite: int, values that are NaN or ±Inf.
        positions: values per channel for one pattern (the product of the other axes).
        nans, posinf: int, the NaN and the +Inf among ``nonfinite`` (``neginf`` the rest).
        map_minimum, map_maximum: ``(batch, n_maps)`` finite extremes of each drawn map (per
            channel of an ``(h, w, c)`` output, per head of attention scores, else the whole
            output); NaN where a map has no finite value.
        layer_name, output_index, role: as in ``LayerActivation``.
    """

    index: int
    name: str
    layer_class: str
    shape: tuple
    stride: int
    maps: np.ndarray
    minimum: np.ndarray
    maximum: np.ndarray
    total: np.ndarray
    total_sq: np.ndarray
    zeros: np.ndarray
    nonfinite: np.ndarray
    positions: int
    nans: np.ndarray | None = None
    posinf: np.ndarray | None = None
    map_minimum: np.ndarray | None = None
    map_maximum: np.ndarray | None = None
    layer_name: str = ""
    output_index: int = 0
    role: str = "output"

    @property
    def mean(self) -> np.ndarray:
        """Each channel's mean over its finite values, ``(batch, channels)`` float64: the
        spatially pooled features (NaN for a channel with no finite value)."""
        finite = self.positions - self.nonfinite
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.total.astype(np.float64) / finite

    @property
    def neginf(self) -> np.ndarray:
        """Values that are -Inf, per pattern and channel."""
        return self.nonfinite - self.nans - self.posinf

    @property
    def batch(self) -> int:
        """How many patterns the batch held."""
        return int(self.maps.shape[0])

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays."""
        arrays = (self.maps, self.minimum, self.maximum, self.total, self.total_sq, self.zeros)
        extra = (self.nonfinite, self.nans, self.posinf, self.map_minimum, self.map_maximum)
        return sum(a.nbytes for a in (*arrays, *extra) if a is not None)


@dataclass(frozen=True, eq=False)
class ReducedExtraction:
    """What one reduced pass over a batch gives: every drawable layer reduced, and the
    model's own outputs (batch axis kept)."""

    layers: list[ReducedLayer]
    outputs: list[np.ndarray]
    max_side: int | None = DISPLAY_SIDE

    @property
    def size(self) -> int:
        """How many patterns the batch held."""
        return int(self.outputs[0].shape[0]) if self.outputs else 0

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays, for caches that budget bytes."""
        return sum(r.nbytes for r in self.layers) + sum(o.nbytes for o in self.outputs)

    def item(self, i: int = 0) -> list:
        """Pattern ``i``'s layers as ``ReducedActivation`` entries (views), in model order:
        what the grid draws from."""
        from layerviz.extract.activations import ReducedActivation  # it imports this module

        return [
            ReducedActivation(
                r.index,
                r.name,
                r.layer_class,
                r.maps[i],
                r.layer_name or r.name,
                r.output_index,
                r.role,
                full_shape=tuple(r.shape),
                stride=r.stride,
                map_minimum=r.map_minimum[i],
                map_maximum=r.map_maximum[i],
            )
            for r in self.layers
        ]


def reduce_activation(
    array: np.ndarray,
    *,
    max_side: int | None = DISPLAY_SIDE,
    role: str = "output",
    index: int = 0,
    name: str = "",
    layer_class: str = "",
) -> ReducedLayer:
    """The reference reduction, in numpy: one layer's output for a batch, ``(batch, ...)``.

    Args:
        array: the full output with its batch axis first (rank 2, 3 or 4).
        max_side: the panel side the maps are kept for (None: every pixel).
        role: ``"attention"`` for attention scores ``(batch, heads, query, key)``.
        index, name, layer_class: carried into the result.

    Raises:
        ArgumentError: an output that cannot be seen as 2-D maps.
    """
    array = np.asarray(array)
    shape = tuple(array.shape[1:])
    axes, n_maps = map_axes(shape, role)
    stride = display_stride(_map_shape(shape, axes), n_maps, max_side)
    maps = array.astype(np.float32, copy=False)
    for axis in axes:
        maps = np.take(maps, kept_lines(shape[axis], stride), axis=axis + 1)
    n, channels = array.shape[0], shape[-1]
    rows = array.reshape(n, -1, channels).astype(np.float32, copy=False)
    finite = np.isfinite(rows)
    with np.errstate(invalid="ignore", over="ignore"):
        clean = np.where(finite, rows, np.float32(0)).astype(np.float64)
        stats = dict(
            minimum=np.min(rows, axis=1, where=finite, initial=np.inf).astype(np.float32),
            maximum=np.max(rows, axis=1, where=finite, initial=-np.inf).astype(np.float32),
            total=clean.sum(axis=1).astype(np.float32),
            total_sq=(clean * clean).sum(axis=1).astype(np.float32),
        )
    counts = dict(
        zeros=np.count_nonzero(rows == 0, axis=1),
        nonfinite=np.count_nonzero(~finite, axis=1),
        nans=np.count_nonzero(np.isnan(rows), axis=1),
        posinf=np.count_nonzero(rows == np.inf, axis=1),
    )
    if role == "attention" and len(shape) == 3:
        heads = array.reshape(n, shape[0], -1).astype(np.float32, copy=False)
        ok = np.isfinite(heads)
        low = np.min(heads, axis=2, where=ok, initial=np.inf)
        high = np.max(heads, axis=2, where=ok, initial=-np.inf)
    else:
        low, high = stats["minimum"], stats["maximum"]
    map_low, map_high = _map_extremes(low, high, shape, role)
    return ReducedLayer(
        index=index,
        name=name,
        layer_class=layer_class,
        shape=shape,
        stride=stride,
        maps=maps,
        positions=int(rows.shape[1]),
        map_minimum=map_low,
        map_maximum=map_high,
        layer_name=name,
        role=role,
        **stats,
        **{k: v.astype(np.int64) for k, v in counts.items()},
    )


def _map_extremes(low: np.ndarray, high: np.ndarray, shape: tuple, role: str):
    """Per-map finite extremes from per-channel (or, for attention, per-head) ones: a panel of
    one map takes the extremes over all channels; NaN where nothing is finite."""
    low, high = np.asarray(low, np.float32), np.asarray(high, np.float32)
    if len(shape) < 3 and role != "attention":
        low, high = low.min(axis=1, keepdims=True), high.max(axis=1, keepdims=True)
    none = low > high  # +inf / -inf: no finite value
    return np.where(none, np.nan, low), np.where(none, np.nan, high)


class Reduction(keras.layers.Layer):
    """:func:`reduce_activation` as a layer, with ``keras.ops`` only (any backend).

    Called on one layer output (batch axis first), it returns ``[maps, minimum, maximum, total,
    total_sq, zeros, nonfinite, nans, posinf]`` (and, for attention scores, the per-head finite
    extremes). Counts are int32. The plain reductions run first; only when a channel's sum is
    not finite (a NaN or an Inf is there, or the sum overflowed) does the masked, counting
    branch run (``keras.ops.cond``), so a finite output is read five times, not twelve.

    Args:
        shape: one pattern's output shape (static).
        role: the output's role (``"attention"`` for attention scores).
        max_side: the panel side the maps are kept for.
    """

    def __init__(self, shape, role: str = "output", max_side: int | None = DISPLAY_SIDE, **kw):
        super().__init__(trainable=False, **kw)
        self.out_shape = tuple(int(s) for s in shape)
        self.role = role
        self.max_side = max_side
        self.axes, n_maps = map_axes(self.out_shape, role)
        self.stride = display_stride(_map_shape(self.out_shape, self.axes), n_maps, max_side)
        self.channels = self.out_shape[-1]
        self.positions = math.prod(self.out_shape[:-1])
        self.attention = role == "attention" and len(self.out_shape) == 3

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "shape": self.out_shape,
            "role": self.role,
            "max_side": self.max_side,
        }

    def call(self, x):
        ops = keras.ops
        x = ops.cast(x, "float32")
        maps = x
        if self.stride > 1:
            for axis in self.axes:
                lines = kept_lines(self.out_shape[axis], self.stride).astype("int32")
                maps = ops.take(maps, ops.convert_to_tensor(lines), axis=axis + 1)
        rows = ops.reshape(x, (-1, self.positions, self.channels))
        total = ops.sum(rows, axis=1)
        stats = ops.cond(
            ops.all(ops.isfinite(total)),
            lambda: self._plain(rows, total),
            lambda: self._masked(rows),
        )
        extra = []
        if self.attention:
            heads = ops.reshape(x, (-1, self.out_shape[0], math.prod(self.out_shape[1:])))
            ok = ops.isfinite(heads)
            extra = [
                ops.min(ops.where(ok, heads, np.inf), axis=2),
                ops.max(ops.where(ok, heads, -np.inf), axis=2),
            ]
        return [maps, *stats, *extra]

    def _plain(self, rows, total):
        ops = keras.ops
        zeros = ops.sum(ops.cast(ops.equal(rows, 0.0), "int32"), axis=1)
        none = ops.zeros_like(zeros)
        return [
            ops.min(rows, axis=1),
            ops.max(rows, axis=1),
            total,
            ops.sum(ops.square(rows), axis=1),
            zeros,
            none,
            none,
            none,
        ]

    def _masked(self, rows):
        ops = keras.ops
        finite = ops.isfinite(rows)
        clean = ops.where(finite, rows, 0.0)

        def count(mask):
            return ops.sum(ops.cast(mask, "int32"), axis=1)

        return [
            ops.min(ops.where(finite, rows, np.inf), axis=1),
            ops.max(ops.where(finite, rows, -np.inf), axis=1),
            ops.sum(clean, axis=1),
            ops.sum(ops.square(clean), axis=1),
            count(ops.equal(rows, 0.0)),
            count(ops.logical_not(finite)),
            count(ops.isnan(rows)),
            count(ops.equal(rows, np.inf)),
        ]

    def compute_output_spec(self, x):
        batch = x.shape[0]
        maps = list(self.out_shape)
        for axis in self.axes:
            maps[axis] = len(kept_lines(self.out_shape[axis], self.stride))
        per_channel = (batch, self.channels)

        def spec(shape, dtype):
            return keras.KerasTensor(shape, dtype=dtype)

        specs = [spec((batch, *maps), "float32")]
        specs += [spec(per_channel, "float32") for _ in range(4)]
        specs += [spec(per_channel, "int32") for _ in range(4)]
        if self.attention:
            specs += [spec((batch, self.out_shape[0]), "float32") for _ in range(2)]
        return specs


def assemble(
    reduction: Reduction,
    arrays: list[np.ndarray],
    *,
    index: int,
    name: str,
    layer_class: str,
    layer_name: str = "",
    output_index: int = 0,
) -> ReducedLayer:
    """A :class:`ReducedLayer` from what one :class:`Reduction` returned (as numpy arrays)."""
    maps, low, high, total, total_sq, zeros, nonfinite, nans, posinf = arrays[:9]
    shape = reduction.out_shape
    if reduction.attention:
        head_low, head_high = arrays[9], arrays[10]
    else:
        head_low, head_high = low, high
    map_low, map_high = _map_extremes(head_low, head_high, shape, reduction.role)
    counts = (np.asarray(c, dtype=np.int64) for c in (zeros, nonfinite, nans, posinf))
    zeros, nonfinite, nans, posinf = counts
    return ReducedLayer(
        index=index,
        name=name,
        layer_class=layer_class,
        shape=shape,
        stride=reduction.stride,
        maps=np.asarray(maps),
        minimum=np.asarray(low),
        maximum=np.asarray(high),
        total=np.asarray(total),
        total_sq=np.asarray(total_sq),
        zeros=zeros,
        nonfinite=nonfinite,
        positions=reduction.positions,
        nans=nans,
        posinf=posinf,
        map_minimum=map_low,
        map_maximum=map_high,
        layer_name=layer_name or name,
        output_index=output_index,
        role=reduction.role,
    )
