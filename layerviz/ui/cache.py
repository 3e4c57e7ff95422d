"""A thread-safe LRU cache with a byte budget, and one computation per key at a time.

The dashboard keeps each (model, pattern)'s activations here so that moving a slider or turning
a page re-renders without running the model again. Several users share it safely: the key is
the content (model name + pattern digest), never who asked.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["ByteLRU"]

V = TypeVar("V")


class ByteLRU(Generic[V]):
    """Least-recently-used cache that evicts once its values hold more than ``max_bytes``.

    Args:
        max_bytes: the budget; one value larger than it is returned but not kept.
        sizeof: how many bytes a value holds (default: its ``nbytes``).
    """

    def __init__(self, max_bytes: int, sizeof: Callable[[V], int] = lambda v: v.nbytes):
        self.max_bytes = int(max_bytes)
        self._sizeof = sizeof
        self._items: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._nbytes = 0
        self._lock = threading.Lock()
        self._flights: dict[Hashable, _Flight] = {}

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items

    @property
    def nbytes(self) -> int:
        """Bytes held now."""
        return self._nbytes

    def get(self, key: Hashable) -> V | None:
        """The value for ``key`` (marking it recently used), or None."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: Hashable, value: V) -> None:
        """Keep ``value``, evicting the least recently used values past the budget."""
        size = int(self._sizeof(value))
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._nbytes -= old[1]
            if size > self.max_bytes:
                return
            self._items[key] = (value, size)
            self._nbytes += size
            while self._nbytes > self.max_bytes:
                _, (_, evicted) = self._items.popitem(last=False)
                self._nbytes -= evicted

    def get_or_compute(self, key: Hashable, compute: Callable[[], V]) -> tuple[V, bool]:
        """The cached value, or ``compute()``'s, kept; returns ``(value, was_cached)``.

        Concurrent callers with the same key share one computation (single flight), and get
        its value even when it is too large to keep: an extraction over the budget was
        computed again by every callback that asked for it at once (issue 25: a 42 kB model
        took a server from 0.6 to 3.3 GiB).
        """
        value = self.get(key)
        if value is not None:
            return value, True
        with self._lock:
            flight = self._flights.get(key)
            leader = flight is None
            if leader:
                flight = self._flights[key] = _Flight()
        if not leader:
            return flight.wait(), True
        try:
            value = self.get(key)
            cached = value is not None
            if not cached:
                value = compute()
                self.put(key, value)
            flight.finish(value, None)
            return value, cached
        except BaseException as exc:
            flight.finish(None, exc)
            raise
        finally:
            with self._lock:
                self._flights.pop(key, None)


class _Flight:
    """One computation in progress: the callers that wait for it get its value or error."""

    def __init__(self):
        self._done = threading.Event()
        self._value = None
        self._error: BaseException | None = None

    def finish(self, value, error: BaseException | None) -> None:
        self._value, self._error = value, error
        self._done.set()

    def wait(self):
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._value
