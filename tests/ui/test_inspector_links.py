"""The link format (``url``) and the link callbacks' plain functions (``links``), no browser."""

from __future__ import annotations

import pytest
from dash import no_update
from helpers import post_callback

from layerviz.ui import ids
from layerviz.ui.app import create_app
from layerviz.ui.features.inspector import url
from layerviz.ui.features.inspector.links import b_outputs, link_outputs, pattern_outputs

MODEL = "digits_cnn"
SEED_STORE = {"kind": "seed", "model": MODEL, "seed": 4}


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
        # A bad field of B drops all of B (its other fields alone would make another B).
        ("?b_perturb=blur:1&b_seed=2", "this link's b_perturb: perturbation kind must be one of"),
        ("?b_perturb=noise:x&b_seed=2", "this link's b_perturb: sigma must be a number"),
        ("?b_seed=-3&b_perturb=noise:0.1", "this link's b_seed: a random seed must be"),
        (f"?b_sample={'x' * 300}", "this link's b_sample: more than 200 characters"),
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


# --- pattern B in the link -------------------------------------------------------------------

PERTURB_B = {"source": "perturb", "spec": "shift:dx=2,dy=-1", "seed": 3}


@pytest.mark.parametrize(
    ("b_data", "query"),
    [
        ({"source": "seed", "seed": 7}, "&b_seed=7"),
        ({"source": "sample", "sample": "digit_7.png"}, "&b_sample=digit_7.png"),
        (PERTURB_B, "&b_seed=3&b_perturb=shift%3Adx%3D2%2Cdy%3D-1"),
    ],
)
def test_b_round_trips_through_the_query(b_data, query):
    view = url.view_of(SEED_STORE, None, None, None, None, None, None, True, b_data)
    assert view["b"] == b_data
    assert url.view_query(view) == "?model=digits_cnn&seed=4" + query
    assert url.parse_view(url.view_query(view), [MODEL]) == (view, [])


def test_b_leaves_the_link_when_compare_is_off_or_b_is_an_upload():
    upload = {"source": "upload", "digest": "0" * 24, "filename": "mine.npy"}
    for on, b_data in ((False, PERTURB_B), (True, upload), (True, None), (True, {"source": 1})):
        view = url.view_of(SEED_STORE, None, None, None, None, None, None, on, b_data)
        assert "b" not in view and "b_" not in url.view_query(view)


def test_a_perturbation_in_a_link_is_read_as_the_controls_write_it():
    view, problems = url.parse_view("?b_perturb=noise:0.2", [MODEL])
    assert problems == []
    assert view == {"b": {"source": "perturb", "spec": "noise:sigma=0.2", "seed": 0}}


def test_link_outputs_carry_b_in_the_target(workbench):
    out = link_outputs(workbench, "?model=digits_cnn&seed=5&b_seed=9", MODEL, {})
    assert out[7] == {"model": MODEL, "seed": 5, "b": {"source": "seed", "seed": 9}}
    current = {"model": MODEL, "seed": 5, "b": {"source": "seed", "seed": 9}}
    assert link_outputs(workbench, "?model=digits_cnn&seed=5&b_seed=9", MODEL, current)[7] is None


def test_link_with_an_unknown_b_sample_says_so(workbench):
    out = link_outputs(workbench, "?model=digits_cnn&b_sample=nope.png&k=8", MODEL, {})
    assert "this link's b_sample: model 'digits_cnn' has no sample 'nope.png'" in out[8]
    assert out[9] is True and out[7] == {"model": MODEL, "k": 8}


def _options(workbench):
    return [{"label": s.name, "value": s.name} for s in workbench.entry(MODEL).samples]


