"""The zip export as a background job: same bytes as plot_pattern_process, progress, cache,
a queue of at most EXPORT_SLOTS (bounded, one per session), and cooperative cancel
(layerviz.ui.features.export_zip)."""

from __future__ import annotations

import io
import threading
import time
import zipfile

import pytest

from layerviz.draw.export import plot_pattern_process
from layerviz.errors import ArgumentError, PatternError
from layerviz.ui.features import export_zip as feature
from layerviz.ui.features.compare_state import DEFAULT_B, active_b, compare_view
from layerviz.ui.jobs import (
    JobCancelledError,
    JobsBusyError,
    ThreadJobManager,
    _cancel_flag,
    check_cancelled,
)
from layerviz.ui.recipe import SeedRecipe
from layerviz.ui.store import current_session
from layerviz.ui.workbench import Workbench


@pytest.fixture
def workbench(article_model):
    feature._cache._items.clear()
    feature._cache._nbytes = 0
    return Workbench({"article": article_model}, include_bundled=False)


def test_zip_is_plot_pattern_process_byte_for_byte(workbench, article_model, tmp_path):
    recipe = SeedRecipe("article", 3)
    seen = []
    name, data = feature.export_zip(
        workbench, recipe.to_store(), 1, 1, 15, progress=lambda *a: seen.append(a)
    )
    pattern = workbench.pattern(recipe)
    written = plot_pattern_process(article_model, pattern, tmp_path, (1, 1), (15, 15))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == [p.name for p in written]
        for path in written:
            assert archive.read(path.name) == path.read_bytes()
    assert name == "layerviz-article.zip"
    assert seen[0] == (0, 3, "queued") and seen[-1] == (3, 3, "3 of 3 pages")


def test_the_same_export_again_comes_from_the_cache(workbench, monkeypatch):
    store = SeedRecipe("article", 4).to_store()
    _, first = feature.export_zip(workbench, store, 2, 2, 15)
    monkeypatch.setattr(feature, "streamed_pages_png", lambda *a: pytest.fail("drawn again"))
    seen = []
    _, again = feature.export_zip(workbench, store, 2, 2, 15, progress=lambda *a: seen.append(a))
    assert again == first and seen == [(1, 1, "ready")]


def test_the_screen_norm_when_asked_is_its_own_zip(workbench):
    store = SeedRecipe("article", 4).to_store()
    _, article = feature.export_zip(workbench, store, 2, 2, 15)
    _, layer = feature.export_zip(workbench, store, 2, 2, 15, norm="layer")
    _, page = feature.export_zip(workbench, store, 2, 2, 15, norm="page")
    with zipfile.ZipFile(io.BytesIO(article)) as a, zipfile.ZipFile(io.BytesIO(page)) as p:
        assert a.namelist() == p.namelist()
        assert a.read("0.png") != p.read("0.png")
    assert layer == article  # per layer is the article's per-panel range


def test_nothing_visible_is_a_pattern_error(workbench):
    with pytest.raises(PatternError, match="nothing to download"):
        feature.export_zip(workbench, SeedRecipe("article", 0).to_store(), 3, 3, 4000)


def test_at_most_export_slots_draw_at_once(workbench, monkeypatch):
    drawing, most = [0], [0]
    lock = threading.Lock()
    real = feature.streamed_pages_png

    def slow(pages, load, progress=None, norm=None):
        with lock:
            drawing[0] += 1
            most[0] = max(most[0], drawing[0])
        time.sleep(0.2)
        with lock:
            drawing[0] -= 1
        return real(pages, load, progress, norm)

    monkeypatch.setattr(feature, "streamed_pages_png", slow)
    errors = []

    def export(seed):
        current_session.set(f"session-{seed}")  # one export per session may wait
        try:
            feature.export_zip(workbench, SeedRecipe("article", seed).to_store(), 3, 3, 15)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=export, args=(s,)) for s in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == feature.EXPORT_SLOTS and errors == []


def test_a_second_export_of_a_session_is_refused_at_once(workbench, monkeypatch):
    drawing, done = threading.Event(), threading.Event()
    real = feature.streamed_pages_png

    def held(pages, load, progress=None, norm=None):
        drawing.set()
        done.wait(10)
        return real(pages, load, progress, norm)

    monkeypatch.setattr(feature, "streamed_pages_png", held)
    first = threading.Thread(
        target=feature.export_zip, args=(workbench, SeedRecipe("article", 1).to_store(), 3, 3, 15)
    )
    first.start()
    try:
        assert drawing.wait(5)
        with pytest.raises(JobsBusyError, match="another export of this browser session"):
            feature.export_zip(workbench, SeedRecipe("article", 2).to_store(), 3, 3, 15)
    finally:
        done.set()
        first.join(10)
    feature.export_zip(workbench, SeedRecipe("article", 2).to_store(), 3, 3, 15)  # now it may


