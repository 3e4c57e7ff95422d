"""BLAS threads for the lens: the cores the load average leaves idle, at least one."""

from __future__ import annotations

import pytest
from threadpoolctl import threadpool_info

from layerviz.lens import threads


@pytest.mark.parametrize(
    ("cores", "load", "want"),
    [(2, 0.1, 1), (2, 0.0, 2), (2, 5.9, 1), (16, 3.5, 12), (16, 40.0, 1), (4, 1.0, 3)],
)
def test_idle_cores_are_the_cores_the_load_leaves(monkeypatch, cores, load, want):
    monkeypatch.setattr(threads.os, "cpu_count", lambda: cores)
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (load, load, load))
    assert threads.idle_cores() == want


def test_no_load_average_means_every_core(monkeypatch):
    def missing():
        raise OSError("no load average")

    monkeypatch.setattr(threads.os, "cpu_count", lambda: 8)
    monkeypatch.setattr(threads.os, "getloadavg", missing)
    assert threads.idle_cores() == 8


def test_blas_threads_caps_numpys_blas_inside_only(monkeypatch):
    monkeypatch.setattr(threads, "idle_cores", lambda: 1)
    before = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    with threads.blas_threads():
        inside = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    after = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    assert inside and set(inside) == {1}
    assert after == before
