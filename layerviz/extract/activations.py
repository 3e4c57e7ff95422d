"""Every layer's output for one pattern, from a single forward pass.

The article built one sub-model per layer and ran the pattern through each. Here the model's
graph is rebuilt once, with the public Keras API, into one multi-output model whose outputs are
every layer's output in model order, and that model is run as one compiled function.

Nested models (a Sequential or Functional model used as a layer, e.g. a backbone inside a
classifier) are expanded: their inner layers are called on the outer tensors, so they appear in
order as ``backbone/conv1``. This is why the graph is rebuilt rather than read: Keras 3 refuses
``keras.Model(outer.inputs, backbone.get_layer("conv1").output)`` ("not connected to inputs").

A layer with several outputs gives one entry per output, and every ``MultiHeadAttention`` also
gives its attention scores, tapped during the rebuild: ``layerviz.extract.taps`` names them
(``lstm:state_h``, ``mha:attention``) and says how.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import keras
import numpy as np

from layerviz.errors import ArgumentError, ModelStructureError, PatternError
from layerviz.extract.backends import forward_function
from layerviz.extract.reduce import (
    DISPLAY_SIDE,
    ReducedExtraction,
    Reduction,
    assemble,
    needs_host,
    reduce_activation,
)
from layerviz.extract.taps import Entry, LayerCall, call_layer, entries_of
from layerviz.patterns.inputs import (
    check_ids,
    fit_array,
    fit_batch,
    input_dtypes_of,
    input_shapes_of,
    integer_input_ranges,
)

__all__ = [
    "ActivationExtractor",
    "BatchExtraction",
    "Extraction",
    "LayerActivation",
    "ReducedActivation",
    "SkippedLayer",
    "extract_activations",
]

#: How many compiled sub-passes (``extract_layers``, one per set of layers) an extractor keeps.
SUB_PASSES_KEPT = 16

#: Output ranks (batch axis included) that can be seen as 2-D maps.
DISPLAYABLE_RANKS = (2, 3, 4)


@dataclass(frozen=True, eq=False)
class LayerActivation:
    """One output of one layer for one pattern (compared by identity: it holds an array).

    A layer with several outputs gives one activation per output, named by the rule in
    ``layerviz.extract.taps`` (``lstm:sequence``, ``lstm:state_h``, ``mha:attention``, ``split:0``).

    Attributes:
        index: 1-based position in the order the layers run, input layers not counted; inner
            layers of nested models continue the count. For a chain of layers such as the
            article's model it is the position in ``model.layers`` (the article's
            ``num_layer``, the input being layer 0); for branching graphs it is graph order.
            The outputs of one layer share its index.
        name: the entry's name: the layer's, prefixed by its enclosing models' names
            (``backbone/conv1``), with ``:suffix`` when the layer has several outputs.
        class_name: the layer's class, e.g. ``"Conv2D"``.
        array: the output with the batch axis removed (read-only: it shares the forward
            pass's buffer; copy it before writing into it). Attention scores are shaped
            ``(heads, query length, key length)``.
        layer_name: the layer's name without the output suffix (``name`` when left out).
        output_index: which of the layer's outputs this is (0 for single-output layers;
            attention scores are 1, as in ``return_attention_scores=True``).
        role: ``"output"``, ``"sequence"``, ``"state"`` or ``"attention"``
            (``layerviz.extract.taps.ROLES``).
    """

    index: int
    name: str
    class_name: str
    array: np.ndarray
    layer_name: str = ""
    output_index: int = 0
    role: str = "output"

    def __post_init__(self) -> None:
        if not self.layer_name:
            object.__setattr__(self, "layer_name", self.name)

    @property
    def shape(self) -> tuple[int, ...]:
        """The output's shape without the batch axis."""
        return tuple(self.array.shape)


