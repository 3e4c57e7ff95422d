"""Tests for layerviz.ui.shared_models: an uploaded model opens on any worker, for its session only.

Two ``Workbench`` objects sharing one store stand for two workers: in process (``MemoryStore``)
and in a real redis-server (``RedisStore``). The canary child (several seconds) runs only in
the tests that are about it; the others put a vetted file in the store as the upload does.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import keras
import numpy as np
import pytest
from servers import redis_server

from layerviz.errors import ModelLoadError, UnsafeModelError
from layerviz.ui.features.model_upload import add_uploaded_model, session_options
from layerviz.ui.recipe import SeedRecipe
from layerviz.ui.shared_models import SharedModelFiles, model_files_from_environment
from layerviz.ui.store import MemoryStore, RedisStore, StoreUnavailableError, current_session
from layerviz.ui.workbench import Workbench

SECRET = b"test-secret"
MB = 2**20


@pytest.fixture(params=["memory", "redis"])
def make_store(request):
    """A factory of empty model-file stores of one kind."""

    def make(budget=64 * MB, share=16 * MB):
        if request.param == "memory":
            return MemoryStore(budget, share, 1800)
        store = RedisStore(
            request.getfixturevalue("redis_url"),
            budget,
            share,
            1800,
            secret=SECRET,
            prefix="layerviz:models",
            item="file",
        )
        store._redis.flushdb()
        return store

    return make


@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> bytes:
    inputs = keras.Input((12, 12, 1), name="picture")
    x = keras.layers.Conv2D(3, 3, activation="relu", name="my_conv")(inputs)
    x = keras.layers.Flatten(name="flat")(x)
    model = keras.Model(inputs, keras.layers.Dense(2, name="scores")(x), name="mine")
    path = tmp_path_factory.mktemp("model") / "mine.keras"
    model.save(path)
    return path.read_bytes()


@pytest.fixture(scope="module")
def lambda_file(tmp_path_factory) -> bytes:
    inputs = keras.Input((4,), name="x")
    model = keras.Model(inputs, keras.layers.Lambda(lambda t: t, name="lambda_1")(inputs))
    path = tmp_path_factory.mktemp("model") / "evil.keras"
    model.save(path)
    return path.read_bytes()


def worker(shared: SharedModelFiles) -> Workbench:
    """A worker's workbench (its own models LRU) over the shared store."""
    bench = Workbench(include_bundled=False, models={"plain": _plain()})
    bench.model_files = shared
    return bench


def _plain() -> keras.Model:
    inputs = keras.Input((3,), name="v")
    return keras.Model(inputs, keras.layers.Dense(2, name="d")(inputs))


class Session:
    """Code in this block runs as a request of browser session ``sid``."""

    def __init__(self, sid: str):
        self.sid = sid

    def __enter__(self):
        self.token = current_session.set(self.sid)

    def __exit__(self, *exc):
        current_session.reset(self.token)


def put_vetted(shared: SharedModelFiles, session: str, data: bytes, filename="mine.keras"):
    """What an upload does after the checks and the canary passed: its name."""
    name = shared.name_of(session, data)
    shared.put(session, name, data, filename)
    return name


def test_a_model_kept_on_one_worker_opens_on_another(make_store, model_file):
    shared = SharedModelFiles(make_store(), SECRET)
    a, b = worker(shared), worker(shared)
    name = put_vetted(shared, "alice", model_file)
    assert b.user_models.names() == []
    with Session("alice"):
        entry = b.entry(name)
        assert entry.title == "mine.keras (your upload)"
        assert "layers" in entry.description and "parameters" in entry.description
        run = b.extraction(SeedRecipe(name, 0))
        assert next(a.name for a in run.extraction.activations) == "my_conv"
        assert session_options(b, {"models": [{"label": "mine", "value": name}]}) != []
    assert b.user_models.names() == [name]  # now in b's own LRU, for alice only
    with Session("mallory"), pytest.raises(ModelLoadError, match="no longer kept"):
        b.entry(name)
    assert shared.canaries_rerun == 0  # the mark said the canary passed for these bytes
    assert a.user_models.names() == []


def test_another_session_can_neither_load_nor_list_it(make_store, model_file):
    shared = SharedModelFiles(make_store(), SECRET)
    name = put_vetted(shared, "alice", model_file)
    bench = worker(shared)
    with Session("mallory"):
        with pytest.raises(ModelLoadError, match="no longer kept"):
            bench.entry(name)
        assert session_options(bench, {"models": [{"label": "x", "value": name}]}) == []
        # Even with the same file, mallory's name is her own.
        assert shared.name_of("mallory", model_file) != name
    assert bench.user_models.names() == []


def test_a_record_that_does_not_match_its_name_is_refused(make_store, model_file, lambda_file):
    store = make_store()
    shared = SharedModelFiles(store, SECRET)
    name = put_vetted(shared, "alice", model_file)
    other = put_vetted(shared, "alice", lambda_file, "evil.keras")
    # A record copied onto another key of the same session: the bytes do not hash to the name.
    store.put_bytes("alice", name, store.get_bytes("alice", other))
    with Session("alice"), pytest.raises(UnsafeModelError, match="does not match"):
        worker(shared).entry(name)
    store.put_bytes("alice", name, b"\x00\x00\x00\x05junk!")
    with Session("alice"), pytest.raises(UnsafeModelError, match="damaged"):
        worker(shared).entry(name)


def test_the_static_checks_run_again_on_every_load(make_store, lambda_file):
    # A file the store claims passed (as someone holding the secret could plant) is still
    # refused by the static checks before Keras sees it.
    shared = SharedModelFiles(make_store(), SECRET)
    name = put_vetted(shared, "alice", lambda_file, "evil.keras")
    with Session("alice"), pytest.raises(UnsafeModelError, match=r"'lambda_1' \(Lambda\)"):
        worker(shared).entry(name)


