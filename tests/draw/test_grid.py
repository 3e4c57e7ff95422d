"""The one grid pipeline: settings that clamp or refuse, and pages of visible layers."""

import numpy as np
import pytest

from layerviz.draw.grid import GRID_SIDES, LIMIT_SIDES, GridSettings, clamp, grid_pages
from layerviz.errors import ArgumentError
from layerviz.extract.activations import LayerActivation


def acts(*shapes):
    return [
        LayerActivation(i, f"l{i}", "Dense", np.zeros(shape, np.float32))
        for i, shape in enumerate(shapes, start=1)
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (4, 4),
        ("4", 4),
        (4.7, 4),
        (-3, 1),
        (99, 6),
        (None, 3),
        ("x", 3),
        ([4], 3),
        (True, 3),
        (float("inf"), 3),
        (float("-inf"), 3),
        (float("nan"), 3),
        (10**400, 6),
    ],
)
def test_clamp_takes_anything_a_browser_sends(value, expected):
    assert clamp(value, GRID_SIDES, 3) == expected


def test_settings_clamp_themselves():
    settings = GridSettings(0, 100, 10**9)
    assert settings.grid == (GRID_SIDES[0], GRID_SIDES[1])
    assert settings.limit == (LIMIT_SIDES[1], LIMIT_SIDES[1])
    assert GridSettings(2, 3, (10, 20)).limit == (10, 20)
    assert GridSettings("a", None, "b") == GridSettings()
    assert GridSettings().limit_text == "15×15"


@pytest.mark.parametrize(
    ("grid", "limit", "message"),
    [
        ((7, 3), 15, "grid rows must be a whole number from 1 to 6, got 7"),
        ((3, 0), 15, "grid columns must be a whole number from 1 to 6, got 0"),
        ((3, 3), -1, "size limit must be a whole number from 0 to 4096, got -1"),
        ((3, 3), (15, 5000), "size limit .* got 5000"),
        ((True, 3), 15, "grid rows .* got True"),
        (("3", 3), 15, "grid rows .* got '3'"),
    ],
)
def test_checked_settings_refuse_what_is_out_of_range(grid, limit, message):
    with pytest.raises(ArgumentError, match=message):
        GridSettings.checked(grid, limit)


def test_checked_settings_accept_the_article_defaults():
    assert GridSettings.checked((3, 3), (15, 15)) == GridSettings(3, 3, 15)


def test_grid_pages_select_and_paginate():
    activations = acts((20, 20), (10, 10), (30, 30, 4), (16,), (40, 40), (50, 50), (60, 60))
    pages = grid_pages(activations, GridSettings(1, 2, 15))
    assert [layer.name for layer in pages.layers] == ["l1", "l3", "l5", "l6", "l7"]
    assert [[layer.name for layer in page] for page in pages.pages] == [
        ["l1", "l3"],
        ["l5", "l6"],
        ["l7"],
    ]
    assert pages.total == 7 and pages.n_pages == 3
    assert pages.page_number(99) == 3 and pages.page_number("x") == 1
    assert [layer.name for layer in pages.page(3)] == ["l7"]
    assert pages.summary(2) == "5 of 7 layers larger than 15×15 · page 2 of 3"


def test_grid_pages_of_nothing_visible():
    pages = grid_pages(acts((4, 4)), GridSettings(3, 3, 15))
    assert pages.layers == [] and pages.pages == [] and pages.n_pages == 1
    assert pages.page(1) == []