@dataclass(frozen=True, eq=False)
class ReducedActivation(LayerActivation):
    """One pattern's output reduced for display (``ReducedExtraction.item``): ``array`` holds
    only every ``stride``-th line of each map (see ``layerviz.extract.reduce``), ``shape`` is
    the full output's, and ``map_minimum``/``map_maximum`` the finite extremes of each drawn
    map over the full output (NaN where a map has none).
    """

    full_shape: tuple = ()
    stride: int = 1
    map_minimum: np.ndarray | None = None
    map_maximum: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        """The full output's shape without the batch axis (not the kept maps')."""
        return tuple(self.full_shape)


@dataclass(frozen=True)
class SkippedLayer:
    """A layer output that cannot be drawn as 2-D maps (named as its entry would be), and why."""

    index: int
    name: str
    class_name: str
    reason: str


@dataclass(frozen=True, eq=False)
class Extraction:
    """What one forward pass gives: every drawable layer's output and the model's outputs.

    Compared by identity (``eq=False``), as arrays have no single truth value.
    """

    activations: list[LayerActivation]
    outputs: list[np.ndarray]

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays, for caches that budget bytes."""
        return sum(a.array.nbytes for a in self.activations) + sum(o.nbytes for o in self.outputs)


@dataclass(frozen=True, eq=False)
class BatchExtraction:
    """What one forward pass over a batch gives: every drawable layer's outputs, batch axis kept.

    Compared by identity (``eq=False``), as arrays have no single truth value.

    Attributes:
        layers: ``(index, name, class_name)`` of each layer, as ``ActivationExtractor.layers``.
        arrays: one array per layer shaped ``(n, *output_shape)``, in the order of ``layers``
            (read-only: they share the forward pass's buffers).
        outputs: the model's own outputs, each shaped ``(n, ...)``.
        details: ``(layer_name, output_index, role)`` of each entry of ``layers``, as
            ``LayerActivation`` has them (for a layer with several outputs).
    """

    layers: list[tuple[int, str, str]]
    arrays: list[np.ndarray]
    outputs: list[np.ndarray]
    details: list[tuple[str, int, str]]

    @property
    def size(self) -> int:
        """How many patterns the batch held."""
        return int(self.outputs[0].shape[0]) if self.outputs else 0

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays, for caches that budget bytes."""
        return sum(a.nbytes for a in self.arrays) + sum(o.nbytes for o in self.outputs)

    def item(self, i: int) -> Extraction:
        """The ``i``-th pattern's extraction, as ``ActivationExtractor.run`` gives it (views)."""
        activations = [
            LayerActivation(index, name, class_name, array[i], layer_name, output_index, role)
            for (index, name, class_name), array, (layer_name, output_index, role) in zip(
                self.layers, self.arrays, self.details, strict=True
            )
        ]
        return Extraction(activations, [out[i] for out in self.outputs])


@dataclass(frozen=True)
class _Kept:
    """Where one drawable entry's array comes from and what it is called."""

    index: int
    layer_name: str
    class_name: str
    entry: Entry


class ActivationExtractor:
    """Cuts a model into per-layer outputs once, then extracts them for any pattern.

    Building the extractor rebuilds the graph (milliseconds to a second); each ``extract``
    call is one forward pass. Keep one extractor per model and reuse it.

    Args:
        model: a built Keras 3 model (Sequential or Functional, possibly nesting others).

    Raises:
        ModelStructureError: the model was never built (it has no inputs yet).

    Example:
        >>> extractor = ActivationExtractor(model)
        >>> for act in extractor.extract(random_pattern(model, seed=0)):
        ...     print(act.index, act.name, act.shape)
    """

    def __init__(self, model: keras.Model):
        if not isinstance(model, keras.Sequential) and not _is_graph_model(model):
            raise ModelStructureError(
                f"model {model.name!r} is a subclassed keras.Model: it has no layer graph to "
                "cut; build it with the Functional API or as a Sequential"
            )
        try:
            model_inputs = list(model.inputs)
        except (AttributeError, ValueError) as exc:
            raise ModelStructureError(
                f"model {model.name!r} has not been built: give it an Input or call it on data "
                "once before extracting activations"
            ) from exc
        if not model_inputs:
            raise ModelStructureError(f"model {model.name!r} has no inputs")
        self.model = model
        try:
            self.input_shapes: list[tuple[int, ...]] = input_shapes_of(model)
        except ModelStructureError as exc:
            raise ModelStructureError(f"model {model.name!r}: {exc}") from None
        self.input_dtypes: list[np.dtype] = input_dtypes_of(model)
        self.input_names: list[str] = [_tensor_name(t, i) for i, t in enumerate(model_inputs)]
        #: Each integer input's id range (None for a float input), checked before a pass.
        self.id_ranges = integer_input_ranges(model)

        inputs = [
            keras.Input(shape=t.shape[1:], dtype=t.dtype, name=name)
            for t, name in zip(model_inputs, self.input_names, strict=True)
        ]
        taps: list[LayerCall] = []
        # The rebuilt graph takes the inputs in the model's own structure (a tensor, a list, or
        # a dict of named inputs); the tap model below takes them as a flat list.
        structured = (
            inputs[0] if len(inputs) == 1 else keras.tree.pack_sequence_as(model.input, inputs)
        )
        final = _trace_model(model, structured, "", taps)
        final = list(final) if isinstance(final, (list, tuple)) else [final]

        self.skipped: list[SkippedLayer] = []
        self._kept: list[_Kept] = []
        for index, call in enumerate(_unique_names(taps), start=1):
            self._sort_entries(index, call)
        self._layers = [(k.index, k.entry.name, k.class_name) for k in self._kept]
        # The model's own outputs ride along, so a prediction costs no second pass.
        self._n_outputs = len(final)
        # A single input is given as a tensor, not a one-item list, so calling the model on an
        # array matches its input structure (Keras warns otherwise).
        self._multi = keras.Model(
            inputs if len(inputs) > 1 else inputs[0],
            [k.entry.tensor for k in self._kept] + final,
            name="layerviz_taps",
        )
        self._forward = _compile(self._multi)
        self._reducers: dict[int | None, tuple[list[Reduction], object]] = {}
        self._subs: dict[tuple[str, ...], Callable] = {}
        self._sub_lock = threading.Lock()

    def _sort_entries(self, index: int, call: LayerCall) -> None:
        """File each output of one layer call as kept (drawable) or skipped, with why."""
        for entry in entries_of(call):
            reason = _why_not_drawable(entry.tensor)
            if reason:
                self.skipped.append(SkippedLayer(index, entry.name, call.class_name, reason))
            else:
                self._kept.append(_Kept(index, call.name, call.class_name, entry))

    @property
    def layers(self) -> list[tuple[int, str, str]]:
        """``(index, name, class_name)`` of every layer ``extract`` returns, in order."""
        return list(self._layers)

    @property
    def layer_shapes(self) -> list[tuple[int | None, ...]]:
        """Output shape (batch axis removed) of every layer in ``layers``, in the same order."""
        return [tuple(t.shape[1:]) for t in self._multi.outputs[: len(self._layers)]]

    @property
    def layer_roles(self) -> list[str]:
        """The role of every layer in ``layers`` (``layerviz.extract.taps.ROLES``: attention
        scores are ``"attention"``), in the same order."""
        return [k.entry.role for k in self._kept]

    @property
    def activation_bytes(self) -> int:
        """Bytes one pattern's drawable outputs hold at full resolution (float32), what
        :meth:`extract` keeps; 0 for outputs whose shape is known only at run time."""
        sizes = [math.prod(shape) for shape in self.layer_shapes if None not in shape]
        return 4 * sum(sizes)

    def gradient_model(self, layer_names: Sequence[str] = ()) -> keras.Model:
        """A model over the same rebuilt graph: the inputs to the named layers' outputs, then
        the model's own outputs.

        It shares the extractor's layers (and so their weights); nested models stay expanded,
        so ``tf.GradientTape`` can differentiate the outputs with respect to an inner layer of
        a backbone (``backbone/conv1``), which a model built on the original graph cannot.

        Args:
            layer_names: names as in ``layers`` (``"backbone/conv1"``); none for a model from
                the inputs to the outputs only (e.g. for gradients with respect to the input).

        Returns:
            A Functional model whose outputs are a list: one tensor per named layer, in the
            order given, then the model's outputs.

        Raises:
            ArgumentError: a name that is not one of ``layers``.
        """
        index = {name: i for i, (_, name, _) in enumerate(self._layers)}
        unknown = [name for name in layer_names if name not in index]
        if unknown:
            known = [name for _, name, _ in self._layers]
            more = f", ... ({len(known)} in all)" if len(known) > 8 else ""
            shown = ", ".join(known[:8]) + more
            raise ArgumentError(
                f"model {self.model.name!r} has no layer {unknown[0]!r} with a drawable output; "
                f"layers are: {shown}"
            )
        outputs = self._multi.outputs
        taps = [outputs[index[name]] for name in layer_names]
        return keras.Model(self._multi.input, taps + outputs[len(self._layers) :])

    def extract(self, pattern) -> list[LayerActivation]:
        """Run the pattern through the model once and return every drawable layer's output.

        What it costs: every layer's whole output is kept and copied to the host, so memory
        grows with the network, not with what is drawn (EfficientNetB7 at 600²: 3.9 GiB per
        pattern, and about 3× a bare forward pass). Views that draw and count use
        :meth:`extract_reduced`; :meth:`sub_extractor` gives a few layers at full resolution.

        Args:
            pattern: an array of the model's input shape, with or without a batch axis of 1
                (a trailing channel axis of 1 may be left out); for a model with several
                inputs, a list with one such array per input, in ``model.inputs`` order.

        Returns:
            One ``LayerActivation`` per layer, in model order (layers listed in ``skipped``
            are left out), each array without its batch axis.

        Raises:
            PatternError: the pattern does not fit the model's input(s).
        """
        return self.run(pattern).activations

    def run(self, pattern) -> Extraction:
        """Like ``extract``, and also return the model's own outputs (its prediction).

        Same arguments and errors as ``extract``; one forward pass for both.
        """
        batch = self._as_batch(pattern)
        outputs = self._checked_forward(batch)
        taps, final = outputs[: -self._n_outputs], outputs[-self._n_outputs :]
        activations = [
            LayerActivation(
                k.index,
                k.entry.name,
                k.class_name,
                np.asarray(out)[0],
                layer_name=k.layer_name,
                output_index=k.entry.output_index,
                role=k.entry.role,
            )
            for k, out in zip(self._kept, taps, strict=True)
        ]
        return Extraction(activations, [np.asarray(out)[0] for out in final])

    def run_batch(self, batch) -> list[np.ndarray]:
        """Run a batch of patterns through the same compiled forward pass as ``run``.

        Args:
            batch: an array shaped ``(n, *input_shape)`` (a trailing channel axis of 1 may
                be left out); for a model with several inputs, a list with one such array
                per input, in ``model.inputs`` order, all with the same ``n``.

        Returns:
            One array per entry of :attr:`layers`, in that order, each with the batch axis
            first: ``(n, *layer_output_shape)``. The arrays are read-only (they share the
            forward pass's buffers).

        Raises:
            PatternError: the batch does not fit the model's input(s), is empty, or its
                inputs hold different numbers of patterns.
        """
        return self.extract_batch(batch).arrays

    def extract_batch(self, batch) -> BatchExtraction:
        """Like :meth:`run_batch`, and also keep the model's own outputs (its predictions).

        Same arguments and errors as ``run_batch``; one forward pass for both. The result's
        ``item(i)`` is pattern ``i``'s ``Extraction``, as ``run`` gives it.
        """
        arrays = self._fitted_batch(batch)
        outputs = self._checked_forward(arrays)
        taps, final = outputs[: -self._n_outputs], outputs[-self._n_outputs :]
        details = [(k.layer_name, k.entry.output_index, k.entry.role) for k in self._kept]
        arrays = [np.asarray(t) for t in taps]
        return BatchExtraction(self.layers, arrays, [np.asarray(f) for f in final], details)

    def extract_reduced(self, batch, *, max_side: int | None = DISPLAY_SIDE) -> ReducedExtraction:
        """Run a batch through the model once, each layer output reduced where it is computed.

        Only the display maps (every ``stride``-th pixel the grid keeps for panels of
        ``max_side``) and per-channel statistics of each output cross to the host
        (``layerviz.extract.reduce``); the full outputs die inside the compiled pass, so memory
        follows what is drawn, not the size of the network.

        Args:
            batch: as :meth:`extract_batch` (a pattern with its batch axis of 1 is a batch).
            max_side: the panel side maps are kept for (None keeps every pixel).

        Returns:
            A ``ReducedExtraction``: one ``ReducedLayer`` per entry of :attr:`layers`, and the
            model's own outputs with their batch axis.

        Raises:
            PatternError: as :meth:`extract_batch`.
        """
        arrays = self._fitted_batch(batch)
        if not self._static_shapes():
            return _reduce_on_host(self, self._forward(_one_or_all(arrays)), max_side)
        reductions, forward = self._reducer(max_side)
        outputs = list(forward(_one_or_all(arrays)))
        layers, start, again = [], 0, []
        for k, reduction in zip(self._kept, reductions, strict=True):
            width = 11 if reduction.attention else 9
            parts = [np.asarray(o) for o in outputs[start : start + width]]
            if needs_host(parts):
                again.append(len(layers))
            layers.append(
                assemble(
                    reduction,
                    parts,
                    index=k.index,
                    name=k.entry.name,
                    layer_class=k.class_name,
                    layer_name=k.layer_name,
                    output_index=k.entry.output_index,
                )
            )
            start += width
        if again:
            self._reduce_again(arrays, layers, again, max_side)
        return ReducedExtraction(layers, [np.asarray(o) for o in outputs[start:]], max_side)

    def _reduce_again(self, arrays, layers: list, again: list[int], max_side) -> None:
        """Reduce the outputs that hold a NaN or an Inf on the host, with their counts
        (rare: a broken model): their full outputs come from a sub-pass of those layers."""
        names = [layers[i].name for i in again]
        full = self._sub(tuple(names))(_one_or_all(arrays))
        for i, array in zip(again, full, strict=False):
            layer = layers[i]
            layers[i] = replace(
                reduce_activation(
                    np.asarray(array),
                    max_side=max_side,
                    role=layer.role,
                    index=layer.index,
                    name=layer.name,
                    layer_class=layer.layer_class,
                ),
                layer_name=layer.layer_name,
                output_index=layer.output_index,
            )

    def _static_shapes(self) -> bool:
        return all(None not in shape for shape in self.layer_shapes)

    def _reducer(self, max_side: int | None):
        """The reductions and the compiled pass for ``max_side`` (built on first use)."""
        if max_side not in self._reducers:
            taps = self._multi.outputs[: len(self._kept)]
            reductions, outputs = [], []
            for k, tensor in zip(self._kept, taps, strict=True):
                reduction = Reduction(tuple(tensor.shape[1:]), k.entry.role, max_side)
                reductions.append(reduction)
                outputs.extend(reduction(tensor))
            final = self._multi.outputs[len(self._kept) :]
            model = keras.Model(self._multi.input, outputs + final, name="layerviz_reduced")
            self._reducers[max_side] = (reductions, _compile(model))
        return self._reducers[max_side]

    def sub_extractor(self, layer_names: Sequence[str]) -> Callable[..., list[np.ndarray]]:
        """A compiled pass over the same graph that returns only the named layers' full outputs
        (then the model's outputs): full resolution on demand for one layer or one page.

        Returns:
            A function of a batch (as :meth:`extract_batch` takes it) returning the named
            layers' outputs, batch axis first, in the order given, then the model's outputs.

        Raises:
            ArgumentError: a name that is not one of :attr:`layers`.
        """
        self.gradient_model(list(layer_names))  # checks the names
        index = {name: i for i, (_, name, _) in enumerate(self._layers)}
        taps = self._multi.outputs[: len(self._layers)]
        wanted = [taps[index[name]] for name in layer_names]
        # Every other layer output still gets a consumer (its first value), as in the full
        # pass where each is an output: otherwise the graph optimiser may fuse across layers
        # that nobody reads (two Rescalings into one multiply, a conv into its batch norm),
        # and the named outputs would differ from ``extract``'s in their last bits.
        named = set(layer_names)
        probes = [
            keras.ops.slice(t, [0] * len(t.shape), [1] * len(t.shape))
            for t, (_, name, _) in zip(taps, self._layers, strict=True)
            if name not in named
        ]
        final = self._multi.outputs[len(self._layers) :]
        model = keras.Model(self._multi.input, wanted + final + probes, name="layerviz_sub")
        forward = _compile(model)
        n = len(layer_names) + len(final)

        def run(batch) -> list[np.ndarray]:
            return list(forward(_one_or_all(self._fitted_batch(batch))))[:n]

        return run

    def predict_batch(self, batch) -> list[np.ndarray]:
        """The model's own outputs for a batch, no layer output kept: the same numbers as
        :meth:`extract_batch`'s ``outputs`` (the same graph), at about a bare pass's cost.

        Raises:
            PatternError: as :meth:`extract_batch`.
        """
        return self._sub(())(batch)

    def _sub(self, names: tuple[str, ...]):
        """The compiled sub-pass for ``names`` (kept among the last ``SUB_PASSES_KEPT``)."""
        with self._sub_lock:
            run = self._subs.pop(names, None) or self.sub_extractor(names)
            self._subs[names] = run  # most recently used last
            while len(self._subs) > SUB_PASSES_KEPT:
                self._subs.pop(next(iter(self._subs)))
        return run

    def extract_layers(self, pattern, names: Sequence[str]) -> list[LayerActivation]:
        """Full resolution on demand: only the named layers' outputs for one pattern.

        The pass returns only those outputs (the rest die inside it), so it holds one page's
        layers instead of the whole network's. The compiled passes are kept per set of names
        (the last :data:`SUB_PASSES_KEPT`).

        Args:
            pattern: as :meth:`extract`.
            names: entries of :attr:`layers`, in the order wanted.

        Returns:
            One ``LayerActivation`` per name, as :meth:`extract` gives it.

        Raises:
            ArgumentError: a name that is not one of :attr:`layers`.
            PatternError: the pattern does not fit the model's input(s).
        """
        names = tuple(names)
        batch = self._as_batch(pattern)
        arrays = self._sub(names)(batch)[: len(names)]
        kept = {k.entry.name: k for k in self._kept}
        return [
            LayerActivation(
                kept[name].index,
                name,
                kept[name].class_name,
                array[0],
                layer_name=kept[name].layer_name,
                output_index=kept[name].entry.output_index,
                role=kept[name].entry.role,
            )
            for name, array in zip(names, arrays, strict=True)
        ]

    def _fitted_batch(self, batch) -> list[np.ndarray]:
        parts = self._per_input(batch, "batch")
        pairs = zip(parts, self.input_shapes, self.input_dtypes, strict=True)
        arrays = [fit_batch(p, shape, dtype) for p, shape, dtype in pairs]
        sizes = {len(a) for a in arrays}
        if len(sizes) > 1:
            counts = ", ".join(str(len(a)) for a in arrays)
            raise PatternError(f"the inputs' batches hold different numbers of patterns: {counts}")
        check_ids(arrays, self.input_names, self.id_ranges)
        return arrays

    def _checked_forward(self, arrays: list[np.ndarray]) -> list:
        """The forward pass, ids checked first; a failure on integer inputs is a PatternError
        that names each one's values and range, not the backend's own error."""
        check_ids(arrays, self.input_names, self.id_ranges)
        try:
            return list(self._forward(_one_or_all(arrays)))
        except Exception as exc:
            ints = [
                f"{name!r} ids {int(a.min())}..{int(a.max())}"
                + (f" (expected [0, {r.high}): {r.why})" if r else "")
                for a, name, r in zip(arrays, self.input_names, self.id_ranges, strict=True)
                if a.dtype.kind == "i" and a.size
            ]
            if not ints:
                raise
            raise PatternError(
                f"the model refused this pattern ({type(exc).__name__}); integer inputs: "
                + "; ".join(ints)
            ) from None

    def _as_batch(self, pattern) -> list[np.ndarray]:
        parts = self._per_input(pattern, "pattern")
        pairs = zip(parts, self.input_shapes, self.input_dtypes, strict=True)
        return [fit_array(np.asarray(p), shape, dtype) for p, shape, dtype in pairs]

    def _per_input(self, pattern, what: str) -> list:
        """``pattern`` split into one part per model input (a list for several inputs)."""
        n = len(self.input_shapes)
        if n > 1:
            if not isinstance(pattern, (list, tuple)) or len(pattern) != n:
                got = f"{len(pattern)} arrays" if isinstance(pattern, (list, tuple)) else "1 array"
                raise PatternError(
                    f"model {self.model.name!r} has {n} inputs ({', '.join(self.input_names)}) "
                    f"with shapes {', '.join(map(str, self.input_shapes))}; got {got}: "
                    f"give one {what} per input, in order"
                )
            return list(pattern)
        if isinstance(pattern, (list, tuple)) and len(pattern) == 1:
            pattern = pattern[0]
        return [pattern]


def _one_or_all(arrays: list[np.ndarray]):
    """A single input's array alone (as the model's input structure wants it), else the list."""
    return arrays if len(arrays) > 1 else arrays[0]


def _reduce_on_host(extractor: ActivationExtractor, outputs, max_side) -> ReducedExtraction:
    """The reduction in numpy after a full pass: for outputs whose shape is only known at run
    time (a sequence of any length), where the compiled reductions cannot be built."""
    outputs = list(outputs)
    n = len(extractor._kept)
    layers = [
        replace(
            reduce_activation(
                np.asarray(out),
                max_side=max_side,
                role=k.entry.role,
                index=k.index,
                name=k.entry.name,
                layer_class=k.class_name,
            ),
            layer_name=k.layer_name,
            output_index=k.entry.output_index,
        )
        for k, out in zip(extractor._kept, outputs[:n], strict=True)
    ]
    return ReducedExtraction(layers, [np.asarray(o) for o in outputs[n:]], max_side)


def extract_activations(model: keras.Model, pattern) -> list[LayerActivation]:
    """One-call form of ``ActivationExtractor(model).extract(pattern)``."""
    return ActivationExtractor(model).extract(pattern)


def _trace_model(model: keras.Model, inputs, prefix: str, taps: list[LayerCall]):
    """Call ``model``'s layers on ``inputs`` one by one, recording each call in ``taps``.

    Sequential models list their layers, so they are called in turn. Functional models are
    re-called through ``clone_model``'s call hook: ``clone_function=lambda l: l`` keeps the
    original layers (and so their weights), and ``call_function`` sees every layer call in graph
    order, which is where nested models get expanded.
    """
    if isinstance(model, keras.Sequential):
        x = inputs
        for layer in model.layers:
            x = _call(layer, (x,), {}, prefix, taps)
        return x

    def call(layer, *args, **kwargs):
        if isinstance(layer, keras.Model):
            # Extraction always runs in inference mode, and masks are recomputed by the inner
            # layers, so only other keyword arguments stop a nested model from being expanded.
            kwargs = {k: v for k, v in kwargs.items() if k not in ("training", "mask")}
        if isinstance(layer, keras.Model) and kwargs:
            raise ModelStructureError(
                f"nested model {layer.name!r} is called with arguments {sorted(kwargs)}; "
                "only plain calls can be expanded"
            )
        return _call(layer, args, kwargs, prefix, taps)

    clone = keras.models.clone_model(
        model, input_tensors=inputs, clone_function=lambda layer: layer, call_function=call
    )
    outputs = clone.outputs
    return outputs[0] if len(outputs) == 1 else outputs


def _expand_functional(model: keras.Model, inputs, prefix: str, taps: list[LayerCall]):
    """Expand a nested Functional model called on ``inputs`` (tensors of the outer graph).

    ``clone_model`` only rebuilds a Functional model on true ``Input`` tensors; a backbone that
    comes after other layers (a ``Rescaling``, say) is called on intermediate tensors. So its
    layers are traced on fresh inputs into one "tapper" model whose outputs are every inner
    layer's output plus the backbone's own, and the tapper is called on the outer tensors.
    """
    fresh = keras.tree.map_structure(
        lambda t: keras.Input(batch_shape=t.shape, dtype=t.dtype), model.input
    )
    inner: list[LayerCall] = []
    outputs = _trace_model(model, fresh, prefix, inner)
    # Tapped attention scores travel as one more tensor after the call's own output(s).
    groups = [keras.tree.flatten(tap.output) + _scores_of(tap) for tap in inner]
    final = keras.tree.flatten(outputs)
    tapper = keras.Model(fresh, [t for group in groups for t in group] + final)
    results = tapper(inputs)
    results = list(results) if isinstance(results, (list, tuple)) else [results]
    start = 0
    for tap, group in zip(inner, groups, strict=True):
        got = results[start : start + len(group)]
        if tap.scores is not None:
            tap.scores, got = got[-1], got[:-1]
        tap.output = keras.tree.pack_sequence_as(tap.output, got)
        start += len(group)
        taps.append(tap)
    return keras.tree.pack_sequence_as(outputs, results[start:])


def _call(layer, args: tuple, kwargs: dict, prefix: str, taps: list[LayerCall]):
    """Call one layer (expanding it when it is itself a model) and record its output."""
    if isinstance(layer, keras.Model):
        inputs = args[0] if len(args) == 1 else list(args)
        inner_prefix = f"{prefix}{layer.name}/"
        if isinstance(layer, keras.Sequential):
            return _trace_model(layer, inputs, inner_prefix, taps)
        return _expand_functional(layer, inputs, inner_prefix, taps)
    output, scores = call_layer(layer, args, kwargs)
    # Only layers are listed, as in ``model.layers``: graph operations that are not layers
    # (a mask's ``not_equal``, a bare ``keras.ops`` call) run but keep the indices aligned.
    if isinstance(layer, keras.layers.Layer):
        name, class_name = prefix + layer.name, type(layer).__name__
        taps.append(LayerCall(name, class_name, layer, output, scores))
    return output


def _scores_of(call: LayerCall) -> list:
    return [] if call.scores is None else [call.scores]


def _is_graph_model(model) -> bool:
    """True for Functional models (the ones ``clone_model`` can rebuild), by public means.

    A Functional model (or a subclass built with ``super().__init__(inputs, outputs)``) lists
    its ``outputs``; a subclassed model has none. Not ``get_config``: it raises ``TypeError``
    for a model whose last layer's activation was set to ``None`` after building (keras.io's
    Grad-CAM example does that), and on JAX or PyTorch it imports TensorFlow when installed.
    """
    return isinstance(getattr(model, "outputs", None), list) and bool(model.outputs)


def _why_not_drawable(output) -> str | None:
    rank = len(output.shape)
    if rank not in DISPLAYABLE_RANKS:
        return (
            f"output shape {tuple(output.shape)} has rank {rank}; only ranks 2-4 "
            "(vectors, 2-D maps, stacks of 2-D maps) can be drawn"
        )
    return None


def _unique_names(taps: list[LayerCall]) -> list[LayerCall]:
    """Give repeated calls of one shared layer distinct names: ``dense``, ``dense@2``, ..."""
    seen: Counter[str] = Counter()
    for tap in taps:
        seen[tap.name] += 1
        if seen[tap.name] > 1:
            tap.name = f"{tap.name}@{seen[tap.name]}"
    return taps


def _tensor_name(tensor, i: int) -> str:
    name = getattr(tensor, "name", None)
    return str(name) if name else f"input_{i}"


def _compile(model: keras.Model):
    """The running backend's compiled forward pass of ``model``, numpy out (read-only):
    ``layerviz.extract.backends.forward_function`` (``tf.function``, ``jax.jit`` over
    ``stateless_call``, or the eager call under ``torch.no_grad``)."""
    return forward_function(model)
