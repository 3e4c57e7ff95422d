"""Pattern A now against the same pattern as a recorded run saw it at epoch k.

A run keeps no weights, only each probe pattern's maps at display resolution (every
``stride``-th line, float16). So "B = the same pattern at epoch k" compares what the model
gives for A today, reduced the way the run reduced that layer, with the maps the run recorded
for that probe pattern at the end of epoch k. A must be one of the run's probe patterns (the
same values), and the run must be of A's model (the same layer outputs and full shapes);
anything else is refused naming what was expected and what arrived.

The result is a :class:`~layerviz.analysis.compare.Comparison` like ``compare_patterns``
gives, so the Compare panel, its divergence graph and its zip draw it unchanged: each layer's
``a``/``b``/``diff`` are the *reduced* maps, its cosine distance and relative L2 are taken over
them. ``Comparison.b.outputs`` holds the run's recorded last layer for the pattern when that
layer is the model's output (digits_cnn's softmax), else nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# One layer's difference is taken exactly as compare_patterns takes it.
from layerviz.analysis.compare import Comparison, _difference
from layerviz.errors import ArgumentError, PatternError, RunError
from layerviz.extract.activations import Extraction, LayerActivation
from layerviz.extract.reduce import kept_lines, map_axes
from layerviz.record.run import Run

__all__ = ["EpochComparison", "compare_with_epoch", "probe_index"]


@dataclass(frozen=True, eq=False)
class EpochComparison(Comparison):
    """A ``Comparison`` whose layers hold *reduced* maps (``a`` is still A's full extraction:
    the article's size limit applies to the full outputs; draw the layers with no limit).

    Attributes:
        run: the run's folder; epoch: the epoch B was recorded at.
    """

    run: str = ""
    epoch: int = 0


def probe_index(run: Run, pattern) -> int:
    """Which of the run's probe patterns ``pattern`` is (the same shape and values).

    Args:
        pattern: ``(1, *input_shape)`` or ``(*input_shape)``; a list with one array per input
            for a model with several inputs.

    Raises:
        PatternError: ``pattern`` is none of the probe's; the message lists them.
    """
    parts = list(pattern) if isinstance(pattern, list | tuple) else [pattern]
    if len(parts) != len(run.header.probe):
        raise PatternError(
            f"the run's model has {len(run.header.probe)} inputs; pattern A has {len(parts)}"
        )
    probes = run.header.probe
    arrays = [np.asarray(p) for p in parts]
    if all(a.size == probe[0].size for a, probe in zip(arrays, probes, strict=True)):
        shaped = [a.reshape(probe.shape[1:]) for a, probe in zip(arrays, probes, strict=True)]
        for i in range(run.header.n_patterns):
            if all(np.array_equal(s, probe[i]) for s, probe in zip(shaped, probes, strict=True)):
                return i
    labels = ", ".join(run.header.probe_labels)
    raise PatternError(
        f"pattern A is not one of the run's probe patterns ({labels}); the run recorded only "
        "those: open one of them as A"
    )


def compare_with_epoch(run: Run, a: Extraction, pattern, epoch: int) -> EpochComparison:
    """A's extraction against the run's record of the same pattern at the end of ``epoch``.

    Args:
        run: the run (of A's model).
        a: the extraction of pattern A by the model now (``ActivationExtractor.run``).
        pattern: pattern A itself (to find it among the probe patterns).
        epoch: completed epochs (0: before training).

    Returns:
        An ``EpochComparison`` of the reduced maps (see the module docstring).

    Raises:
        PatternError: A is not one of the probe patterns.
        ArgumentError: no record at that epoch (the message gives the run's epochs).
        RunError: the run is of another model, or its record is damaged.
    """
    index = probe_index(run, pattern)
    record = run.record(run.number_at_epoch(epoch))
    by_name = {act.name: act for act in a.activations}
    layers, reduced_a, recorded_b = [], [], []
    for info, layer in zip(run.header.layers, record.layers, strict=True):
        act = by_name.get(info.name)
        if act is None or tuple(act.array.shape) != tuple(info.shape):
            got = "none" if act is None else str(tuple(act.array.shape))
            raise RunError(
                f"the run is of model {run.header.model_name!r}, not A's: its layer output "
                f"{info.name!r} is {tuple(info.shape)}, A's model gives {got}"
            )
        if layer is None or layer.maps is None:
            continue
        small = _reduced(act, info.stride)
        b = layer.maps[index].astype(np.float32)
        if small.array.shape != b.shape:
            raise RunError(
                f"run {run.folder}: layer {info.name!r} kept maps of {b.shape}, A reduced the "
                f"same way gives {small.array.shape}"
            )
        layers.append(_difference(small, b))
        reduced_a.append(small)
        recorded_b.append(LayerActivation(
            act.index, act.name, act.class_name, b, act.layer_name, act.output_index, act.role
        ))  # fmt: skip
    if not layers:
        raise ArgumentError("the run recorded no maps to compare")
    outputs_b = _recorded_outputs(a, layers[-1])
    b = Extraction(recorded_b, outputs_b)
    return EpochComparison(layers, a, b, run=str(run.folder), epoch=int(epoch))


def _reduced(act: LayerActivation, stride: int) -> LayerActivation:
    """``act`` with only the lines the run kept: every ``stride``-th along its map axes."""
    array = act.array.astype(np.float32, copy=False)
    axes, _ = map_axes(array.shape, act.role)
    for axis in axes:
        array = np.take(array, kept_lines(array.shape[axis], stride), axis=axis)
    return LayerActivation(
        act.index, act.name, act.class_name, array, act.layer_name, act.output_index, act.role
    )


def _recorded_outputs(a: Extraction, last) -> list[np.ndarray]:
    """B's prediction: the run's last recorded layer, when it is the model's whole output."""
    single = len(a.outputs) == 1 and a.outputs[0].shape == last.b.shape
    # That layer *is* the output (kept unreduced) when A's values are the output's.
    return [last.b] if single and np.array_equal(a.outputs[0], last.a) else []