def test_a_cancelled_thread_job_stops_at_its_next_step():
    flag = threading.Event()
    token = _cancel_flag.set(flag)
    try:
        check_cancelled()  # not cancelled: nothing happens
        flag.set()
        with pytest.raises(JobCancelledError):
            check_cancelled()
    finally:
        _cancel_flag.reset(token)


def test_thread_job_manager_runs_jobs_on_threads_and_cancels_them(tmp_path):
    manager = ThreadJobManager(str(tmp_path))
    started, stopped = threading.Event(), threading.Event()

    def job_fn(key, progress_key, args, context):
        started.set()
        try:
            while True:
                check_cancelled()
                time.sleep(0.01)
        except JobCancelledError:
            stopped.set()

    job = manager.call_job_fn("k", job_fn, (), {})
    assert started.wait(5) and manager.job_running(job)
    manager.terminate_job(job)
    assert stopped.wait(5)
    assert not manager.job_running(job)


def test_thread_job_manager_forgets_finished_jobs_nobody_fetched(tmp_path):
    manager = ThreadJobManager(str(tmp_path))
    first = manager.call_job_fn("a", lambda *args: None, (), {})
    until = time.monotonic() + 5
    while manager.job_running(first) and time.monotonic() < until:
        time.sleep(0.01)
    second = manager.call_job_fn("b", lambda *args: time.sleep(0.2), (), {})
    assert list(manager._jobs) == [second]


# --- compare mode: the three sets, the compare card's bytes --------------------------------


@pytest.mark.parametrize(
    ("on", "b_data", "expected"),
    [
        (True, DEFAULT_B, DEFAULT_B),
        (False, DEFAULT_B, None),
        (True, None, None),
        (True, {}, None),
        ("true", DEFAULT_B, None),  # only a real switch value turns it on
    ],
)
def test_active_b_only_with_the_switch_on_and_a_b(on, b_data, expected):
    assert active_b(on, b_data) == expected


def test_compare_mode_zip_is_the_compare_cards_zip(workbench):
    store = SeedRecipe("article", 3).to_store()
    seen = []
    name, data = feature.export_zip(
        workbench, store, 1, 1, 15, True, lambda *a: seen.append(a), b_data=DEFAULT_B
    )
    assert name == "layerviz-article-compare.zip"
    assert data == compare_view(workbench).zip_bytes(store, DEFAULT_B, 1, 1, 15)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
    assert names == [f"{s}/{i}.png" for s in ("a", "b", "diff") for i in range(3)]
    assert seen[0] == (0, 9, "queued") and seen[-1] == (9, 9, "9 of 9 pages")
    _, plain = feature.export_zip(workbench, store, 1, 1, 15)  # switch off: A's pages, as before
    with zipfile.ZipFile(io.BytesIO(plain)) as archive:
        assert archive.namelist() == ["0.png", "1.png", "2.png"]


def test_compare_mode_zips_of_two_bs_differ(workbench):
    store = SeedRecipe("article", 3).to_store()
    _, first = feature.export_zip(workbench, store, 3, 3, 15, b_data=DEFAULT_B)
    other = {"source": "seed", "seed": 9}
    _, second = feature.export_zip(workbench, store, 3, 3, 15, b_data=other)
    assert first != second
    assert second == compare_view(workbench).zip_bytes(store, other, 3, 3, 15)


@pytest.mark.parametrize(
    ("b_data", "error", "fragment"),
    [
        ({"source": "perturb", "spec": "noise:sigma=-1", "seed": 0}, ArgumentError, "sigma"),
        ({"source": "nowhere"}, PatternError, "unknown source"),
        ("not a recipe", PatternError, "expected an object"),
    ],
)
def test_a_bad_b_is_a_clear_error(workbench, b_data, error, fragment):
    store = SeedRecipe("article", 3).to_store()
    with pytest.raises(error, match=fragment):
        feature.export_zip(workbench, store, 3, 3, 15, b_data=b_data)
    assert feature.export_zip(workbench, store, 3, 3, 15)[1]  # and the export still works
