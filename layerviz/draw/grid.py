"""From an extraction to pages of panels: the one grid pipeline.

The dashboard's grid, its page PNG and zip, and ``plot_pattern_process`` all go through
:func:`grid_pages`, with the same :class:`GridSettings`, so they cannot disagree about which
layers are shown or on which page. The bounds live here, once: a crafted request or a
``--grid 1000x1000`` must not ask matplotlib for a 400-megapixel canvas.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from layerviz.draw.selection import VisibleLayer, paginate, panels_of, visible_layers
from layerviz.errors import ArgumentError
from layerviz.extract.activations import LayerActivation

__all__ = [
    "DEFAULT_GRID",
    "DEFAULT_LIMIT",
    "GRID_SIDES",
    "LIMIT_SIDES",
    "GridPages",
    "GridSettings",
    "clamp",
    "grid_pages",
]

#: Rows and columns of panels on a page: at least 1, at most 6 (a 6×6 page is 2400 px a side).
GRID_SIDES = (1, 6)
#: The size limit (the article's ``limit_size_layer``), per side.
LIMIT_SIDES = (0, 4096)
DEFAULT_GRID = (3, 3)
DEFAULT_LIMIT = 15  # the article's limit_size_layer


def clamp(value: Any, bounds: tuple[int, int], default: int) -> int:
    """``value`` as an int within ``bounds``; ``default`` when it is missing or not a number.

    Anything a browser can send is handled: ``None``, strings, lists, ``true``, ±Infinity, NaN.
    """
    if isinstance(value, bool):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return default
    low, high = bounds
    return min(high, max(low, number))


def _pair(value: Any) -> tuple[Any, Any]:
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
        return value[0], value[1]
    return value, value


@dataclass(frozen=True)
class GridSettings:
    """Rows and columns of panels per page and the size limit, clamped to their bounds.

    Values out of range are clamped, values that are not numbers fall back to the defaults:
    what a browser sends can always be turned into settings. Use :meth:`checked` where a
    person typed the values and should hear that they are out of range.

    Attributes:
        rows, cols: panels per page, each in ``GRID_SIDES``.
        limit: ``(height, width)``: a layer is shown when its maps are larger on both sides.
    """

    rows: int = DEFAULT_GRID[0]
    cols: int = DEFAULT_GRID[1]
    limit: tuple[int, int] = field(default=(DEFAULT_LIMIT, DEFAULT_LIMIT))

    def __post_init__(self) -> None:
        limit_h, limit_w = _pair(self.limit)
        set_ = object.__setattr__
        set_(self, "rows", clamp(self.rows, GRID_SIDES, DEFAULT_GRID[0]))
        set_(self, "cols", clamp(self.cols, GRID_SIDES, DEFAULT_GRID[1]))
        set_(
            self,
            "limit",
            (
                clamp(limit_h, LIMIT_SIDES, DEFAULT_LIMIT),
                clamp(limit_w, LIMIT_SIDES, DEFAULT_LIMIT),
            ),
        )

    @classmethod
    def checked(cls, grid_size: Sequence[int], limit_size_layer: Any) -> GridSettings:
        """Settings from values a person gave, refusing those out of range.

        Raises:
            ArgumentError: a grid side outside ``GRID_SIDES`` or a limit outside
                ``LIMIT_SIDES``, or a value that is not a whole number.
        """
        rows, cols = _pair(grid_size)
        limit = _pair(limit_size_layer)
        for what, value, (low, high) in (
            ("grid rows", rows, GRID_SIDES),
            ("grid columns", cols, GRID_SIDES),
            ("size limit", limit[0], LIMIT_SIDES),
            ("size limit", limit[1], LIMIT_SIDES),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ArgumentError(
                    f"{what} must be a whole number from {low} to {high}, got {value!r}"
                )
        return cls(rows, cols, limit)

    @property
    def grid(self) -> tuple[int, int]:
        """``(rows, cols)``."""
        return self.rows, self.cols

    @property
    def limit_text(self) -> str:
        """The limit as people read it: ``15×15``."""
        return f"{self.limit[0]}×{self.limit[1]}"


@dataclass(frozen=True, eq=False)
class GridPages:
    """The visible layers of one extraction, cut into pages of ``rows × cols``.

    Attributes:
        settings: the settings the pages were cut with.
        layers: every visible layer, in model order.
        pages: the layers, page by page (empty when no layer is visible).
        total: how many panels the extraction could give, visible or not (one per layer
            output, one per head for attention scores).
    """

    settings: GridSettings
    layers: list[VisibleLayer]
    pages: list[list[VisibleLayer]]
    total: int

    @property
    def n_pages(self) -> int:
        """How many pages there are (at least 1, even when there is nothing to show)."""
        return max(1, len(self.pages))

    def page_number(self, page: Any) -> int:
        """``page`` as a valid 1-based page number (clamped; 1 when it is not a number)."""
        return clamp(page, (1, self.n_pages), 1)

    def page(self, page: Any) -> list[VisibleLayer]:
        """The layers on page ``page`` (1-based, clamped); empty when nothing is visible."""
        return self.pages[self.page_number(page) - 1] if self.pages else []

    def summary(self, page: Any) -> str:
        """``"3 of 10 layers larger than 15×15 · page 1 of 1"``."""
        return (
            f"{len(self.layers)} of {self.total} layers larger than {self.settings.limit_text}"
            f" · page {self.page_number(page)} of {self.n_pages}"
        )


def grid_pages(activations: Iterable[LayerActivation], settings: GridSettings) -> GridPages:
    """Select the layers larger than the limit and cut them into pages."""
    activations = list(activations)
    layers = visible_layers(activations, settings.limit)
    total = sum(len(panels_of(act)) for act in activations)
    return GridPages(settings, layers, paginate(layers, settings.grid), total)


def rows_needed(n_panels: int, cols: int) -> int:
    """Rows a page of ``n_panels`` fills when drawn ``cols`` wide (a short last page)."""
    return max(1, math.ceil(n_panels / cols))
