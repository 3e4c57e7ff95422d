"""The dashboard's health run without a browser: its argument checks, its patterns (seeds,
samples, an uploaded batch kept per session), its progress and cancel, and the upload callback
(layerviz.ui.features.inspector.jobs and .health)."""

from __future__ import annotations

import base64
import io
import threading
import time

import numpy as np
import pytest
from dash import no_update
from helpers import npy_bytes
from tiny_models import make_multi_input_model

from layerviz.analysis.health import model_health, sample_patterns, seeded_patterns
from layerviz.errors import ArgumentError, PatternError
from layerviz.ui.features.inspector import health, jobs
from layerviz.ui.jobs import JobSlots, _cancel_flag
from layerviz.ui.recipe import SampleRecipe, SeedRecipe
from layerviz.ui.store import current_session
from layerviz.ui.workbench import Workbench

MODEL = "digits_cnn"
STORE = SeedRecipe(MODEL, 3).to_store()


@pytest.fixture
def session():
    """Run the test as its own browser session (the store keys uploads by session)."""
    token = current_session.set("health-test-session")
    yield "health-test-session"
    current_session.reset(token)


def npz_bytes(array: np.ndarray, name: str = "patterns") -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **{name: array})
    return buffer.getvalue()


def data_url(data: bytes) -> str:
    return "data:application/octet-stream;base64," + base64.b64encode(data).decode()


def digits(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 32, 32, 1), np.float32)


# --- argument checks ---------------------------------------------------------------------------


@pytest.mark.parametrize("seeds", [0, 513, 2.5, "8", None, float("inf"), float("nan"), True])
def test_bad_numbers_of_patterns_are_refused(seeds):
    with pytest.raises(ArgumentError, match="number of patterns must be"):
        jobs.checked_seeds(seeds)


@pytest.mark.parametrize("seeds, expected", [(1, 1), (64, 64), (512, 512), (8.0, 8)])
def test_good_numbers_of_patterns(seeds, expected):
    assert jobs.checked_seeds(seeds) == expected


@pytest.mark.parametrize("value, expected", [(0, 0.0), (-0.25, -0.25), (1e6, 1e6), (-1e6, -1e6)])
def test_good_thresholds(value, expected):
    assert jobs.checked_threshold(value) == expected


@pytest.mark.parametrize(
    "value, got",
    [
        (None, "got nothing"),
        ("0.1", "got '0.1'"),
        (True, "got True"),
        ([1], "got [1]"),
        (float("inf"), "got inf"),
        (float("nan"), "got nan"),
        (1e7, "got 1e+07"),
        (-(10**30), "got -1e+30"),
    ],
)
def test_bad_thresholds_name_the_range_and_what_came(value, got):
    with pytest.raises(ArgumentError) as raised:
        jobs.checked_threshold(value)
    expected = f"the threshold must be a number from -1,000,000 to 1,000,000, {got}"
    assert str(raised.value) == expected


def test_checked_run_takes_the_page_s_controls():
    run = jobs.checked_run(STORE, "seeds", 16, 0.5, None)
    assert run == jobs.HealthRun(MODEL, "seeds", 16, 0.5, None)
    # N is only read for seeds: a cleared N box does not stop a run over the samples.
    assert jobs.checked_run(STORE, "samples", None, 0, None).seeds == 0


@pytest.mark.parametrize(
    "args, error, fragment",
    [
        ((STORE, "everything", 8, 0, None), ArgumentError, "come from seeds, samples, batch"),
        ((STORE, ["seeds"], 8, 0, None), ArgumentError, "got ['seeds']"),
        ((STORE, "seeds", 0, 0, None), ArgumentError, "from 1 to 512, got 0"),
        ((STORE, "seeds", 8, None, None), ArgumentError, "threshold must be a number"),
        ((STORE, "batch", 8, 0, None), PatternError, "upload a batch of patterns"),
        # A digest in a pattern recipe's form (bare hex) never names a batch.
        ((STORE, "batch", 8, 0, {"digest": "0" * 24}), PatternError, "upload a batch"),
        ((STORE, "batch", 8, 0, {"digest": ["x"]}), PatternError, "upload a batch"),
        (({"kind": "nonsense"}, "seeds", 8, 0, None), PatternError, "malformed"),
        ((None, "seeds", 8, 0, None), PatternError, ""),
    ],
)
def test_checked_run_refuses_bad_controls(args, error, fragment):
    with pytest.raises(error, match=None) as raised:
        jobs.checked_run(*args)
    assert fragment in str(raised.value)


