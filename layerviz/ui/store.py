"""Where uploaded patterns wait between requests: in this process, or in Redis for a team.

Both stores keep a pattern per (session, content digest), with a time-to-live, a total byte
budget and a per-session share of it, so one busy client cannot push everyone else's uploads
out. The session is a random id the browser holds in a cookie (``layerviz.ui.session``); it is
set for the duration of a request in :data:`current_session`, so code below the callbacks never
passes it around. Keys are ``HMAC(secret, session, digest)``: nothing a browser sends names a
stored key, and a listing of Redis shows neither session ids nor content digests.

==================  ============================================================================
store               when
==================  ============================================================================
``MemoryStore``     the embedded default (``make run``, ``layerviz serve``): one process
``RedisStore``      ``LAYERVIZ_REDIS_URL`` is set: every worker, on every machine, sees uploads
==================  ============================================================================
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import secrets
import threading
import time
from collections import OrderedDict
from contextvars import ContextVar
from typing import Protocol

import numpy as np

from layerviz.errors import LayervizError

__all__ = [
    "REDIS_URL_VARIABLE",
    "SECRET_VARIABLE",
    "SESSION_SHARE",
    "TTL_SECONDS",
    "UPLOAD_BYTES",
    "MemoryStore",
    "RedisStore",
    "StoreUnavailableError",
    "UploadStore",
    "current_session",
    "store_from_environment",
]

#: Set to ``redis://host:port/db`` to keep uploads (and background jobs) in Redis.
REDIS_URL_VARIABLE = "LAYERVIZ_REDIS_URL"
#: A secret shared by every worker: HMAC key of stored names, and Dash's signing key.
SECRET_VARIABLE = "LAYERVIZ_SECRET"
#: Total budget for uploaded patterns.
UPLOAD_BYTES = 64 * 2**20
#: What one session may hold of it: a quarter, so four busy sessions cannot evict a fifth's
#: upload before it expires (a MobileNetV2 224² pattern is 0.6 MB: 27 of them fit a share).
SESSION_SHARE = UPLOAD_BYTES // 4
#: How long an upload is kept after its last use.
TTL_SECONDS = 2 * 3600

#: The browser session a request belongs to ("local" for code that runs outside a request).
current_session: ContextVar[str] = ContextVar("layerviz_session", default="local")


class StoreUnavailableError(LayervizError):
    """The shared store (Redis) cannot be reached; seeds and samples still work."""


class UploadStore(Protocol):
    """What the workbench needs from a store of uploaded patterns."""

    def put(self, session: str, digest: str, pattern: Pattern) -> bool: ...

    def get(self, session: str, digest: str) -> Pattern | None: ...

    def health(self) -> str: ...


#: A pattern: one array, or a tuple of one array per input of a multi-input model.
Pattern = np.ndarray | tuple[np.ndarray, ...]


def _nbytes(pattern: Pattern | bytes) -> int:
    if isinstance(pattern, bytes):  # a file kept by put_bytes
        return len(pattern)
    return sum(p.nbytes for p in pattern) if isinstance(pattern, tuple) else pattern.nbytes


def _encoded(pattern: Pattern) -> bytes:
    """``.npy`` bytes of one array, ``.npz`` bytes (arr_0, arr_1, …) of a tuple; no pickles."""
    buffer = io.BytesIO()
    if isinstance(pattern, tuple):
        np.savez(buffer, *pattern)
    else:
        np.save(buffer, pattern, allow_pickle=False)
    return buffer.getvalue()


def _decoded(data: bytes) -> Pattern:
    loaded = np.load(io.BytesIO(data), allow_pickle=False)
    if isinstance(loaded, np.ndarray):
        return loaded
    with loaded:
        return tuple(loaded[f"arr_{i}"] for i in range(len(loaded.files)))


def _key(secret: bytes, session: str, digest: str) -> str:
    """The stored key of one session's upload: an HMAC, so it names neither."""
    return hmac.new(secret, f"{session}\0{digest}".encode(), hashlib.sha256).hexdigest()


