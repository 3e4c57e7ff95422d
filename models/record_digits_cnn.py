"""Record the bundled training run ``models/runs/digits_cnn/``: digits_cnn learning, epoch by epoch.

Run from the repo root::

    .venv/bin/python models/record_digits_cnn.py

It trains a fresh copy of ``digits_cnn`` exactly as ``models/train_digits_cnn.py`` does (same
data, augmentation, seeds, optimizer, epochs and batch size) with a ``layerviz.Recorder``
attached, probing with the model's five bundled samples. It writes only the run: the committed
``models/digits_cnn.keras``, its card and its samples stay as they are (retraining them would
change the model every other part of the project is tested against). TensorFlow on CPU with op
determinism on, so the run's weights follow the committed model's training; the recorded
epochs are the ones that model went through.

The dashboard's *Training run* section opens this run by default; ``layerviz runs models/runs``
lists it.
"""

from __future__ import annotations

import shutil

import _common  # sets TF log level before keras is imported
import train_digits_cnn as recipe

NAME = recipe.NAME
#: The panel side the recorded maps are kept for: conv1's 4x4 maps of 32x32 keep every 2nd line
#: (16x16 each), which keeps 26 records of five samples under the 5 MB the bundle allows.
MAX_SIDE = 68


def main() -> None:
    import keras
    import numpy as np
    from sklearn.datasets import load_digits

    from layerviz.record.recorder import Recorder
    from layerviz.record.run import Run

    folder = _common.MODELS_DIR / "runs" / NAME
    if folder.exists():
        shutil.rmtree(folder)  # a run is written into a new folder; this script owns this one
    with _common.Timer() as timer:
        rng = _common.seed_everything()
        digits = load_digits()
        x = recipe.upsample(digits.images)
        y = digits.target.astype(np.int64)
        x_train, x_test, y_train, y_test = _common.split(x, y)
        x_aug, y_aug = recipe.augment(x_train, y_train, rng)
        model = recipe.build_model()
        fit = recipe.FIT
        model.compile(
            optimizer=keras.optimizers.Adam(fit["learning_rate"]),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        recorder = Recorder(folder, max_side=MAX_SIDE)
        model.fit(
            x_aug,
            y_aug,
            epochs=fit["epochs"],
            batch_size=fit["batch"],
            shuffle=True,
            verbose=2,
            callbacks=[recorder],
        )
        if recorder.stopped:
            raise SystemExit(f"[{NAME}] recording stopped: {recorder.stopped}")
        probs = model.predict(x_test, batch_size=256, verbose=0)
        accuracy = float((probs.argmax(axis=1) == y_test).mean())
    run = Run(folder)
    print(f"[{NAME}] held-out accuracy of the recorded copy: {accuracy:.4f}")
    size = run.nbytes / 2**20
    print(f"[{NAME}] recorded {len(run)} records, {size:.2f} MB in {timer.seconds:.0f} s")


if __name__ == "__main__":
    main()