# --- runs --------------------------------------------------------------------------------------


def test_a_seeded_run_is_the_library_s_report(workbench):
    seen = []
    run = jobs.checked_run(STORE, "seeds", 6, 0, None)
    result = jobs.run_health(workbench, run, lambda done, total: seen.append((done, total)))
    model = workbench.entry(MODEL).model
    assert result == jobs.health_store(MODEL, model_health(model, seeded_patterns(model, 6)))
    assert seen == [(0, 6), (6, 6)]
    assert jobs.health_summary(result).endswith("saturated channels over 6 patterns (threshold 0)")


def test_the_threshold_reaches_the_run(workbench):
    low = jobs.run_health(workbench, jobs.checked_run(STORE, "seeds", 4, -1e6, None))
    high = jobs.run_health(workbench, jobs.checked_run(STORE, "seeds", 4, 1e6, None))
    channels = sum(len(layer["dead"]) for layer in high["layers"].values())
    assert (low["n_dead"], high["n_dead"], high["threshold"]) == (0, channels, 1e6)
    assert channels > 0 and high["n_saturated"] == 0


def test_a_run_over_the_samples(workbench):
    result = jobs.run_health(workbench, jobs.checked_run(STORE, "samples", None, 0, None))
    shape = workbench.input_shape(MODEL)
    expected = model_health(workbench.entry(MODEL).model, sample_patterns(MODEL, shape))
    assert result == jobs.health_store(MODEL, expected)


def test_a_run_over_the_samples_of_a_model_with_several_inputs(workbench):
    """digits_meta's samples are .npz files with one array per input: each input its batch."""
    store = SeedRecipe("digits_meta", 0).to_store()
    result = jobs.run_health(workbench, jobs.checked_run(store, "samples", None, 0, None))
    entry = workbench.entry("digits_meta")
    parts = [workbench.pattern(SampleRecipe("digits_meta", s.name)) for s in entry.samples]
    batches = [np.concatenate(arrays) for arrays in zip(*parts, strict=True)]
    expected = model_health(entry.model, batches)
    assert result == jobs.health_store("digits_meta", expected)
    assert result["n_patterns"] == len(entry.samples) > 1


def test_an_uploaded_batch_is_kept_for_its_session_and_run(workbench, session):
    batch = digits(5)
    kept = jobs.add_batch(workbench, MODEL, npz_bytes(batch), "five.npz")
    assert kept["n"] == 5 and kept["shape"] == [5, 32, 32, 1] and kept["filename"] == "five.npz"
    assert kept["digest"].startswith("batch-")
    result = jobs.run_health(workbench, jobs.checked_run(STORE, "batch", None, 0.1, kept))
    expected = model_health(workbench.entry(MODEL).model, batch, threshold=0.1)
    assert result == jobs.health_store(MODEL, expected)
    # Another session holds the same store data but not the batch.
    token = current_session.set("another-session")
    try:
        with pytest.raises(PatternError, match=r"five\.npz is no longer kept on the server"):
            jobs.run_health(workbench, jobs.checked_run(STORE, "batch", None, 0, kept))
    finally:
        current_session.reset(token)


