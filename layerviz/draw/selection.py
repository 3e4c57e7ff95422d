"""Which layer outputs are worth drawing, as what 2-D image, on which page.

The article kept only outputs of shape ``(batch, h, w)`` with both ``h`` and ``w`` larger than
``limit_size_layer``. Here every output is first seen as a stack of 2-D maps:

===================  ==========================================  ===========
output (no batch)    maps                                         drawn as
===================  ==========================================  ===========
``(h, w)``           one ``h × w`` map (the article's case)       the map
``(h, w, c)``        ``c`` maps of ``h × w``, one per channel     a montage
``(n,)``             one ``1 × n`` strip                          the strip
attention scores     ``heads`` maps of ``query × key``            one panel
``(heads, T, S)``    (``act.role == "attention"``)                per head
===================  ==========================================  ===========

and a layer is visible when both sides of its maps are larger than the limit (``>``, as in the
article); for attention scores the sides are the query and key lengths. A montage tiles the
channels in a near-square grid with one blank (NaN) pixel between tiles, so it reads as
separate maps in matplotlib and Plotly alike.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

import numpy as np

from layerviz.errors import ArgumentError
from layerviz.extract.activations import LayerActivation

__all__ = [
    "VisibleLayer",
    "maps_of",
    "montage",
    "montage_grid",
    "paginate",
    "panels_of",
    "visible_layers",
]

T = TypeVar("T")


def maps_of(array: np.ndarray) -> np.ndarray:
    """View a layer output (batch axis removed) as a stack of 2-D maps ``(n, h, w)``.

    Raises:
        ArgumentError: the output is not of rank 1, 2 or 3.
    """
    if array.ndim == 1:
        return array.reshape(1, 1, -1)
    if array.ndim == 2:
        return array[np.newaxis]
    if array.ndim == 3:
        return np.moveaxis(array, -1, 0)
    raise ArgumentError(f"a layer output of shape {array.shape} cannot be seen as 2-D maps")


def montage_grid(n: int) -> tuple[int, int]:
    """Rows and columns of the near-square grid that tiles ``n`` maps (wider than tall)."""
    cols = math.ceil(math.sqrt(n))
    return math.ceil(n / cols), cols


def montage(maps: np.ndarray, gap: int = 1) -> np.ndarray:
    """Tile maps ``(n, h, w)`` into one float32 image, ``gap`` NaN pixels between tiles.

    A single map comes back as it is (as float32).
    """
    n, h, w = maps.shape
    if n == 1:
        return maps[0].astype(np.float32, copy=False)
    rows, cols = montage_grid(n)
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), np.nan, dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, cols)
        out[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = maps[i]
    return out


@dataclass(eq=False)
class VisibleLayer:
    """A layer output that passed the size limit, with the 2-D image that draws it.

    Attributes:
        activation: the layer output.
        head: for attention scores, which head's ``(query, key)`` map this panel draws
            (0-based, as in ``activation.array[head]``); None for every other output.
    """

    activation: LayerActivation
    head: int | None = None

    @property
    def index(self) -> int:
        return self.activation.index

    @property
    def name(self) -> str:
        return self.activation.name

    @property
    def is_attention(self) -> bool:
        """True for one head's attention map (rows: queries, columns: keys)."""
        return self.head is not None

    @property
    def title(self) -> str:
        """The panel title, as in the article: ``"{index}: {name}"`` (``" head {h}"`` added
        for an attention map)."""
        head = f" head {self.head}" if self.is_attention else ""
        return f"{self.index}: {self.name}{head}"

    @property
    def n_maps(self) -> int:
        """How many 2-D maps the panel holds (the output's channels, or 1)."""
        if self.is_attention or self.activation.array.ndim < 3:
            return 1
        return self.activation.array.shape[-1]

    @property
    def map_shape(self) -> tuple[int, int]:
        """Height and width of one map (query and key lengths for attention)."""
        shape = self.activation.shape  # the full output's (a reduced entry keeps fewer lines)
        if self.is_attention:
            return shape[1], shape[2]
        return (1, shape[0]) if len(shape) == 1 else (shape[0], shape[1])

    @property
    def stride(self) -> int:
        """Every how many lines the entry's array keeps (1: the full output; more for an entry
        of a reduced pass, ``ReducedActivation``, whose ``image`` is then already sampled)."""
        return int(getattr(self.activation, "stride", 1))

    @property
    def is_reduced(self) -> bool:
        """True when the panel draws a reduced entry (its values are the kept lines only)."""
        return hasattr(self.activation, "full_shape")

    @property
    def tiles(self) -> tuple[int, int]:
        """Rows and columns of maps in ``image`` (``(1, 1)`` for a single map)."""
        return montage_grid(self.n_maps) if self.n_maps > 1 else (1, 1)

    @cached_property
    def image(self) -> np.ndarray:
        """The float32 2-D image to draw: the map, the montage of all channels, or one head."""
        if self.is_attention:
            return self.activation.array[self.head].astype(np.float32, copy=False)
        return montage(maps_of(self.activation.array))


def panels_of(act: LayerActivation) -> list[VisibleLayer]:
    """The panels one output is drawn as: one per head for attention scores, else one.

    Outputs that cannot be seen as 2-D maps give no panel.
    """
    if act.role == "attention" and act.array.ndim == 3:
        return [VisibleLayer(act, head) for head in range(act.array.shape[0])]
    if act.array.ndim not in (1, 2, 3):
        return []
    return [VisibleLayer(act)]


def visible_layers(
    activations: Iterable[LayerActivation], limit_size_layer: Sequence[int] = (15, 15)
) -> list[VisibleLayer]:
    """Keep the activations whose maps are larger than ``limit_size_layer`` on both sides.

    Args:
        activations: from ``ActivationExtractor.extract``, in model order.
        limit_size_layer: ``(height, width)``; a map is kept when ``h > height and w > width``
            (for attention scores: query length > height and key length > width).

    Returns:
        The visible panels, in model order: one per layer output, or one per head for
        attention scores. Their images are built only when first drawn.
    """
    limit_h, limit_w = (int(v) for v in limit_size_layer)
    kept = []
    for act in activations:
        for panel in panels_of(act):
            h, w = panel.map_shape
            if h > limit_h and w > limit_w:
                kept.append(panel)
    return kept


def paginate(items: Sequence[T], grid_size: Sequence[int]) -> list[list[T]]:
    """Split ``items`` into pages of ``rows × cols`` (the last page may be shorter).

    Raises:
        ArgumentError: a grid side is smaller than 1.
    """
    rows, cols = (int(v) for v in grid_size)
    if rows < 1 or cols < 1:
        raise ArgumentError(f"grid size must be at least 1x1, got {rows}x{cols}")
    per_page = rows * cols
    return [list(items[i : i + per_page]) for i in range(0, len(items), per_page)]