def test_a_forged_mark_means_the_canary_runs_again(make_store, lambda_file):
    store = make_store()
    shared = SharedModelFiles(store, SECRET)
    name = put_vetted(shared, "alice", lambda_file, "evil.keras")
    record = store.get_bytes("alice", name)
    size = int.from_bytes(record[:4], "big")  # the record: header length, header, file
    header = {**json.loads(record[4 : 4 + size]), "canary": "é" * 64}  # not even ASCII
    text = json.dumps(header).encode()
    store.put_bytes("alice", name, len(text).to_bytes(4, "big") + text + record[4 + size :])
    with Session("alice"), pytest.raises(UnsafeModelError, match=r"'lambda_1' \(Lambda\)"):
        worker(shared).entry(name)  # refused by the static checks, which come first
    assert shared.canaries_rerun == 1


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_model_in_use_on_one_worker_does_not_expire_in_the_store(model_file):
    clock = Clock()
    shared = SharedModelFiles(MemoryStore(64 * MB, 16 * MB, ttl=100, clock=clock), SECRET)
    name = put_vetted(shared, "alice", model_file)
    busy = worker(shared)
    with Session("alice"):
        busy.entry(name)  # loaded into busy's LRU at t=0
        clock.now = 90
        busy.entry(name)  # served from the LRU: the store hears of the use
        clock.now = 150  # 150 s after the upload, 60 s after the last use
        assert worker(shared).entry(name).model is not None


def test_touch_says_whether_the_item_is_kept(make_store, model_file):
    store = make_store()
    name = put_vetted(SharedModelFiles(store, SECRET), "alice", model_file)
    assert store.touch("alice", name) and not store.touch("mallory", name)
    assert not store.touch("alice", "upload-other")


def test_separate_budgets_keep_patterns_when_model_files_fill_theirs(redis_url, model_file):
    patterns = RedisStore(redis_url, 64 * 1024, 16 * 1024, 60, secret=SECRET)
    patterns._redis.flushdb()
    files = RedisStore(
        redis_url, 3 * len(model_file), 3 * len(model_file), 60, secret=SECRET,
        prefix="layerviz:models", item="file",
    )  # fmt: skip
    patterns.put("alice", "p", np.ones((1, 100), np.float32))
    shared = SharedModelFiles(files, SECRET)
    for i in range(6):  # twice the model budget
        put_vetted(shared, "alice", model_file + bytes([i]))
    assert patterns.get("alice", "p") is not None
    assert int(files._redis.get("layerviz:models:bytes")) <= 3 * len(model_file)
    keys = b" ".join(files._redis.keys("layerviz:models:file:*"))
    assert b"alice" not in keys and b"upload-" not in keys


def test_redis_away_is_a_clear_message_and_back_works(model_file):
    with redis_server() as url:
        store = RedisStore(url, secret=SECRET, prefix="layerviz:models", item="file")
        shared = SharedModelFiles(store, SECRET)
        name = put_vetted(shared, "alice", model_file)
    bench = worker(shared)
    with Session("alice"):
        for call in (lambda: bench.entry(name), shared.check):
            with pytest.raises(StoreUnavailableError, match=r"model store \(Redis\) cannot be"):
                call()
        # A new upload says so at once, before the canary.
        with pytest.raises(StoreUnavailableError, match="bundled models still work"):
            add_uploaded_model(bench, model_file, "mine.keras")
        assert bench.entry("plain").model is not None
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    with redis_server(port), Session("alice"):
        name = put_vetted(shared, "alice", model_file)
        assert worker(shared).entry(name).model is not None


def test_without_redis_there_is_no_shared_store(monkeypatch, redis_url):
    monkeypatch.delenv("LAYERVIZ_REDIS_URL", raising=False)
    assert model_files_from_environment() is None
    monkeypatch.setenv("LAYERVIZ_REDIS_URL", redis_url)
    monkeypatch.delenv("LAYERVIZ_SECRET", raising=False)
    assert model_files_from_environment().trust_marks is False  # a public key proves nothing
    monkeypatch.setenv("LAYERVIZ_SECRET", "s3cret")
    assert model_files_from_environment().trust_marks is True


@pytest.mark.slow
def test_an_upload_is_shared_and_an_untrusted_mark_reruns_the_canary(model_file):
    store = MemoryStore(64 * MB, 16 * MB, 1800)
    a = worker(SharedModelFiles(store, SECRET))
    with Session("alice"):
        option = add_uploaded_model(a, model_file, "mine.keras")
        again = add_uploaded_model(a, model_file, "mine.keras")
    assert option == again and option["value"] == a.model_files.name_of("alice", model_file)
    untrusting = SharedModelFiles(store, SECRET, trust_marks=False)
    with Session("alice"):
        assert worker(untrusting).entry(option["value"]).model is not None
    assert untrusting.canaries_rerun == 1


def test_the_compose_files_placeholder_secret_proves_nothing(monkeypatch):
    """Earlier docker-compose.yml files fell back to a secret printed in this repository (the
    file now requires one, with no fallback): with it, a canary mark in Redis could be forged
    by anyone, so it must not spare the canary."""
    compose = (Path(__file__).parents[2] / "docker-compose.yml").read_text()
    assert re.search(r"LAYERVIZ_SECRET: \$\{LAYERVIZ_SECRET:\?", compose)  # no fallback now
    monkeypatch.setenv("LAYERVIZ_REDIS_URL", "redis://127.0.0.1:1/0")  # never connected to
    monkeypatch.setenv("LAYERVIZ_SECRET", "change-me-to-a-long-random-value")
    assert model_files_from_environment().trust_marks is False
