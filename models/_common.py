"""Helpers shared by the ``models/train_*.py`` scripts (not part of the layerviz package).

Each training script is run as ``.venv/bin/python models/train_<name>.py`` from the repo
root; Python puts ``models/`` on ``sys.path`` first, so ``import _common`` finds this file.
Nothing here imports scikit-learn; only the training scripts that need it do.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import zipfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

MODELS_DIR = Path(__file__).resolve().parent
SEED = 0


def seed_everything(seed: int = SEED):
    """Seed Python, NumPy and TensorFlow through Keras, and ask TF for deterministic ops.

    Returns:
        A NumPy generator seeded with ``seed``, for the script's own data.
    """
    import keras
    import numpy as np
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    with contextlib.suppress(AttributeError, RuntimeError):  # older TF / already set
        tf.config.experimental.enable_op_determinism()
    return np.random.default_rng(seed)


def patterns_dir(name: str) -> Path:
    """``models/patterns/<name>/``, created empty (old samples removed) for a fresh write."""
    folder = MODELS_DIR / "patterns" / name
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        if old.is_file():
            old.unlink()
    return folder


def save_model(model, name: str, probe=None) -> Path:
    """Save ``model`` (uncompiled) as ``models/<name>.keras``; check it reloads safely."""
    import keras

    path = MODELS_DIR / f"{name}.keras"
    # A clone carries the architecture and weights but no compile config or optimizer state:
    # layerviz loads with compile=False, and Adam's slots would double the file size.
    # (keras.models.clone_model would re-compile the clone, so rebuild from the config.)
    bare = keras.Model.from_config(model.get_config())
    bare.set_weights(model.get_weights())
    bare.save(path)
    with zipfile.ZipFile(path) as archive:
        if json.loads(archive.read("config.json")).get("compile_config"):  # {} when bare
            raise RuntimeError(f"{name}: the saved model still carries its compile config")
    reloaded = keras.saving.load_model(path, safe_mode=True, compile=False)
    kinds = {type(layer).__name__ for layer in reloaded.layers}
    if "Lambda" in kinds:
        raise RuntimeError(f"{name}: a Lambda layer slipped into the bundled model")
    if probe is not None:
        import numpy as np

        want = np.asarray(model(probe, training=False))
        got = np.asarray(reloaded(probe, training=False))
        if not np.allclose(want, got, atol=1e-5):
            raise RuntimeError(f"{name}: the reloaded model predicts differently")
    return path


def fit_and_check(
    model,
    train,
    test,
    *,
    name: str,
    learning_rate: float,
    epochs: int,
    batch: int,
    bar: float,
    unit: str,
) -> float:
    """Compile (Adam, sparse cross-entropy), fit, and print the held-out accuracy.

    Args:
        train, test: ``(x, y)`` pairs.
        bar: the least accuracy the model may ship with; below it the script exits.
        unit: what the test items are, for the printed line (``"images"``).

    Returns:
        The held-out accuracy.
    """
    import keras

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(*train, epochs=epochs, batch_size=batch, shuffle=True, verbose=2)
    x_test, y_test = test
    probs = model.predict(x_test, batch_size=256, verbose=0)
    accuracy = float((probs.argmax(axis=1) == y_test).mean())
    print(f"[{name}] held-out accuracy: {accuracy:.4f} on {len(y_test)} {unit}")
    if accuracy < bar:
        raise SystemExit(f"[{name}] accuracy {accuracy:.4f} is below the {bar} bar")
    return accuracy


def split(x, y):
    """The stratified 80/20 split every script holds its test items out with."""
    from sklearn.model_selection import train_test_split

    return train_test_split(x, y, test_size=0.2, stratify=y, random_state=SEED)


def train_and_save(model, data, name: str, fit: dict) -> tuple[float, list[Path]]:
    """``fit_and_check`` on ``data`` (``split``'s four arrays), then ``save_model``.

    Returns:
        ``(held-out accuracy, [path of the saved model])``.
    """
    x_train, x_test, y_train, y_test = data
    accuracy = fit_and_check(model, (x_train, y_train), (x_test, y_test), name=name, **fit)
    return accuracy, [save_model(model, name, probe=x_test[:32])]


def fit_generated(make_dataset, build_model, name: str, fit: dict):
    """The start of a script that makes its own data: seed everything, make the data set from
    the seeded generator and ``split`` it, build the model, then ``train_and_save``.

    Args:
        make_dataset: ``make_dataset(rng) -> (x, y)``.
        build_model: ``build_model() -> keras.Model``, called after the data are made.
        fit: ``fit_and_check``'s keyword arguments.

    Returns:
        ``(model, data, held-out accuracy, [path of the saved model])``, ``data`` as ``split``
        returns it.
    """
    data = split(*make_dataset(seed_everything()))
    model = build_model()
    accuracy, written = train_and_save(model, data, name, fit)
    return model, data, accuracy, written


def write_bundle(name: str, meta: dict, samples: list[dict], default: str, card, sizes):
    """Write ``<name>.json`` (``meta`` then its samples) and the card ``<name>.md``.

    Args:
        card: ``card(meta, n_train, n_test, sample_lines) -> str``, the card's body; its title
            is written here.
        sizes: ``(n_train, n_test)``.

    Returns:
        The two paths.
    """
    meta = {**meta, "default_sample": default, "samples": samples}
    body = card(meta, *sizes, sample_lines(name, samples))
    card_text = f"# {meta['title']} (`{name}`)\n\n{body.strip()}"
    return [write_metadata(name, meta), write_card(name, card_text)]


def sample_lines(name: str, samples: list[dict]) -> str:
    """The model card's list of sample patterns, one Markdown bullet each."""
    return "\n".join(
        f"- `patterns/{name}/{s['file']}`: {s['description']} (label {s['label']})" for s in samples
    )


def write_metadata(name: str, meta: dict) -> Path:
    """Write ``models/<name>.json`` (pretty, keys in the order given, trailing newline)."""
    path = MODELS_DIR / f"{name}.json"
    path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return path


def write_card(name: str, text: str) -> Path:
    """Write the model card ``models/<name>.md``."""
    path = MODELS_DIR / f"{name}.md"
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


class Timer:
    """``with Timer() as t: ...; t.seconds``."""

    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.start


def report(name: str, seconds: float, files: list[Path]) -> None:
    """Print what was written, with sizes, after the accuracy line."""
    print(f"[{name}] finished in {seconds:.1f} s")
    for path in files:
        rel = path.relative_to(MODELS_DIR.parent)
        print(f"[{name}] wrote {rel} ({path.stat().st_size / 1024:.1f} KiB)")
