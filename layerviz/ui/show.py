"""``layerviz.show``: serve an in-memory model from a script or a notebook."""

from __future__ import annotations

import keras

from layerviz.ui.app import create_app

__all__ = ["show"]


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def show(
    model: keras.Model,
    pattern=None,
    port: int = 8050,
    host: str = "127.0.0.1",
    jupyter_mode: str | None = None,
) -> None:
    """Serve ``model`` in the dashboard, with no file needed.

    In a Jupyter kernel the dashboard shows inline (``jupyter_mode="inline"``, or pass
    ``"tab"``/``"external"``) and this returns at once; elsewhere it serves until Ctrl+C.

    Args:
        model: a built Keras model.
        pattern: the pattern to open with (default: uniform random, seed 0).
        port: the port on ``host``.
        host: the address to listen on; keep the default unless others must reach it.
        jupyter_mode: Dash's Jupyter display mode; None picks ``"inline"`` in a notebook.
    """
    mode = jupyter_mode or ("inline" if _in_notebook() else None)
    # Inline and tab modes show the page in a notebook's frame.
    app = create_app(model, pattern, embeddable=mode in ("inline", "jupyterlab"))
    if mode:
        app.run(jupyter_mode=mode, host=host, port=port, debug=False)
    else:
        print(f"layerviz dashboard on http://{host}:{port}  (Ctrl+C to stop)")
        app.run(host=host, port=port, debug=False)
