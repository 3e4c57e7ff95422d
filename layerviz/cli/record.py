"""``layerviz record``: train a model on an ``.npz`` of ``x``/``y`` with the Recorder attached.

A demo for a person with no training script: the model (bundled or a file) is compiled with Adam
and, for whole-number labels, sparse categorical cross-entropy with accuracy (else mean squared
error), trained for ``--epochs``, and recorded into ``--out``. The trained model is not saved.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

#: ``x`` and ``y`` together may hold this much once unpacked (the operator's own file).
MAX_DATA_BYTES = 1 << 30


def register(sub) -> None:
    parser = sub.add_parser(
        "record",
        help="train a model on DATA.npz (arrays x and y) and record its layers every epoch",
    )
    parser.add_argument("model", help="a .keras/.h5 file, or a bundled model name (see 'models')")
    parser.add_argument("data", type=Path, help=".npz holding x (inputs) and y (labels)")
    parser.add_argument("--epochs", type=_whole, default=5, help="epochs to train (default 5)")
    parser.add_argument("--batch-size", type=_whole, default=32, help="default 32")
    parser.add_argument("--learning-rate", type=float, default=1e-3, help="Adam's (default 1e-3)")
    parser.add_argument("--every", type=_whole, default=1, help="record every N epochs")
    parser.add_argument("--out", type=Path, required=True, help="the run's folder (new or empty)")
    parser.set_defaults(func=run)


def _whole(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 1, got {text}")
    return value


def run(args: argparse.Namespace) -> int:
    import keras

    import layerviz
    from layerviz.cli.common import read_regular_file

    model = layerviz.load_model(args.model)
    data = read_regular_file(args.data, MAX_DATA_BYTES)
    x, y = read_xy(data, args.data.name, model)
    integer = np.issubdtype(y.dtype, np.integer)
    model.compile(
        optimizer=keras.optimizers.Adam(args.learning_rate),
        loss="sparse_categorical_crossentropy" if integer else "mse",
        metrics=["accuracy"] if integer else [],
    )
    recorder = layerviz.Recorder(args.out, every=args.every)
    print(f"training {model.name} on {len(x)} examples for {args.epochs} epoch(s)")
    model.fit(x, y, epochs=args.epochs, batch_size=args.batch_size, verbose=2, callbacks=[recorder])
    if recorder.stopped:
        print(f"recording stopped early: {recorder.stopped}")
    recorded = layerviz.Run(args.out)
    print(f"recorded {len(recorded)} record(s) into {args.out} ({recorded.nbytes / 2**20:.2f} MB)")
    return 0


def read_xy(data: bytes, name: str, model):
    """``x`` (checked against the model's input by the safe batch reader) and ``y`` (no pickles).

    Raises:
        PatternError: not an ``.npz``, ``x`` does not fit the model, ``y`` missing or not one
            label per example.
    """
    import io
    import zipfile

    from layerviz.errors import PatternError
    from layerviz.patterns.inputs import input_shapes_of
    from layerviz.patterns.readers import read_pattern_batch

    shapes = input_shapes_of(model)
    if len(shapes) != 1:
        raise PatternError(f"record trains single-input models; {model.name!r} has {len(shapes)}")
    if not name.lower().endswith(".npz"):
        raise PatternError(f"{name}: expected an .npz holding arrays x and y")
    # The safe reader checks the archive's declared sizes and x's header before unpacking.
    x = read_pattern_batch(data, name, shapes[0], max_bytes=MAX_DATA_BYTES)
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            if "y" not in archive.files:
                raise PatternError(f"{name}: holds {', '.join(archive.files)}; expected x and y")
            y = np.asarray(archive["y"])
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise PatternError(f"{name}: y cannot be read ({exc})") from None
    if len(y) != len(x):
        raise PatternError(f"{name}: x holds {len(x)} examples but y {len(y)} labels")
    return x, y
