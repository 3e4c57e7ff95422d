"""The inspector's "what it looks for" row without a browser: which channels it draws, the
tiles it keeps per (model, layer, channel, settings), its progress, cancel and messages
(layerviz.ui.features.inspector.looks_for and .looks_for_ui)."""

from __future__ import annotations

import base64
import io
import threading

import numpy as np
import pytest
from dash import no_update
from PIL import Image

from layerviz.ui.features.inspector import looks_for, looks_for_ui, views
from layerviz.ui.jobs import _cancel_flag
from layerviz.ui.recipe import SeedRecipe
from layerviz.ui.store import current_session
from layerviz.ui.workbench import Workbench

MODEL = "digits_cnn"
STORE = SeedRecipe(MODEL, 3).to_store()


@pytest.fixture(scope="module")
def workbench() -> Workbench:
    return Workbench()


@pytest.fixture(autouse=True)
def fresh_tiles(monkeypatch):
    """Every test starts with no tiles kept, and optimises briefly."""
    monkeypatch.setattr(looks_for, "_tiles", type(looks_for._tiles)())
    monkeypatch.setattr(looks_for, "SETTINGS", looks_for.VisualiseSettings(steps=8))
    token = current_session.set("looks-for-test")
    yield
    current_session.reset(token)


def state(layer: str, k: int = 4, page: int = 1, by: str = "mean") -> tuple:
    return (STORE, {"model": MODEL, "layer": layer}, by, k, page, False, None)


def test_the_page_channels_are_the_inspectors(workbench):
    shown = looks_for.page_channels(workbench, *state("conv2", k=5, page=2)[:5], None)
    view = views.inspector_view(
        workbench, STORE, {"model": MODEL, "layer": "conv2"}, "mean", 5, 2, "map"
    )
    expected = [t["meta"]["channel"] for t in view.figure.to_plotly_json()["data"]]
    assert (shown.model, shown.layer, shown.channels) == (MODEL, "conv2", expected)
    assert shown.names == [f"ch {c}" for c in expected]


def test_the_output_layer_is_drawn_one_class_per_tile(workbench):
    shown = looks_for.page_channels(workbench, *state("predictions", k=10)[:5], None)
    assert sorted(shown.channels) == list(range(10))
    assert f"class {shown.channels[0]}: {shown.channels[0]}" == shown.names[0]


def test_a_run_makes_one_tile_per_channel_and_keeps_them(workbench, monkeypatch):
    seen = []
    result, status = looks_for_ui.looks_for_run(workbench, state("conv2"), seen.append)
    assert status == "4 patterns of conv2"
    assert seen[0] == (0, 1, "queued") and seen[-1] == (8, 8, "8/8 steps")
    tiles = result["tiles"]
    assert len(tiles) == 4
    png = base64.b64decode(next(iter(tiles.values())).split(",", 1)[1])
    assert Image.open(io.BytesIO(png)).size == (128, 128)
    # the row draws the run's tiles; a second run optimises nothing (kept per channel)
    assert len(looks_for_ui.row_of(workbench, state("conv2"), result)) == 4
    monkeypatch.setattr(looks_for, "_visualiser", lambda *a: pytest.fail("optimised again"))
    again, _ = looks_for_ui.looks_for_run(workbench, state("conv2"), lambda _: None)
    assert again["tiles"] == tiles
    # another page shows only what was made for it: nothing yet
    assert looks_for_ui.row_of(workbench, state("conv2", page=2), result) == []


def test_other_settings_are_kept_apart(workbench, monkeypatch):
    result, _ = looks_for_ui.looks_for_run(workbench, state("conv1", k=2), lambda _: None)
    monkeypatch.setattr(looks_for, "SETTINGS", looks_for.VisualiseSettings(steps=9))
    shown = looks_for.page_channels(workbench, *state("conv1", k=2)[:5], None)
    assert looks_for.cached_tiles(shown, result) == {}


def test_cancel_stops_the_run_and_keeps_nothing(workbench):
    flag = threading.Event()
    flag.set()  # the user pressed cancel: the job stops at its first step
    token = _cancel_flag.set(flag)
    try:
        store, status = looks_for_ui.looks_for_run(workbench, state("conv2"), lambda _: None)
    finally:
        _cancel_flag.reset(token)
    assert (store, status) == (no_update, "cancelled")
    assert looks_for._tiles == {}


def test_no_layer_or_a_bad_one_is_a_message(workbench):
    _, status = looks_for_ui.looks_for_run(
        workbench, (STORE, None, "mean", 4, 1, False, None), lambda _: None
    )
    assert status == "click a panel of the grid to pick a layer first"
    _, status = looks_for_ui.looks_for_run(workbench, state("nope"), lambda _: None)
    assert "has no layer 'nope'" in status
    assert np.asarray(looks_for_ui.row_of(workbench, state("conv2"))).size == 0


# --- the row's settings: the input range and the step count (issue 24) ------------------------


@pytest.mark.parametrize(
    ("boxes", "fragment"),
    [
        ((None, 1, 8), "the input range's min must be a finite number, got nothing"),
        ((0, "1", 8), "the input range's max must be a finite number, got '1'"),
        ((1, 0, 8), "the input range must have min < max, got min 1 and max 0"),
        ((0, 0, 8), "min < max, got min 0 and max 0"),
        ((0, 1, 0), f"steps must be a whole number from 1 to {looks_for.MAX_UI_STEPS}, got 0"),
        ((0, 1, 2.5), "steps must be a whole number from 1 to 4096, got 2.5"),
        ((0, 1, None), "steps must be a whole number from 1 to 4096, got nothing"),
        ((0, 1, 5000), "got 5000"),
    ],
)
def test_settings_out_of_range_are_refused_naming_expected_and_received(boxes, fragment):
    with pytest.raises(looks_for.ArgumentError) as info:
        looks_for.looks_for_settings(*boxes)
    assert fragment in str(info.value)


def test_the_settings_from_the_boxes():
    settings = looks_for.looks_for_settings(-1.5, 1.5, 64.0)
    assert (settings.value_range, settings.steps) == ((-1.5, 1.5), 64)
    assert settings.tv_weight == looks_for.SETTINGS.tv_weight  # the rest as the dashboard's


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("digits_cnn", (0.0, 1.0, True, "input range from the model's card")),
        ("signals_conv1d", (-1.5, 1.5, True, "input range from the model's card")),
        ("an-upload", (0.0, 1.0, False, "input range unknown: set the values the model expects")),
    ],
)
def test_the_range_is_the_models_when_known_else_editable(workbench, model, expected):
    assert looks_for_ui.range_controls(workbench, {"model": model}) == expected


def test_a_run_with_the_boxes_settings_keeps_its_tiles_apart(workbench):
    seen = []
    boxes = (-1.0, 1.0, 6)
    result, status = looks_for_ui.looks_for_run(workbench, state("conv1", k=2), seen.append, boxes)
    assert status == "2 patterns of conv1" and seen[-1] == (6, 6, "6/6 steps")
    assert "steps=6" in result["settings"] and "value_range=(-1.0, 1.0)" in result["settings"]
    shown = looks_for.page_channels(workbench, *state("conv1", k=2)[:5], None)
    assert looks_for.cached_tiles(shown, result) == {}  # not the default settings' tiles
    settings = looks_for.looks_for_settings(*boxes)
    assert len(looks_for_ui.row_of(workbench, state("conv1", k=2), result, settings)) == 2
    _, status = looks_for_ui.looks_for_run(workbench, state("conv1"), seen.append, (1, 0, 6))
    assert status == "the input range must have min < max, got min 1 and max 0"
