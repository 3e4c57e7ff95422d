"""The Dataset view without a browser: uploads kept per session, the run's store form, the
projection, colouring, opening a pattern, examples and cancel (layerviz.ui.features.dataset)."""

from __future__ import annotations

import base64
import io

import keras
import numpy as np
import pytest
from dash import no_update

from layerviz.errors import PatternError
from layerviz.lens.datasets import bundled_dataset
from layerviz.lens.features import dataset_features, top_examples
from layerviz.lens.probes import project
from layerviz.lens.similarity import layer_similarity
from layerviz.ui.features import dataset
from layerviz.ui.features.dataset import jobs
from layerviz.ui.jobs import JobCancelledError
from layerviz.ui.recipe import SeedRecipe
from layerviz.ui.store import current_session
from layerviz.ui.workbench import Workbench


def small_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6, 6, 1))
    x = keras.layers.Conv2D(3, 3, activation="relu", name="conv")(inputs)
    x = keras.layers.Flatten(name="flat")(x)
    return keras.Model(inputs, keras.layers.Dense(2, activation="softmax", name="out")(x))


@pytest.fixture(scope="module")
def workbench() -> Workbench:
    return Workbench({"small": small_model()}, include_bundled=False)


@pytest.fixture
def session():
    token = current_session.set("dataset-test-session")
    yield
    current_session.reset(token)


def npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    y = np.arange(24) % 2
    x = rng.random((24, 6, 6, 1), dtype=np.float32) + y[:, None, None, None]
    return x.astype(np.float32), y


def test_an_upload_is_kept_and_read_back(workbench, session, data):
    x, y = data
    kept = jobs.add_dataset(workbench, "small", npz(x=x, y=y), "d.npz")
    assert kept["n"] == 24 and kept["labelled"] and kept["digest"].startswith("dataset-")
    found = jobs.dataset_of(workbench, "small", "upload", kept)
    np.testing.assert_array_equal(found.x, x)
    np.testing.assert_array_equal(found.y, y)
    with pytest.raises(PatternError, match="upload a dataset"):
        jobs.dataset_of(workbench, "small", "upload", None)
    with pytest.raises(PatternError, match="has no held-out set"):
        jobs.dataset_of(workbench, "small", "bundled", None)
    with pytest.raises(PatternError, match=r"\(24, 5, 5, 1\) does not fit input \(6, 6, 1\)"):
        jobs.add_dataset(workbench, "small", npz(x=x[:, :5, :5]), "bad.npz")


def test_another_session_cannot_read_the_upload(workbench, session, data):
    kept = jobs.add_dataset(workbench, "small", npz(x=data[0]), "d.npz")
    token = current_session.set("someone-else")
    try:
        with pytest.raises(PatternError, match="no longer kept"):
            jobs.dataset_of(workbench, "small", "upload", kept)
    finally:
        current_session.reset(token)


def test_the_run_keeps_what_the_views_read(workbench, session, data):
    x, y = data
    kept = jobs.add_dataset(workbench, "small", npz(x=x, y=y), "d.npz")
    found = jobs.dataset_of(workbench, "small", "upload", kept)
    stages = []
    result = jobs.run_lens(workbench, "small", found, lambda *s: stages.append(s[0]))
    assert {"patterns", "probes", "CKA blocks"} <= set(stages)
    stages.clear()  # the same data again, in the same session: the kept run, no pass
    assert jobs.run_lens(workbench, "small", found, lambda *s: stages.append(s)) is result
    assert stages == []
    features = dataset_features(workbench.entry("small").extractor, x)
    names, matrix = layer_similarity(features)
    assert result["names"] == names and result["n"] == 24
    np.testing.assert_allclose(result["cka"], matrix, atol=1e-5)
    assert result["labels"] == y.tolist() and len(result["predicted"]) == 24
    assert result["probe"]["chance"] == 0.5 and len(result["probe"]["accuracy"]) == len(names)
    # The projection of a layer is the projection of its pooled features.
    coords = jobs.projection_of(workbench, result, "conv", "pca")
    np.testing.assert_allclose(coords, project(features.layer("conv").pooled), atol=1e-4)
    groups, labels = jobs.colour_groups(result, "correct")
    np.testing.assert_array_equal(groups, np.equal(result["labels"], result["predicted"]))
    assert labels == ["wrong", "right"]
    # The examples strip ranks the channel's patterns as top_examples does.
    selection = {"model": "small", "layer": "conv", "channel": 1}
    strip = dataset.examples_strip(workbench, result, selection, "upload", kept)
    want = top_examples(features, "conv", 1, k=dataset.EXAMPLES_K).patterns
    assert [f.children[0].alt for f in strip] == [f"pattern {r}" for r in want]
    # The inspector's block: the most exciting, then the least, each as top_examples ranks.
    most_title, most, least_title, least = dataset.inspector_examples(
        workbench, result, selection, "upload", kept
    )
    assert "most" in most_title.children and "least" in least_title.children
    low = top_examples(features, "conv", 1, k=dataset.EXAMPLES_K, least=True)
    assert [f.children[0].alt for f in most.children] == [f"pattern {r}" for r in want]
    assert [f.children[0].alt for f in least.children] == [f"pattern {r}" for r in low.patterns]
    caption = least.children[0].children[1].children
    assert caption == f"#{low.patterns[0]} · {low.values[0]:.3g}"


