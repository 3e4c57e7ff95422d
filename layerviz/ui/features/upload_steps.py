"""The model upload's check, shown as its steps (issue 20): done ✓, the current one with a
spinner and its seconds so far, the rest grey; a refused check stops at its step with ✗.

The steps are the ones the check's own code reports as it begins them
(:func:`layerviz.load.canary_queue.report_step`): ``"file"`` and ``"sandbox"`` by
:func:`layerviz.check_model_file`, ``"open"`` by the upload's load and first pass on the
queue's thread. Nothing here guesses a step from the time.
"""

from __future__ import annotations

import time

from dash import html

__all__ = ["STEPS", "current_step", "sandbox_estimate", "steps_view"]

#: The check's steps in order: (key the code reports, what the page says).
STEPS = (
    ("queued", "queued"),
    ("file", "checking the file"),
    ("sandbox", "loading it in a sandbox"),
    ("open", "opening it for the dashboard"),
    ("ready", "ready"),
)
_KEYS = [key for key, _ in STEPS]


def sandbox_estimate(typical: float | None, limit_s: float) -> dict:
    """What the sandbox step is said to take: the median measured here, else its time limit."""
    if typical is not None:
        return {"seconds": max(1, round(typical)), "basis": "typical"}
    return {"seconds": round(limit_s), "basis": "limit"}


def current_step(state: dict) -> str | None:
    """The step under way (or the one a refusal stopped at); None once the model is ready."""
    kind, step = state.get("state"), state.get("step")
    if kind == "done":
        return None
    if kind in (None, "queued"):
        return "queued"
    if step in _KEYS and step != "queued":
        return step
    # Running, its work not yet at its first step (or refused before it told one).
    return "file"


def _label(key: str, text: str, state: dict) -> str:
    ahead = state.get("ahead")
    if key == "queued" and isinstance(ahead, int) and ahead > 0:
        return f"queued ({ahead} check{'s' if ahead > 1 else ''} ahead)"
    estimate = state.get("estimate")
    if key == "sandbox" and isinstance(estimate, dict):
        seconds = estimate.get("seconds")
        if isinstance(seconds, int | float):
            if estimate.get("basis") == "typical":
                return f"{text} (≈{seconds:.0f} s)"
            return f"{text} (up to {seconds:.0f} s)"
    return text


def steps_view(name: str, state: dict, now: float | None = None) -> html.Div:
    """The upload ``name``'s check as a short list of steps, the current one marked.

    Args:
        name: the uploaded file's name.
        state: the check's state as ``model_upload.check_state`` gives it (from the browser's
            store or another worker: read field by field).
        now: the Unix time to count the current step's seconds to (default: now).
    """
    now = time.time() if now is None else now
    current = current_step(state)
    failed = state.get("state") == "failed"
    at = _KEYS.index(current) if current is not None else len(_KEYS)
    items = []
    for index, (key, text) in enumerate(STEPS):
        label = _label(key, text, state)
        if index < at:
            status, mark = "done", html.Span("✓", className="me-1")
        elif index == at and failed:
            status, mark = "failed", html.Span("✗", className="me-1")
        elif index == at:
            status = "current"
            mark = html.Span(className="spinner-border spinner-border-sm me-1", role="status")
            since = state.get("step_since")
            if isinstance(since, int | float):
                label = f"{label} · {max(0.0, now - since):.0f} s"
        else:
            status, mark = "pending", html.Span("○", className="me-1")
        color = {"done": "text-success", "failed": "text-danger", "current": "fw-semibold"}
        items.append(
            html.Li(
                [mark, label],
                className=color.get(status, "text-body-secondary"),
                **{"data-step": key, "data-status": status},
            )
        )
    return html.Div(
        [html.Span(name, className="d-block"), html.Ul(items, className="list-unstyled mb-0")],
        className="upload-steps",
    )
