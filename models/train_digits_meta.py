"""Train the bundled ``digits_meta``: a model with two inputs, a digit image and a vector.

Run from the repo root::

    .venv/bin/python models/train_digits_meta.py

The data is scikit-learn's ``load_digits`` (shipped with scikit-learn, nothing downloaded).
Each 8x8 digit becomes two inputs: ``image``, the digit scaled to [0, 1] and upsampled to
16x16x1, and ``meta``, a vector of 16 numbers: how much ink each of the 8 rows and each of the
8 columns of the original digit holds (sums / 128, in [0, 1]). One branch of convolutions reads
the image, a Dense layer reads the vector, and the two meet in a ``Concatenate``. 20 % of the
digits, stratified by class, are held out; the accuracy printed is on them.

Writes ``models/digits_meta.keras``, ``.json``, ``.md`` and sample patterns under
``models/patterns/digits_meta/``: one ``.npz`` per sample holding ``image`` and ``meta``.
"""

from __future__ import annotations

import _common  # sets TF log level before keras is imported
import numpy as np
from PIL import Image

NAME = "digits_meta"
SIDE = 16
EPOCHS = 30
BATCH = 64
SAMPLE_DIGITS = ("3", "4", "8")


def image_input(images_0_16: np.ndarray) -> np.ndarray:
    """(n, 8, 8) grey levels 0..16 -> (n, SIDE, SIDE, 1) float32 in [0, 1], bilinear."""
    out = np.empty((len(images_0_16), SIDE, SIDE, 1), dtype=np.float32)
    for i, img in enumerate(images_0_16):
        small = Image.fromarray((img / 16.0).astype(np.float32), mode="F")
        out[i, :, :, 0] = np.asarray(small.resize((SIDE, SIDE), Image.Resampling.BILINEAR))
    return np.clip(out, 0.0, 1.0)


def meta_input(images_0_16: np.ndarray) -> np.ndarray:
    """(n, 8, 8) -> (n, 16) float32: ink per row then per column, each in [0, 1]."""
    rows = images_0_16.sum(axis=2) / 128.0
    cols = images_0_16.sum(axis=1) / 128.0
    return np.concatenate([rows, cols], axis=1).astype(np.float32)


def build_model():
    import keras
    from keras import layers

    image = keras.Input(shape=(SIDE, SIDE, 1), name="image")
    meta = keras.Input(shape=(16,), name="meta")
    x = layers.Conv2D(8, 3, activation="relu", padding="same", name="conv1")(image)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(16, 3, activation="relu", padding="same", name="conv2")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Flatten(name="flatten")(x)
    m = layers.Dense(16, activation="relu", name="meta_dense")(meta)
    x = layers.Concatenate(name="merge")([x, m])
    x = layers.Dense(32, activation="relu", name="dense")(x)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
    return keras.Model([image, meta], outputs, name=NAME)


def main() -> None:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    with _common.Timer() as timer:
        _common.seed_everything()
        digits = load_digits()
        images, metas = image_input(digits.images), meta_input(digits.images)
        y = digits.target.astype(np.int64)
        split = train_test_split(
            images, metas, y, test_size=0.2, stratify=y, random_state=_common.SEED
        )
        img_train, img_test, meta_train, meta_test, y_train, y_test = split

        model = build_model()
        accuracy = _common.fit_and_check(
            model,
            ([img_train, meta_train], y_train),
            ([img_test, meta_test], y_test),
            name=NAME,
            learning_rate=2e-3,
            epochs=EPOCHS,
            batch=BATCH,
            bar=0.95,
            unit="digits",
        )
        probe = [img_test[:32], meta_test[:32]]
        written = [_common.save_model(model, NAME, probe=probe)]
        samples, files = write_samples(model, img_test, meta_test, y_test)
        written += files
        meta = metadata(accuracy, samples, len(y_train), len(y_test))
        written.append(_common.write_metadata(NAME, meta))
        written.append(_common.write_card(NAME, card(meta, len(y_train), len(y_test))))
    _common.report(NAME, timer.seconds, written)