def test_a_click_opens_the_row_through_the_upload_control(workbench, session, data):
    x, y = data
    kept = jobs.add_dataset(workbench, "small", npz(x=x, y=y), "d.npz")
    result = {"model": "small"}
    contents, filename = dataset.open_pattern(workbench, result, "upload", kept, 5)
    assert filename == "dataset #5.npy"
    raw = base64.b64decode(contents.split(",", 1)[1])
    np.testing.assert_array_equal(np.load(io.BytesIO(raw)), x[5])
    recipe = workbench.add_upload("small", raw, filename)
    np.testing.assert_array_equal(workbench.pattern(recipe)[0], x[5])


def test_the_job_says_cancelled_and_bad_input_is_a_message(workbench, session, data):
    kept = jobs.add_dataset(workbench, "small", npz(x=data[0]), "d.npz")
    store = SeedRecipe("small", 0).to_store()

    def cancel(progress):
        if progress[2].startswith("patterns"):
            raise JobCancelledError("cancelled")

    assert dataset.dataset_job(workbench, (store, "upload", kept), cancel) == (
        no_update,
        "cancelled",
    )
    result, text = dataset.dataset_job(workbench, (store, "nowhere", kept), lambda p: None)
    assert result is no_update and "comes from bundled, upload" in text
    result, text = dataset.dataset_job(workbench, (store, "upload", kept), lambda p: None)
    assert result["probe"] is None and text.startswith("24 patterns of d.npz")


def test_the_bundled_set_of_digits_is_offered():
    workbench = Workbench()
    found = jobs.dataset_of(workbench, "digits_cnn", "bundled", None)
    assert len(found) == len(bundled_dataset("digits_cnn", (32, 32, 1)))


def data_url(raw: bytes) -> str:
    return "data:application/octet-stream;base64," + base64.b64encode(raw).decode("ascii")


STORE = SeedRecipe("small", 0).to_store()


def test_the_upload_callback_keeps_the_file_and_chooses_it(workbench, session, data):
    x, y = data
    kept, info, source = dataset.upload_dataset(workbench, data_url(npz(x=x, y=y)), "d.npz", STORE)
    assert (kept["n"], info, source) == (24, "d.npz: 24 patterns, with labels", "upload")
    kept, info, _ = dataset.upload_dataset(workbench, data_url(npz(x=x)), None, STORE)
    assert info == "upload.npz: 24 patterns, no labels"


@pytest.mark.parametrize(
    "contents, store, fragment",
    [
        ("plain text", STORE, "d.npz: the upload did not arrive as a base64 data URL"),
        (data_url(b"not numpy"), STORE, "d.npz:"),
        (data_url(npz(x=np.zeros((2, 5, 5, 1)))), STORE, "does not fit input (6, 6, 1)"),
        (data_url(npz(x=np.zeros((2, 6, 6, 1)))), {"kind": "nonsense"}, "malformed"),
    ],
)
def test_the_upload_callback_says_what_is_wrong(workbench, session, contents, store, fragment):
    kept, info, source = dataset.upload_dataset(workbench, contents, "d.npz", store)
    assert kept is None and source is no_update and fragment in info


def test_the_upload_is_checked_against_the_limit_its_zone_shows(workbench, session, monkeypatch):
    # One builder for the zone (blocks.upload_zone): its max_size and data-max-bytes are the
    # constant the server checks.
    zone = next(
        c for c in _walk(dataset.tab(workbench)) if getattr(c, "id", None) == "dataset-upload"
    )
    assert zone.max_size == jobs.DATASET_FILE_BYTES
    monkeypatch.setattr(dataset, "DATASET_FILE_BYTES", 2**20)
    big = "data:x;base64," + "A" * (2**20 * 4 // 3 + 8)
    kept, info, _ = dataset.upload_dataset(workbench, big, "big.npz", STORE)
    assert kept is None and info == "big.npz: 1048581 bytes is over the 1 MB upload limit"


def _walk(parts):
    """Every component in ``parts`` and below."""
    for part in parts if isinstance(parts, list | tuple) else [parts]:
        if hasattr(part, "to_plotly_json"):
            yield part
            yield from _walk(getattr(part, "children", None) or [])
