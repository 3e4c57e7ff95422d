"""How the page travels: compressed, and its versioned files cached by the browser.

A cold open of the page moved 9.5 MB of uncompressed JavaScript (bench/browser.py, issue 20);
gzip takes it to about a third. Dash already fingerprints its component suites (a year's
``max-age``); the files of ``assets/`` carry their modification time as ``?m=…`` in the page,
and the icon fonts a ``?hash`` in their stylesheet, so a request for an asset *with* a query
names one version of it and may be cached as long. Without a query (a hand-typed URL) the
browser asks again, as Flask answers by default.
"""

from __future__ import annotations

from flask import Flask, Response, request

__all__ = ["ASSET_MAX_AGE", "CHUNK_MAX_AGE", "COMPRESS_LEVEL", "install"]

#: One year: a versioned file never changes under its URL.
ASSET_MAX_AGE = 31536000
#: The unversioned chunks of the component suites: long enough for a working session, short
#: enough that a browser picks up a Dash upgrade within the hour.
CHUNK_MAX_AGE = 3600
#: gzip level 6 of the callbacks' JSON (base64 PNG tiles compress little, the numbers and
#: layout well): zlib's default, ~30 ms per MB here; the static files compress once each
#: (cached below), so a higher level costs nothing on later opens.
COMPRESS_LEVEL = 6


def install(server: Flask) -> None:
    """Cache headers for versioned assets, and gzip settings for Dash's ``compress=True``.

    Call before the Dash app enables compression (``Dash(compress=True)`` reads these).
    """
    server.config.setdefault("COMPRESS_ALGORITHM", ["gzip"])
    server.config.setdefault("COMPRESS_LEVEL", COMPRESS_LEVEL)
    # Responses under 1 KB gain nothing from gzip's header and the CPU it costs.
    server.config.setdefault("COMPRESS_MIN_SIZE", 1024)
    server.config.setdefault(
        "COMPRESS_MIMETYPES",
        [
            "text/html",
            "text/css",
            "text/javascript",
            "application/javascript",
            "application/json",
            "image/svg+xml",
        ],
    )
    # The static files compress once each; a callback's answer is compressed afresh.
    server.config.setdefault("COMPRESS_CACHE_KEY", _static_key)
    server.config.setdefault("COMPRESS_CACHE_BACKEND", _StaticCache)
    server.after_request(_cache_versioned_assets)


_UNCACHED = "-"
_SUITES = "/_dash-component-suites/"


def _static_key(req) -> str:
    """A versioned static file's path and query; ``_UNCACHED`` for anything else."""
    if req.method != "GET":
        return _UNCACHED
    if req.path.startswith(_SUITES) or req.path == "/_dash-layout":
        return req.full_path  # Dash's own files, and the layout, built once per app
    if req.path.startswith("/assets/") and req.query_string:
        return req.full_path
    return _UNCACHED


class _StaticCache:
    """Flask-Compress's cache of compressed bodies, for versioned static files only (a few
    dozen, ~3 MB compressed in all); other keys are never kept."""

    def __init__(self):
        self._bodies: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self._bodies.get(key)

    def set(self, key: str, value: bytes) -> None:
        if not key.endswith(";" + _UNCACHED) and len(self._bodies) < 256:
            self._bodies[key] = value


def _cache_versioned_assets(response: Response) -> Response:
    if response.status_code != 200:
        return response
    if request.path.startswith("/assets/") and request.query_string:
        response.cache_control.public = True
        response.cache_control.max_age = ASSET_MAX_AGE
        response.cache_control.no_cache = None  # Flask's default for files: ask every time
    elif request.path.startswith(_SUITES) and response.cache_control.max_age is None:
        # The chunks Dash's components load later (async-graph.js, plotly.min.js, …) carry no
        # version in their URL; the browser revalidated each on every open, five round trips
        # in a row before the first grid could be drawn. An hour, then the ETag again.
        response.cache_control.public = True
        response.cache_control.max_age = CHUNK_MAX_AGE
    return response
