"""Build the bundled ``article_dense``: the article's all-Dense model, given a tiny seeded fit.

Run from the repo root::

    .venv/bin/python models/train_article_dense.py

The architecture is exactly the article's, in the Functional API::

    Input(shape=(50, 50)) -> Dense(75, relu) -> Dense(50, relu, name="my_dense")
    -> Dense(25, relu) -> Dense(10, relu) -> Flatten() -> Dense(5, softmax)

Each Dense acts on the last axis, so a (50, 50) pattern becomes (50, 75), (50, 50), (50, 25),
(50, 10) maps before ``Flatten`` and the 5-way softmax. The article used untrained weights;
here the seeded weights get a short fit on synthetic 50x50 patterns of five kinds
(horizontal stripes, vertical stripes, checkerboard, blob, uniform noise, all in [0, 1]) so
the five outputs mean something and the article's random pattern reads as "noise".
The layer names are spelled out (the names Keras gives them in a fresh session).

Writes ``models/article_dense.keras``, ``.json``, ``.md`` and sample patterns under
``models/patterns/article_dense/``.
"""

from __future__ import annotations

import _common  # sets TF log level before keras is imported
import numpy as np

NAME = "article_dense"
SIDE = 50
CLASSES = ("horizontal stripes", "vertical stripes", "checkerboard", "blob", "noise")
PER_CLASS = 500
EPOCHS = 15
BATCH = 32
#: How the model is fit, and the least held-out accuracy it may ship with.
FIT = dict(learning_rate=1e-3, epochs=EPOCHS, batch=BATCH, bar=0.95, unit="synthetic patterns")
JITTER = 0.15  # uniform noise added to the structured patterns, then clipped to [0, 1]


def pattern(kind: str, rng: np.random.Generator) -> np.ndarray:
    """One (50, 50) float32 pattern in [0, 1]."""
    yy, xx = np.mgrid[0:SIDE, 0:SIDE].astype(np.float64)
    if kind == "noise":
        return rng.random((SIDE, SIDE), dtype=np.float32)
    if kind in ("horizontal stripes", "vertical stripes"):
        period = rng.uniform(4.0, 16.0)
        coord = yy if kind == "horizontal stripes" else xx
        img = 0.5 + 0.5 * np.sin(2 * np.pi * coord / period + rng.uniform(0, 2 * np.pi))
    elif kind == "checkerboard":
        cell = rng.integers(3, 13)
        oy, ox = rng.integers(0, cell, size=2)
        img = (((yy + oy) // cell + (xx + ox) // cell) % 2).astype(np.float64)
    elif kind == "blob":
        cy, cx = rng.uniform(10, 40, size=2)
        sigma = rng.uniform(4.0, 12.0)
        img = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * sigma**2))
    else:
        raise ValueError(f"unknown pattern kind {kind!r}")
    img = img * rng.uniform(0.6, 1.0) + rng.uniform(-JITTER, JITTER, img.shape)
    return np.clip(img, 0.0, 1.0).astype(np.float32)


