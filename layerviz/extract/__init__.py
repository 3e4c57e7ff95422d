"""The one-pass extractor: every layer's output for a pattern (or a batch) in one compiled call.

Owns: :mod:`.taps` (which outputs a model has, nested models unfolded, through the public Keras
API) and :mod:`.activations` (``ActivationExtractor`` and the plain data it returns).

May import: ``layerviz.errors``, ``layerviz.config``, ``layerviz.load``, ``layerviz.patterns`` and
Keras. Never ``analysis``, ``draw``, ``ui`` or ``cli``: what the extractor returns is plain data
that
everything downstream reads.
"""

from layerviz import _quiet  # noqa: F401  (imports Keras quietly, before any module here does)
