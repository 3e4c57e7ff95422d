"""What every dashboard callback shares: turning what a browser sent into core values, safely.

Everything a browser sends is untrusted: a recipe that is a list, a page of ``Infinity``, a
colour scale of 16 MB. These helpers validate at the boundary, so the core sees only checked
values, and a user's mistake is a short message, never a traceback in the log.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable
from typing import Any

from layerviz.draw.grid import GridSettings
from layerviz.errors import LayervizError, PatternError
from layerviz.patterns import readers
from layerviz.ui.recipe import Recipe, recipe_from_store
from layerviz.ui.workbench import PatternRun, ReducedRun, Workbench

__all__ = [
    "COLORSCALES",
    "DEFAULT_COLORSCALE",
    "MAX_LOGGED_CHARS",
    "colorscale_of",
    "current_reduced",
    "current_run",
    "decode_upload",
    "error_text",
    "grid_settings",
    "keep_upload",
    "log",
]

log = logging.getLogger("layerviz.ui")

#: The colour scales offered; viridis (the article's) first and default, colour-blind-safe
#: ones (viridis, cividis) among them.
COLORSCALES = ("Viridis", "Cividis", "Magma", "Inferno", "Greys", "RdBu")
DEFAULT_COLORSCALE = "Viridis"
#: How much of an unexpected error's message goes into the log.
MAX_LOGGED_CHARS = 300


def error_text(exc: BaseException) -> str:
    """What a user sees: our own errors verbatim, anything else without internals.

    Unexpected errors are logged with their type and a truncated message (and the traceback,
    as they are bugs); a request can never make the log line long.
    """
    if isinstance(exc, LayervizError):
        return str(exc)
    message = str(exc)
    if len(message) > MAX_LOGGED_CHARS:
        message = message[:MAX_LOGGED_CHARS] + f"… ({len(str(exc))} characters)"
    log.error("unexpected %s in a dashboard callback: %s", type(exc).__name__, message)
    return f"Something went wrong ({type(exc).__name__}); the details are in the server log."


def current_run(workbench: Workbench, store_data: Any) -> tuple[Recipe, PatternRun]:
    """The recipe in the pattern store and its pattern and extraction (from the cache).

    Raises:
        PatternError: malformed store data, or a pattern no longer kept.
        ModelLoadError: an unknown model.
    """
    recipe = recipe_from_store(store_data)
    return recipe, workbench.extraction(recipe)


def current_reduced(workbench: Workbench, store_data: Any) -> tuple[Recipe, ReducedRun]:
    """The recipe in the pattern store and its reduced pass (from the cache): what the grid,
    the tables and the prediction read. Raises as :func:`current_run`."""
    recipe = recipe_from_store(store_data)
    return recipe, workbench.reduced(recipe)


def decode_upload(
    contents: Any,
    filename: Any,
    limit: int | None = None,
    error: type[LayervizError] = PatternError,
) -> bytes:
    """Decode a ``dcc.Upload`` data URL, refusing oversized ones before decoding.

    Args:
        contents: the data URL the browser sent.
        filename: the file's name, to start the messages.
        limit: the most bytes it may decode to: the constant its upload control's
            ``max_size`` reads (``MAX_PATTERN_BYTES`` when None).
        error: the error to raise (``PatternError`` for patterns, ``UnsafeModelError`` for
            models).

    Raises:
        error: not a base64 data URL, over ``limit``, or not valid base64.
    """
    limit = readers.MAX_PATTERN_BYTES if limit is None else limit
    _, sep, b64 = contents.partition(";base64,") if isinstance(contents, str) else ("", "", "")
    if not sep:
        raise error(f"{filename}: the upload did not arrive as a base64 data URL")
    size = len(b64) * 3 // 4
    if size > limit:  # refused before decoding
        raise error(f"{filename}: {size} bytes is over the {limit / 2**20:g} MB upload limit")
    try:
        return base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise error(f"{filename}: the upload is not valid base64 ({exc})") from None


def keep_upload(
    workbench: Workbench,
    keep: Callable[[Workbench, str, bytes, str], dict],
    upload: tuple[Any, Any, Any],
    limit: int,
    default_name: str = "upload",
) -> tuple[dict | None, str]:
    """An upload callback's work: decode the file, check it and keep it for the current model.

    Args:
        keep: ``keep(workbench, model, raw, name)`` checks the bytes and keeps them for the
            session, returning their store form (with ``filename`` and ``n``).
        upload: the control's ``(contents, filename)`` and the pattern store's data.
        limit: the bytes the control's ``max_size`` allows (refused before decoding).
        default_name: the name used when the browser sent none.

    Returns:
        ``(kept, "")``, or ``(None, message)`` when anything was wrong (never raises).
    """
    contents, filename, store_data = upload
    name = filename[:200] if isinstance(filename, str) and filename else default_name
    try:
        model = recipe_from_store(store_data).model
        return keep(workbench, model, decode_upload(contents, name, limit), name), ""
    except Exception as exc:
        return None, error_text(exc)


def grid_settings(rows: Any, cols: Any, limit: Any) -> GridSettings:
    """Grid settings from the sliders' values (clamped; garbage falls back to the defaults)."""
    return GridSettings(rows, cols, limit)


def colorscale_of(value: Any) -> str:
    """``value`` when it is one of the offered colour scales, else the default."""
    return value if isinstance(value, str) and value in COLORSCALES else DEFAULT_COLORSCALE


#: The input and prediction figures' height in the strip above the grid: short, so the grid's
#: first row is in view on open (issue 20).
STRIP_HEIGHT = 150


def fit_strip(figure):
    """``figure`` made to fit the strip above the grid: ``STRIP_HEIGHT`` tall, thin margins."""
    figure.update_layout(
        height=STRIP_HEIGHT, margin=dict(l=4, r=4, t=24, b=4), title_font_size=12, title_y=0.97
    )
    return figure
