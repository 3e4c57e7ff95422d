"""Models that browser sessions uploaded, kept privately, within a byte budget, for a while.

Each upload is kept under a fresh, unguessable name (``upload-`` and 12 random bytes): only
the browser session that uploaded it learns the name, keeps it in its session store, and adds
it to its own model list, so other sessions never see it. Entries are forgotten when idle for
``idle_seconds``, and the least recently used go first when they hold more than ``max_bytes``
together. No Dash here.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["IDLE_SECONDS", "MAX_BYTES", "PREFIX", "UserModels"]

V = TypeVar("V")

#: Names of uploaded models start with this; the rest is random.
PREFIX = "upload-"
#: Default: forget an uploaded model after 30 minutes without use.
IDLE_SECONDS = 30 * 60.0
#: Default: uploaded models may hold 512 MiB together (weights as the file declares them).
MAX_BYTES = 512 * 2**20


class UserModels(Generic[V]):
    """A thread-safe LRU of uploaded models with a byte budget and an idle timeout.

    Args:
        max_bytes: what all kept models may hold together; the least recently used go first.
        idle_seconds: a model not used for this long is forgotten.
        clock: seconds, monotonic (tests pass a fake one).
    """

    def __init__(
        self,
        max_bytes: int = MAX_BYTES,
        idle_seconds: float = IDLE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.max_bytes = max_bytes
        self.idle_seconds = idle_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._items: OrderedDict[str, tuple[V, int, float]] = OrderedDict()
        # name -> the session it belongs to, for models kept with an owner (see ``keep``).
        self._owners: dict[str, str] = {}

    def __len__(self) -> int:
        with self._lock:
            self._forget_idle()
            return len(self._items)

    @property
    def nbytes(self) -> int:
        """Bytes the kept models hold now."""
        with self._lock:
            return sum(size for _, size, _ in self._items.values())

    def names(self) -> list[str]:
        """The names kept now, least recently used first."""
        with self._lock:
            self._forget_idle()
            return list(self._items)

    @staticmethod
    def is_upload_name(name: object) -> bool:
        """Whether ``name`` has the form of an uploaded model's name."""
        return isinstance(name, str) and name.startswith(PREFIX)

    def add(self, make: Callable[[str], V], nbytes: int, owner: str) -> str:
        """Keep the value ``make(name)`` builds under a fresh name for session ``owner``;
        return the name.

        Older models are forgotten past the budget; the new one is kept even when it alone
        is over it (it passed the upload size cap). Only ``owner`` can :meth:`get` it: a name
        learnt by another session opens nothing, in one process as across workers.
        """
        name = PREFIX + secrets.token_urlsafe(12)
        self.keep(name, make(name), nbytes, owner=owner)
        return name

    def keep(self, name: str, value: V, nbytes: int, owner: str | None = None) -> None:
        """Keep ``value`` under a name made elsewhere; budget and idle time as for :meth:`add`.

        Models shared between workers are named by ``layerviz.ui.shared_models`` (``upload-``
        and an HMAC of the session and the file), the same on every worker. With ``owner``,
        :meth:`get` gives the model only to that session, even to one that learnt the name.
        """
        with self._lock:
            self._items.pop(name, None)
            self._items[name] = (value, int(nbytes), self._clock())
            self._owners.pop(name, None)
            if owner is not None:
                self._owners[name] = owner
            self._forget_idle()
            while len(self._items) > 1 and sum(s for _, s, _ in self._items.values()) > (
                self.max_bytes
            ):
                self._items.popitem(last=False)
            self._owners = {n: o for n, o in self._owners.items() if n in self._items}

    def get(self, name: object, owner: str | None = None) -> V | None:
        """The model kept as ``name`` (marking it used now), or None when unknown, forgotten,
        or kept for another session than ``owner``."""
        if not self.is_upload_name(name):
            return None
        with self._lock:
            self._forget_idle()
            item = self._items.get(name)
            if item is None or self._owners.get(name, owner) != owner:
                return None
            self._items[name] = (item[0], item[1], self._clock())
            self._items.move_to_end(name)
            return item[0]

    def _forget_idle(self) -> None:
        deadline = self._clock() - self.idle_seconds
        for name in [n for n, (_, _, used) in self._items.items() if used < deadline]:
            del self._items[name]
