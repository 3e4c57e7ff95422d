"""Tests for layerviz.ui.store: the upload stores, in process and in a real redis-server.

Both stores follow the same rules, so one table of tests runs against each.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from servers import redis_server

from layerviz.ui.store import (
    MemoryStore,
    RedisStore,
    StoreUnavailableError,
    current_session,
    store_from_environment,
)

KB = 1024
NPY_HEADER = 128  # RedisStore keeps .npy bytes: the array plus a 128-byte header


@pytest.fixture(params=["memory", "redis"])
def make_store(request):
    """A factory of empty stores of one kind: ``make_store(budget, share, ttl)``."""

    def make(budget=64 * KB, share=16 * KB, ttl=3600):
        if request.param == "memory":
            return MemoryStore(budget, share, ttl)
        url = request.getfixturevalue("redis_url")
        store = RedisStore(url, budget + 4 * NPY_HEADER, share + 2 * NPY_HEADER, ttl)
        store._redis.flushdb()
        return store

    return make


def kb(n: int, fill: float = 1.0) -> np.ndarray:
    """A float32 pattern of ``n`` KiB."""
    return np.full((1, n * KB // 4), fill, np.float32)


def test_a_session_gets_back_what_it_put(make_store):
    store = make_store()
    assert store.put("alice", "d1", kb(4, 2.0))
    np.testing.assert_array_equal(store.get("alice", "d1"), kb(4, 2.0))
    assert store.get("alice", "other") is None


def test_a_session_never_sees_another_sessions_upload(make_store):
    store = make_store()
    store.put("alice", "d1", kb(4))
    assert store.get("bob", "d1") is None


def test_one_session_cannot_push_out_another(make_store):
    store = make_store(budget=64 * KB, share=16 * KB)
    store.put("alice", "mine", kb(4))
    for i in range(40):  # 160 KiB from one session, ten times its share
        store.put("bob", f"d{i}", kb(4, i))
    np.testing.assert_array_equal(store.get("alice", "mine"), kb(4))
    # bob keeps his newest uploads, up to his share.
    assert store.get("bob", "d39") is not None
    assert store.get("bob", "d0") is None


def test_the_total_budget_evicts_the_least_recently_used(make_store):
    store = make_store(budget=32 * KB, share=16 * KB)
    store.put("s1", "a", kb(12))
    store.put("s2", "b", kb(12))
    assert store.get("s1", "a") is not None  # now s2's is the oldest
    store.put("s3", "c", kb(12))
    assert store.get("s2", "b") is None
    assert store.get("s1", "a") is not None
    assert store.get("s3", "c") is not None


def test_a_pattern_larger_than_a_share_is_refused(make_store):
    store = make_store(share=16 * KB)
    assert not store.put("alice", "big", kb(20))
    assert store.get("alice", "big") is None


def test_uploads_expire(make_store):
    store = make_store(ttl=1)
    store.put("alice", "d1", kb(1))
    time.sleep(2.1)
    assert store.get("alice", "d1") is None


def test_redis_keys_name_neither_session_nor_digest(redis_url):
    store = RedisStore(redis_url)
    store._redis.flushdb()
    store.put("session-id-123", "abcdef0123456789abcdef01", kb(1))
    keys = b" ".join(store._redis.keys("*"))
    assert b"session-id-123" not in keys and b"abcdef0123456789abcdef01" not in keys


def test_redis_away_is_a_clear_error_and_back_is_fine():
    with redis_server() as url:
        store = RedisStore(url)
        assert store.health() == "redis"
        store.put("alice", "d1", kb(1))
    with pytest.raises(StoreUnavailableError, match="cannot be reached"):
        store.get("alice", "d1")
    with pytest.raises(StoreUnavailableError):
        store.health()
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    with redis_server(port):
        assert store.get("alice", "d1") is None  # a fresh server: gone, but no error
        assert store.put("alice", "d1", kb(1))
        assert store.get("alice", "d1") is not None


def test_the_environment_chooses_the_store(monkeypatch, redis_url):
    monkeypatch.delenv("LAYERVIZ_REDIS_URL", raising=False)
    assert isinstance(store_from_environment(), MemoryStore)
    monkeypatch.setenv("LAYERVIZ_REDIS_URL", redis_url)
    assert isinstance(store_from_environment(), RedisStore)


def test_code_outside_a_request_is_the_local_session():
    assert current_session.get() == "local"


def test_a_multi_input_pattern_comes_back_as_a_tuple(make_store):
    store = make_store()
    pattern = (kb(1, 3.0), np.arange(8, dtype=np.int32).reshape(1, 8))
    assert store.put("alice", "multi", pattern)
    back = store.get("alice", "multi")
    assert isinstance(back, tuple) and len(back) == 2
    np.testing.assert_array_equal(back[0], pattern[0])
    np.testing.assert_array_equal(back[1], pattern[1])
    assert back[1].dtype == np.int32
