"""Benchmark: the Recorder's cost while digits_cnn trains as ``models/train_digits_cnn.py`` does.

Two fits in one run, each from the same seed (``_common.seed_everything``) on the same
augmented data, with the same optimizer, epochs and batch size: without the recorder, then with
``layerviz.Recorder`` at its defaults (the bundled samples as the probe, every epoch). Printed:

- the fit times and their difference, over the fit time without;
- the time spent inside the recorder's own hooks (building the extractor and the first record
  at ``on_train_begin``, one record per epoch), over the fit time: the overhead measured
  directly, which the machine's drift between the two fits does not blur;
- the run's size on disk, per record.

A measurement, not a test: it exits 0 whether the 5 % target is met or not.

Usage:
    .venv/bin/python bench/recorder.py [--epochs 25]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "models")]  # run from a checkout: layerviz, the recipe

# isort: split
import _common  # noqa: E402  (sets TensorFlow's log level before keras is imported)
import train_digits_cnn as recipe  # noqa: E402
from benchlib import machine_line  # noqa: E402

import layerviz  # noqa: E402


class TimedRecorder(layerviz.Recorder):
    """The Recorder, with the seconds spent in its hooks added up."""

    seconds = 0.0
    begin_seconds = 0.0

    def _timed(self, hook, *args):
        start = time.perf_counter()
        hook(*args)
        self.seconds += time.perf_counter() - start

    def on_train_begin(self, logs=None):
        start = time.perf_counter()
        self._timed(super().on_train_begin, logs)
        self.begin_seconds = time.perf_counter() - start

    def on_train_batch_end(self, batch, logs=None):
        self._timed(super().on_train_batch_end, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._timed(super().on_epoch_end, epoch, logs)


def fit_once(data, epochs: int, folder: Path | None) -> tuple[float, TimedRecorder | None]:
    """One fit as the training script does it; returns its seconds (and the recorder)."""
    import keras

    x, y = data
    _common.seed_everything()
    model = recipe.build_model()
    model.compile(
        optimizer=keras.optimizers.Adam(recipe.FIT["learning_rate"]),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    recorder = TimedRecorder(folder) if folder is not None else None
    start = time.perf_counter()
    model.fit(
        x,
        y,
        epochs=epochs,
        batch_size=recipe.FIT["batch"],
        shuffle=True,
        verbose=0,
        callbacks=[recorder] if recorder else [],
    )
    return time.perf_counter() - start, recorder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=recipe.EPOCHS)
    args = parser.parse_args()
    load = os.getloadavg()[0]

    import numpy as np
    from sklearn.datasets import load_digits

    rng = _common.seed_everything()
    digits = load_digits()
    x = recipe.upsample(digits.images)
    y = digits.target.astype(np.int64)
    x_train, _, y_train, _ = _common.split(x, y)
    data = recipe.augment(x_train, y_train, rng)

    with tempfile.TemporaryDirectory() as tmp:
        bare, _ = fit_once(data, args.epochs, None)
        timed, recorder = fit_once(data, args.epochs, Path(tmp) / "run")
        run = layerviz.Run(Path(tmp) / "run")
        size = run.nbytes
        records = len(run)

    print(f"digits_cnn, {len(data[0])} images, {args.epochs} epochs, batch {recipe.FIT['batch']}")
    print()
    print("| measure | value |")
    print("| --- | --- |")
    print(f"| fit without the recorder | {bare:.1f} s |")
    print(f"| fit with the recorder (defaults) | {timed:.1f} s |")
    print(f"| difference / fit without | {100 * (timed - bare) / bare:+.1f} % |")
    print(f"| time in the recorder's hooks | {recorder.seconds:.2f} s |")
    per_epoch = (recorder.seconds - recorder.begin_seconds) / max(records - 1, 1)
    print(
        f"| of which on_train_begin (extractor, reduced pass compiled, record 0) "
        f"| {recorder.begin_seconds:.2f} s |"
    )
    print(f"| one epoch's record | {1000 * per_epoch:.0f} ms |")
    print(
        f"| recorder hooks / fit without | {100 * recorder.seconds / bare:.1f} % (target ≤ 5 %) |"
    )
    print(f"| records (epoch 0 + one per epoch) | {records} |")
    print(f"| run size | {size / 2**20:.2f} MB ({size / records / 1024:.0f} KiB per record) |")
    print()
    print(machine_line(load, versions=f"keras {__import__('keras').__version__}"))
    print("The machine is shared with other work: the two fit times drift with its load; the")
    print("time inside the recorder's hooks is the overhead measured directly.")


if __name__ == "__main__":
    main()
