"""Write the held-out labelled sets the dataset lens opens bundled models with.

Run from the repo root::

    .venv/bin/python models/make_datasets.py

``models/datasets/digits_cnn.npz`` holds ``x`` (float32, ``(n, 32, 32, 1)``) and ``y`` (int64):
exactly the digits ``train_digits_cnn.py`` holds out (the same upsampling and the same stratified
20 % split with the same seed), so none of them was trained on.
"""

from __future__ import annotations

import _common  # sets TF log level before anything imports keras
import numpy as np
from train_digits_cnn import upsample


def digits_held_out() -> tuple[np.ndarray, np.ndarray]:
    """The held-out (x, y) of ``digits_cnn``, as its training script splits them."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = upsample(digits.images)
    y = digits.target.astype(np.int64)
    _, x_test, _, y_test = _common.split(x, y)
    return x_test.astype(np.float32), y_test.astype(np.int64)


def main() -> None:
    folder = _common.MODELS_DIR / "datasets"
    folder.mkdir(exist_ok=True)
    x, y = digits_held_out()
    path = folder / "digits_cnn.npz"
    np.savez_compressed(path, x=x, y=y)
    print(f"[digits_cnn] {len(y)} held-out digits -> {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
