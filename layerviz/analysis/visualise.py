"""The pattern a channel looks for: feature visualisation by activation maximisation.

``visualise(model, "conv2", channels=[0, 1, 2])`` optimises one pattern per channel so that
the channel's mean output (over its spatial axes) is as large as it gets (Erhan et al. 2009;
Olah et al., "Feature Visualization", Distill 2017). On the model's output layer the channels
are its units: for a softmax head the objective is each class's log-probability ("what a 7
looks like to this model"), otherwise the unit's value.

The pattern is a Fourier parameterisation with colour decorrelation, kept inside the input's
valid range, seen through random jitter, scale and rotation at every step
(:mod:`layerviz.analysis.parameterise`), minus small total-variation and L2 penalties. Adam
moves the parameters.

One step (parameters → pattern → transform → model up to the layer → objective) is a single
Keras model whose input is the parameter vector, differentiated by the backend's compiled
``gradient_function`` (TensorFlow, JAX or PyTorch), once per layer and settings; every
channel asked for runs as one row of one batch (in chunks of ``batch_size``).

Example:
    >>> result = layerviz.visualise(model, "conv2", channels=range(16), steps=256, seed=0)
    >>> result.images.shape, result.history.shape      # (16, 32, 32, 1), (256, 16)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

import keras
import numpy as np

from layerviz.analysis.parameterise import Fourier, affine_rows, apply_transforms, total_variation
from layerviz.errors import ArgumentError, ModelStructureError
from layerviz.extract.activations import ActivationExtractor
from layerviz.extract.backends import current_backend
from layerviz.patterns.inputs import check_seed

__all__ = [
    "DEFAULT_LEARNING_RATE",
    "MAX_STEPS",
    "Visualisation",
    "VisualiseSettings",
    "Visualiser",
    "visualise",
]

#: The most optimisation steps one run takes (each is a forward and a backward pass).
MAX_STEPS = 4096
#: Adam's default step size: twice Lucid's 0.05, because layerviz's models take small inputs
#: and 256 steps at 0.05 left a 16² chequer template at correlation 0.80 (0.84 at 0.1,
#: tests/analysis/test_visualise.py), while digits_cnn's classes reach p = 1.0 at either.
DEFAULT_LEARNING_RATE = 0.1
#: The most channels optimised as one batch; more are run in chunks.
MAX_BATCH = 256

#: Called as ``progress(done, total)`` with optimisation steps (all chunks together).
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class VisualiseSettings:
    """How the patterns are optimised; every field is a named option of :func:`visualise`.

    Attributes:
        steps: optimisation steps, 1 to ``MAX_STEPS``.
        learning_rate: Adam's step size on the Fourier parameters, in (0, 1].
        value_range: ``(low, high)`` the input takes (what the model's preprocessing expects).
        jitter: the largest random shift in pixels per step; ``None``: 1/16 of the shorter side.
        scale: the largest random zoom factor per step (1 for none), in [1, 2].
        rotate: the largest random rotation in degrees per step (0 for none; 2-D only).
        tv_weight: weight of the total-variation penalty (on the pattern scaled to [0, 1]).
        l2_weight: weight of the L2 penalty (distance from the range's middle, scaled to [0, 1]).
        decay_power: slope of the 1/f spectrum (0: plain Fourier, 1: Lucid's).
        decorrelate: mix three-channel inputs by ImageNet's colour correlation.
    """

    steps: int = 256
    learning_rate: float = DEFAULT_LEARNING_RATE
    value_range: tuple[float, float] = (0.0, 1.0)
    jitter: int | None = None
    scale: float = 1.1
    rotate: float = 10.0
    tv_weight: float = 0.05
    l2_weight: float = 0.0
    decay_power: float = 1.0
    decorrelate: bool = True

    def checked(self, spatial: tuple[int, ...]) -> VisualiseSettings:
        """These settings with ``jitter`` filled in, or ``ArgumentError`` naming the range."""
        _check_int("steps", self.steps, 1, MAX_STEPS)
        _check_number("learning_rate", self.learning_rate, 0.0, 1.0, low_open=True)
        low, high = _checked_range(self.value_range)
        jitter = max(1, round(min(spatial) / 16)) if self.jitter is None else self.jitter
        _check_int("jitter", jitter, 0, max(spatial) // 2)
        _check_number("scale", self.scale, 1.0, 2.0)
        _check_number("rotate", self.rotate, 0.0, 180.0)
        _check_number("tv_weight", self.tv_weight, 0.0, 1e6)
        _check_number("l2_weight", self.l2_weight, 0.0, 1e6)
        _check_number("decay_power", self.decay_power, 0.0, 4.0)
        return replace(self, value_range=(low, high), jitter=int(jitter))


@dataclass(frozen=True, eq=False)
class Visualisation:
    """The optimised patterns of some channels of one layer.

    Attributes:
        layer: the layer's name, as ``ActivationExtractor.layers`` lists it.
        channels: the channels (or class units), in the order of ``images``.
        images: float32 ``(len(channels), *input_shape)`` inside ``settings.value_range``.
        history: float32 ``(steps, len(channels))``: the objective (the channel's mean output,
            or the class's log-probability, minus the penalties) at each step.
        objective: ``"channel mean"``, ``"unit"`` or ``"class log-probability"``.
        settings: the settings used, with ``jitter`` filled in.
        seed: the seed the parameters and transforms were drawn from.
    """

    layer: str
    channels: tuple[int, ...]
    images: np.ndarray
    history: np.ndarray
    objective: str
    settings: VisualiseSettings
    seed: int = 0
    extra: dict = field(default_factory=dict, repr=False)


class Visualiser:
    """Feature visualisation for one model; build once, reuse for many layers and channels.

    Args:
        model: a Keras model, or an ``ActivationExtractor`` already built for it.

    Raises:
        ModelStructureError: the model cannot be cut into layers, has several inputs, or its
            input is not an image ``(H, W, C)`` or a sequence ``(T, C)`` of floats.
    """

    def __init__(self, model):
        extractor = model if isinstance(model, ActivationExtractor) else ActivationExtractor(model)
        self.extractor = extractor
        self.model = extractor.model
        if len(extractor.input_shapes) != 1:
            raise ModelStructureError(
                f"model {self.model.name!r} has {len(extractor.input_shapes)} inputs; feature "
                "visualisation optimises single-input models"
            )
        self.input_shape = tuple(extractor.input_shapes[0])
        dtype = extractor.input_dtypes[0]
        if dtype.kind in "iu" or len(self.input_shape) not in (2, 3):
            raise ModelStructureError(
                f"model {self.model.name!r} takes {dtype.name} input {self.input_shape}; feature "
                "visualisation optimises float images (H, W, C) and sequences (T, C)"
            )
        self._steps: dict[tuple, Callable] = {}

    @property
    def layers(self) -> list[str]:
        """The layers whose channels can be visualised, in model order: every drawable output
        but attention scores, whose last axis is keys, not channels."""
        return [name for _, name, _ in self.extractor.layers if not name.endswith(":attention")]

    def n_channels(self, layer: str) -> int:
        """How many channels (the last axis: units, classes) ``layer`` has.

        Raises:
            ArgumentError: an unknown layer (naming some), or one without a channel axis.
        """
        usable = self.layers
        hint = f"layers with them: {', '.join(usable[-6:])}"
        for skipped in self.extractor.skipped:
            if skipped.name == layer:
                raise ArgumentError(
                    f"layer {layer!r} has no channels to maximise ({skipped.reason}); {hint}"
                )
        names = [name for _, name, _ in self.extractor.layers]
        if layer not in names:
            self.extractor.gradient_model([layer])  # raises ArgumentError listing the layers
        shape = self.extractor.layer_shapes[names.index(layer)]
        if layer not in usable:
            raise ArgumentError(
                f"layer {layer!r} gives attention scores {shape} (heads, query, key), without "
                f"channels to maximise; {hint}"
            )
        return int(shape[-1])

    def visualise(
        self,
        layer: str,
        channels: Iterable[int] | None = None,
        settings: VisualiseSettings | None = None,
        seed: int = 0,
        batch_size: int = 32,
        progress: Progress | None = None,
    ) -> Visualisation:
        """Optimise one pattern per channel of ``layer``; see :func:`visualise`."""
        count = self.n_channels(layer)
        chosen = _checked_channels(channels, count, layer)
        settings = (settings or VisualiseSettings()).checked(self.input_shape[:-1])
        _check_int("batch_size", batch_size, 1, MAX_BATCH)
        seed = check_seed(seed)
        step, objective = self._step(layer, count, settings)
        fourier = _fourier(self.input_shape, settings)
        total = settings.steps * math.ceil(len(chosen) / batch_size)
        images, history = [], []
        for start in range(0, len(chosen), batch_size):
            part = chosen[start : start + batch_size]
            rng = np.random.default_rng([seed, start])
            done = settings.steps * (start // batch_size)
            params, values = _optimise(
                step, fourier, part, count, settings, rng, progress, done, total
            )
            images.append(keras.ops.convert_to_numpy(fourier.render(params)).astype(np.float32))
            history.append(values)
        return Visualisation(
            layer,
            tuple(chosen),
            np.concatenate(images),
            np.concatenate(history, axis=1),
            objective,
            settings,
            seed,
        )

    def _step(self, layer: str, count: int, settings: VisualiseSettings):
        key = (layer, settings.value_range, settings.tv_weight, settings.l2_weight)
        key += (settings.decay_power, settings.decorrelate)
        if key not in self._steps:
            self._steps[key] = self._compile(layer, count, settings)
        return self._steps[key]

    def _compile(self, layer: str, count: int, settings: VisualiseSettings):
        """``(gradient function, objective name)`` of the one-model step for ``layer``."""
        full = self.extractor.gradient_model([layer])
        tap, final = full.outputs[0], full.outputs[1:]
        trunk = keras.Model(full.input, tap, name="layerviz_trunk")
        is_output = any(tap is out for out in final)
        log_prob = is_output and _is_softmax(self.model, layer)
        fourier = _fourier(self.input_shape, settings)
        size = fourier.size
        vector = keras.Input((size + 8 + count,), name="parameters")
        unit = fourier.render_unit(vector[:, :size])
        low, high = settings.value_range
        moved = apply_transforms(low + (high - low) * unit, vector[:, size : size + 8])
        out = trunk(moved)
        if len(out.shape) > 2:
            out = keras.ops.mean(out, axis=tuple(range(1, len(out.shape) - 1)))
        if log_prob:
            out = keras.ops.log(keras.ops.maximum(out, 1e-30))
        score = keras.ops.sum(out * vector[:, size + 8 :], axis=1)
        # A penalty of weight 0 is left out of the graph: on a small model every op counts.
        if settings.tv_weight:
            score = score - settings.tv_weight * total_variation(unit)
        if settings.l2_weight:
            flat = keras.ops.reshape((unit - 0.5) ** 2, (-1, int(np.prod(self.input_shape))))
            score = score - settings.l2_weight * keras.ops.mean(flat, axis=1)
        stepper = keras.Model(vector, score, name="layerviz_visualise_step")
        name = "channel mean" if len(tap.shape) > 2 else "unit"
        name = "class log-probability" if log_prob else name
        return current_backend().gradient_function(stepper, _first), name


def visualise(
    model,
    layer: str,
    channels: Iterable[int] | None = None,
    steps: int = 256,
    seed: int = 0,
    learning_rate: float = DEFAULT_LEARNING_RATE,
    batch_size: int = 32,
    progress: Progress | None = None,
    **options,
) -> Visualisation:
    """The pattern each channel of ``layer`` looks for, by activation maximisation.

    Args:
        model: a Keras model, an ``ActivationExtractor`` or a ``Visualiser`` (keep one for
            many calls: each layer's step is compiled once per visualiser).
        layer: a layer name as ``ActivationExtractor.layers`` lists it; the output layer's
            channels are its class units.
        channels: which channels (default: all of them).
        steps: optimisation steps, 1 to ``MAX_STEPS``.
        seed: the seed of the starting parameters and of every step's transforms.
        learning_rate: Adam's step size, in (0, 1].
        batch_size: channels optimised together as one batch.
        progress: called as ``progress(done, total)`` after each step (raise from it to stop).
        **options: the other fields of :class:`VisualiseSettings` (``value_range``, ``jitter``,
            ``scale``, ``rotate``, ``tv_weight``, ``l2_weight``, ``decay_power``,
            ``decorrelate``).

    Returns:
        A :class:`Visualisation`.

    Raises:
        ArgumentError: an unknown layer, a layer without channels, a channel out of range, or
            an option out of its range (each message names the range).
        ModelStructureError: see :class:`Visualiser`.
        PatternError: a bad seed.
    """
    unknown = sorted(set(options) - set(VisualiseSettings.__dataclass_fields__))
    if unknown:
        known = ", ".join(VisualiseSettings.__dataclass_fields__)
        raise ArgumentError(f"unknown option {unknown[0]!r}; options are: {known}")
    settings = VisualiseSettings(steps=steps, learning_rate=learning_rate, **options)
    visualiser = model if isinstance(model, Visualiser) else Visualiser(model)
    return visualiser.visualise(layer, channels, settings, seed, batch_size, progress)


def _optimise(step, fourier, part, count, settings, rng, progress, done_before, total):
    """Adam ascent of one chunk of channels; returns ``(parameters, history (steps, n))``."""
    gradients = step
    n = len(part)
    params = fourier.initial(n, rng)
    onehot = np.zeros((n, count), dtype=np.float32)
    onehot[np.arange(n), part] = 1.0
    m = np.zeros_like(params)
    v = np.zeros_like(params)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    history = np.zeros((settings.steps, n), dtype=np.float32)
    for t in range(1, settings.steps + 1):
        rows = affine_rows(
            rng, n, fourier.spatial, settings.jitter, settings.scale, settings.rotate
        )
        values, (grad,) = gradients([np.concatenate([params, rows, onehot], axis=1)])
        g = np.asarray(grad, dtype=np.float32)[:, : fourier.size]
        history[t - 1] = values
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        lr = settings.learning_rate * math.sqrt(1 - beta2**t) / (1 - beta1**t)
        params = params + lr * m / (np.sqrt(v) + eps)  # ascent: the objective grows
        if progress is not None:
            progress(done_before + t, total)
    return params, history


def _fourier(shape, settings: VisualiseSettings) -> Fourier:
    low, high = settings.value_range
    return Fourier(tuple(shape), low, high, settings.decay_power, settings.decorrelate)


def _first(outputs):
    """The step model's one output is the objective."""
    return outputs[0]


def _is_softmax(model: keras.Model, name: str) -> bool:
    """Whether the layer called ``name`` (``outer/inner`` for nested models) ends in softmax."""
    layer = model
    try:
        for part in name.split(":")[0].split("/"):
            layer = layer.get_layer(part)
    except (ValueError, AttributeError):
        return False
    if isinstance(layer, keras.layers.Softmax):
        return True
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", "") == "softmax"


def _checked_channels(channels, count: int, layer: str) -> list[int]:
    if channels is None:
        return list(range(count))
    chosen = list(channels) if not isinstance(channels, (int, np.integer)) else [channels]
    if not chosen:
        raise ArgumentError(f"channels is empty; layer {layer!r} has channels 0 to {count - 1}")
    for c in chosen:
        ok = isinstance(c, (int, np.integer)) and not isinstance(c, bool)
        if not ok or not 0 <= c < count:
            raise ArgumentError(
                f"channel {c!r} is out of range: layer {layer!r} has {count} channels "
                f"(0 to {count - 1})"
            )
    return [int(c) for c in chosen]


def _check_int(name: str, value, low: int, high: int) -> None:
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if not ok or not low <= value <= high:
        raise ArgumentError(f"{name} must be a whole number from {low} to {high}, got {value!r}")


def _check_number(name, value, low, high, low_open: bool = False) -> None:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    inside = ok and math.isfinite(value) and (low < value if low_open else low <= value)
    if not inside or value > high:
        bracket = "(" if low_open else "["
        raise ArgumentError(f"{name} must be in {bracket}{low}, {high}], got {value!r}")


def _checked_range(value_range) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in value_range)
    except (TypeError, ValueError):
        raise ArgumentError(
            f"value_range must be two numbers (low, high), got {value_range!r}"
        ) from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ArgumentError(f"value_range must be finite with low < high, got {value_range!r}")
    return low, high
