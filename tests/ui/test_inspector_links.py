"""The link format (``url``) and the link callbacks' plain functions (``links``), no browser."""

from __future__ import annotations

import pytest
from dash import no_update

from layerviz.ui.features.inspector import url
from layerviz.ui.features.inspector.links import link_outputs, pattern_outputs
from layerviz.ui.workbench import Workbench

MODEL = "digits_cnn"
SEED_STORE = {"kind": "seed", "model": MODEL, "seed": 4}


@pytest.fixture(scope="module")
def workbench() -> Workbench:
    return Workbench()


def test_a_view_round_trips_through_its_query():
    view = url.view_of(SEED_STORE, {"model": MODEL, "layer": "conv2"}, "max", 8, 2, 3, 15)
    query = url.view_query(view)
    assert query == "?model=digits_cnn&seed=4&grid=2x3&limit=15&layer=conv2&sort=max&k=8"
    assert url.parse_view(query, [MODEL]) == (view, [])


def test_uploads_and_other_models_layers_stay_out_of_links():
    upload = {"kind": "upload", "model": MODEL, "digest": "0" * 24, "filename": "mine.npy"}
    view = url.view_of(upload, {"model": "other", "layer": "conv2"}, "mean", 16, 3, 3, 15)
    assert "digest" not in url.view_query(view) and "mine" not in url.view_query(view)
    assert "layer" not in view
    assert url.view_of({"kind": "nonsense"}, None, None, None, None, None, None) == {}


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("?k=1000", "this link's k: k must be a whole number from 1 to 64, got '1000'"),
        ("?k=x", "this link's k: k must be a whole number from 1 to 64, got 'x'"),
        ("?grid=9x1", "this link's grid: grid side must be a whole number from 1 to 6"),
        ("?sort=median", "this link's sort: unknown channel score 'median'"),
        ("?model=nope", "this link's model: no model 'nope' here; offered: digits_cnn"),
        ("?seed=-1", "this link's seed: a random seed must be a whole number"),
        (f"?layer={'x' * 300}", "this link's layer: more than 200 characters"),
    ],
)
def test_bad_fields_are_named_and_dropped(query, problem):
    view, problems = url.parse_view(query + "&limit=20", [MODEL])
    assert problems and problems[0].startswith(problem)
    assert view == {"limit": 20}  # the bad field is dropped, the rest of the link applies


def test_garbage_searches_are_no_view():
    for search in (None, 3, "", "?", "?unknown=1", "?" + "a=1&" * 5000):
        assert url.parse_view(search, [MODEL])[0] == {}


def test_link_outputs_set_what_the_link_names(workbench):
    out = link_outputs(workbench, "?model=digits_cnn&seed=5&layer=conv2&k=8", MODEL, {})
    model, rows, cols, limit, sort, k, selected, target, message, is_open = out
    assert model is no_update  # already the model shown
    assert (rows, cols, limit, sort) == (no_update,) * 4
    assert (k, selected) == (8, {"model": MODEL, "layer": "conv2"})
    assert target == {"model": MODEL, "seed": 5, "layer": "conv2", "k": 8}
    assert (message, is_open) == (no_update, no_update)


def test_link_outputs_of_a_view_already_shown_clear_the_target(workbench):
    current = {"model": MODEL, "seed": 5, "k": 8}
    out = link_outputs(workbench, "?model=digits_cnn&seed=5&k=8", MODEL, current)
    assert out[:7] == (no_update,) * 7 and out[7] is None


def test_link_with_an_unknown_sample_says_so(workbench):
    out = link_outputs(workbench, "?model=digits_cnn&sample=nope.png", MODEL, {})
    assert "model 'digits_cnn' has no sample 'nope.png'" in out[8]
    assert out[9] is True


def test_pattern_outputs_set_the_seed_or_sample_once_the_model_is_open():
    target = {"model": MODEL, "seed": 7}
    assert pattern_outputs(SEED_STORE, target) == (7, no_update)
    assert pattern_outputs({**SEED_STORE, "seed": 7}, target) == (no_update, no_update)
    sample = {"model": MODEL, "sample": "digit_0.png"}
    assert pattern_outputs(SEED_STORE, sample) == (no_update, "digit_0.png")
    other = {"kind": "seed", "model": "article_dense", "seed": 1}
    assert pattern_outputs(other, target) == (no_update, no_update)
    assert pattern_outputs(None, target) == (no_update, no_update)
    assert pattern_outputs(SEED_STORE, None) == (no_update, no_update)
