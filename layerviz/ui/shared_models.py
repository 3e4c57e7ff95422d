"""Uploaded model files in the shared store, so that any worker can open a session's model.

With ``LAYERVIZ_REDIS_URL`` set, a model that passed the checks and the canary on one worker is
also written to Redis (a :class:`~layerviz.ui.store.RedisStore` of its own: its own key prefix,
byte budget, per-session share and time-to-live, so model files never push uploaded patterns
out). A later request that names the model on another worker finds it missing from that
worker's LRU (``layerviz.ui.user_models``), reads the file from the store, and loads it there.
Without Redis nothing here is used: a model lives in the uploading process, as before.

Names and keys. An uploaded model is named ``upload-`` + ``HMAC(secret, session, sha256)``
(truncated to 128 bits): the same for every worker (they share ``LAYERVIZ_SECRET``), stable for
one session and one file, and unknown to any other session, which cannot compute it without
the secret and the session id. The store keys the file by (session, name) through its own HMAC,
and a worker's LRU keeps it with its owner, so another session that somehow held the name still
finds nothing: it can neither load nor list the model. The stored record carries the file's
SHA-256, and a worker accepts the bytes only when they hash to it *and* the name is the one
this session would get for them: a record copied between keys or altered in Redis is refused.

Does another worker run the canary again (about 10 s)? **Not when the record says it passed
for these exact bytes under this worker's Keras**, and it always runs the static checks again.
Why this is enough:

- the store is written only by our server, after ``check_model_file`` and the canary passed;
  the record then holds ``HMAC(secret, "canary-passed", sha256, keras version)``;
- a worker verifies the SHA-256 of the bytes it read, so they are the bytes the canary loaded,
  and the canary's verdict (does Keras load and run this file within limits) depends only on
  the bytes and the Keras version, which the mark includes (a worker running another Keras
  re-runs the canary: a rolling upgrade is safe);
- Redis is a shared service, so nothing read from it is trusted beyond what the secret
  proves: without a configured ``LAYERVIZ_SECRET`` (the key is then a public default; so is
  docker-compose.yml's placeholder) a mark proves nothing and the canary runs again on every
  worker that loads the file;
- the static checks (``check_model_file(canary=False)``: zip limits, the layer allowlist) run
  again on every load, at about 1% of the load's cost, so a file is always checked by the
  rules of the layerviz that loads it.

Redis away: storing or reading a model is a :class:`StoreUnavailableError` that says so
(``error-alert`` shows it); bundled models keep working; when Redis is back, so are uploads.
No Dash here.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import struct
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import keras

from layerviz.errors import UnsafeModelError
from layerviz.extract.activations import ActivationExtractor
from layerviz.load.loading import load_model
from layerviz.load.modelcheck import ModelReport, check_model_file
from layerviz.patterns.readers import MAX_PATTERN_BYTES
from layerviz.ui.store import (
    REDIS_URL_VARIABLE,
    SECRET_VARIABLE,
    RedisStore,
    StoreUnavailableError,
)
from layerviz.ui.user_models import IDLE_SECONDS, PREFIX, UserModels

__all__ = [
    "MAX_MODEL_FILE_BYTES",
    "MODEL_FILE_BYTES",
    "MODEL_FILE_SHARE",
    "TOUCH_SECONDS",
    "LoadedUpload",
    "SharedModelFiles",
    "load_upload",
    "model_files_from_environment",
]

#: The largest model file the dashboard takes (what one request carries).
MAX_MODEL_FILE_BYTES = MAX_PATTERN_BYTES
#: Total budget of model files in the shared store, apart from the patterns' budget.
MODEL_FILE_BYTES = 256 * 2**20
#: What one session may keep of it: four files at the upload limit.
MODEL_FILE_SHARE = 4 * MAX_MODEL_FILE_BYTES
#: A worker that keeps serving a model from its own LRU tells the store it is in use at most
#: this often (seconds), so the stored file outlives no session that still uses it elsewhere.
TOUCH_SECONDS = 60.0
#: Says the stored record's layout; a record of another version is not read.
_VERSION = 1
#: Secrets printed in this repository (docker-compose.yml's fallback): anyone can compute a
#: mark with them, so they are treated as no configured secret at all.
_PUBLIC_SECRETS = frozenset({b"change-me-to-a-long-random-value"})
_UNAVAILABLE = (
    "the shared model store (Redis) cannot be reached: uploaded models are unavailable "
    "until it is back; the bundled models still work"
)


V = TypeVar("V")


@dataclass(frozen=True)
class LoadedUpload:
    """A vetted model file, loaded here: what the dashboard shows of it, and what it holds."""

    title: str
    description: str
    model: keras.Model
    extractor: ActivationExtractor
    nbytes: int


def load_upload(data: bytes, filename: str, report: ModelReport) -> LoadedUpload:
    """Load a file that passed ``check_model_file`` into this process.

    Raises:
        UnsafeModelError: the static checks (run again by ``load_model``) refused it.
        ModelLoadError, ModelStructureError: Keras could not load it, or layerviz cannot
            cut it into layers.
    """
    with tempfile.TemporaryDirectory(prefix="layerviz-upload-") as folder:
        path = Path(folder) / "model.keras"
        path.write_bytes(data)
        model = load_model(path, max_bytes=len(data))  # the upload cap was checked before
    extractor = ActivationExtractor(model)
    description = (
        f"your upload: {len(report.layers)} layers, {model.count_params():,} parameters, "
        "checked in a sandbox"
    )
    nbytes = max(len(data), 4 * model.count_params())  # the LRU's measure: weights as floats
    return LoadedUpload(f"{filename} (your upload)", description, model, extractor, nbytes)


class SharedModelFiles:
    """A session's vetted model files in a shared store, for every worker to load.

    Args:
        store: a store with ``put_bytes``, ``get_bytes``, ``contains`` and ``touch`` (a
            ``RedisStore`` with its own prefix in a deployment; a ``MemoryStore`` in tests).
        secret: the key of names and canary marks, shared by every worker.
        trust_marks: whether a canary mark in the store spares the canary (False when the
            secret is not a configured one: a mark made with a public key proves nothing).
        max_bytes: the size cap the static checks apply again.
    """

    def __init__(
        self,
        store,
        secret: bytes,
        *,
        trust_marks: bool = True,
        max_bytes: int = MAX_MODEL_FILE_BYTES,
    ):
        self.store, self.trust_marks, self.max_bytes = store, trust_marks, max_bytes
        self._secret = bytes(secret)
        self._restoring = threading.Lock()
        self._touched: dict[str, float] = {}  # name -> when this process last touched it
        #: How many canaries this process ran again for stored files (for tests and logs).
        self.canaries_rerun = 0

    def name_of(self, session: str, data: bytes) -> str:
        """The model's name for this session and file: the same on every worker."""
        return self._name(session, hashlib.sha256(data).hexdigest())

    def _name(self, session: str, sha256: str) -> str:
        mac = hmac.new(self._secret, f"model\0{session}\0{sha256}".encode(), hashlib.sha256)
        return PREFIX + mac.hexdigest()[:32]

    def _mark(self, sha256: str) -> str:
        text = f"canary-passed\0{sha256}\0{keras.__version__}".encode()
        return hmac.new(self._secret, text, hashlib.sha256).hexdigest()

    def put(self, session: str, name: str, data: bytes, filename: str) -> None:
        """Keep a file that passed the checks and the canary here, marked as such.

        Raises:
            StoreUnavailableError: the store cannot be reached.
            UnsafeModelError: the file alone is over one session's share.
        """
        sha256 = hashlib.sha256(data).hexdigest()
        header = {"v": _VERSION, "sha256": sha256, "file": filename, "canary": self._mark(sha256)}
        record = _packed(header, data)
        if not self._call(self.store.put_bytes, session, name, record):
            raise UnsafeModelError(
                f"{filename} ({len(data) / 2**20:.1f} MB) is larger than one session may keep "
                "in the shared model store"
            )

    def contains(self, session: str, name: str) -> bool:
        """Whether the store keeps this session's model (nothing is loaded).

        Raises:
            StoreUnavailableError: the store cannot be reached.
        """
        return bool(self._call(self.store.contains, session, name))

    def check(self) -> None:
        """Fail fast, before a canary's seconds, when the store cannot be reached.

        Raises:
            StoreUnavailableError: it cannot.
        """
        health = getattr(self.store, "health", None)
        if health is not None:
            self._call(health)

    def restore(
        self,
        session: str,
        name: str,
        models: UserModels[V],
        entry_of: Callable[[str, LoadedUpload], V],
    ) -> V | None:
        """This session's model ``name``: from ``models``, else from the store, loaded here.

        A model in ``models`` is served from there, and its stored file is told (at most every
        ``TOUCH_SECONDS``) that it is still in use, so it does not expire while a session works
        on one worker. A model read from the store is checked (see the module's docstring),
        loaded, and kept in ``models`` as ``entry_of(name, loaded)``. One restore at a time in
        this process: concurrent requests for the same model wait and then find it kept.

        Returns:
            The entry, or None when neither this process nor the store keeps the model.

        Raises:
            StoreUnavailableError: the store cannot be reached.
            UnsafeModelError: the stored record does not match its name, or the checks or the
                canary refused the file.
            ModelLoadError, ModelStructureError: Keras could not load it.
        """
        kept = models.get(name, session)
        if kept is not None:
            self._touch(session, name)
            return kept
        with self._restoring:
            kept = models.get(name, session)
            if kept is not None:
                return kept
            record = self._call(self.store.get_bytes, session, name)
            if record is None:
                return None
            loaded = self._load(session, name, record)
            entry = entry_of(name, loaded)
            models.keep(name, entry, loaded.nbytes, owner=session)
            return entry

    def _touch(self, session: str, name: str) -> None:
        now = time.monotonic()
        if now - self._touched.get(name, -TOUCH_SECONDS) < TOUCH_SECONDS:
            return
        if len(self._touched) > 4096:  # names of models long gone
            self._touched.clear()
        self._touched[name] = now
        # The model is here: this request does not need the store, so Redis away is no error.
        with contextlib.suppress(StoreUnavailableError):
            self.store.touch(session, name)

    def _load(self, session: str, name: str, record: bytes) -> LoadedUpload:
        header, data = _unpacked(record)
        sha256 = hashlib.sha256(data).hexdigest()
        if header.get("sha256") != sha256 or self._name(session, sha256) != name:
            raise UnsafeModelError(
                "the stored copy of your uploaded model does not match it; upload it again"
            )
        filename = str(header.get("file") or "upload.keras")[:200]
        mark = header.get("canary")
        trusted = self.trust_marks and isinstance(mark, str)
        # Bytes, not str: compare_digest refuses a str that is not ASCII (a forged mark).
        canary = not (trusted and hmac.compare_digest(mark.encode(), self._mark(sha256).encode()))
        if canary:
            self.canaries_rerun += 1
        report = check_model_file(data, self.max_bytes, canary=canary, file_name=filename)
        return load_upload(data, filename, report)

    def _call(self, method, *args):
        try:
            return method(*args)
        except StoreUnavailableError:
            raise StoreUnavailableError(_UNAVAILABLE) from None


