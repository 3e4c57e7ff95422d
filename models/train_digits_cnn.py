"""Train the bundled ``digits_cnn``: a small CNN on scikit-learn's handwritten digits.

Run from the repo root::

    .venv/bin/python models/train_digits_cnn.py

scikit-learn's ``load_digits`` ships with scikit-learn (1797 images, 8x8, grey levels 0..16),
so nothing is downloaded. Each image is scaled to [0, 1] (``/ 16``) and upsampled to 32x32
with bilinear interpolation, giving white strokes on a black background. 20 % of the images,
stratified by class, are held out and never trained on; the accuracy printed is on them.

Writes ``models/digits_cnn.keras``, ``models/digits_cnn.json``, ``models/digits_cnn.md`` and
sample patterns under ``models/patterns/digits_cnn/`` (held-out digits the model gets right).
"""

from __future__ import annotations

import _common  # sets TF log level before keras is imported
import numpy as np
from PIL import Image

NAME = "digits_cnn"
SIDE = 32
EPOCHS = 25
BATCH = 64
#: How the model is fit, and the least held-out accuracy it may ship with.
FIT = dict(learning_rate=1e-3, epochs=EPOCHS, batch=BATCH, bar=0.97, unit="images")
AUG_COPIES = 4  # shifted copies of each training image, on top of the original
MAX_SHIFT = 3  # pixels, in the 32x32 frame (one source pixel is 4 px)
PNG_DIGITS = ("0", "3", "7", "9")
NPY_DIGIT = "5"


def upsample(images_0_16: np.ndarray) -> np.ndarray:
    """(n, 8, 8) grey levels 0..16 -> (n, SIDE, SIDE, 1) float32 in [0, 1], bilinear."""
    out = np.empty((len(images_0_16), SIDE, SIDE, 1), dtype=np.float32)
    for i, img in enumerate(images_0_16):
        small = Image.fromarray((img / 16.0).astype(np.float32), mode="F")
        big = small.resize((SIDE, SIDE), Image.Resampling.BILINEAR)
        out[i, :, :, 0] = np.asarray(big, dtype=np.float32)
    return np.clip(out, 0.0, 1.0)


