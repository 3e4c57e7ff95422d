"""One layer's channels, ranked and paged, each a 2-D map with its colour range: the inspector.

The channel axis is the last one, as in :mod:`layerviz.analysis.statistics`. A channel of a
``(h, w, c)`` output is an ``h × w`` map; of a ``(t, c)`` output a ``1 × t`` strip; of a
``(n,)`` output a single value (a ``1 × 1`` map).

Colour ranges follow a normalisation mode (:data:`NORM_MODES`): each map its own range, one
range for the whole layer, or one range for every map on the page. Plain numpy, no Dash.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from layerviz.analysis.statistics import ChannelScores, channel_scores
from layerviz.errors import ArgumentError
from layerviz.extract.activations import LayerActivation

__all__ = [
    "DEFAULT_K",
    "NORM_MODES",
    "ChannelPage",
    "ChannelPanel",
    "channel_maps",
    "channel_page",
    "check_norm",
    "finite_range",
]

#: How many channels the inspector shows at first.
DEFAULT_K = 16
#: Normalisation modes: each map its own colour range, one range per layer, one per page.
NORM_MODES = {"map": "per map", "layer": "per layer", "page": "per page"}


@dataclass(frozen=True, eq=False)
class ChannelPanel:
    """One channel on an inspector page.

    Attributes:
        channel: the channel's index in the layer's last axis.
        rank: its place in the ranking, from 0 (the highest score).
        score: its score (see :class:`~layerviz.analysis.statistics.ChannelScores`).
        image: the channel as a 2-D map (a view of the layer output; do not write into it).
        zrange: the colour range to draw it with, ``(low, high)``; None when it holds no
            finite value.
    """

    channel: int
    rank: int
    score: float
    image: np.ndarray
    zrange: tuple[float, float] | None

    @property
    def title(self) -> str:
        """``"ch 12 · 0.4321"``: the channel and its score."""
        return f"ch {self.channel} · {_short(self.score)}"


@dataclass(frozen=True, eq=False)
class ChannelPage:
    """One page of a layer's channels, best first.

    Attributes:
        activation: the layer output the page shows.
        scores: every channel's score and the ranking.
        k: channels per page.
        page: this page's number, from 0.
        norm: the normalisation mode, a key of :data:`NORM_MODES`.
        panels: the channels on this page, in ranking order.
    """

    activation: LayerActivation
    scores: ChannelScores
    k: int
    page: int
    norm: str
    panels: list[ChannelPanel]

    @property
    def n_channels(self) -> int:
        """How many channels the layer has."""
        return self.scores.n_channels

    @property
    def n_pages(self) -> int:
        """How many pages of ``k`` channels the layer fills."""
        return self.scores.n_pages(self.k)

    @property
    def summary(self) -> str:
        """``"showing 16 of 960 (ranks 1-16, page 1 of 60)"``."""
        first = self.page * self.k + 1
        last = first + len(self.panels) - 1
        return (
            f"showing {len(self.panels)} of {self.n_channels} (ranks {first}-{last}, "
            f"page {self.page + 1} of {self.n_pages})"
        )


def channel_maps(array: np.ndarray) -> np.ndarray:
    """A layer output (no batch axis) as a stack of per-channel 2-D maps ``(c, h, w)``.

    A view, not a copy: ``(h, w, c)`` → ``c`` maps of ``h × w``; ``(t, c)`` → ``c`` strips of
    ``1 × t``; ``(n,)`` → ``n`` maps of ``1 × 1``.

    Raises:
        ArgumentError: the output is not of rank 1, 2 or 3.
    """
    if array.ndim == 3:
        return np.moveaxis(array, -1, 0)
    if array.ndim == 2:
        return array.T[:, np.newaxis, :]
    if array.ndim == 1:
        return array.reshape(-1, 1, 1)
    raise ArgumentError(f"a layer output of shape {array.shape} has no 2-D channel maps")


def channel_page(
    activation: LayerActivation,
    by: str = "mean",
    k: int = DEFAULT_K,
    page: int = 0,
    norm: str = "map",
    scores: ChannelScores | None = None,
) -> ChannelPage:
    """Rank a layer's channels by ``by`` and lay out page ``page`` of ``k`` of them.

    Args:
        activation: one layer's output.
        by: the channel score, a key of :data:`layerviz.analysis.statistics.CHANNEL_SCORES`.
        k: channels per page, from 1 to the number of channels.
        page: which page, from 0.
        norm: the normalisation mode, a key of :data:`NORM_MODES`.
        scores: the layer's scores by ``by`` when already computed (a cache's), else None.

    Returns:
        The page, with one :class:`ChannelPanel` per channel shown.

    Raises:
        ArgumentError: an unknown score or mode, ``k`` or ``page`` out of range, or an output
            that has no 2-D channel maps.
    """
    norm = check_norm(norm)
    maps = channel_maps(activation.array)
    if scores is None or scores.by != by:
        scores = channel_scores(activation, by)
    chosen = scores.top(k, page)
    images = [maps[c] for c in chosen]
    ranges = _ranges(images, norm, activation.array)
    panels = [
        ChannelPanel(int(c), page * k + i, float(scores.scores[c]), image, zrange)
        for i, (c, image, zrange) in enumerate(zip(chosen, images, ranges, strict=True))
    ]
    return ChannelPage(activation, scores, int(k), int(page), norm, panels)


def check_norm(norm: str) -> str:
    """``norm`` if it is a normalisation mode.

    Raises:
        ArgumentError: naming the modes there are.
    """
    if not isinstance(norm, str) or norm not in NORM_MODES:
        raise ArgumentError(
            f"unknown normalisation {norm!r}; choose from {', '.join(map(repr, NORM_MODES))}"
        )
    return norm


def finite_range(arrays: Sequence[np.ndarray]) -> tuple[float, float] | None:
    """The smallest and largest finite values over ``arrays``; None when there are none."""
    lows, highs = [], []
    for array in arrays:
        low, high = np.min(array), np.max(array)
        if not (np.isfinite(low) and np.isfinite(high)):  # rare: only then mask
            finite = array[np.isfinite(array)]
            if not finite.size:
                continue
            low, high = finite.min(), finite.max()
        lows.append(float(low))
        highs.append(float(high))
    return (min(lows), max(highs)) if lows else None


def _ranges(
    images: list[np.ndarray], norm: str, layer: np.ndarray
) -> list[tuple[float, float] | None]:
    """Each image's colour range under ``norm``."""
    if norm == "map":
        return [finite_range([image]) for image in images]
    shared = finite_range([layer] if norm == "layer" else images)
    return [shared] * len(images)


def _short(value: float) -> str:
    return "nan" if math.isnan(value) else f"{value:.4g}"
