"""``Recorder``: a Keras callback that records what every layer does to fixed patterns while a
model trains.

At the start of training (record 0) and at the end of every ``every``-th epoch (or every
``every_batches`` batches) it runs the probe patterns through the one-pass extractor with the
reductions done inside the compiled pass (``ActivationExtractor.extract_reduced``): only the
maps at display resolution and per-channel statistics cross to the host, never every layer's
full output. The record is written to disk as one file and dropped, so the recorder holds at
most one record in memory.

A recorder never stops training for a disk problem: a full disk or an unwritable folder stops
the recording with one warning. Patterns that do not fit the model, or a folder that holds
something else, stop ``fit`` at its start, before the first batch.
"""

from __future__ import annotations

import datetime
import json
import os
import warnings

import keras
import numpy as np

from layerviz.analysis.health import sample_patterns, seeded_patterns
from layerviz.config import version
from layerviz.errors import ArgumentError, LayervizError, PatternError
from layerviz.extract.activations import ActivationExtractor
from layerviz.extract.reduce import ReducedLayer
from layerviz.load.bundled import bundled_model_of
from layerviz.record.store import LayerInfo, LayerRecord, Record, RunHeader, RunWriter

__all__ = ["DEFAULT_MAX_SIDE", "DEFAULT_SEEDED", "Recorder", "default_probe"]

#: The panel side, in pixels, the recorded maps are kept for (``extract_reduced``'s
#: ``max_side``: a panel's montage of maps keeps every ``stride``-th line so that it fits).
#: digits_cnn's panels (at most 131 pixels) keep every pixel; a MobileNetV2 panel keeps at most
#: 160² values per pattern, so a record of 8 patterns stays in tens of MB. The grid itself
#: draws panels of up to 320 (``DISPLAY_SIDE``); pass that for every pixel it shows.
DEFAULT_MAX_SIDE = 160
#: How many seeded random patterns probe a model that has no bundled samples.
DEFAULT_SEEDED = 8


