"""Which part of the input made the model say this: Grad-CAM and saliency maps, on any backend.

Gradients come from ``layerviz.extract.backends`` (``tf.GradientTape``, ``jax.grad`` over
``stateless_call``, or ``torch.autograd.grad``, whichever Keras runs on). Grad-CAM cuts the
model at its layer (``layerviz.extract.split``: ``head`` up to the layer, ``tail`` from it,
nested models expanded so an inner layer of a backbone can be explained) and differentiates
the tail at the head's output; tf-keras-vis 0.8.7, which cuts the original graph, stops there
with "Output ... is not connected to inputs" on Keras 3.15, and runs on TensorFlow only.

Shapes follow Keras's channels-last convention. The heat map has the input's shape without its
channel axis: ``(H, W, C) -> (H, W)``, a sequence ``(T, C) -> (T,)`` (a band over time), a
vector or token ids ``(N,) -> (N,)``. Grad-CAM therefore needs a layer whose output has the same
number of spatial axes plus channels: ``(h, w, c)`` maps for images, ``(t, c)`` for sequences
(attention scores, shaped ``(heads, query, key)``, are not maps and are never chosen).

Classes are the last axis of the model's output. What is differentiated is the ``target``:

- ``"logit"`` (default): the class score before the final softmax / sigmoid, as the Grad-CAM
  paper and keras.io's example do (``layerviz.extract.logits`` says how it is read). A
  saturated softmax (p = 1.0 in float32) has almost no gradient left, and its map can be
  anti-correlated with the score's.
- ``"probability"``: the output as the model gives it.

A head with one unit (a sigmoid) is read as a binary classifier: class 1 is its output ``p``
(logit ``z``) and class 0 is ``1 - p`` (logit ``-z``).

SmoothGrad here is the absolute value of the *mean* gradient over the noisy copies
(``|mean g|``, Smilkov et al.'s definition), then the largest over channels.

Example:
    >>> heat = layerviz.grad_cam(model, pattern)              # last spatial layer, top class
    >>> smooth = layerviz.saliency(model, pattern, smooth=16)  # SmoothGrad, one batch of 17
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from layerviz.errors import ArgumentError, ModelStructureError
from layerviz.extract.activations import ActivationExtractor
from layerviz.extract.backends import current_backend
from layerviz.extract.split import cut_at, rebuilt
from layerviz.patterns.inputs import check_seed, fit_array

__all__ = [
    "MAX_SMOOTH",
    "METHODS",
    "TARGETS",
    "Explainer",
    "Explanation",
    "grad_cam",
    "saliency",
]

#: The methods ``Explainer.explain`` knows, as the CLI and the dashboard name them.
METHODS = ("gradcam", "saliency", "smoothgrad")

#: What the maps explain: the class score before the final softmax / sigmoid, or after it.
TARGETS = ("logit", "probability")

#: The most noisy copies SmoothGrad runs: they go through the model as one batch, whose
#: activations must fit in memory (MobileNetV2 224² holds about 90 MB of them per copy).
MAX_SMOOTH = 64

#: SmoothGrad's default number of copies when the method is named without a count.
DEFAULT_SMOOTH = 16


@dataclass(frozen=True, eq=False)
class Explanation:
    """One heat map and what it explains.

    Attributes:
        heat: float32 map in [0, 1] shaped as the input without its channel axis.
        method: one of ``METHODS``.
        class_index: the class explained (the top class unless one was asked for).
        layer: the layer Grad-CAM weighed, or ``None`` for saliency maps.
        target: one of ``TARGETS``: the class score (``"logit"``) or its probability.
    """

    heat: np.ndarray
    method: str
    class_index: int
    layer: str | None = None
    target: str = "logit"


class Explainer:
    """Grad-CAM and saliency maps for one model; build once, reuse for many patterns.

    Each (layer, target)'s Grad-CAM and each target's input gradient are compiled once, on
    first use, by the backend Keras runs on, and kept.

    Args:
        model: a Keras model, or an ``ActivationExtractor`` already built for it (its
            layer list is reused).

    Raises:
        ModelStructureError: the model cannot be cut (see ``ActivationExtractor``), has
            several inputs or outputs, or an input of rank above 3; or Keras runs on a
            backend without gradients.
    """

    def __init__(self, model):
        self.backend = current_backend()
        extractor = model if isinstance(model, ActivationExtractor) else ActivationExtractor(model)
        self.extractor = extractor
        self.model = extractor.model
        name = self.model.name
        if len(extractor.input_shapes) != 1:
            raise ModelStructureError(
                f"model {name!r} has {len(extractor.input_shapes)} inputs; explanations are "
                "made for single-input models"
            )
        self.input_shape = extractor.input_shapes[0]
        self.input_dtype = extractor.input_dtypes[0]
        if not 1 <= len(self.input_shape) <= 3:
            raise ModelStructureError(
                f"model {name!r} takes input {self.input_shape}; explanations are made for "
                "vectors (N,), sequences (T, C) and images (H, W, C)"
            )
        outputs = keras.tree.flatten(self.model.outputs)
        if len(outputs) != 1:
            raise ModelStructureError(
                f"model {name!r} has {len(outputs)} outputs; explanations are made for "
                "single-output models"
            )
        units = outputs[0].shape[-1] if len(outputs[0].shape) > 1 else 1
        self.n_outputs = int(units)
        #: Classes a target may name: a one-unit head is read as two (``1 - p``, ``p``).
        self.n_classes = 2 if self.n_outputs == 1 else self.n_outputs
        self.heat_shape = self.input_shape if len(self.input_shape) == 1 else self.input_shape[:-1]
        self._cams: dict[tuple[str, str], tuple] = {}
        self._gradients: dict[str, object] = {}

    @property
    def spatial_layers(self) -> list[str]:
        """Names of the layers Grad-CAM can weigh, in model order: their outputs are maps
        with the input's spatial axes and a channel axis (attention scores are not)."""
        rank = len(self.heat_shape) + 1
        extractor = self.extractor
        return [
            name
            for (_, name, _), shape, role in zip(
                extractor.layers, extractor.layer_shapes, extractor.layer_roles, strict=True
            )
            if len(shape) == rank and role != "attention"
        ]

    @property
    def default_layer(self) -> str:
        """The last layer with spatial maps, Grad-CAM's usual choice.

        Raises:
            ArgumentError: the model has no such layer.
        """
        layers = self.spatial_layers
        if not layers:
            raise ArgumentError(
                f"model {self.model.name!r} has no layer with spatial maps (outputs shaped "
                f"{self._map_form()}); Grad-CAM needs one, use saliency instead"
            )
        return layers[-1]

    def explain(
        self,
        pattern,
        method: str = "gradcam",
        layer: str | None = None,
        class_index: int | None = None,
        smooth: int = DEFAULT_SMOOTH,
        target: str = "logit",
    ) -> Explanation:
        """One heat map by the method's name (``METHODS``).

        Args:
            pattern: an array of the model's input shape, with or without the batch axis.
            method: ``"gradcam"``, ``"saliency"`` or ``"smoothgrad"``.
            layer: Grad-CAM's layer (default: ``default_layer``); only for ``"gradcam"``.
            class_index: the class to explain (default: the top class).
            smooth: SmoothGrad's number of noisy copies (only for ``"smoothgrad"``).
            target: ``"logit"`` (the class score) or ``"probability"`` (``TARGETS``).

        Returns:
            The ``Explanation``.

        Raises:
            ArgumentError: an unknown method or target, a layer given to a saliency method,
                or as ``grad_cam`` / ``saliency``.
            PatternError: the pattern does not fit the input.
        """
        if method not in METHODS:
            raise ArgumentError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
        if method == "gradcam":
            return self.grad_cam(pattern, layer, class_index, target=target)
        if layer is not None:
            raise ArgumentError(f"a layer is chosen for Grad-CAM only, not for {method}")
        count = smooth if method == "smoothgrad" else 0
        if method == "smoothgrad" and count < 1:
            raise ArgumentError(f"SmoothGrad needs at least 1 noisy copy, got {count}")
        return self.saliency(pattern, class_index, smooth=count, target=target)

    def grad_cam(
        self, pattern, layer: str | None = None, class_index=None, target: str = "logit"
    ) -> Explanation:
        """Grad-CAM (Selvaraju et al., 2017) at one layer, at the input's spatial size.

        The layer's maps are weighed by the mean gradient of the class score over each map,
        summed, passed through ReLU, resized (bilinear, pixel centres aligned, as
        ``keras.ops.image.resize`` does) to ``heat_shape`` and scaled to [0, 1]. A map with
        no positive evidence is all zeros.

        Raises:
            ArgumentError: an unknown layer (naming some), a layer without spatial maps, a
                layer the output does not depend on, a class index out of range, or an
                unknown target.
            PatternError: the pattern does not fit the input.
        """
        name = self.default_layer if layer is None else self._checked_layer(layer)
        target = _checked_target(target)
        x = self._fit(pattern)
        k = np.int32(self._checked_class(class_index))
        if (name, target) not in self._cams:
            self._cams[name, target] = self._compile_cam(name, target)
        forward, gradients = self._cams[name, target]
        tapped = forward(x)
        _, grads, chosen = gradients(tapped, k)
        maps, weights_of = tapped[0][0], grads[0][0]
        spatial_axes = tuple(range(len(self.heat_shape)))
        weights = weights_of.mean(axis=spatial_axes, keepdims=True)
        heat = np.maximum((weights * maps).sum(axis=-1), 0.0)
        heat = _resize(heat, self.heat_shape)
        return Explanation(_unit_range(heat), "gradcam", int(chosen), name, target)

    def saliency(
        self,
        pattern,
        class_index=None,
        smooth: int = 0,
        sigma: float = 0.15,
        seed: int = 0,
        target: str = "logit",
    ) -> Explanation:
        """The gradient of the class score with respect to the input (Simonyan et al., 2014).

        With ``smooth`` > 0, SmoothGrad (Smilkov et al., 2017): the gradient averaged over
        ``smooth`` copies of the pattern with Gaussian noise of standard deviation
        ``sigma × (max - min)`` of the pattern, run as one batch together with the clean
        pattern (whose prediction picks the default class). The map is the largest absolute
        gradient over the channel axis, scaled to [0, 1].

        Raises:
            ArgumentError: ``smooth`` outside 0 to ``MAX_SMOOTH``, ``sigma`` outside (0, 1],
                a class index out of range, an unknown target, or an integer (token id)
                input, which has no gradient.
            PatternError: the pattern does not fit the input, or a bad seed.
        """
        smooth = _checked_count(smooth)
        target = _checked_target(target)
        if not (isinstance(sigma, (int, float)) and 0 < sigma <= 1):
            raise ArgumentError(
                f"sigma is a fraction of the input's range in (0, 1], got {sigma!r}"
            )
        if self.input_dtype.kind in "iu":
            raise ArgumentError(
                f"model {self.model.name!r} takes integer ids, which have no gradient: "
                "use Grad-CAM on a layer after the embedding"
            )
        x = self._fit(pattern)
        k = np.int32(self._checked_class(class_index))
        rng = np.random.default_rng(check_seed(seed))
        spread = float(x.max() - x.min()) or 1.0
        noise = rng.normal(0.0, sigma * spread, (smooth, *self.input_shape)).astype(np.float32)
        batch = np.concatenate([x, x + noise]) if smooth else x
        if target not in self._gradients:
            model = rebuilt(self.model, logits=target == "logit")
            objective = _class_objective(self.n_outputs, target)
            self._gradients[target] = self.backend.gradient_function(model, objective, has_aux=True)
        _, (grads,), chosen = self._gradients[target]([batch], k)
        mean = grads[1:].mean(axis=0) if smooth else grads[0]
        magnitude = np.abs(mean)
        if len(self.input_shape) > 1:
            magnitude = magnitude.max(axis=-1)
        method = "smoothgrad" if smooth else "saliency"
        return Explanation(_unit_range(magnitude), method, int(chosen), None, target)

    # --- checks ----------------------------------------------------------------------------

    def _fit(self, pattern) -> np.ndarray:
        if isinstance(pattern, (list, tuple)) and len(pattern) == 1:
            pattern = pattern[0]
        return fit_array(pattern, self.input_shape, self.input_dtype)

    def _checked_class(self, class_index) -> int:
        """The class as an int, or -1 for "the top class"."""
        if class_index is None:
            return -1
        ok = isinstance(class_index, (int, np.integer)) and not isinstance(class_index, bool)
        if not ok or not 0 <= class_index < self.n_classes:
            note = " (a one-unit head: 0 is 1 - p, 1 is p)" if self.n_outputs == 1 else ""
            raise ArgumentError(
                f"class index must be 0 to {self.n_classes - 1}: model {self.model.name!r} "
                f"has {self.n_classes} classes{note}; got {class_index!r}"
            )
        return int(class_index)

    def _checked_layer(self, layer: str) -> str:
        names = [name for _, name, _ in self.extractor.layers]
        if layer not in names:
            self.extractor.gradient_model([layer])  # raises ArgumentError listing the layers
        if layer not in self.spatial_layers:
            shape = self.extractor.layer_shapes[names.index(layer)]
            usable = self.spatial_layers
            hint = f"layers with them: {', '.join(usable[-6:])}" if usable else "none has them"
            raise ArgumentError(
                f"layer {layer!r} has output shape {shape}, not spatial maps; Grad-CAM needs "
                f"maps shaped {self._map_form()} for input {self.input_shape}; {hint}"
            )
        return layer

    def _map_form(self) -> str:
        return "(h, w, channels)" if len(self.heat_shape) == 2 else "(time, channels)"

    # --- compiled passes -------------------------------------------------------------------

    def _compile_cam(self, layer: str, target: str):
        """``(forward, gradients)``: the head's compiled forward pass (the layer's maps and
        what skips the cut) and the tail's gradient function at them."""
        cut = cut_at(self.model, layer, logits=target == "logit")
        forward = _forward(cut.head)
        objective = _class_objective(self.n_outputs, target)
        gradients = self.backend.gradient_function(cut.tail, objective, has_aux=True)
        return forward, gradients


