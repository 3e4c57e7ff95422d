"""Small builders every part of the page shares: a control group, a results card, a pager.

The page (:mod:`layerviz.ui.layout`) and the feature sections (:mod:`layerviz.ui.features`)
both import these, so neither imports the other for them.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

__all__ = [
    "card",
    "heading",
    "hint",
    "icon_tag",
    "job_controls",
    "named",
    "opacity_slider",
    "pager",
    "section",
    "upload_zone",
]


def section(title: str, icon: str, children: list, class_name: str = "mb-3") -> html.Section:
    """A group of controls in the control panel, under a heading that names the group."""
    title_heading = heading(title, icon)
    return html.Section(
        [title_heading, *children], className=class_name, **{"aria-labelledby": title_heading.id}
    )


def card(title: str, icon: str, body, *, header_extra: list | None = None, **kwargs) -> dbc.Card:
    """A results card: an icon and a title in the header (plus ``header_extra``), then ``body``."""
    header = [icon_tag(icon), title, *(header_extra or [])]
    return dbc.Card(
        [dbc.CardHeader(header), dbc.CardBody(body, className="p-1")],
        className=kwargs.pop("className", "shadow-sm"),
        **kwargs,
    )


def heading(text: str, icon: str) -> html.H2:
    # A level-two heading (styled as a form label): screen readers list the groups by it.
    return html.H2(
        [icon_tag(icon), text],
        id="heading-" + "-".join(text.lower().split()),
        className="form-label fw-semibold d-block fs-6",
    )


def icon_tag(name: str) -> html.I:
    """A decorative Bootstrap icon, hidden from screen readers."""
    return html.I(className=f"bi bi-{name} me-1", **{"aria-hidden": "true"})


def hint(text: str, id_: str | None = None) -> html.Small:
    kwargs = {"id": id_} if id_ else {}
    return html.Small(text, className="text-body-secondary d-block", **kwargs)


def named(control, name: str) -> html.Div:
    """``control`` in a wrapper whose ``data-a11y-label`` names the inputs Dash renders inside
    it without a way to name them (a slider's thumb and number box, the upload's file input);
    ``assets/a11y.js`` copies it onto them as ``aria-label``."""
    return html.Div(control, **{"data-a11y-label": name})


def pager(id_: str, class_name: str = "mb-0") -> dbc.Pagination:
    """A small pager (first, previous, pages, next, last) starting on page 1 of 1."""
    return dbc.Pagination(
        id=id_,
        min_value=1,
        max_value=1,
        active_page=1,
        first_last=True,
        previous_next=True,
        fully_expanded=False,
        size="sm",
        class_name=class_name,
    )


def opacity_slider(id_: str, value: float, name: str) -> html.Div:
    """A 0–1 opacity slider in steps of 0.05 (marks at 0, 0.5 and 1), named ``name`` for
    screen readers (``named``)."""
    slider = dcc.Slider(
        id=id_, min=0, max=1, step=0.05, value=value, marks={0: "0", 0.5: "0.5", 1: "1"}
    )
    return named(slider, name)


def upload_zone(
    id_: str, info_id: str, *, max_bytes: int, accept: str, what: str, formats: str, name: str
) -> html.Div:
    """A drop zone for one file of at most ``max_bytes``, with its status line under it.

    Args:
        id_: the ``dcc.Upload``'s id; ``info_id``: the status line's (a live region).
        accept: the extensions the file picker offers (``".npy,.npz"``).
        what: what to drop (``"a dataset"``): "Drop a dataset or choose a file".
        formats: the grey line under it, before the size: ``".npz with x and y"``.
        name: the hidden file input's name for screen readers (``named``).
    """
    # data-max-bytes feeds assets/upload-guard.js: dcc.Upload drops a file over max_size
    # silently, the guard says so.
    upload = dcc.Upload(
        id=id_,
        max_size=max_bytes,
        accept=accept,
        className="upload-zone",
        className_active="upload-zone active",
        children=html.Div(
            [
                html.Span(f"Drop {what} or "),
                html.A("choose a file", className="link-primary"),
                html.Small(
                    f"{formats} — up to {max_bytes // 2**20} MB",
                    className="text-body-secondary d-block",
                ),
            ]
        ),
    )
    info = html.Small(id=info_id, className="d-block", role="status")
    return html.Div(
        [named(upload, name), info], className="my-1", **{"data-max-bytes": str(max_bytes)}
    )


def job_controls(run_id: str, run_label, cancel_id: str, progress_id: str, summary_id: str):
    """A background job's controls: run and cancel buttons (cancel enabled while it runs),
    its progress bar and its summary line (a polite live region).

    Returns:
        ``(buttons, progress, summary)``, to place as the section wants them.
    """
    run = dbc.Button(run_label, id=run_id, color="primary", size="sm", n_clicks=0)
    cancel = dbc.Button(
        "Cancel", id=cancel_id, color="secondary", outline=True, size="sm", disabled=True,
        n_clicks=0,
    )  # fmt: skip
    buttons = html.Div([run, cancel], className="d-flex gap-2 my-2")
    progress = dbc.Progress(id=progress_id, value=0, max=1, label="", style={"height": "18px"})
    summary = html.Small(
        id=summary_id,
        className="text-body-secondary d-block mt-1",
        role="status",
        **{"aria-live": "polite"},
    )
    return buttons, progress, summary
