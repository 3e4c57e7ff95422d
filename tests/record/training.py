"""A tiny CNN trained for a few epochs with a recorder, shared by the record tests and run as a
child process by them (``python training.py MODE FOLDER``) for the kill and JAX tests.

Modes: ``hang`` records until record ``HANG_AT``, stops half-way through writing that record's
bytes (the file open) and waits to be killed; ``check`` trains, then prints as JSON how far the
recorded maps of each epoch are from the extraction on that epoch's weights.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

if __name__ == "__main__":  # run as a child: layerviz from this checkout, tests/ on the path
    sys.path[:0] = [str(Path(__file__).resolve().parents[2]), str(Path(__file__).parents[1])]

from layerviz import _quiet  # noqa: F401  (before keras)

# isort: split
import keras
import numpy as np

from layerviz.extract.activations import ActivationExtractor
from layerviz.extract.reduce import reduce_activation
from layerviz.record.recorder import Recorder

EPOCHS = 5
KILL_EPOCH = 3  # the epoch after which KillChannel silences CHANNEL of layer "c1"
CHANNEL = 1
HANG_AT = 3
MAX_SIDE = 16  # c1's panel (2×2 maps of 12×12) keeps every 2nd line: the reduction is exercised


def make_model() -> keras.Model:
    inputs = keras.Input((12, 12, 1), name="image")
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="c1")(inputs)
    x = keras.layers.MaxPooling2D(2, name="p1")(x)
    x = keras.layers.Conv2D(6, 3, activation="relu", name="c2")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="out")(x)
    return keras.Model(inputs, outputs, name="tiny_trained")


def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.random((96, 12, 12, 1), dtype=np.float32)
    y = (x[:, :6].mean(axis=(1, 2, 3)) > x[:, 6:].mean(axis=(1, 2, 3))).astype(np.int64)
    return x, y + (x.mean(axis=(1, 2, 3)) > 0.5)


class KillChannel(keras.callbacks.Callback):
    """Set ``c1``'s bias of ``CHANNEL`` very negative after epoch ``KILL_EPOCH``: a dead ReLU."""

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == KILL_EPOCH:
            bias = self.model.get_layer("c1").bias
            value = keras.ops.convert_to_numpy(bias).copy()
            value[CHANNEL] = -1e4
            bias.assign(value)


class KeepWeights(keras.callbacks.Callback):
    """Keep a copy of the weights at the start (epoch 0) and after every epoch."""

    def __init__(self):
        super().__init__()
        self.by_epoch: dict[int, list[np.ndarray]] = {}

    def on_train_begin(self, logs=None):
        self.by_epoch[0] = [w.copy() for w in self.model.get_weights()]

    def on_epoch_end(self, epoch, logs=None):
        self.by_epoch[epoch + 1] = [w.copy() for w in self.model.get_weights()]


def train(folder, extra=(), recorder: Recorder | None = None, epochs: int = EPOCHS) -> Recorder:
    """Fit the tiny CNN with ``extra`` callbacks before the recorder; returns the recorder."""
    keras.utils.set_random_seed(0)
    model = make_model()
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
    recorder = recorder or Recorder(folder, max_side=MAX_SIDE)
    x, y = data()
    model.fit(x, y, epochs=epochs, batch_size=32, verbose=0, callbacks=[*extra, recorder])
    return recorder


def distances(run, kept: KeepWeights) -> dict[int, dict[str, float]]:
    """Per epoch, the largest difference between the recorded maps and statistics and the ones
    the extractor gives on that epoch's weights, reduced by ``reduce_activation``."""
    model = make_model()
    extractor = ActivationExtractor(model)
    probe = run.header.probe[0]
    out = {}
    for stamp in run.stamps:
        model.set_weights(kept.by_epoch[stamp.epoch])
        record = run.record(stamp.number)
        full = extractor.extract_batch(probe).arrays
        maps = stats = 0.0
        for array, layer in zip(full, record.layers, strict=True):
            want = reduce_activation(array, max_side=MAX_SIDE)
            maps = max(maps, _relative(layer.maps, want.maps))
            for name in ("minimum", "maximum", "total"):
                stats = max(stats, _relative(getattr(layer, name), getattr(want, name)))
        out[stamp.epoch] = {"maps": maps, "stats": stats}
    return out


def _relative(got, want) -> float:
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if got.shape != want.shape:
        return float("inf")
    return float(np.max(np.abs(got - want) / (np.abs(want) + 1e-3), initial=0.0))


def _hang_in_record(folder: str) -> None:
    """Record until record HANG_AT, then stop half-way through writing its bytes, and wait."""
    import time

    from layerviz.record import store

    write = store._write_bytes

    def stalling(path, data):
        if path.name == f".{store.record_name(HANG_AT)}.partial":
            with open(path, "wb") as raw:
                raw.write(data[: len(data) // 2])
                raw.flush()
            Path(folder, "..", "hanging").resolve().write_text("mid-write")
            time.sleep(600)
        write(path, data)

    store._write_bytes = stalling
    train(folder, epochs=EPOCHS)


def _check(folder: str) -> None:
    from layerviz.record.run import Run

    kept = KeepWeights()
    train(folder, extra=[KillChannel(), kept])
    run = Run(folder)
    curves = {c.info.name: c.dead.tolist() for c in run.curves()}
    result = {
        "backend": keras.backend.backend(),
        "epochs": run.epochs,
        "dead_c1": curves["c1"],
        "distances": distances(run, kept),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    mode, target = sys.argv[1], sys.argv[2]
    {"hang": _hang_in_record, "check": _check}[mode](target)