def grad_cam(
    model,
    pattern,
    layer: str | None = None,
    class_index: int | None = None,
    target: str = "logit",
):
    """Grad-CAM heat map of ``pattern`` at ``layer`` for ``class_index``, in [0, 1].

    Args:
        model: a Keras model or an ``ActivationExtractor`` (for many calls, keep an
            ``Explainer`` instead: it compiles once).
        pattern: an array of the model's input shape, with or without the batch axis.
        layer: a layer name as the extractor lists it (``backbone/conv5``); default the last
            layer with spatial maps.
        class_index: default the top class; a one-unit head has classes 0 (``1 - p``) and 1.
        target: ``"logit"`` (the class score, default) or ``"probability"``.

    Returns:
        A float32 array shaped as the input without its channel axis.

    Raises:
        ArgumentError: see ``Explainer.grad_cam``.
        PatternError: the pattern does not fit the input.
        ModelStructureError: see ``Explainer``.
    """
    return Explainer(model).grad_cam(pattern, layer, class_index, target).heat


def saliency(
    model,
    pattern,
    class_index=None,
    smooth: int = 0,
    sigma=0.15,
    seed: int = 0,
    target: str = "logit",
):
    """Saliency map (vanilla gradient, or SmoothGrad with ``smooth`` noisy copies), in [0, 1].

    Args:
        model: a Keras model or an ``ActivationExtractor``.
        pattern: an array of the model's input shape, with or without the batch axis.
        class_index: default the top class; a one-unit head has classes 0 (``1 - p``) and 1.
        smooth: 0 for the plain gradient, else the number of noisy copies (at most
            ``MAX_SMOOTH``), run as one batch.
        sigma: the noise's standard deviation as a fraction of the pattern's range.
        seed: the noise's random seed.
        target: ``"logit"`` (the class score, default) or ``"probability"``.

    Returns:
        A float32 array shaped as the input without its channel axis.

    Raises:
        ArgumentError: see ``Explainer.saliency``.
        PatternError: the pattern does not fit the input.
        ModelStructureError: see ``Explainer``.
    """
    return Explainer(model).saliency(pattern, class_index, smooth, sigma, seed, target).heat


