"""Dashboard feature: the Dataset view — every layer seen over a labelled dataset (issue 23).

A run goes over the model's held-out set (``models/datasets/<model>.npz``) or an uploaded
``.npz`` as a Dash background job (``layerviz.ui.jobs``: a thread of the server, or a Celery
worker), with a progress bar and a cancel button that stops it at the next batch. Its result
(``ids.DATASET_STORE``) feeds linked views: a projection of the chosen layer's pooled features
(PCA or t-SNE) coloured by label, prediction or correctness, whose hover shows the pattern and
whose click opens it as pattern A in the grid; the probe accuracy by depth (a click selects
the layer); the CKA heatmap (a click selects one layer and projects the other); and the
dataset examples of the channel the inspector selects, inside the inspector's card
(``ids.INSPECTOR_EXAMPLES``: the patterns exciting it most and least, with their peak values).

A clicked pattern reaches the grid through the page's own upload control (its ``.npy`` bytes
as the control's contents): the page then keeps it and draws it as it draws any upload, so
this tab needs nothing from the core callbacks. The plain work is in ``dataset.jobs``.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
from dash import Input, Output, State, ctx, html, no_update

from layerviz.draw.figures import empty_figure
from layerviz.draw.lens_figures import cka_figure, probe_figure, projection_figure, thumbnail_url
from layerviz.lens.features import LayerFeatures, top_examples
from layerviz.ui import ids
from layerviz.ui.common import error_text, keep_upload
from layerviz.ui.features.dataset.jobs import (
    DATASET_FILE_BYTES,
    add_dataset,
    checked_result,
    colour_groups,
    dataset_of,
    kept_features,
    layer_columns,
    projection_of,
    run_lens,
)
from layerviz.ui.features.dataset.layout import dataset_panels, dataset_tab
from layerviz.ui.features.dataset.shards import register_shard_task
from layerviz.ui.jobs import (
    JobCancelledError,
    JobSlots,
    check_cancelled,
    job_callback_options,
    job_error_text,
)
from layerviz.ui.recipe import recipe_from_store
from layerviz.ui.session import session_of
from layerviz.ui.store import current_session
from layerviz.ui.wiring import PATTERN, SELECT
from layerviz.ui.workbench import Workbench

__all__ = [
    "TAB",
    "controls",
    "dataset_job",
    "open_pattern",
    "panels",
    "register",
    "tab",
    "upload_dataset",
]

#: Dataset runs at once in one process, as for health runs; past ``JobSlots``' bounds, refused.
_slots = JobSlots("dataset run", 2)
#: Patterns the examples strip shows for the selected channel.
EXAMPLES_K = 8


#: The workspace's detail pane (issue 20) shows ``tab(workbench)`` under this title.
TAB = ("Dataset", "collection")


def tab(workbench: Workbench) -> list:
    """The tab: source, upload, run and cancel, then the linked views."""
    return dataset_tab()


def controls(workbench: Workbench) -> list:
    return []


def panels(workbench: Workbench) -> list:
    return dataset_panels()


def dataset_job(workbench: Workbench, controls: tuple, set_progress) -> tuple:
    """The background job: (result store, summary); a bad argument is only a message."""
    store_data, source, upload = controls

    def progress(stage: str, done: int, total: int) -> None:
        set_progress((done, max(total, 1), f"{stage} {done}/{total}"))
        check_cancelled()  # the user's cancel stops the run at the next step

    try:
        model = recipe_from_store(store_data).model
        set_progress((0, 1, "queued"))
        with _slots.slot(current_session.get()):
            data = dataset_of(workbench, model, source, upload)
            result = run_lens(workbench, model, data, progress)
    except JobCancelledError:
        return no_update, "cancelled"
    except Exception as exc:
        return no_update, error_text(exc)
    probe = result["probe"]
    best = "" if probe is None else f"; best probe {max(probe['accuracy']):.2f}"
    layers = len(result["names"])
    return result, f"{result['n']} patterns of {result['source']}, {layers} layers{best}"


def open_pattern(workbench: Workbench, result: Any, source: Any, upload: Any, row: int) -> tuple:
    """Pattern ``row`` of the run's dataset as the page's upload control takes it.

    Returns:
        ``(contents, filename)``: a ``.npy`` data URL and a name saying where it came from.
    """
    data = dataset_of(workbench, result["model"], source, upload)
    if not 0 <= row < len(data):
        raise IndexError(row)
    buffer = io.BytesIO()
    np.save(buffer, data.x[row], allow_pickle=False)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f"data:application/octet-stream;base64,{encoded}", f"dataset #{row}.npy"


def upload_dataset(workbench: Workbench, contents, filename, store_data) -> tuple:
    """The upload callback's answer: (upload store, info line, source)."""
    upload = (contents, filename, store_data)
    kept, error = keep_upload(workbench, add_dataset, upload, DATASET_FILE_BYTES, "upload.npz")
    if kept is None:
        return None, error, no_update
    labels = "with labels" if kept["labelled"] else "no labels"
    return kept, f"{kept['filename']}: {kept['n']} patterns, {labels}", "upload"