class MemoryStore:
    """Uploads in this process: a byte budget, a per-session share and a TTL.

    Past its share a session loses its own oldest uploads; past the budget, the session that
    holds the most loses its oldest (fairness across sessions, not a global LRU: a flood of
    fresh cookieless sessions evicts its own uploads, not an older session's one pattern).

    Args:
        budget: total bytes kept.
        share: bytes one session may keep; its own oldest uploads go first past it.
        ttl: seconds an upload is kept after its last use.
    """

    def __init__(self, budget=UPLOAD_BYTES, share=SESSION_SHARE, ttl=TTL_SECONDS, clock=None):
        self.budget, self.share, self.ttl = int(budget), int(share), float(ttl)
        self._clock = clock or time.monotonic
        self._secret = secrets.token_bytes(32)
        # key -> (session, pattern, last use)
        self._items: OrderedDict[str, tuple[str, Pattern, float]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        """Bytes held now."""
        return sum(_nbytes(item[1]) for item in self._items.values())

    def session_bytes(self, session: str) -> int:
        """Bytes one session holds now."""
        return sum(_nbytes(p) for s, p, _ in self._items.values() if s == session)

    def put(self, session: str, digest: str, pattern: Pattern) -> bool:
        """Keep ``pattern`` for ``session``, evicting past the share and the budget.

        Returns:
            False when the pattern alone is over the session's share (it is not kept).
        """
        return self._keep(session, digest, pattern)

    def put_bytes(self, session: str, digest: str, data: bytes) -> bool:
        """Keep the bytes of a file (an uploaded model) for ``session``; rules as for ``put``."""
        return self._keep(session, digest, bytes(data))

    def get_bytes(self, session: str, digest: str) -> bytes | None:
        """What ``put_bytes`` kept for the session, or None; a hit counts as a use."""
        found = self.get(session, digest)
        return found if isinstance(found, bytes) else None

    def contains(self, session: str, digest: str) -> bool:
        """Whether the session's item is kept now (not counted as a use)."""
        key = _key(self._secret, session, digest)
        with self._lock:
            self._expire(self._clock())
            return key in self._items

    def touch(self, session: str, digest: str) -> bool:
        """Count a use of the session's item without reading it; whether it is kept."""
        key = _key(self._secret, session, digest)
        with self._lock:
            now = self._clock()
            self._expire(now)
            item = self._items.pop(key, None)
            if item is not None:
                self._items[key] = (item[0], item[1], now)
            return item is not None

    def _keep(self, session: str, digest: str, item: Pattern | bytes) -> bool:
        key = _key(self._secret, session, digest)
        with self._lock:
            now = self._clock()
            self._items.pop(key, None)
            self._items[key] = (session, item, now)
            self._expire(now)
            self._evict(lambda s: s == session, self.share, keep=key)
            self._evict_fairly(keep=key)
            return key in self._items

    def get(self, session: str, digest: str) -> Pattern | None:
        """The session's pattern, or None when it was never kept, expired or was evicted."""
        key = _key(self._secret, session, digest)
        with self._lock:
            now = self._clock()
            self._expire(now)
            item = self._items.pop(key, None)
            if item is None:
                return None
            self._items[key] = (item[0], item[1], now)
            return item[1]

    def health(self) -> str:
        return "in process"

    def _expire(self, now: float) -> None:
        while self._items:
            key, (_, _, used) = next(iter(self._items.items()))
            if now - used <= self.ttl:
                return
            del self._items[key]

    def _evict_fairly(self, keep: str) -> None:
        """Past the budget, drop the oldest item of the session that holds the most bytes
        (``keep``, the newest, last): minting sessions buys no one a share of the others'."""
        held: dict[str, int] = {}
        for s, item, _ in self._items.values():
            held[s] = held.get(s, 0) + _nbytes(item)
        total = sum(held.values())
        while total > self.budget and held:
            richest = max(held, key=held.get)
            mine = [k for k, item in self._items.items() if item[0] == richest]
            victim = next((k for k in mine if k != keep), mine[0])
            size = _nbytes(self._items.pop(victim)[1])
            held[richest] -= size
            total -= size
            if not held[richest]:
                del held[richest]

    def _evict(self, whose, limit: int, keep: str) -> None:
        """Drop the oldest items of sessions ``whose`` accepts until they hold ``limit``;
        ``keep`` (the newest) goes last, only when it alone is over the limit."""
        mine = [(k, _nbytes(item[1])) for k, item in self._items.items() if whose(item[0])]
        held = sum(size for _, size in mine)
        for key, size in [*[m for m in mine if m[0] != keep], *[m for m in mine if m[0] == keep]]:
            if held <= limit:
                return
            del self._items[key]
            held -= size


# Put one upload and evict past the session's share and the total budget, atomically, so
# that several workers writing at once cannot overshoot. Keys: the upload, the session's
# index (member: upload key, score: last use), the global index, the sizes, the byte counter,
# and each upload's session index (its owner), for fairness past the budget.
_PUT = """
local key, skey, gkey, sizes, total = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local owners = KEYS[6]
local now, ttl = tonumber(ARGV[2]), tonumber(ARGV[3])
local share, budget = tonumber(ARGV[4]), tonumber(ARGV[5])
local function drop(k)
  local size = tonumber(redis.call('HGET', sizes, k) or '0')
  redis.call('DEL', k)
  redis.call('HDEL', sizes, k)
  redis.call('HDEL', owners, k)
  redis.call('ZREM', gkey, k)
  redis.call('ZREM', skey, k)
  redis.call('DECRBY', total, size)
end
for _, k in ipairs(redis.call('ZRANGEBYSCORE', gkey, '-inf', now - ttl)) do drop(k) end
redis.call('ZREMRANGEBYSCORE', skey, '-inf', now - ttl)
drop(key)
local size = string.len(ARGV[1])
redis.call('SET', key, ARGV[1], 'EX', ttl)
redis.call('HSET', sizes, key, size)
redis.call('ZADD', gkey, now, key)
redis.call('ZADD', skey, now, key)
redis.call('EXPIRE', skey, ttl)
redis.call('INCRBY', total, size)
local held = 0
local mine = redis.call('ZRANGE', skey, 0, -1)
for _, k in ipairs(mine) do held = held + tonumber(redis.call('HGET', sizes, k) or '0') end
for _, k in ipairs(mine) do
  if held <= share then break end
  if k ~= key then
    held = held - tonumber(redis.call('HGET', sizes, k) or '0')
    drop(k)
  end
end
redis.call('HSET', owners, key, skey)
-- Past the budget, the session holding the most bytes loses its oldest upload (the new one
-- last): fairness across sessions, so minting sessions cannot evict another's uploads.
while tonumber(redis.call('GET', total) or '0') > budget do
  local per, richest, most = {}, nil, -1
  for _, k in ipairs(redis.call('ZRANGE', gkey, 0, -1)) do
    local s = redis.call('HGET', owners, k) or k
    per[s] = (per[s] or 0) + tonumber(redis.call('HGET', sizes, k) or '0')
    if per[s] > most then richest, most = s, per[s] end
  end
  if not richest then break end
  local victim = nil
  for _, k in ipairs(redis.call('ZRANGE', gkey, 0, -1)) do
    if (redis.call('HGET', owners, k) or k) == richest then
      if k ~= key then victim = k break end
      victim = victim or k
    end
  end
  if not victim then break end
  drop(victim)
end
if held > share then drop(key) end
return redis.call('EXISTS', key)
"""


class RedisStore:
    """Uploads in Redis, shared by every worker: same rules as :class:`MemoryStore`.

    Args:
        url: ``redis://host:port/db``.
        budget, share, ttl: as for :class:`MemoryStore`.
        secret: the HMAC key of stored names; every worker must use the same one
            (default: ``$LAYERVIZ_SECRET``). Without one, names are plain SHA-256 hashes of
            the session id (128 random bits) and the digest: still neither guessable nor
            reversible.
        prefix: the namespace of every key this store writes; a store with its own prefix
            has its own budget (uploaded model files are kept apart from patterns).
        item: what the keys of kept items are called (``{prefix}:{item}:{hmac}``).
    """

    def __init__(
        self,
        url: str,
        budget=UPLOAD_BYTES,
        share=SESSION_SHARE,
        ttl=TTL_SECONDS,
        secret: bytes | None = None,
        prefix: str = "layerviz",
        item: str = "pattern",
    ):
        import redis  # only a team deployment needs it

        self._errors = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
        # Short timeouts: when Redis is away, a request says so within a second, not a minute.
        self._redis = redis.Redis.from_url(
            url, socket_timeout=2, socket_connect_timeout=1, retry_on_timeout=False
        )
        self.budget, self.share, self.ttl = int(budget), int(share), int(ttl)
        self._prefix, self._item = prefix, item
        self.secret = secret or os.environb.get(SECRET_VARIABLE.encode()) or b"layerviz"
        self._put = self._redis.register_script(_PUT)

    def _names(self, session: str) -> list[str]:
        p, session_key = self._prefix, _key(self.secret, session, "")
        return [
            f"{p}:session:{session_key}",
            f"{p}:uploads",
            f"{p}:sizes",
            f"{p}:bytes",
            f"{p}:owners",
        ]

    def put(self, session: str, digest: str, pattern: Pattern) -> bool:
        """Keep ``pattern`` for ``session`` (as ``.npy`` bytes), evicting past the limits.

        Returns:
            False when the pattern alone is over the session's share (it is not kept).
        """
        return self.put_bytes(session, digest, _encoded(pattern))

    def get(self, session: str, digest: str) -> Pattern | None:
        """The session's pattern, or None; a hit counts as a use (its TTL starts again)."""
        data = self.get_bytes(session, digest)
        return None if data is None else _decoded(data)

    def put_bytes(self, session: str, digest: str, data: bytes) -> bool:
        """Keep ``data`` (a file's bytes) for ``session``, evicting past the limits.

        Returns:
            False when ``data`` alone is over the session's share (it is not kept).
        """
        args = [bytes(data), time.time(), self.ttl, self.share, self.budget]
        keys = [self._item_key(session, digest), *self._names(session)]
        return bool(self._call(self._put, keys=keys, args=args))

    def get_bytes(self, session: str, digest: str) -> bytes | None:
        """The session's bytes, or None; a hit counts as a use (its TTL starts again)."""
        key = self._item_key(session, digest)
        data = self._call(self._redis.getex, key, ex=self.ttl)
        if data is None:
            return None
        session_index, uploads, *_ = self._names(session)
        now = time.time()
        self._call(self._redis.zadd, uploads, {key: now}, xx=True)
        self._call(self._redis.zadd, session_index, {key: now}, xx=True)
        return data

    def contains(self, session: str, digest: str) -> bool:
        """Whether the session's item is kept now (not counted as a use)."""
        return bool(self._call(self._redis.exists, self._item_key(session, digest)))

    def touch(self, session: str, digest: str) -> bool:
        """Count a use of the session's item without reading it; whether it is kept."""
        key = self._item_key(session, digest)
        if not self._call(self._redis.expire, key, self.ttl):
            return False
        session_index, uploads, *_ = self._names(session)
        now = time.time()
        self._call(self._redis.zadd, uploads, {key: now}, xx=True)
        self._call(self._redis.zadd, session_index, {key: now}, xx=True)
        return True

    def _item_key(self, session: str, digest: str) -> str:
        return f"{self._prefix}:{self._item}:{_key(self.secret, session, digest)}"

    def health(self) -> str:
        """``"redis"`` when a PING is answered.

        Raises:
            StoreUnavailableError: Redis cannot be reached.
        """
        self._call(self._redis.ping)
        return "redis"

    def _call(self, method, *args, **kwargs):
        try:
            return method(*args, **kwargs)
        except self._errors:
            raise StoreUnavailableError(
                "the shared pattern store (Redis) cannot be reached: uploads are unavailable "
                "until it is back; seeds and samples still work"
            ) from None


def store_from_environment() -> UploadStore:
    """A :class:`RedisStore` when ``LAYERVIZ_REDIS_URL`` is set, else a :class:`MemoryStore`."""
    url = os.environ.get(REDIS_URL_VARIABLE)
    return RedisStore(url) if url else MemoryStore()