def _class_objective(n_outputs: int, target: str):
    """``objective(outputs, k) -> (scores (batch,), class)``, in ``keras.ops`` (any backend).

    The score of class ``k``, or of row 0's top class when ``k`` < 0 (the clean pattern of
    a SmoothGrad batch picks it). Outputs with more axes than ``(batch, classes)`` (a class
    per time step, say) are summed over them; a one-unit head is widened to two classes:
    ``(-z, z)`` for logits, ``(1 - p, p)`` for probabilities.
    """
    ops = keras.ops

    def objective(outputs, k):
        y = outputs[0]
        if len(y.shape) == 1:
            y = ops.expand_dims(y, -1)
        if n_outputs == 1:
            other = ops.negative(y) if target == "logit" else ops.subtract(1.0, y)
            y = ops.concatenate([other, y], axis=-1)
        per_class = ops.sum(y, axis=tuple(range(1, len(y.shape) - 1))) if len(y.shape) > 2 else y
        top = ops.cast(ops.argmax(per_class[0]), "int32")
        chosen = ops.where(ops.less(k, 0), top, k)
        return ops.take(per_class, chosen, axis=1), chosen

    return objective


def _forward(model: keras.Model):
    """``model`` on one batch, compiled, as a list of numpy arrays (its outputs)."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        fn = tf.function(lambda x: model(x, training=False), reduce_retracing=True)

        def run(x: np.ndarray) -> list[np.ndarray]:
            return [np.asarray(o) for o in keras.tree.flatten(fn(x))]

        return run
    return lambda x: [np.asarray(o) for o in keras.tree.flatten(model.predict_on_batch(x))]


def _resize(heat: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Bilinear resize of a ``(h, w)`` or ``(t,)`` map to ``shape`` (``keras.ops``' resize,
    half-pixel centres as ``tf.image.resize`` and PIL's bilinear have them)."""
    image = heat[:, :, None] if len(shape) == 2 else heat[:, None, None]
    size = shape if len(shape) == 2 else (shape[0], 1)
    resized = keras.ops.image.resize(image.astype(np.float32), size, interpolation="bilinear")
    return keras.ops.convert_to_numpy(resized).reshape(shape)


def _checked_target(target) -> str:
    if target not in TARGETS:
        raise ArgumentError(f"target must be one of {', '.join(TARGETS)}, got {target!r}")
    return target


def _unit_range(heat: np.ndarray) -> np.ndarray:
    """Scale a non-negative map to [0, 1] by its maximum; an all-zero map stays zeros."""
    heat = np.maximum(np.asarray(heat, dtype=np.float32), 0.0)
    top = float(heat.max()) if heat.size else 0.0
    return heat / top if top > 0 else np.zeros_like(heat)


def _checked_count(smooth) -> int:
    ok = isinstance(smooth, (int, np.integer)) and not isinstance(smooth, bool)
    if not ok or not 0 <= smooth <= MAX_SMOOTH:
        raise ArgumentError(
            f"smooth is the number of noisy copies, 0 to {MAX_SMOOTH}, got {smooth!r}"
        )
    return int(smooth)