def write_samples(model, img_test, meta_test, y_test):
    """For each sample digit, the first held-out one the model gets right with confidence."""
    folder = _common.patterns_dir(NAME)
    samples, files = [], []
    for digit in SAMPLE_DIGITS:
        label = int(digit)
        for idx in np.flatnonzero(y_test == label):
            p = model.predict_on_batch([img_test[idx : idx + 1], meta_test[idx : idx + 1]])[0]
            if p.argmax() == label and p[label] > 0.95:
                break
        else:  # pragma: no cover - would mean the model is far worse than printed
            raise SystemExit(f"[{NAME}] no confident held-out {digit}")
        fname = f"digit_{digit}.npz"
        np.savez(folder / fname, image=img_test[idx], meta=meta_test[idx])
        desc = f"a held-out handwritten {digit}: image (16, 16, 1) and meta (16,)"
        samples.append({"file": fname, "label": digit, "description": desc})
        files.append(folder / fname)
    return samples, files


def metadata(accuracy: float, samples: list[dict], n_train: int, n_test: int) -> dict:
    return {
        "name": NAME,
        "title": "Handwritten digits, image + ink profile",
        "description": (
            "A model with two inputs: a 16x16 handwritten digit read by two convolutions, and "
            "a vector of 16 numbers (the ink in each row and column of the original 8x8 digit) "
            "read by a Dense layer; the branches meet in a Concatenate."
        ),
        "input_shape": [SIDE, SIDE, 1],
        "inputs": [
            {"name": "image", "shape": [SIDE, SIDE, 1]},
            {"name": "meta", "shape": [16]},
        ],
        "input_scaling": (
            "image: grey levels in [0, 1], white stroke on black (sklearn digits / 16); "
            "meta: 8 row sums then 8 column sums of the 8x8 digit, divided by 128"
        ),
        "classes": [str(i) for i in range(10)],
        "accuracy": round(accuracy, 4),
        "trained_on": (
            f"scikit-learn load_digits (1797 8x8 images), {n_train} train / {n_test} "
            "held-out (stratified 20 %)"
        ),
        "default_sample": "digit_3.npz",
        "samples": samples,
    }


def card(meta: dict, n_train: int, n_test: int) -> str:
    sample_lines = _common.sample_lines(NAME, meta["samples"])
    return f"""
# {meta["title"]} (`{NAME}`)

{meta["description"]} It is the bundled example of a model with several inputs.

- **Trained on:** scikit-learn's bundled `load_digits` set (1797 handwritten digits, 8x8,
  grey levels 0..16; no download). {n_train} digits train, {n_test} are held out, stratified.
- **Held-out accuracy:** {meta["accuracy"]:.2%} on the {n_test} held-out digits.
- **Inputs:**
  - `image`: shape `(16, 16, 1)`, float32 in [0, 1], white stroke on black (the 8x8 digit
    divided by 16 and upsampled bilinearly).
  - `meta`: shape `(16,)`, float32: the ink of rows 0..7 then of columns 0..7 of the 8x8
    digit (sums of grey levels / 128, so in [0, 1]).
- **Output:** softmax over the classes `0`..`9`.
- **Architecture:** `image` -> `conv1` Conv2D(8, 3x3, ReLU) -> MaxPool -> `conv2` Conv2D(16)
  -> MaxPool -> Flatten; `meta` -> `meta_dense` Dense(16, ReLU); `merge` Concatenate ->
  Dense(32, ReLU) -> Dense(10, softmax).

## Sample patterns

Each sample is one `.npz` holding an array per input, named `image` and `meta`
(`layerviz export {NAME} --pattern digit_4.npz`, or one file per input with
`--pattern image=a.png --pattern meta=b.npy`).

{sample_lines}

## Retrain

```
.venv/bin/python models/train_{NAME}.py
```

Seeds are fixed (`keras.utils.set_random_seed(0)`, `random_state=0` for the split); the
script prints the held-out accuracy, then rewrites `models/{NAME}.keras`, `models/{NAME}.json`,
this card and the sample patterns.
"""


if __name__ == "__main__":
    main()
