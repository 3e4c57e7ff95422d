"""The inspector's selected channel: which one it is, and stepping through the ranking (no Dash).

The page keeps a selection as ``{"model", "layer", "by", "channel"}`` (the store form). It
holds only for that model, layer and ranking: another layer or another sort selects the
top-ranked channel again, while a new pattern keeps the channel (the same unit, seen anew).
Steps go in rank order and stop at either end; the inspector's page follows the selection,
and the selection follows the page: turning to a page that does not show it selects that
page's first channel, so the overlay never draws a channel the inspector no longer shows.
Every value here may come from a browser, so each is checked and a bad one falls back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from layerviz.analysis.statistics import ChannelScores

__all__ = [
    "ChannelChoice",
    "chosen",
    "clicked",
    "first_on_page",
    "page_of",
    "selection_store",
    "stepped",
]


@dataclass(frozen=True)
class ChannelChoice:
    """One selected channel and its place in the ranking.

    Attributes:
        channel: the channel's index in the layer's last axis.
        rank: its place in the ranking, from 0 (the highest score).
        n_channels: how many channels the layer has.
        by: the score the ranking uses.
        score: the channel's score.
    """

    channel: int
    rank: int
    n_channels: int
    by: str
    score: float

    @property
    def label(self) -> str:
        """``"channel 17 (rank 3 of 32, mean 0.41)"``."""
        return (
            f"channel {self.channel} (rank {self.rank + 1} of {self.n_channels}, "
            f"{self.by} {self.score:.3g})"
        )


def _choice(scores: ChannelScores, rank: int) -> ChannelChoice:
    channel = int(scores.order[rank])
    score = float(scores.scores[channel])
    return ChannelChoice(channel, rank, scores.n_channels, scores.by, score)


def _rank_of(scores: ChannelScores, channel: int) -> int:
    return int((scores.order == channel).nonzero()[0][0])


def chosen(scores: ChannelScores, stored: Any, model: str, layer: str) -> ChannelChoice:
    """The selected channel of ``layer``: the stored one when the store is this model's, layer's
    and ranking's and names one of its channels, else the top-ranked one."""
    if isinstance(stored, dict) and (stored.get("model"), stored.get("layer")) == (model, layer):
        channel = stored.get("channel")
        whole = isinstance(channel, int) and not isinstance(channel, bool)
        if stored.get("by") == scores.by and whole and 0 <= channel < scores.n_channels:
            return _choice(scores, _rank_of(scores, channel))
    return _choice(scores, 0)


def stepped(current: ChannelChoice, scores: ChannelScores, step: int) -> ChannelChoice:
    """The channel ``step`` places after ``current`` in rank order (before it when negative),
    held at the first and the last rank."""
    rank = min(max(current.rank + step, 0), scores.n_channels - 1)
    return _choice(scores, rank)


def clicked(scores: ChannelScores, k: int, page: int, curve: Any) -> ChannelChoice | None:
    """The channel drawn by trace ``curve`` of inspector page ``page`` (from 1) of ``k``, as a
    click on ``channel-graph`` reports it; None for a point that is not a channel's.

    ``k`` and ``page`` must be the shown page's, already clamped (as ``views`` clamps them).
    """
    whole = isinstance(curve, int) and not isinstance(curve, bool)
    if not whole or curve < 0 or curve >= k:
        return None
    rank = (page - 1) * k + curve
    return _choice(scores, rank) if rank < scores.n_channels else None


def first_on_page(scores: ChannelScores, k: int, page: int) -> ChannelChoice:
    """The best-ranked channel of inspector page ``page`` (from 1) of ``k`` (both clamped, as
    ``views`` clamps them)."""
    return _choice(scores, min((page - 1) * k, scores.n_channels - 1))


def page_of(rank: int, k: int) -> int:
    """The inspector page (from 1) that shows ``rank`` (from 0) with ``k`` channels a page."""
    return math.floor(rank / k) + 1


def selection_store(model: str, layer: str, choice: ChannelChoice) -> dict:
    """A selection in the form the page keeps."""
    return {"model": model, "layer": layer, "by": choice.by, "channel": choice.channel}