def shift_image(img: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Shift an (h, w, 1) image by whole pixels, filling with black (no wrap-around)."""
    out = np.zeros_like(img)
    h, w = img.shape[:2]
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[yd, xd] = img[ys, xs]
    return out


def augment(x: np.ndarray, y: np.ndarray, rng: np.random.Generator):
    """The originals plus ``AUG_COPIES`` randomly shifted copies of each, shuffled."""
    xs, ys = [x], [y]
    for _ in range(AUG_COPIES):
        shifts = rng.integers(-MAX_SHIFT, MAX_SHIFT + 1, size=(len(x), 2))
        xs.append(
            np.stack([shift_image(img, dy, dx) for img, (dy, dx) in zip(x, shifts, strict=True)])
        )
        ys.append(y)
    x_all, y_all = np.concatenate(xs), np.concatenate(ys)
    order = rng.permutation(len(x_all))
    return x_all[order], y_all[order]


def build_model():
    import keras
    from keras import layers

    inputs = keras.Input(shape=(SIDE, SIDE, 1), name="input_layer")
    x = layers.Conv2D(16, 3, activation="relu", padding="same", name="conv1")(inputs)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(32, 3, activation="relu", padding="same", name="conv2")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Conv2D(32, 3, activation="relu", padding="same", name="conv3")(x)
    x = layers.MaxPooling2D(2, name="pool3")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(64, activation="relu", name="dense")(x)
    x = layers.Dropout(0.3, name="dropout")(x)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name=NAME)


def to_png_bytes_roundtrip(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(32, 32, 1) float in [0, 1] -> (uint8 (32, 32), float32 (32, 32, 1) as read back)."""
    u8 = np.round(img[:, :, 0] * 255.0).astype(np.uint8)
    return u8, (u8.astype(np.float32) / 255.0)[:, :, None]


def main() -> None:
    from sklearn.datasets import load_digits

    with _common.Timer() as timer:
        rng = _common.seed_everything()

        digits = load_digits()
        x = upsample(digits.images)
        y = digits.target.astype(np.int64)
        x_train, x_test, y_train, y_test = _common.split(x, y)
        x_aug, y_aug = augment(x_train, y_train, rng)
        model = build_model()
        accuracy, written = _common.train_and_save(model, (x_aug, x_test, y_aug, y_test), NAME, FIT)

        # Samples: for each chosen digit, the first held-out image the model gets right with
        # high confidence after the 8-bit PNG round trip.
        folder = _common.patterns_dir(NAME)
        samples = []
        for digit in (*PNG_DIGITS, NPY_DIGIT):
            label = int(digit)
            for idx in np.flatnonzero(y_test == label):
                u8, back = to_png_bytes_roundtrip(x_test[idx])
                p = model.predict_on_batch(back[None])[0]
                if p.argmax() == label and p[label] > 0.95:
                    break
            else:  # pragma: no cover - would mean the model is far worse than printed
                raise SystemExit(f"[{NAME}] no confident held-out {digit}")
            if digit == NPY_DIGIT:
                fname = f"digit_{digit}.npy"
                np.save(folder / fname, x_test[idx].astype(np.float32))
                desc = f"a held-out handwritten {digit}, float32 array (32, 32, 1) in [0, 1]"
            else:
                fname = f"digit_{digit}.png"
                Image.fromarray(u8, mode="L").save(folder / fname, optimize=True)
                desc = f"a held-out handwritten {digit}, 32x32 greyscale PNG"
            samples.append({"file": fname, "label": digit, "description": desc})
            written.append(folder / fname)

        meta = {
            "name": NAME,
            "title": "Handwritten digits CNN",
            "description": (
                "A small three-block convolutional network that reads a 32x32 greyscale "
                "handwritten digit and says which of 0-9 it is. Its first convolutions pick "
                "out strokes and edges, the later ones combine them into digit parts."
            ),
            "input_shape": [SIDE, SIDE, 1],
            "input_scaling": (
                "grey levels in [0, 1], white stroke on black, as sklearn digits / 16 "
                "(an 8-bit PNG is divided by 255)"
            ),
            "classes": [str(i) for i in range(10)],
            "accuracy": round(accuracy, 4),
            "trained_on": (
                f"scikit-learn load_digits (1797 8x8 images), upsampled to 32x32, "
                f"{len(y_train)} train / {len(y_test)} held-out (stratified 20 %), "
                f"random shifts of up to {MAX_SHIFT} px"
            ),
        }
        sizes = (len(y_train), len(y_test))
        written += _common.write_bundle(NAME, meta, samples, "digit_3.png", card, sizes)

    _common.report(NAME, timer.seconds, written)


def card(meta: dict, n_train: int, n_test: int, sample_lines: str) -> str:
    return f"""
{meta["description"]} This is the dashboard's default model.

- **Trained on:** scikit-learn's bundled `load_digits` set (1797 handwritten digits, 8x8,
  grey levels 0..16; no download). Each image is divided by 16 and upsampled to 32x32 with
  bilinear interpolation. {n_train} images train (each also seen {AUG_COPIES} more times,
  shifted by up to {MAX_SHIFT} px), {n_test} are held out, stratified by class.
- **Held-out accuracy:** {meta["accuracy"]:.2%} on the {n_test} held-out images.
- **Input:** shape `(32, 32, 1)`, float32, grey levels in [0, 1], **white stroke on a black
  background** (as `load_digits` / 16). A PNG is converted to greyscale, resized to 32x32 and
  divided by 255. Black-on-white drawings should be inverted first.
- **Output:** softmax over the classes `0`..`9`.
- **Architecture:** `conv1` Conv2D(16, 3x3, ReLU, same) -> MaxPool -> `conv2` Conv2D(32, 3x3)
  -> MaxPool -> `conv3` Conv2D(32, 3x3) -> MaxPool -> Flatten -> Dense(64, ReLU) ->
  Dropout(0.3) -> Dense(10, softmax). Feature maps are 32x32 (`conv1`), 16x16 (`conv2`)
  and 8x8 (`conv3`).
- **Limits:** the source digits are tiny (8x8) and centred; thin, off-centre or
  black-on-white digits are read less reliably.

## Sample patterns

{sample_lines}

## Retrain

```
.venv/bin/python models/train_{NAME}.py
```

Seeds are fixed (`keras.utils.set_random_seed(0)`, `numpy.random.default_rng(0)`,
`random_state=0` for the split); the script prints the held-out accuracy, then rewrites
`models/{NAME}.keras`, `models/{NAME}.json`, this card and the sample patterns.
"""


if __name__ == "__main__":
    main()
