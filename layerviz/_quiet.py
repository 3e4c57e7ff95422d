"""Keep TensorFlow's import-time log lines out of what users read.

TensorFlow reads ``TF_CPP_MIN_LOG_LEVEL`` once, when it is first imported, so this module
must be imported before anything imports ``keras`` or ``tensorflow``. ``layerviz/__init__``
does that first thing. A user's own setting always wins.
"""

from __future__ import annotations

import logging
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# oneDNN prints a notice about numerical differences on import; the CPU results are the same.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
# tf.function's "N out of the last N calls triggered retracing" warnings come through Python
# logging; each extractor owns one compiled function on purpose, so they say nothing useful.
logging.getLogger("tensorflow").setLevel(logging.ERROR)
