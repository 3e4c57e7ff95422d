"""Train the bundled ``signals_conv1d``: a Conv1D net that tells four kinds of waveform apart.

Run from the repo root::

    .venv/bin/python models/train_signals_conv1d.py

The data are made here, from a seeded ``numpy.random.default_rng``: 128-sample waveforms of
four classes (sine, square, sawtooth, noise) with random frequency (2 to 10 cycles per
window), phase, amplitude (0.5 to 1.5) and a little Gaussian noise. 20 % of them, stratified
by class, are held out and never trained on; the accuracy printed is on them.

Writes ``models/signals_conv1d.keras``, ``.json``, ``.md`` and sample waveforms under
``models/patterns/signals_conv1d/``.
"""

from __future__ import annotations

import _common  # sets TF log level before keras is imported
import numpy as np

NAME = "signals_conv1d"
LENGTH = 128
CLASSES = ("sine", "square", "sawtooth", "noise")
PER_CLASS = 1000
EPOCHS = 25
BATCH = 64
#: How the model is fit, and the least held-out accuracy it may ship with.
FIT = dict(learning_rate=2e-3, epochs=EPOCHS, batch=BATCH, bar=0.95, unit="waveforms")
MIN_CYCLES, MAX_CYCLES = 2.0, 10.0
MIN_AMP, MAX_AMP = 0.5, 1.5
MAX_NOISE = 0.15  # std of the added Gaussian noise, relative to the amplitude
# Sample patterns: class -> file name (one of them a CSV, the others .npy).
SAMPLE_FILES = {
    "sine": "sine.npy",
    "square": "square.npy",
    "sawtooth": "sawtooth.csv",
    "noise": "noise.npy",
}


def waveform(
    kind: str, cycles: float, phase: float, amp: float, noise: float, rng: np.random.Generator
) -> np.ndarray:
    """One (LENGTH,) float32 waveform; ``phase`` in cycles (0..1), ``noise`` relative to amp."""
    t = np.arange(LENGTH, dtype=np.float64) / LENGTH
    pos = cycles * t + phase  # position in cycles
    if kind == "sine":
        clean = np.sin(2 * np.pi * pos)
    elif kind == "square":
        clean = np.where(np.mod(pos, 1.0) < 0.5, 1.0, -1.0)
    elif kind == "sawtooth":
        clean = 2.0 * np.mod(pos, 1.0) - 1.0
    elif kind == "noise":
        # Broadband noise with the same spread as the periodic classes (std ~ 0.6).
        clean = rng.normal(0.0, rng.uniform(0.4, 0.8), LENGTH)
    else:
        raise ValueError(f"unknown waveform kind {kind!r}")
    wave = amp * (clean + rng.normal(0.0, noise, LENGTH))
    return wave.astype(np.float32)


