"""Tests for layerviz.cache.ByteLRU: a byte budget, LRU order, one computation per key."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from layerviz.ui.cache import ByteLRU


def lru(max_bytes: int) -> ByteLRU[bytes]:
    return ByteLRU(max_bytes, sizeof=len)


def test_evicts_least_recently_used_past_the_budget():
    cache = lru(10)
    cache.put("a", b"aaaa")
    cache.put("b", b"bbbb")
    assert (len(cache), cache.nbytes) == (2, 8)

    cache.put("c", b"cccc")  # 12 bytes > 10: "a" goes

    assert "a" not in cache
    assert cache.get("a") is None
    assert (cache.get("b"), cache.get("c")) == (b"bbbb", b"cccc")
    assert (len(cache), cache.nbytes) == (2, 8)


def test_evicts_as_many_as_needed():
    cache = lru(10)
    for key in "abcde":
        cache.put(key, b"xx")
    cache.put("big", b"x" * 9)
    assert [k for k in "abcde" if k in cache] == []
    assert (len(cache), cache.nbytes) == (1, 9)


def test_exactly_the_budget_is_kept():
    cache = lru(8)
    cache.put("a", b"aaaa")
    cache.put("b", b"bbbb")
    assert (len(cache), cache.nbytes) == (2, 8)


def test_get_marks_recently_used():
    cache = lru(10)
    cache.put("a", b"aaaa")
    cache.put("b", b"bbbb")
    assert cache.get("a") == b"aaaa"  # now "b" is the least recently used

    cache.put("c", b"cccc")

    assert "a" in cache
    assert "b" not in cache
    assert "c" in cache


def test_put_again_replaces_and_refreshes():
    cache = lru(10)
    cache.put("a", b"aaaa")
    cache.put("b", b"bbbb")
    cache.put("a", b"AA")  # replaced: 6 bytes, and "a" is now the most recent
    assert (cache.get("a"), cache.nbytes) == (b"AA", 6)

    cache.put("c", b"cccc")  # 10 bytes: fits
    assert (len(cache), cache.nbytes) == (3, 10)
    cache.put("d", b"d")  # "b" is the least recently used
    assert "b" not in cache
    assert {k for k in "acd" if k in cache} == {"a", "c", "d"}


def test_oversized_value_is_not_kept_and_evicts_nothing():
    cache = lru(10)
    cache.put("a", b"aaaa")
    cache.put("huge", b"x" * 11)
    assert "huge" not in cache
    assert "a" in cache
    assert cache.nbytes == 4


def test_oversized_value_replacing_a_key_drops_the_old_value():
    cache = lru(10)
    cache.put("a", b"aaaa")
    cache.put("a", b"x" * 11)
    assert cache.get("a") is None
    assert (len(cache), cache.nbytes) == (0, 0)


def test_default_size_is_nbytes():
    cache: ByteLRU[np.ndarray] = ByteLRU(100)
    cache.put("a", np.zeros(10, dtype=np.float32))  # 40 bytes
    cache.put("b", np.zeros(10, dtype=np.float64))  # 80 bytes: "a" goes
    assert "a" not in cache
    assert cache.nbytes == 80


def test_get_or_compute_computes_once_then_hits():
    cache = lru(100)
    calls = []

    def compute():
        calls.append(1)
        return b"value"

    assert cache.get_or_compute("k", compute) == (b"value", False)
    assert cache.get_or_compute("k", compute) == (b"value", True)
    assert len(calls) == 1


def test_get_or_compute_error_is_raised_and_not_cached():
    cache = lru(100)

    def fail():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        cache.get_or_compute("k", fail)
    assert "k" not in cache
    assert cache.get_or_compute("k", lambda: b"ok") == (b"ok", False)


@pytest.mark.parametrize("n_threads", [2, 8])
def test_concurrent_callers_of_one_key_share_one_computation(n_threads):
    cache = lru(1000)
    calls = []
    start = threading.Barrier(n_threads)
    results: list[tuple[bytes, bool]] = []
    lock = threading.Lock()

    def compute():
        calls.append(threading.get_ident())
        time.sleep(0.2)  # long enough for every other thread to arrive and wait
        return b"activations"

    def worker():
        start.wait()
        got = cache.get_or_compute("model+pattern", compute)
        with lock:
            results.append(got)

    threads = [threading.Thread(target=worker) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)

    assert len(calls) == 1
    assert len(results) == n_threads
    assert {value for value, _ in results} == {b"activations"}
    assert sorted(cached for _, cached in results) == [False] + [True] * (n_threads - 1)


def test_different_keys_compute_in_parallel():
    """One key's computation does not hold up another key's."""
    cache = lru(1000)
    both_running = threading.Barrier(2, timeout=5)

    def compute(value: bytes):
        def run():
            both_running.wait()  # deadlocks (BrokenBarrierError) if keys were serialized
            return value

        return run

    results = {}

    def worker(key: str):
        results[key] = cache.get_or_compute(key, compute(key.encode()))

    threads = [threading.Thread(target=worker, args=(k,)) for k in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)

    assert results == {"a": (b"a", False), "b": (b"b", False)}


def test_concurrent_callers_share_one_computation_even_when_it_is_too_big_to_keep():
    """Issue 25, row 1: a value over the budget is never stored, so every caller waiting on
    the key computed it again."""

    cache = ByteLRU(max_bytes=10)
    calls = []

    def compute():
        calls.append(1)
        time.sleep(0.3)
        return np.zeros(1000)

    results = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get_or_compute("k", compute)[0]))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and len(results) == 8 and "k" not in cache
    assert all(r is results[0] for r in results)
