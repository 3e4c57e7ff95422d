"""What goes into a model: its input shapes and dtypes, seeded patterns, and safe file readers.

Owns: :mod:`.inputs` (input shapes, ``fit_array``/``fit_batch``, ``random_pattern``, seeds) and
:mod:`.readers` (``.npy``/``.npz``/``.csv``/images read with size and pixel limits, never pickles).

May import: ``layerviz.errors``, ``layerviz.config``, ``layerviz.load`` and Keras. Never
``extract``, ``analysis``, ``draw``, ``ui`` or ``cli``.
"""

from layerviz import _quiet  # noqa: F401  (imports Keras quietly, before any module here does)
