"""The errors layerviz raises, in one small hierarchy.

::

    LayervizError                 base of everything below; catch this in a UI or CLI
    ├── ModelLoadError            a model file or name could not be loaded (missing, corrupt)
    │   └── UnsafeModelError      a model file refused by layerviz.load.modelcheck (code, bombs,
    limits)
    ├── ModelStructureError       a loaded model cannot be cut into layers (not built, no inputs)
    ├── PatternError (ValueError) a pattern does not fit the model, or was unsafe to read
    ├── ArgumentError (ValueError) an argument out of its range or of the wrong kind
    ├── GraphvizError             plot_model=True but Graphviz / pydot are not installed
    └── RunError                  a recorded run cannot be written (folder holds something else)
                                  or read (damaged: the message names the last good epoch)

"Catch ``LayervizError``" is the contract: everything a caller can cause raises one of these.

Every message says what was expected and what arrived, e.g.
``pattern shape (28, 28, 3) does not fit input (28, 28, 1)``.
"""

from __future__ import annotations

__all__ = [
    "ArgumentError",
    "GraphvizError",
    "LayervizError",
    "ModelLoadError",
    "ModelStructureError",
    "PatternError",
    "RunError",
    "UnsafeModelError",
]


class LayervizError(Exception):
    """Base class of every error layerviz raises on purpose."""


class ModelLoadError(LayervizError):
    """A model file or bundled-model name could not be loaded."""


class UnsafeModelError(ModelLoadError):
    """A model file was refused by :mod:`layerviz.load.modelcheck`, with the reason.

    It holds code (a ``Lambda``, a custom class, a module outside Keras), is malformed or
    oversized (a zip bomb, a config nested too deep), or its trial load in a child process
    died or hit its limits.

    The message names the reason, e.g. ``layer 'lambda_1' (Lambda) runs arbitrary code;
    layerviz loads built-in layers only``.
    """


class ModelStructureError(LayervizError):
    """A model cannot be cut into per-layer outputs (e.g. it was never built)."""


class PatternError(LayervizError, ValueError):
    """A pattern does not fit the model's input, or its file could not be read safely."""


class ArgumentError(LayervizError, ValueError):
    """An argument is out of its range or of the wrong kind (a grid of 0 rows, a bad k)."""


class GraphvizError(LayervizError):
    """Drawing the architecture needs Graphviz (``dot``) and pydot, and one is missing."""


class RunError(LayervizError):
    """A recorded training run cannot be written or read (a folder holding something else, a
    damaged record: the message names the last good epoch)."""
