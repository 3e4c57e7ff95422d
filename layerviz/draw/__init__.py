"""From activations to pictures: selection, pages, colour ranges, tiles, figures and the PNG export.

Owns: :mod:`.selection` (the article's size limit), :mod:`.grid` (pages of panels),
:mod:`.channel_pages` (one layer's channels, ranked and paged), :mod:`.normalise` (colour ranges),
:mod:`.tiles` (server-coloured montages), the pure figure builders (:mod:`.figures`,
:mod:`.tile_figures`, :mod:`.channel_figures`, :mod:`.compare_figures`,
:mod:`.pattern_figures`), the overlays (:mod:`.overlay`, :mod:`.channel_overlay`) and
:mod:`.export` (the article's PNG files).

May import: everything below it (``errors``, ``config``, ``load``, ``patterns``, ``extract``,
``analysis``). Never ``ui`` or ``cli``: a figure builder takes data and returns a figure.
"""

from layerviz import _quiet  # noqa: F401  (imports Keras quietly, before any module here does)