@pytest.mark.parametrize(
    ("b", "controls"),
    [
        ({"source": "seed", "seed": 9}, (True, "seed", no_update, no_update, 9, no_update)),
        (PERTURB_B, (True, "perturb", "shift", "dx=2,dy=-1", 3, no_update)),
        (
            {"source": "sample", "sample": "digit_7.png"},
            (True, "sample", no_update, no_update, no_update, "digit_7.png"),
        ),
    ],
)
def test_b_outputs_set_the_compare_controls(workbench, b, controls):
    target = {"model": MODEL, "b": b}
    out = b_outputs(workbench, SEED_STORE, target, _options(workbench), False, None)
    assert out == (*controls, no_update, no_update, no_update)
    # once compare mode shows that B, nothing more to set
    assert b_outputs(workbench, SEED_STORE, target, [], True, b) == (no_update,) * 9


def test_b_outputs_wait_for_the_model_and_the_sample_list(workbench):
    sample = {"model": MODEL, "b": {"source": "sample", "sample": "digit_7.png"}}
    assert b_outputs(workbench, SEED_STORE, sample, [], False, None) == (no_update,) * 9
    other = {"kind": "seed", "model": "article_dense", "seed": 1}
    seed_b = {"model": MODEL, "b": {"source": "seed", "seed": 9}}
    assert b_outputs(workbench, other, seed_b, [], False, None) == (no_update,) * 9
    assert b_outputs(workbench, None, seed_b, [], False, None) == (no_update,) * 9
    assert b_outputs(workbench, SEED_STORE, None, [], False, None) == (no_update,) * 9
    # The Compare tab not built yet (its sample list is None): nothing to set until it is.
    assert b_outputs(workbench, SEED_STORE, seed_b, None, False, None) == (no_update,) * 9


@pytest.mark.parametrize(
    ("b", "fragment"),
    [
        ({"source": "perturb", "spec": "noise:sigma=-1", "seed": 0}, "sigma"),
        ({"source": "perturb", "spec": "shift:dx=500,dy=0", "seed": 0}, "dx"),
        ({"source": "upload", "digest": "0" * 24, "filename": "x.npy"}, "unknown source"),
        ({"source": "seed", "seed": "x"}, "seed"),
    ],
)
def test_a_b_that_does_not_fit_a_is_named_and_dropped(workbench, b, fragment):
    target = {"model": MODEL, "k": 8, "b": b}
    out = b_outputs(workbench, SEED_STORE, target, [], False, None)
    assert out[:6] == (no_update,) * 6
    assert out[6] == {"model": MODEL, "k": 8}
    assert out[7].startswith("this link's pattern B: ") and fragment in out[7]
    assert out[8] is True


def test_a_view_of_an_uploaded_model_has_no_link_and_raises_no_alert():
    """Issue 25, row 6: the link of an uploaded model's view carried ``?model=upload-…``,
    and reading it back said "no model 'upload-…' here" on every upload."""
    app = create_app(MODEL)
    client = app.server.test_client()
    upload = {"kind": "seed", "model": "upload-" + "A" * 16, "seed": 0}
    assert url.view_of(upload, None, "mean", 16, 3, 3, 15) == {}
    old = "?model=digits_cnn&seed=3"
    view_state = {
        f"{ids.PATTERN_STORE}.data": upload,
        f"{ids.CHANNEL_SORT}.value": "mean",
        f"{ids.GRID_ROWS}.value": 3,
        f"{ids.GRID_COLS}.value": 3,
        f"{ids.SIZE_LIMIT}.value": 15,
    }
    written = post_callback(
        client,
        app,
        f"{ids.PATTERN_STORE}.data",
        view_state,
        {f"{ids.URL_VIEW}.search": old},
        f"{ids.URL_VIEW}.search",
    )
    search = written.get(f"{ids.URL_VIEW}.search", old)
    assert search == ""  # the previous model's link goes too: it is not this view
    read = post_callback(
        client,
        app,
        f"{ids.URL_VIEW}.search",
        {f"{ids.URL_VIEW}.search": search},
        {f"{ids.MODEL_SELECT}.value": upload["model"], **view_state},
        f"{ids.URL_TARGET}.data",
    )
    assert read.get(f"{ids.ERROR_ALERT}.is_open") is not True, read