def make_dataset(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for label, kind in enumerate(CLASSES):
        for _ in range(PER_CLASS):
            xs.append(pattern(kind, rng))
            ys.append(label)
    x, y = np.stack(xs), np.asarray(ys, dtype=np.int64)
    order = rng.permutation(len(y))
    return x[order], y[order]


def build_model():
    """The article's model, with the layer names Keras would give it in a fresh session."""
    import keras
    from keras.layers import Dense, Flatten, Input

    inputs = Input(shape=(SIDE, SIDE), name="input_layer")
    x = Dense(75, activation="relu", name="dense")(inputs)
    x = Dense(50, activation="relu", name="my_dense")(x)
    x = Dense(25, activation="relu", name="dense_1")(x)
    x = Dense(10, activation="relu", name="dense_2")(x)
    x = Flatten(name="flatten")(x)
    outputs = Dense(5, activation="softmax", name="dense_3")(x)
    return keras.Model(inputs, outputs, name=NAME)


def article_pattern() -> np.ndarray:
    """The article's random input: uniform [0, 1), (50, 50), float32, seed 0."""
    return np.random.default_rng(0).random((SIDE, SIDE), dtype=np.float32)


def main() -> None:
    with _common.Timer() as timer:
        fitted = _common.fit_generated(make_dataset, build_model, NAME, FIT)
        model, (_, _, y_train, y_test), accuracy, written = fitted

        folder = _common.patterns_dir(NAME)
        sample_rng = np.random.default_rng(_common.SEED + 1)
        chosen = [
            ("random.npy", "noise", article_pattern(),
             "the article's input: np.random.default_rng(0).random((50, 50)), float32"),
            ("vertical_stripes.npy", "vertical stripes",
             pattern("vertical stripes", sample_rng), "synthetic vertical stripes, float32"),
            ("blob.npy", "blob", pattern("blob", sample_rng),
             "a synthetic Gaussian blob, float32"),
        ]  # fmt: skip
        samples = []
        for fname, label, arr, desc in chosen:
            p = np.asarray(model(arr[None], training=False))[0]
            if CLASSES[int(p.argmax())] != label:
                raise SystemExit(f"[{NAME}] sample {fname} is misread: {p.round(3)}")
            np.save(folder / fname, arr.astype(np.float32))
            samples.append({"file": fname, "label": label, "description": desc})
            written.append(folder / fname)

        meta = {
            "name": NAME,
            "title": "The article's Dense model",
            "description": (
                "The article's example: four Dense layers acting on each row of a 50x50 "
                "pattern, then Flatten and a 5-way softmax. Seeded weights with a tiny fit "
                "on synthetic stripe, checkerboard, blob and noise patterns."
            ),
            "input_shape": [SIDE, SIDE],
            "input_scaling": "values in [0, 1] (the article feeds uniform random numbers)",
            "classes": list(CLASSES),
            "accuracy": round(accuracy, 4),
            "trained_on": (
                f"{PER_CLASS * len(CLASSES)} synthetic 50x50 patterns made by "
                f"models/train_{NAME}.py, {len(y_train)} train / {len(y_test)} held-out, "
                f"{EPOCHS} epochs"
            ),
        }
        sizes = (len(y_train), len(y_test))
        written += _common.write_bundle(NAME, meta, samples, "random.npy", card, sizes)

    _common.report(NAME, timer.seconds, written)


def card(meta: dict, n_train: int, n_test: int, sample_lines: str) -> str:
    return f"""
The model from the article, rebuilt exactly with the Functional API:

```
Input(shape=(50, 50))
Dense(75, relu)                      name "dense"     -> (50, 75)
Dense(50, relu, name="my_dense")     name "my_dense"  -> (50, 50)
Dense(25, relu)                      name "dense_1"   -> (50, 25)
Dense(10, relu)                      name "dense_2"   -> (50, 10)
Flatten()                            name "flatten"   -> (500,)
Dense(5, softmax)                    name "dense_3"   -> (5,)
```

Each Dense acts on the last axis, so every hidden output is a 2-D map, one row per input
row. The layer names are given explicitly, matching what Keras names them in a fresh session.

- **Weights:** the article shows untrained weights. Here the seeded initial weights
  (`keras.utils.set_random_seed(0)`) get a **tiny fit ({EPOCHS} epochs, a few seconds)** on
  synthetic data, so that the 5 outputs mean something: {n_train} training patterns of five
  kinds (horizontal stripes, vertical stripes, checkerboard, Gaussian blob, uniform noise),
  50x50 in [0, 1], made by the training script. No real data set is involved.
- **Held-out accuracy:** {meta["accuracy"]:.2%} on {n_test} held-out synthetic patterns
  (a sanity check, not a benchmark).
- **Input:** shape `(50, 50)`, float32, values in [0, 1]. The article's input is
  `np.random.default_rng(0).random((50, 50), dtype=np.float32)`, which the model reads as
  "noise".
- **Output:** softmax over {", ".join(f"`{c}`" for c in CLASSES)}.

## Sample patterns

{sample_lines}

## Retrain

```
.venv/bin/python models/train_{NAME}.py
```

Seeds are fixed (`keras.utils.set_random_seed(0)`, `numpy.random.default_rng(0)` for the
data, `default_rng(1)` for the extra samples, `random_state=0` for the split); the script
prints the held-out accuracy, then rewrites `models/{NAME}.keras`, `models/{NAME}.json`,
this card and the sample patterns.
"""


if __name__ == "__main__":
    main()
