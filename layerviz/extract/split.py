"""Cut a model in two at one layer: ``head`` (inputs -> that layer) and ``tail`` (-> outputs).

Grad-CAM needs the gradient of the class score with respect to an inner layer's output. A tape
(TensorFlow) or autograd (PyTorch) can watch an intermediate tensor; ``jax.grad`` differentiates
a function of its arguments only. So the model is cut into two Functional models, each an
ordinary function of its inputs on every backend::

    head = keras.Model(inputs, [h, *skips])
    tail = keras.Model([h, *skips], outputs)

``skips`` are the tensors a connection carries across the cut (a ResNet's shortcut, a U-Net's
encoder maps): computed before ``h`` and used after it, they enter the tail as extra inputs.
Holding them fixed, ``d tail / d h`` is the full derivative of the outputs with respect to ``h``,
since nothing before the cut depends on ``h``.

Only the public Keras API is used: the graph is walked with ``keras.models.clone_model``'s
``call_function`` hook (which sees every layer call in graph order), nested models are expanded
as ``ActivationExtractor`` expands them (so ``backbone/conv5`` names an inner layer), and the
two halves are Functional models built from intermediate tensors, which Keras 3 supports
(``keras.Model(processed, conv)`` in ``keras/src/models/functional.py``'s docstring).

Example:
    >>> head, tail = split_at(model, "conv2")
    >>> h, *skips = head(x)
    >>> y = tail([h, *skips])            # == model(x)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import keras

from layerviz.errors import ArgumentError, ModelStructureError
from layerviz.extract.activations import _is_graph_model
from layerviz.extract.logits import without_final_activation
from layerviz.extract.taps import LayerCall, entries_of

__all__ = ["Cut", "cut_at", "rebuilt", "split_at", "trace"]


@dataclass
class _Op:
    """One operation call in the rebuilt graph, in graph order."""

    name: str | None  # the layer's name as the extractor lists it; None for bare ops
    layer: object
    inputs: list = field(default_factory=list)
    output: object = None
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Cut:
    """Both halves of a split model and what crosses the cut.

    Attributes:
        head: inputs -> ``[h, *skips]``.
        tail: ``[h, *skips]`` -> the model's outputs (their structure kept).
        layer: the entry's name the model was cut at.
        skip_count: how many tensors besides ``h`` cross the cut.
    """

    head: keras.Model
    tail: keras.Model
    layer: str
    skip_count: int


def split_at(
    model: keras.Model, layer_name: str, *, logits: bool = False
) -> tuple[keras.Model, keras.Model]:
    """Cut ``model`` after the layer ``layer_name`` into ``(head, tail)``.

    Args:
        model: a built Sequential or Functional model (nested models allowed).
        layer_name: the layer's name as ``ActivationExtractor.layers`` lists it
            (``backbone/conv5``, ``dense@2`` for a shared layer's second call,
            ``lstm:sequence`` for one output of a layer with several).
        logits: the tail ends before the model's final softmax / sigmoid (see
            ``layerviz.extract.logits``), so it gives class scores, not probabilities.

    Returns:
        ``head = keras.Model(inputs, [h, *skips])`` and ``tail = keras.Model([h, *skips],
        outputs)``; ``tail(head(x))`` equals ``model(x)``.

    Raises:
        ArgumentError: no layer of that name, or the outputs do not depend on it.
        ModelStructureError: the model has no layer graph (subclassed, or never built).
    """
    cut = cut_at(model, layer_name, logits=logits)
    return cut.head, cut.tail


def cut_at(model: keras.Model, layer_name: str, *, logits: bool = False) -> Cut:
    """``split_at`` with what crossed the cut (``Cut``); same arguments and errors."""
    inputs, outputs, ops = trace(model, logits=logits)
    index, h = _find(model, ops, layer_name)
    produced = {id(t): i for i, op in enumerate(ops) for t in keras.tree.flatten(op.output)}
    skips: list = []
    seen = {id(h)}
    uses_h = False
    after = [t for op in ops[index + 1 :] for t in op.inputs] + keras.tree.flatten(outputs)
    for tensor in after:
        if tensor is h:
            uses_h = True
        elif produced.get(id(tensor), -1) <= index and id(tensor) not in seen:
            seen.add(id(tensor))
            skips.append(tensor)
    if not uses_h:
        raise ArgumentError(f"the outputs of model {model.name!r} do not depend on {layer_name!r}")
    head = keras.Model(inputs, [h, *skips], name=f"{model.name}_head")
    tail = keras.Model([h, *skips], outputs, name=f"{model.name}_tail")
    return Cut(head, tail, layer_name, len(skips))


def trace(model: keras.Model, *, logits: bool = False):
    """Fresh inputs, the outputs rebuilt on them, and every operation call in graph order.

    Returns:
        ``(inputs, outputs, ops)``: the inputs in the model's structure, its outputs called
        on them (nested models expanded; with ``logits``, before the final softmax or
        sigmoid), and one ``_Op`` per operation call.
    """
    if not isinstance(model, keras.Sequential) and not _is_graph_model(model):
        raise ModelStructureError(
            f"model {model.name!r} is a subclassed keras.Model: it has no layer graph to cut"
        )
    try:
        model_inputs = list(model.inputs)
    except (AttributeError, ValueError) as exc:
        raise ModelStructureError(f"model {model.name!r} has not been built") from exc
    fresh = [keras.Input(batch_shape=t.shape, dtype=t.dtype) for t in model_inputs]
    structured = fresh[0] if len(fresh) == 1 else keras.tree.pack_sequence_as(model.input, fresh)
    ops: list[_Op] = []
    outputs = _run(model, structured, "", ops)
    counts: Counter[str] = Counter()
    for op in ops:  # a shared layer's later calls: dense@2, dense@3 (as the extractor names them)
        if op.name is not None:
            counts[op.name] += 1
            if counts[op.name] > 1:
                op.name = f"{op.name}@{counts[op.name]}"
    if logits:
        outputs, consumed = without_final_activation(outputs, ops)
        if consumed:
            ops.append(_Op(None, None, list(consumed), outputs))
    return structured, outputs, ops


def _run(model, inputs, prefix: str, ops: list[_Op]):
    """Call ``model``'s operations on ``inputs`` one by one, recording each in ``ops``.

    A Sequential model lists its layers. A Functional model's calls are first recorded on
    fresh inputs through ``clone_model``'s hook (which only rebuilds on ``Input`` tensors),
    then replayed on ``inputs``, so a nested model's layers join the outer graph.
    """
    if isinstance(model, keras.Sequential):
        x = inputs
        for layer in model.layers:
            x = _call(layer, (x,), {}, prefix, ops)
        return x
    fresh = keras.tree.map_structure(
        lambda t: keras.Input(batch_shape=t.shape, dtype=t.dtype), model.input
    )
    recorded = []

    def record(op, *args, **kwargs):
        out = op(*args, **kwargs)
        recorded.append((op, args, kwargs, out))
        return out

    clone = keras.models.clone_model(
        model, input_tensors=fresh, clone_function=lambda layer: layer, call_function=record
    )
    mapping = {
        id(f): t for f, t in zip(keras.tree.flatten(fresh), keras.tree.flatten(inputs), strict=True)
    }

    def replace(structure):
        return keras.tree.map_structure(lambda v: mapping.get(id(v), v), structure)

    for op, args, kwargs, out in recorded:
        if isinstance(op, keras.Model):
            kwargs = {k: v for k, v in kwargs.items() if k not in ("training", "mask")}
        new = _call(op, replace(args), replace(kwargs), prefix, ops)
        for old, now in zip(keras.tree.flatten(out), keras.tree.flatten(new), strict=True):
            mapping[id(old)] = now
    return replace(clone.output)


def _call(op, args: tuple, kwargs: dict, prefix: str, ops: list[_Op]):
    """Call one operation (expanding a nested model) and record it."""
    if isinstance(op, keras.Model):
        inputs = args[0] if len(args) == 1 else list(args)
        return _run(op, inputs, f"{prefix}{op.name}/", ops)
    output = op(*args, **kwargs)
    name = prefix + op.name if isinstance(op, keras.layers.Layer) else None
    tensors = [t for t in keras.tree.flatten((args, kwargs)) if isinstance(t, keras.KerasTensor)]
    ops.append(_Op(name, op, tensors, output, args, kwargs))
    return output


def _find(model, ops: list[_Op], layer_name: str):
    """The index of the call that gives ``layer_name`` and that entry's tensor."""
    for i, op in enumerate(ops):
        if op.name is None or not layer_name.startswith(op.name):
            continue
        call = LayerCall(op.name, type(op.layer).__name__, op.layer, op.output)
        for entry in entries_of(call):
            if entry.name == layer_name:
                return i, entry.tensor
    names = [op.name for op in ops if op.name is not None]
    more = f", ... ({len(names)} in all)" if len(names) > 8 else ""
    raise ArgumentError(
        f"model {model.name!r} has no layer {layer_name!r}; layers are: "
        f"{', '.join(names[:8])}{more}"
    )


def rebuilt(model: keras.Model, *, logits: bool = False) -> keras.Model:
    """``model``'s graph rebuilt flat (nested models expanded), optionally ending at its logits.

    The same layers (and so the same weights); ``rebuilt(model)(x)`` equals ``model(x)``.

    Raises:
        ModelStructureError: the model has no layer graph (subclassed, or never built).
    """
    inputs, outputs, _ = trace(model, logits=logits)
    return keras.Model(inputs, outputs, name=f"{model.name}_rebuilt")
