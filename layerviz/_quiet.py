"""Import Keras (and with it its backend) once, keeping TensorFlow's log lines out of sight.

Importing this module imports ``keras``: every subpackage that uses Keras (``load``,
``patterns``, ``extract``, ``analysis``, ``draw``, ``ui``) imports it first, while
``import layerviz`` and the command line's ``--help`` import neither (``layerviz/__init__``
loads its names lazily). Keras imports only the backend it runs on (``KERAS_BACKEND``, else
``~/.keras/keras.json``), so TensorFlow is never imported for a Keras on JAX or PyTorch (with
PyTorch's PyPI wheel, TensorFlow imported before Keras-on-torch crashes the interpreter).

TensorFlow reads ``TF_CPP_MIN_LOG_LEVEL`` once, when it is first imported. Even at level 3 the
C++ side still writes absl/oneDNN notices to file descriptor 2 while it loads, so Keras is
imported here with that descriptor pointed at /dev/null for the duration of the import.
Python exceptions from the import are not affected. Keras on JAX or PyTorch still imports
TensorFlow by itself when it is installed and a model is serialised (``get_config``,
``keras.utils.set_random_seed``: ``keras.src.utils.module_utils``), so that later import is
silenced the same way, by a finder on ``sys.meta_path`` that runs only for ``tensorflow``.

A user who sets ``TF_CPP_MIN_LOG_LEVEL`` themselves gets TensorFlow exactly as they asked.
oneDNN stays on (turning it off made MobileNetV2 1.75× slower at batch 8).
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import logging
import os
import sys

_USER_CHOSE_LEVEL = "TF_CPP_MIN_LOG_LEVEL" in os.environ
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# tf.function's "N out of the last N calls triggered retracing" warnings come through Python
# logging; each extractor owns one compiled function on purpose, so they say nothing useful.
logging.getLogger("tensorflow").setLevel(logging.ERROR)


@contextlib.contextmanager
def _fd2_silenced():
    """Point file descriptor 2 at /dev/null for the block (C-level writes included)."""
    with contextlib.suppress(AttributeError, ValueError, OSError):
        sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # descriptor 2 is closed (a daemon): there is nothing to silence
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class _SilentLoader(importlib.abc.Loader):
    """Runs another loader's ``exec_module`` with file descriptor 2 silenced."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        with _fd2_silenced():
            self._loader.exec_module(module)


class _SilentTensorFlowFinder(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` as the other finders do, then loads it silenced (once)."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _SilentLoader(spec.loader)
        return spec


if not _USER_CHOSE_LEVEL and "tensorflow" not in sys.modules:
    sys.meta_path.insert(0, _SilentTensorFlowFinder())

if not _USER_CHOSE_LEVEL and "keras" not in sys.modules:
    with _fd2_silenced():
        import keras  # noqa: F401
