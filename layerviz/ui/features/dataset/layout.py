"""The Dataset tab's components: its controls (source, upload, run) and its views.

The tab (``dataset_tab``) is built the first time it is shown; the run's result and the kept
upload live in stores always in the page (``dataset_panels``), so other parts (the inspector's
channel) can read them whether or not the tab was opened.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from layerviz.draw.figures import empty_figure
from layerviz.ui import ids
from layerviz.ui.blocks import hint, job_controls, named, section, upload_zone
from layerviz.ui.features.dataset.jobs import DATASET_FILE_BYTES, MAX_DATASET_PATTERNS, SOURCES

__all__ = ["dataset_controls", "dataset_panels", "dataset_tab", "dataset_views"]

_GRAPH_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


def dataset_controls() -> list:
    """Source, upload zone, run and cancel, progress and the run's summary."""
    source = dbc.RadioItems(
        id=ids.DATASET_SOURCE,
        options=[{"label": text, "value": key} for key, text in SOURCES.items()],
        value="bundled",
        className="mb-1",
    )
    zone = upload_zone(
        ids.DATASET_UPLOAD,
        ids.DATASET_UPLOAD_INFO,
        max_bytes=DATASET_FILE_BYTES,
        accept=".npz",
        what="a dataset",
        formats=f".npz with x (n, …input) and y (labels), {MAX_DATASET_PATTERNS} patterns",
        name="dataset file",
    )
    buttons, progress, summary = job_controls(
        ids.DATASET_RUN,
        "Run dataset",
        ids.DATASET_CANCEL,
        ids.DATASET_PROGRESS,
        ids.DATASET_SUMMARY,
    )
    children = [source, zone, buttons, progress, summary]
    return [section("Dataset", "collection", children, "mb-2")]


def dataset_panels() -> list:
    """Always in the page: the run's result and the kept upload (read from other tabs)."""
    return [dcc.Store(id=ids.DATASET_STORE), dcc.Store(id=ids.DATASET_UPLOAD_STORE)]


def dataset_tab() -> list:
    """The Dataset tab: its controls first, then the views."""
    return [*dataset_controls(), *dataset_views()]


def dataset_views() -> list:
    """The views: projection with thumbnail, probe curve, CKA heatmap, channel examples."""
    choices = html.Div(
        [
            named(
                dcc.Dropdown(
                    id=ids.DATASET_LAYER,
                    clearable=False,
                    placeholder="layer",
                    style={"minWidth": "12rem"},
                ),
                "layer to project",
            ),
            dbc.RadioItems(
                id=ids.DATASET_METHOD,
                options=[{"label": "PCA", "value": "pca"}, {"label": "t-SNE", "value": "tsne"}],
                value="pca",
                inline=True,
            ),
            dbc.RadioItems(
                id=ids.DATASET_COLOUR,
                options=[
                    {"label": "label", "value": "label"},
                    {"label": "prediction", "value": "prediction"},
                    {"label": "correct", "value": "correct"},
                ],
                value="label",
                inline=True,
            ),
        ],
        className="d-flex flex-wrap gap-3 align-items-center mb-1",
    )
    thumbnail = html.Div(
        [
            html.Img(id=ids.DATASET_THUMBNAIL, alt="pattern under the pointer", width=96),
            html.Small(id=ids.DATASET_THUMBNAIL_TEXT, className="d-block text-body-secondary"),
            hint("Click a point to open that pattern in the grid."),
        ],
        style={"width": "110px"},
    )
    projection = html.Div(
        [
            html.Div(_graph(ids.DATASET_PROJECTION), className="flex-grow-1"),
            thumbnail,
        ],
        className="d-flex gap-2",
    )
    probe = html.Div(
        [
            hint("Where classes separate: a linear probe per layer (click: select the layer)."),
            _graph(ids.DATASET_PROBE),
        ]
    )
    cka = html.Div(
        [
            hint("Layer similarity, linear CKA (click a cell: open both layers)."),
            _graph(ids.DATASET_CKA),
            html.Small(id=ids.DATASET_CKA_TEXT, className="d-block", role="status"),
        ]
    )
    return [html.Div([choices, projection, probe, cka], id="card-dataset")]


def _graph(id_: str) -> dcc.Graph:
    return dcc.Graph(
        id=id_, figure=empty_figure("Run a dataset to see this view."), config=_GRAPH_CONFIG
    )
