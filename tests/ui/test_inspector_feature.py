"""The inspector feature's plain functions: a real Workbench, no browser (health runs:
test_inspector_health.py)."""

from __future__ import annotations

import csv
import io

import pytest

from layerviz.analysis.statistics import layer_statistics
from layerviz.draw.channel_figures import DEAD_COLOUR, SATURATED_COLOUR, SELECTED_COLOUR
from layerviz.errors import ArgumentError, PatternError
from layerviz.ui.features.inspector import views
from layerviz.ui.features.inspector.callbacks import table_pick
from layerviz.ui.recipe import SeedRecipe

MODEL = "digits_cnn"


@pytest.fixture(scope="module")
def store() -> dict:
    return SeedRecipe(MODEL, 3).to_store()


def selected(layer: str) -> dict:
    return {"model": MODEL, "layer": layer}


def test_inspector_view_shows_the_layer_ranked(workbench, store):
    view = views.inspector_view(workbench, store, selected("conv2"), "max", 8, 1, "map")
    assert view.title.startswith("3: conv2 (Conv2D, ")
    assert view.summary.startswith("showing 8 of 32 (ranks 1-8, page 1 of 4)")
    assert (view.n_pages, view.page) == (4, 1)
    assert len(view.figure.data) == 8


@pytest.mark.parametrize(
    ("width", "expected"),
    [(456, 456), (457, 457), (1000, 1000), (None, None), (150, None), ("456", None), (True, None)],
)
def test_the_tiles_fill_the_width_the_browser_measured(workbench, store, width, expected):
    args = (workbench, store, selected("conv2"), "max", 16, 1, "map")
    view = views.inspector_view(*args, width=width)
    default = views.inspector_view(*args).figure.layout.width  # tiles of 128 px
    if expected is None:
        assert view.figure.layout.width == default
    else:  # 4 columns across the width, less what whole pixels leave
        assert expected - 4 <= view.figure.layout.width <= expected


@pytest.mark.parametrize(
    ("k", "page", "shown", "pages"),
    [
        (16, 1, 16, 2),
        (1000, 1, 32, 1),  # k clamps to the layer's channels
        ("x", 1, 16, 2),  # garbage falls back to the default
        (10, 99, 2, 4),  # a page past the end is the last page
    ],
)
def test_inspector_view_clamps_what_a_browser_sends(workbench, store, k, page, shown, pages):
    view = views.inspector_view(workbench, store, selected("conv2"), "mean", k, page, "layer")
    assert (len(view.figure.data), view.n_pages) == (shown, pages)


def test_inspector_view_without_a_selection_or_for_another_model(workbench, store):
    for picked in (None, {"model": "article_dense", "layer": "conv2"}, "conv2"):
        view = views.inspector_view(workbench, store, picked, "mean", 16, 1, "map")
        assert view.title == "no layer selected"


def test_unknown_layer_is_a_clear_error(workbench, store):
    with pytest.raises(ArgumentError, match=r"model 'digits_cnn' has no layer 'nope' \(its"):
        views.inspector_view(workbench, store, selected("nope"), "mean", 16, 1, "map")


def test_health_marks_outline_the_layer_s_channels(workbench, store):
    health = {"model": MODEL, "layers": {"conv2": {"dead": [31], "saturated": [4]}}}
    view = views.inspector_view(workbench, store, selected("conv2"), "mean", 32, 1, "map", health)
    colours = sorted(s.line.color for s in view.figure.layout.shapes)
    assert colours == sorted([DEAD_COLOUR, SATURATED_COLOUR, SELECTED_COLOUR])  # + the selection
    assert views.health_marks(health, "other", "conv2") == (set(), set())


def test_stats_rows_one_per_layer_and_health_counts(workbench, store):
    extraction = workbench.extraction(SeedRecipe(MODEL, 3)).extraction
    rows = views.stats_rows(workbench, store)
    assert [r["name"] for r in rows] == [a.name for a in extraction.activations]
    assert "health_dead" not in rows[0]
    health = {"model": MODEL, "layers": {"conv2": {"dead": [1, 2], "saturated": []}}}
    with_health = {r["name"]: r for r in views.stats_rows(workbench, store, health)}
    assert (with_health["conv2"]["health_dead"], with_health["conv1"]["health_dead"]) == (2, 0)


def test_stats_csv_is_the_library_s_records(workbench, store):
    name, text = views.stats_csv(workbench, store)
    assert name == "digits_cnn-statistics.csv"
    rows = list(csv.DictReader(io.StringIO(text)))
    expected = layer_statistics(workbench.extraction(SeedRecipe(MODEL, 3)).extraction)
    assert [r["name"] for r in rows] == [r.name for r in expected]


def test_histogram_of_the_selected_layer(workbench, store):
    assert "conv1" in views.histogram(workbench, store, selected("conv1")).layout.title.text
    hint = views.histogram(workbench, store, None).layout.annotations[0].text
    assert hint == "pick a layer in the table or the grid"


def test_table_pick(store):
    assert table_pick([{"name": "conv1"}], store) == selected("conv1")
    for rows in (None, [], [{}], "x", [{"name": 3}]):
        assert table_pick(rows, store) is None
    assert table_pick([{"name": "conv1"}], {"kind": "nonsense"}) is None


def test_views_refuse_a_malformed_store(workbench):
    with pytest.raises(PatternError):
        views.stats_rows(workbench, {"kind": "nonsense"})