def test_a_wrong_shape_batch_says_what_fits(workbench, session):
    with pytest.raises(PatternError) as raised:
        jobs.add_batch(workbench, MODEL, npy_bytes(np.zeros((5, 32, 32, 3))), "rgb.npy")
    assert str(raised.value) == (
        "rgb.npy: batch shape (5, 32, 32, 3) does not fit input (32, 32, 1): "
        "expected (n, 32, 32, 1)"
    )


def test_a_batch_over_the_pattern_limit_is_refused(workbench, session):
    with pytest.raises(PatternError, match="a batch holds 1 to 512 patterns, this one 513"):
        jobs.add_batch(workbench, MODEL, npy_bytes(np.zeros((513, 32, 32, 1))), "big.npy")


def test_a_small_npz_cannot_unpack_far_past_what_512_patterns_take(workbench, session):
    """Zeros compress ~1000×: a 240 KB .npz of 60,000 digits once made the server unpack and
    convert 235 MB (peak ~525 MB) before the pattern count refused it."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, patterns=np.zeros((2000, 32, 32, 1), np.float32))
    many = buffer.getvalue()  # 8 MB unpacked, a few KB packed
    assert len(many) < 100_000
    with pytest.raises(PatternError, match=r"over the limit of \d+ bytes unpacked"):
        jobs.add_batch(workbench, MODEL, many, "zeros.npz")
    # The most a run takes still fits, even stored as float64.
    kept = jobs.add_batch(workbench, MODEL, npz_bytes(np.zeros((512, 32, 32, 1))), "max.npz")
    assert kept["n"] == 512


def test_a_batch_for_another_model_is_refused_at_run_time(session):
    bench = Workbench({"two": make_multi_input_model()})
    kept = jobs.add_batch(bench, MODEL, npy_bytes(digits(2)), "two.npy")
    store = SeedRecipe("two", 0).to_store()
    with pytest.raises(PatternError, match=r"two.npy: batch shape \(2, 32, 32, 1\) does not fit"):
        jobs.run_health(bench, jobs.checked_run(store, "batch", None, 0, kept))
    with pytest.raises(PatternError, match="a batch file fits a model with one input; 'two' has 2"):
        jobs.add_batch(bench, "two", npy_bytes(digits(2)), "x.npy")


# --- the Dash side's plain functions -------------------------------------------------------------


def test_upload_batch_keeps_the_batch_and_chooses_it(workbench, session):
    batch, info, css, source = health.upload_batch(
        workbench, data_url(npy_bytes(digits(3))), "three.npy", STORE
    )
    assert (batch["n"], info, source) == (3, "three.npy: 3 patterns", "batch")
    assert "text-danger" not in css


@pytest.mark.parametrize(
    "contents, filename, store, fragment",
    [
        (data_url(npy_bytes(np.zeros((5, 32, 32, 3)))), "rgb.npy", STORE, "does not fit input"),
        (data_url(b"not numpy"), "x.npy", STORE, "x.npy:"),
        (data_url(npy_bytes(digits(2))), "x.csv", STORE, "a .npy or .npz file"),
        ("plain text", "x.npy", STORE, "did not arrive as a base64 data URL"),
        (None, None, STORE, "upload: the upload did not arrive"),
        ([1, 2], {"a": 1}, STORE, "did not arrive"),
        (data_url(npy_bytes(digits(2))), "x.npy", {"kind": "nonsense"}, "malformed"),
        ("data:x;base64," + "A" * (22 * 2**20), "huge.npy", STORE, "huge.npy: 17301504 bytes"),
    ],
)
def test_upload_batch_says_what_is_wrong(workbench, session, contents, filename, store, fragment):
    batch, info, css, source = health.upload_batch(workbench, contents, filename, store)
    assert batch is None and source is no_update and "text-danger" in css
    assert fragment in info


def test_the_batch_upload_is_checked_against_its_own_limit(workbench, session, monkeypatch):
    # The server reads the constant the upload zone's max_size reads, not another one.
    zone = health._batch_zone().children[0].children
    assert zone.max_size == jobs.BATCH_FILE_BYTES
    monkeypatch.setattr(health, "BATCH_FILE_BYTES", 2**20)
    big = "data:x;base64," + "A" * (2**20 * 4 // 3 + 8)  # under MAX_PATTERN_BYTES
    batch, info, _, _ = health.upload_batch(workbench, big, "big.npy", STORE)
    assert batch is None and info == "big.npy: 1048581 bytes is over the 1 MB upload limit"


def test_health_job_reports_progress_then_the_result(workbench):
    seen = []
    result, summary = health.health_job(workbench, (STORE, "seeds", 3, 0, None), seen.append)
    assert seen == [(0, 1, "queued"), (0, 3, "0/3 patterns"), (3, 3, "3/3 patterns")]
    assert result["n_patterns"] == 3 and summary.startswith(f"{result['n_dead']} dead and")


def test_health_job_answers_bad_controls_with_a_message(workbench):
    result, summary = health.health_job(workbench, (STORE, "seeds", 1e999, 0, None), print)
    assert result is no_update and summary.startswith("the number of patterns must be")


def test_a_cancelled_health_job_stops_at_its_next_batch(workbench):
    flag = threading.Event()
    seen = []

    def progress(update):
        seen.append(update)
        if update[2] != "queued":
            flag.set()  # the user presses cancel while the first batch runs

    token = _cancel_flag.set(flag)
    try:
        result, summary = health.health_job(workbench, (STORE, "seeds", 32, 0, None), progress)
    finally:
        _cancel_flag.reset(token)
    assert (result, summary) == (no_update, "cancelled")
    assert seen == [(0, 1, "queued"), (0, 32, "0/32 patterns")]


def test_runs_past_the_slots_wait_queued_and_can_be_cancelled(workbench):
    for _ in range(health.HEALTH_SLOTS):
        assert health._slots._free.acquire(timeout=5)
    flag, seen, answer = threading.Event(), [], []

    def job():
        _cancel_flag.set(flag)
        answer.append(health.health_job(workbench, (STORE, "seeds", 2, 0, None), seen.append))

    thread = threading.Thread(target=job)
    try:
        thread.start()
        thread.join(1.0)
        assert thread.is_alive() and seen == [(0, 1, "queued")]
        flag.set()
        thread.join(5)
    finally:
        for _ in range(health.HEALTH_SLOTS):
            health._slots._free.release()
    assert answer == [(no_update, "cancelled")] and seen == [(0, 1, "queued")]


def test_a_run_past_the_waiting_bound_is_a_message_at_once(workbench, monkeypatch):
    monkeypatch.setattr(health, "_slots", JobSlots("health run", running=1, waiting=0))
    with health._slots.slot("another-session"):
        start = time.monotonic()
        result, summary = health.health_job(
            workbench, (STORE, "seeds", 2, 0, None), lambda update: None
        )
    assert time.monotonic() - start < 1
    assert (result, summary) == (no_update, "too many health runs waiting; try again in a moment")


def test_a_second_run_of_a_session_is_a_message(workbench):
    with health._slots.slot(current_session.get()):
        result, summary = health.health_job(
            workbench, (STORE, "seeds", 2, 0, None), lambda update: None
        )
    assert result is no_update
    assert summary.startswith("another health run of this browser session is already running")


#: What a crafted request can carry where a control's value is expected (as in
#: test_hostile_requests.py, which skips background callbacks: their body runs here).
HOSTILE = [[1, [2, 3]], "A" * 5000, -(10**30), True, None, float("inf"), {"digest": "batch-"}]


@pytest.mark.parametrize("slot", range(5))
def test_health_job_answers_hostile_values_with_our_own_messages(workbench, slot, caplog):
    good = (STORE, "seeds", 2, 0, None)
    for value in HOSTILE:
        controls = (*good[:slot], value, *good[slot + 1 :])
        _, summary = health.health_job(workbench, controls, lambda update: None)
        assert isinstance(summary, str) and len(summary) < 400
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []
