"""How the network's view changes when the input changes: pattern A against pattern B, per layer.

Both patterns go through the extractor's one compiled forward pass as a single batch of two,
so every layer's output for A and for B comes from the same call. For each drawable layer the
result holds the difference ``B − A`` and two divergences:

- **cosine distance** ``1 − a·b / (‖a‖ ‖b‖)``, in ``[0, 2]``: how much the output's *direction*
  changed, blind to its scale. When both outputs are all zeros it is 0; when exactly one is, 1
  (no direction in common).
- **relative L2** ``‖B − A‖ / ‖A‖``: how large the change is next to A's own output. When
  ``‖A‖ = 0`` it is 0 if B is all zeros too, and ``inf`` otherwise (a layer silent for A that
  B wakes up has changed without bound); plots and tables show that as "inf".

Identical outputs give exactly 0 for both (no rounding noise from the norms), and a pattern
compared with itself gives identical outputs by construction. Norms are taken
in float64. Channels are the output's last axis, Keras' channels-last convention: the filters
of a convolution, the units of a dense layer; each is scored by the L2 norm of its part of
``B − A``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from layerviz.errors import PatternError
from layerviz.extract.activations import ActivationExtractor, Extraction, LayerActivation
from layerviz.patterns.inputs import fit_array

__all__ = ["Comparison", "LayerDifference", "compare", "compare_patterns", "divergences"]


@dataclass(frozen=True, eq=False)
class LayerDifference:
    """One layer's outputs for A and for B, their difference and how far apart they are.

    Attributes:
        index, name, class_name: the layer, as in ``LayerActivation``.
        a, b: the layer's output for A and for B, batch axis removed (read-only views).
        diff: ``b − a`` as float32.
        cosine: cosine distance in ``[0, 2]`` (see the module's docstring for the zero cases).
        relative_l2: ``‖b − a‖ / ‖a‖``; 0 or ``inf`` when ``‖a‖ = 0``.
        channel_change: per channel (the last axis; the heads, for attention scores), the L2
            norm of its part of ``diff``.
        layer_name, output_index, role: which output of the layer this is, as in
            ``LayerActivation`` (a layer with several outputs gives one difference per output).
    """

    index: int
    name: str
    class_name: str
    a: np.ndarray
    b: np.ndarray
    diff: np.ndarray
    cosine: float
    relative_l2: float
    channel_change: np.ndarray
    layer_name: str = ""
    output_index: int = 0
    role: str = "output"

    @property
    def shape(self) -> tuple[int, ...]:
        """The output's shape without the batch axis."""
        return tuple(self.diff.shape)

    @property
    def ranked_channels(self) -> np.ndarray:
        """Channel indices, the most changed first (ties keep channel order)."""
        return np.argsort(-self.channel_change, kind="stable")

    def activation(self, which: str) -> LayerActivation:
        """``"a"``, ``"b"`` or ``"diff"`` as a ``LayerActivation`` of this layer, for the grid
        and PNG builders (attention scores stay attention scores: one panel per head)."""
        array = {"a": self.a, "b": self.b, "diff": self.diff}[which]
        return LayerActivation(
            self.index, self.name, self.class_name, array,
            self.layer_name or self.name, self.output_index, self.role,
        )  # fmt: skip

    @property
    def max_abs(self) -> float:
        """The largest ``|b − a|``: the half-width of a colour range symmetric around 0."""
        return float(np.abs(self.diff).max()) if self.diff.size else 0.0


@dataclass(frozen=True, eq=False)
class Comparison:
    """Everything one A/B pass gives: per-layer differences and both extractions.

    Attributes:
        layers: one ``LayerDifference`` per drawable layer, in model order.
        a, b: the two patterns' extractions (activations and the model's outputs).
    """

    layers: list[LayerDifference]
    a: Extraction
    b: Extraction


def compare_patterns(model_or_extractor, a, b) -> Comparison:
    """Run A and B through the model as one batch of two and compare every layer's output.

    Args:
        model_or_extractor: a Keras model, or an ``ActivationExtractor`` to reuse.
        a, b: patterns of the model's input shape (with or without the batch axis of 1); for a
            multi-input model, a list with one array per input.

    Returns:
        A ``Comparison``: the layers' differences and the extractions of A and of B.

    Raises:
        PatternError: A or B does not fit the model (the message says which).
        ModelStructureError: a model that cannot be cut into layers.
    """
    extractor = _extractor(model_or_extractor)
    fitted = [_fitted(extractor, pattern, label) for pattern, label in ((a, "A"), (b, "B"))]
    batch = [np.concatenate(parts) for parts in zip(*fitted, strict=True)]
    result = extractor.extract_batch(batch)
    run_a, run_b = result.item(0), result.item(1)
    if all(np.array_equal(pa, pb) for pa, pb in zip(*fitted, strict=True)):
        # Same input, same output: batched kernels (an LSTM's, say) can differ between rows
        # in the last bits (~1e-8), which must not read as a change.
        run_b = run_a
    layers = [
        _difference(act_a, act_b.array)
        for act_a, act_b in zip(run_a.activations, run_b.activations, strict=True)
    ]
    return Comparison(layers, run_a, run_b)


def compare(model_or_extractor, a, b) -> list[LayerDifference]:
    """Compare patterns A and B at every layer: ``compare_patterns(...).layers``.

    Example:
        >>> for layer in layerviz.compare(model, a, layerviz.perturb(a, "noise", sigma=0.1)):
        ...     print(layer.index, layer.name, layer.cosine, layer.relative_l2)
    """
    return compare_patterns(model_or_extractor, a, b).layers


def divergences(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Cosine distance and relative L2 of ``b`` against ``a`` (see the module docstring)."""
    a64 = np.asarray(a, dtype=np.float64).ravel()
    b64 = np.asarray(b, dtype=np.float64).ravel()
    diff = b64 - a64
    if not diff.any():
        return 0.0, 0.0
    # Sums of products rather than np.dot / np.linalg.norm: those call BLAS, whose threads
    # spin on a busy machine (2 ms instead of 20 µs for a 16k-value layer on 2 shared cores).
    norm_a, norm_b = math.sqrt(_sum(a64 * a64)), math.sqrt(_sum(b64 * b64))
    relative = math.sqrt(_sum(diff * diff)) / norm_a if norm_a > 0 else math.inf
    if norm_a == 0 or norm_b == 0:
        return 1.0, relative
    cosine = 1.0 - _sum(a64 * b64) / (norm_a * norm_b)
    return min(2.0, max(0.0, cosine)), relative


def _sum(values: np.ndarray) -> float:
    return float(np.add.reduce(values))


def _difference(act: LayerActivation, b: np.ndarray) -> LayerDifference:
    """A's activation ``act`` against B's array of the same layer output."""
    a = act.array
    diff = np.subtract(b, a, dtype=np.float32)
    cosine, relative = divergences(a, b)
    # Channels are the last axis, except for attention scores (heads, query, key): the heads.
    by_channel = np.moveaxis(diff, 0, -1) if act.role == "attention" else diff
    channels = by_channel.reshape(-1, by_channel.shape[-1]).astype(np.float64)
    change = np.sqrt(np.add.reduce(channels * channels, axis=0))
    return LayerDifference(
        act.index, act.name, act.class_name, a, b, diff, cosine, relative, change,
        act.layer_name, act.output_index, act.role,
    )  # fmt: skip


def _extractor(model_or_extractor) -> ActivationExtractor:
    if isinstance(model_or_extractor, ActivationExtractor):
        return model_or_extractor
    return ActivationExtractor(model_or_extractor)


def _fitted(extractor: ActivationExtractor, pattern, label: str) -> list[np.ndarray]:
    """One pattern as ``(1, *shape)`` arrays, one per input; errors say which pattern it was."""
    shapes, dtypes = extractor.input_shapes, extractor.input_dtypes
    if len(shapes) == 1 and isinstance(pattern, (list, tuple)) and len(pattern) == 1:
        pattern = pattern[0]
    parts = [pattern] if len(shapes) == 1 else pattern
    if len(shapes) > 1 and (not isinstance(pattern, (list, tuple)) or len(pattern) != len(shapes)):
        raise PatternError(
            f"pattern {label}: the model has {len(shapes)} inputs with shapes "
            f"{', '.join(map(str, shapes))}; give a list with one array per input"
        )
    try:
        return [fit_array(p, s, d) for p, s, d in zip(parts, shapes, dtypes, strict=True)]
    except PatternError as exc:
        raise PatternError(f"pattern {label}: {exc}") from None