def make_dataset(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(n, LENGTH, 1) float32 waveforms and (n,) int labels, class-balanced, shuffled."""
    xs, ys = [], []
    for label, kind in enumerate(CLASSES):
        for _ in range(PER_CLASS):
            xs.append(
                waveform(
                    kind,
                    cycles=rng.uniform(MIN_CYCLES, MAX_CYCLES),
                    phase=rng.uniform(0.0, 1.0),
                    amp=rng.uniform(MIN_AMP, MAX_AMP),
                    noise=rng.uniform(0.0, MAX_NOISE),
                    rng=rng,
                )
            )
            ys.append(label)
    x = np.stack(xs)[:, :, None]
    y = np.asarray(ys, dtype=np.int64)
    order = rng.permutation(len(y))
    return x[order], y[order]


def build_model():
    import keras
    from keras import layers

    inputs = keras.Input(shape=(LENGTH, 1), name="input_layer")
    x = layers.Conv1D(16, 7, activation="relu", padding="same", name="conv1")(inputs)
    x = layers.Conv1D(32, 5, activation="relu", padding="same", name="conv2")(x)
    x = layers.MaxPooling1D(2, name="pool")(x)
    x = layers.Conv1D(32, 5, activation="relu", padding="same", name="conv3")(x)
    x = layers.GlobalAveragePooling1D(name="gap")(x)
    outputs = layers.Dense(len(CLASSES), activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name=NAME)


def write_samples(
    model, folder, name: str, confidence: float, note: str = ""
) -> tuple[list[dict], dict[str, np.ndarray]]:
    """One sample wave per class (seed ``SEED + 1``), each checked to be read as its class.

    Returns:
        The metadata entries of the samples, and the waves by class.
    """
    sample_rng = np.random.default_rng(_common.SEED + 1)
    samples, waves = [], {}
    for label, kind in enumerate(CLASSES):
        wave = waveform(kind, cycles=4.0, phase=0.1, amp=1.0, noise=0.05, rng=sample_rng)
        wave = wave[:, None]
        p = np.asarray(model(wave[None], training=False))[0]
        if p.argmax() != label or p[label] < confidence:
            raise SystemExit(f"[{name}] sample {kind} is misread: {p.round(3)}")
        fname = SAMPLE_FILES[kind]
        if fname.endswith(".csv"):
            np.savetxt(folder / fname, wave, fmt="%.6f")
            what = "128 rows x 1 column CSV"
        else:
            np.save(folder / fname, wave.astype(np.float32))
            what = "float32 array (128, 1)"
        desc = (
            "white Gaussian noise, no period"
            if kind == "noise"
            else f"a {kind} wave, 4 cycles{note}, amplitude 1, a little noise"
        )
        samples.append({"file": fname, "label": kind, "description": f"{desc} ({what})"})
        waves[kind] = wave
    return samples, waves


def main() -> None:
    with _common.Timer() as timer:
        fitted = _common.fit_generated(make_dataset, build_model, NAME, FIT)
        model, (_, _, y_train, y_test), accuracy, written = fitted

        # Samples: fresh, readable waveforms (4 cycles, amplitude 1, a little noise) from a
        # separate seeded generator; each must be classified correctly with confidence.
        folder = _common.patterns_dir(NAME)
        samples, _ = write_samples(model, folder, NAME, confidence=0.95)
        written += [folder / s["file"] for s in samples]

        meta = {
            "name": NAME,
            "title": "Waveform classifier (Conv1D)",
            "description": (
                "A small 1-D convolutional network that reads a 128-sample signal and says "
                "whether it is a sine, square, sawtooth wave or plain noise. Its layer outputs "
                "are (time, channel) maps, like the article's 2-D activations."
            ),
            "input_shape": [LENGTH, 1],
            "input_scaling": (
                f"raw signal values, roughly -{MAX_AMP:g}..{MAX_AMP:g} "
                f"(amplitude {MIN_AMP:g} to {MAX_AMP:g}), one channel, no normalisation"
            ),
            "classes": list(CLASSES),
            "accuracy": round(accuracy, 4),
            "trained_on": (
                f"{PER_CLASS * len(CLASSES)} synthetic waveforms made by "
                f"models/train_{NAME}.py, {len(y_train)} train / {len(y_test)} held-out "
                "(stratified 20 %)"
            ),
        }
        sizes = (len(y_train), len(y_test))
        written += _common.write_bundle(NAME, meta, samples, "sine.npy", card, sizes)

    _common.report(NAME, timer.seconds, written)


def card(meta: dict, n_train: int, n_test: int, sample_lines: str) -> str:
    return f"""
{meta["description"]}

- **Trained on:** synthetic waveforms generated by `models/train_{NAME}.py` (no download):
  {PER_CLASS} per class of sine, square, sawtooth and Gaussian noise, 128 samples long, with
  random frequency ({MIN_CYCLES:g} to {MAX_CYCLES:g} cycles per window), phase, amplitude
  ({MIN_AMP:g} to {MAX_AMP:g}) and added Gaussian noise (std up to {MAX_NOISE:g} x amplitude).
  {n_train} train, {n_test} held out, stratified by class.
- **Held-out accuracy:** {meta["accuracy"]:.2%} on the {n_test} held-out waveforms.
- **Input:** shape `(128, 1)`, float32, raw values (no scaling), centred on 0. A `.npy` of
  shape `(128,)` or `(128, 1)`, or a CSV with 128 rows and one column.
- **Output:** softmax over `sine`, `square`, `sawtooth`, `noise`.
- **Architecture:** `conv1` Conv1D(16, 7, ReLU, same) -> `conv2` Conv1D(32, 5) ->
  MaxPool1D(2) -> `conv3` Conv1D(32, 5) -> GlobalAveragePooling1D -> Dense(4, softmax).
  Layer outputs are (128, 16), (128, 32), (64, 32) and (64, 32): 2-D (time x channel) maps.
- **Limits:** only these four shapes at these frequencies; anything else (a triangle wave,
  a chirp, a constant) is forced into one of the four classes.

## Sample patterns

{sample_lines}

## Retrain

```
.venv/bin/python models/train_{NAME}.py
```

Seeds are fixed (`keras.utils.set_random_seed(0)`, `numpy.random.default_rng(0)` for the
data, `default_rng(1)` for the samples, `random_state=0` for the split); the script prints the
held-out accuracy, then rewrites `models/{NAME}.keras`, `models/{NAME}.json`, this card and
the sample patterns.
"""


if __name__ == "__main__":
    main()