def register(app, workbench: Workbench) -> None:
    """The upload, the run as a background job, and the linked views."""

    @app.callback(
        Output(ids.DATASET_UPLOAD_STORE, "data"),
        Output(ids.DATASET_UPLOAD_INFO, "children"),
        Output(ids.DATASET_SOURCE, "value"),
        Input(ids.DATASET_UPLOAD, "contents"),
        State(ids.DATASET_UPLOAD, "filename"),
        PATTERN,
        prevent_initial_call=True,
    )
    def _upload(contents, filename, store_data):
        return upload_dataset(workbench, contents, filename, store_data)

    @app.callback(
        Output(ids.DATASET_STORE, "data"),
        Output(ids.DATASET_SUMMARY, "children"),
        Input(ids.DATASET_RUN, "n_clicks"),
        PATTERN,
        State(ids.DATASET_SOURCE, "value"),
        State(ids.DATASET_UPLOAD_STORE, "data"),
        **job_callback_options(
            ids.DATASET_PROGRESS, ids.DATASET_RUN, ids.DATASET_CANCEL, _job_failed
        ),
    )
    def _run(set_progress, clicks, store_data, source, upload):
        if not clicks:
            return no_update, no_update
        current_session.set(session_of(ctx.cookies) or "local")
        return dataset_job(workbench, (store_data, source, upload), set_progress)

    _register_views(app, workbench)
    _register_clicks(app, workbench)
    if getattr(app, "celery_app", None) is not None:  # team mode: shards on the workers
        register_shard_task(app.celery_app, workbench)


def _job_failed(exc: Exception) -> tuple:
    return no_update, job_error_text(exc) or error_text(exc)


def _register_views(app, workbench: Workbench) -> None:
    @app.callback(
        Output(ids.DATASET_LAYER, "options"),
        Output(ids.DATASET_LAYER, "value"),
        Output(ids.DATASET_PROBE, "figure"),
        Output(ids.DATASET_CKA, "figure"),
        Input(ids.DATASET_STORE, "data"),
        prevent_initial_call=True,
    )
    def _views(value):
        result = checked_result(value)
        if result is None:
            return no_update, no_update, no_update, no_update
        names = result["names"]
        probe = result.get("probe")
        probe_fig = (
            probe_figure(names, probe["accuracy"], probe["spread"], probe["chance"])
            if probe
            else empty_figure("The dataset has no labels: no probe.")
        )
        layer = names[-2] if len(names) > 1 else names[0]
        return names, layer, probe_fig, cka_figure(names, np.asarray(result["cka"]))

    @app.callback(
        Output(ids.DATASET_PROJECTION, "figure"),
        Input(ids.DATASET_LAYER, "value"),
        Input(ids.DATASET_METHOD, "value"),
        Input(ids.DATASET_COLOUR, "value"),
        Input(ids.DATASET_STORE, "data"),
        prevent_initial_call=True,
    )
    def _projection(layer, method, by, value):
        result = checked_result(value)
        if result is None or not isinstance(layer, str) or layer not in result["names"]:
            return no_update
        try:
            coords = projection_of(workbench, result, layer, method)
        except Exception as exc:
            return empty_figure(error_text(exc))
        groups, names = colour_groups(result, by)
        title = f"{layer}: {'t-SNE' if method == 'tsne' else 'PCA'} of pooled features"
        return projection_figure(coords, groups, names, title)

    @app.callback(
        Output(ids.DATASET_THUMBNAIL, "src"),
        Output(ids.DATASET_THUMBNAIL_TEXT, "children"),
        Input(ids.DATASET_PROJECTION, "hoverData"),
        State(ids.DATASET_STORE, "data"),
        State(ids.DATASET_SOURCE, "value"),
        State(ids.DATASET_UPLOAD_STORE, "data"),
        prevent_initial_call=True,
    )
    def _thumbnail(hover, value, source, upload):
        row, result = _row_of(hover), checked_result(value)
        if row is None or result is None:
            return no_update, no_update
        try:
            data = dataset_of(workbench, result["model"], source, upload)
            return thumbnail_url(data.x[row]), _describe(result, row)
        except Exception as exc:
            return None, error_text(exc)

    @app.callback(
        Output(ids.INSPECTOR_EXAMPLES, "children"),
        Input(ids.DATASET_STORE, "data"),
        Input(ids.SELECTED_CHANNEL_STORE, "data"),
        # In the Dataset tab, which is built on first view (no run, no examples, until then).
        State(ids.DATASET_SOURCE, "value", allow_optional=True),
        State(ids.DATASET_UPLOAD_STORE, "data"),
        prevent_initial_call=True,
    )
    def _inspector_examples(value, selection, source, upload):
        try:
            return inspector_examples(workbench, checked_result(value), selection, source, upload)
        except Exception as exc:
            return error_text(exc)