class Recorder(keras.callbacks.Callback):
    """Record activations of fixed probe patterns while a model trains, into a run on disk.

    Args:
        path: the run's folder: new or empty (a run never shares a folder).
        patterns: the probe, an array ``(n, *input_shape)`` (a list of such arrays for a model
            with several inputs); None for the model's bundled samples when it is a bundled
            model, else ``DEFAULT_SEEDED`` seeded random patterns.
        every: record at the end of every ``every``-th epoch.
        every_batches: also record every this many batches within an epoch (None: never).
        max_side: the panel side (pixels) the recorded maps are kept for: each layer's montage
            of maps keeps every ``stride``-th line so that it fits.

    Raises:
        ArgumentError: ``every``, ``every_batches`` or ``max_side`` is not a whole number ≥ 1.

    Example:
        >>> model.fit(x, y, epochs=10, callbacks=[layerviz.Recorder("runs/exp1")])
        >>> run = layerviz.Run("runs/exp1")
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        patterns=None,
        every: int = 1,
        every_batches: int | None = None,
        max_side: int = DEFAULT_MAX_SIDE,
    ):
        super().__init__()
        self.path = os.fspath(path)
        self.patterns = patterns
        self.every = _whole("every", every)
        self.every_batches = (
            None if every_batches is None else _whole("every_batches", every_batches)
        )
        self.max_side = _whole("max_side", max_side)
        self.stopped: str | None = None
        self._writer: RunWriter | None = None
        self._extractor: ActivationExtractor | None = None
        self._probe = None
        self._epoch = 0
        self._variables: list = []

    # --- Keras hooks -------------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        if self._writer is not None or self.stopped:  # a second fit appends to the same run
            return
        model = self.model
        self._extractor = ActivationExtractor(model)
        probe, source, labels = self._probe_of(model)
        try:
            reduced = self._reduce(probe)
        except PatternError as exc:
            raise PatternError(
                f"Recorder patterns do not fit model {model.name!r}: {exc}"
            ) from None
        self._probe = probe
        self._variables = _unique_variables(model)
        try:
            self._writer = RunWriter(self.path)
        except OSError as exc:
            self._stop(exc)
            return
        header = RunHeader(
            model_name=model.name,
            model_config=json.dumps(model.get_config(), default=str),
            versions={
                "layerviz": version(),
                "keras": keras.__version__,
                "backend": keras.backend.backend(),
            },
            probe=[np.asarray(p) for p in (probe if isinstance(probe, list) else [probe])],
            probe_source=source,
            probe_labels=labels,
            layers=[_info_of(layer) for layer in reduced],
            weight_paths=[v.path for v in self._variables],
            settings={
                "every": self.every,
                "every_batches": self.every_batches,
                "max_side": self.max_side,
            },
            created=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        )
        if self._guarded(self._writer.write_header, header):
            self._write(0, None, {}, reduced)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.every_batches and (batch + 1) % self.every_batches == 0:
            self.record(self._epoch, batch + 1, logs)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0:
            self.record(epoch + 1, None, logs)

    # --- recording ---------------------------------------------------------------------------

    def record(self, epoch: int, batch: int | None, logs: dict | None) -> None:
        """Take one record now (the hooks call this; a script may too, between fits)."""
        if self._writer is None or self.stopped:
            return
        self.model  # noqa: B018  (on JAX, reading .model syncs the trained state into it)
        self._write(epoch, batch, logs or {}, self._reduce(self._probe))

    def _reduce(self, probe) -> list[ReducedLayer]:
        return self._extractor.extract_reduced(probe, max_side=self.max_side).layers

    def _write(self, epoch: int, batch: int | None, logs: dict, reduced) -> None:
        record = Record(
            number=self._writer.n_records,
            epoch=epoch,
            batch=batch,
            logs={k: float(v) for k, v in logs.items() if _is_number(v)},
            layers=[_layer_record(layer) for layer in reduced],
            weight_norms=_weight_norms(self._variables),
        )
        del reduced  # the record holds float16 copies; the float32 maps can go
        self._guarded(self._writer.append, record)

    def _guarded(self, write, item) -> bool:
        try:
            write(item)
        except OSError as exc:
            self._stop(exc)
            return False
        return True

    def _stop(self, exc: OSError) -> None:
        reason = exc.strerror or str(exc)
        where = exc.filename or self.path
        self.stopped = f"{reason}: {where}"
        warnings.warn(
            f"layerviz.Recorder stopped recording into {self.path} ({self.stopped}); "
            "training goes on, and the run keeps the records written before",
            RuntimeWarning,
            stacklevel=2,
        )

    def _probe_of(self, model):
        """The probe batch, where it came from, and one label per pattern."""
        if self.patterns is not None:
            probe = self.patterns
            n = len(probe[0] if isinstance(probe, (list, tuple)) else probe)
            return probe, "given to Recorder(patterns=...)", [f"pattern {i}" for i in range(n)]
        return default_probe(model)


def default_probe(model: keras.Model):
    """A model's bundled samples when it is a bundled model they fit, else seeded patterns.

    Returns:
        ``(probe, source, labels)``: the batch, a line saying where it came from, and one
        label per pattern.
    """
    bundled = bundled_model_of(model.name)
    if bundled is not None and len(model.inputs) == 1 and bundled.samples:
        try:
            probe = sample_patterns(bundled, tuple(model.inputs[0].shape[1:]))
        except LayervizError:
            probe = None
        if probe is not None:
            names = [s.name for s in bundled.samples]
            return probe, f"the bundled samples of {bundled.name}", names
    probe = seeded_patterns(model, DEFAULT_SEEDED)
    source = f"seeded random patterns (seeds 0-{DEFAULT_SEEDED - 1})"
    return probe, source, [f"seed {i}" for i in range(DEFAULT_SEEDED)]


def _info_of(layer: ReducedLayer) -> LayerInfo:
    return LayerInfo(
        layer.index,
        layer.name,
        layer.layer_class,
        tuple(int(s) for s in layer.shape),
        int(layer.stride),
        int(layer.positions),
    )


def _layer_record(layer: ReducedLayer) -> LayerRecord:
    return LayerRecord(
        maps=np.asarray(layer.maps).astype(np.float16),
        minimum=np.asarray(layer.minimum, np.float32),
        maximum=np.asarray(layer.maximum, np.float32),
        total=np.asarray(layer.total, np.float64),
        total_sq=np.asarray(layer.total_sq, np.float64),
        zeros=np.asarray(layer.zeros, np.int64),
        nonfinite=np.asarray(layer.nonfinite, np.int64),
    )


def _unique_variables(model: keras.Model) -> list:
    """The model's weight variables, each once (a shared layer lists its own once)."""
    seen, out = set(), []
    for v in model.weights:
        if id(v) not in seen:
            seen.add(id(v))
            out.append(v)
    return out


def _weight_norms(variables: list) -> np.ndarray:
    """Each variable's L2 norm, computed on the backend (one number each crosses to the host)."""
    if not variables:
        return np.zeros(0)
    norms = [keras.ops.sqrt(keras.ops.sum(keras.ops.square(v.value))) for v in variables]
    return np.array([float(keras.ops.convert_to_numpy(n)) for n in norms], np.float64)


def _is_number(value) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _whole(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ArgumentError(f"{name} must be a whole number ≥ 1, got {value!r}")
    return int(value)