def _packed(header: dict, data: bytes) -> bytes:
    """A record: the header's length (4 bytes), the header as JSON, then the file."""
    text = json.dumps(header, sort_keys=True).encode()
    return struct.pack(">I", len(text)) + text + data


def _unpacked(record: bytes) -> tuple[dict, bytes]:
    """The header and file of a record; a malformed one is refused.

    Raises:
        UnsafeModelError: not a record this version wrote.
    """
    damaged = UnsafeModelError("the stored copy of your uploaded model is damaged; upload it again")
    if len(record) < 4:
        raise damaged
    (size,) = struct.unpack(">I", record[:4])
    try:
        header = json.loads(record[4 : 4 + size]) if size <= 4096 else None
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("v") != _VERSION:
        raise damaged
    return header, record[4 + size :]


def model_files_from_environment(idle_seconds: float = IDLE_SECONDS) -> SharedModelFiles | None:
    """Shared model files in Redis when ``LAYERVIZ_REDIS_URL`` is set, else None (in process).

    Their time-to-live is the uploaded models' idle time; their budget is their own.
    """
    url = os.environ.get(REDIS_URL_VARIABLE)
    if not url:
        return None
    configured = os.environb.get(SECRET_VARIABLE.encode())
    store = RedisStore(
        url,
        budget=MODEL_FILE_BYTES,
        share=MODEL_FILE_SHARE,
        ttl=int(idle_seconds),
        prefix="layerviz:models",
        item="file",
    )
    trusted = bool(configured) and configured.strip() not in _PUBLIC_SECRETS
    return SharedModelFiles(store, store.secret, trust_marks=trusted)