def inspector_examples(workbench: Workbench, result, selection, source, upload) -> list | str:
    """The inspector's examples: the channel's most exciting patterns, then its least."""
    rows = []
    for least, what in ((False, "most"), (True, "least")):
        strip = examples_strip(workbench, result, selection, source, upload, least=least)
        if isinstance(strip, str):
            return strip
        title = html.Small(f"excite it {what} (peak value)", className="text-body-secondary")
        rows += [title, html.Div(strip, className="d-flex flex-wrap gap-2 mb-1")]
    return rows


def examples_strip(
    workbench: Workbench, result, selection, source, upload, least: bool = False
) -> list | str:
    """Thumbnails of the dataset's patterns that excite the selected channel most (or least),
    each captioned with its row and the channel's peak value in it."""
    if result is None or not isinstance(selection, dict):
        return "Run a dataset and select a channel in the inspector to see its top patterns."
    layer, channel = selection.get("layer"), selection.get("channel")
    if not isinstance(layer, str) or layer not in result["names"] or not isinstance(channel, int):
        return f"No dataset features for layer {layer!r}."
    pooled, peak = kept_features(workbench, result)
    cols = layer_columns(result, layer)
    empty = np.zeros(0)
    lay = LayerFeatures(0, layer, "", (), pooled[:, cols], peak[:, cols], 0, empty, empty)
    top = top_examples(lay, channel=channel, k=EXAMPLES_K, least=least)
    data = dataset_of(workbench, result["model"], source, upload)
    return [
        html.Figure(
            [
                html.Img(src=thumbnail_url(data.x[row], 64), alt=f"pattern {row}", width=64),
                html.Figcaption(f"#{row} · {value:.3g}", className="small"),
            ],
            className="m-0 text-center",
            title=f"pattern #{row}: peak {value:.4g}",
        )
        for row, value in zip(top.patterns.tolist(), top.values.tolist(), strict=True)
    ]


def _register_clicks(app, workbench: Workbench) -> None:
    @app.callback(
        Output(ids.PATTERN_UPLOAD, "contents", allow_duplicate=True),
        Output(ids.PATTERN_UPLOAD, "filename", allow_duplicate=True),
        Input(ids.DATASET_PROJECTION, "clickData"),
        State(ids.DATASET_STORE, "data"),
        State(ids.DATASET_SOURCE, "value"),
        State(ids.DATASET_UPLOAD_STORE, "data"),
        prevent_initial_call=True,
    )
    def _open(click, value, source, upload):
        row, result = _row_of(click), checked_result(value)
        if row is None or result is None:
            return no_update, no_update
        try:
            return open_pattern(workbench, result, source, upload, row)
        except Exception as exc:
            error_text(exc)
            return no_update, no_update

    @app.callback(
        SELECT,
        Output(ids.DATASET_LAYER, "value", allow_duplicate=True),
        Output(ids.DATASET_CKA_TEXT, "children"),
        Input(ids.DATASET_PROBE, "clickData"),
        Input(ids.DATASET_CKA, "clickData"),
        State(ids.DATASET_STORE, "data"),
        prevent_initial_call=True,
    )
    def _pick(probe_click, cka_click, value):
        result = checked_result(value)
        if result is None:
            return no_update, no_update, no_update
        names = result["names"]
        try:
            if ctx.triggered_id == ids.DATASET_PROBE:
                layer = probe_click["points"][0]["customdata"]
                if not isinstance(layer, str) or layer not in names:
                    return no_update, no_update, no_update
                return {"model": result["model"], "layer": layer}, layer, no_update
            point = cka_click["points"][0]
            row, col = point["y"], point["x"]
        except (TypeError, KeyError, IndexError):
            return no_update, no_update, no_update
        if not isinstance(row, str) or not isinstance(col, str):
            return no_update, no_update, no_update
        if row not in names or col not in names:
            return no_update, no_update, no_update
        value = result["cka"][names.index(row)][names.index(col)]
        text = f"{row} ↔ {col}: CKA {value:.3f} ({row} in the inspector, {col} projected)"
        return {"model": result["model"], "layer": row}, col, text


def _row_of(event: Any) -> int | None:
    """The pattern row a hover or click on the projection points at, or None."""
    try:
        row = event["points"][0]["customdata"]
    except (TypeError, KeyError, IndexError):
        return None
    return int(row) if isinstance(row, int | float) and not isinstance(row, bool) else None


def _describe(result: dict, row: int) -> str:
    labels, predicted = result.get("labels"), result.get("predicted")
    classes = result.get("classes") or []

    def name(v):
        return classes[v] if 0 <= v < len(classes) else str(v)

    parts = [f"pattern #{row}"]
    if labels is not None and row < len(labels):
        parts.append(f"label {name(labels[row])}")
    if predicted is not None and row < len(predicted):
        parts.append(f"predicted {name(predicted[row])}")
    return ", ".join(parts)
