"""Numbers about a model and its activations: statistics, health, compare, explanations, graphs.

Owns: :mod:`.statistics` (per-layer and per-channel numbers), :mod:`.health` (dead and saturated
channels over many patterns), :mod:`.compare` and :mod:`.perturb` (pattern B against A, the
occlusion sweep), :mod:`.explain` (Grad-CAM, saliency, SmoothGrad) and :mod:`.architecture` (the
model's graph as data).

May import: ``layerviz.errors``, ``layerviz.config``, ``load``, ``patterns``, ``extract``, and
other ``analysis`` modules. Never ``draw``, ``ui`` or ``cli``: analyses return plain data.
"""

from layerviz import _quiet  # noqa: F401  (imports Keras quietly, before any module here does)
