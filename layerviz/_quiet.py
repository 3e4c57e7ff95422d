"""Keep TensorFlow's import-time log lines out of what users read, without changing its maths.

TensorFlow reads ``TF_CPP_MIN_LOG_LEVEL`` once, when it is first imported, so this module runs
before anything imports ``keras`` or ``tensorflow`` (``layerviz/__init__`` imports it first).
Even at level 3 the C++ side still writes absl/oneDNN notices to file descriptor 2 while it
loads, so TensorFlow is imported here with that descriptor pointed at /dev/null for the
duration of the import. Python exceptions from the import are not affected.

A user who sets ``TF_CPP_MIN_LOG_LEVEL`` themselves gets TensorFlow exactly as they asked.
oneDNN stays on (turning it off made MobileNetV2 1.75× slower at batch 8).
"""

from __future__ import annotations

import contextlib
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


if not _USER_CHOSE_LEVEL and "tensorflow" not in sys.modules:
    with _fd2_silenced():
        import tensorflow  # noqa: F401
