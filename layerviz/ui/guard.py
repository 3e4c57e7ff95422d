"""The server's edge: security headers, and requests refused before Dash sees them.

An adversarial probe found framework paths answering 500 with a traceback in the log (a JSON body
nested 10,000 deep, ``changedPropIds: [null]``, ``/_dash-component-suites/dash/__init__.py``) and
a chunked body past the size cap answered 400 instead of 413. Those are the client's mistakes:
they get a 4xx and one short log line here, and Dash only ever sees well-formed requests.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Mapping
from typing import Any

from dash.fingerprint import check_fingerprint
from flask import Flask, Response, request

__all__ = [
    "MAX_JSON_DEPTH",
    "SUITE_EXTENSIONS",
    "install",
    "json_depth",
    "limit_chunked_bodies",
]

log = logging.getLogger("layerviz.ui")

#: Deepest nesting a callback request may have (Dash's own are under 10 levels).
MAX_JSON_DEPTH = 64
#: File types Dash serves from component suites; anything else (a ``.py`` file) is a 404.
SUITE_EXTENSIONS = {".js", ".css", ".map", ".json", ".woff", ".woff2", ".ttf", ".svg", ".txt"}
_UPDATE_PATH = "/_dash-update-component"
_SUITES_PATH = "/_dash-component-suites/"


def json_depth(text: bytes) -> int:
    """How deep brackets nest in JSON text, strings skipped, without parsing it."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in text:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def _refuse(status: int, reason: str) -> Response:
    log.warning("refused %s %s: %s", request.method, request.path[:120], reason)
    return Response(reason + "\n", status=status, mimetype="text/plain")


def _check_update_body(callbacks: Mapping[str, dict] | None) -> Response | None:
    """A callback request must be shallow JSON with the fields Dash reads, of the right kinds,
    for a callback this app has, with as many inputs and states as it declares."""
    body = request.get_data(cache=True)
    if json_depth(body) > MAX_JSON_DEPTH:
        return _refuse(400, f"request JSON nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        payload = json.loads(body)
    except ValueError:
        return _refuse(400, "request body is not JSON")
    problem = _update_problem(payload) or _callback_problem(payload, callbacks)
    return _refuse(400, problem) if problem else None


def _update_problem(payload: Any) -> str | None:
    if not isinstance(payload, dict):
        return "a callback request is a JSON object"
    changed = payload.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "changedPropIds must be a list of strings"
    for key in ("inputs", "state"):
        items = payload.get(key, [])
        if not isinstance(items, list):
            return f"{key} must be a list"
        if not all(_is_dependency(item) for item in items):
            return f"each of {key} must name an id and a property"
    if not isinstance(payload.get("output"), str):
        return "output must be a string"
    if not isinstance(payload.get("outputs"), dict | list):
        return "outputs must be an object or a list"
    return None


def _is_dependency(item: Any) -> bool:
    """``{"id": ..., "property": ...}``, or a list of them (a wildcard's matches)."""
    if isinstance(item, list):
        return all(_is_dependency(i) for i in item)
    return isinstance(item, dict) and "id" in item and isinstance(item.get("property"), str)


def _callback_problem(payload: dict, callbacks: Mapping[str, dict] | None) -> str | None:
    """An unknown output, or a count of inputs or states the callback does not declare."""
    if callbacks is None:
        return None
    declared = callbacks.get(payload["output"])
    if declared is None:
        return "no callback has these outputs"
    for key in ("inputs", "state"):
        want, got = len(declared.get(key, [])), len(payload.get(key, []))
        if want != got:
            return f"this callback takes {want} {key}, the request sent {got}"
    return None


def _check_suite_path(registered: Mapping[str, set] | None) -> Response | None:
    """A front-end file of a package Dash serves, by the path Dash registered for it."""
    name = request.path.rsplit("/", 1)[-1]
    extension = name[name.rfind(".") :].lower() if "." in name else ""
    if extension not in SUITE_EXTENSIONS:
        return _refuse(404, "no such resource")
    if registered is None:
        return None
    package, _, fingerprinted = request.path[len(_SUITES_PATH) :].partition("/")
    path, _ = check_fingerprint(fingerprinted)
    if package not in registered or path not in registered[package]:
        return _refuse(404, "no such resource")
    return None


def content_security_policy(script_hashes: list[str], embeddable: bool) -> str:
    """The page's CSP: everything from this server; inline scripts only by their hashes.

    Styles stay ``'unsafe-inline'``: Plotly and Dash's components set inline styles and
    inject ``<style>`` elements at run time, which no hash can name in advance.
    """
    scripts = " ".join(["'self'", *script_hashes])
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {scripts}",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            f"frame-ancestors {'*' if embeddable else chr(39) + 'none' + chr(39)}",
        ]
    )


def install(
    server: Flask,
    script_hashes: list[str],
    embeddable: bool = False,
    *,
    callbacks: Mapping[str, dict] | None = None,
    suites: Mapping[str, set] | None = None,
) -> None:
    """Add the request checks and the security headers to the app's Flask server.

    Args:
        server: ``app.server``.
        script_hashes: CSP hashes of the page's inline scripts (``app.csp_hashes()``).
        embeddable: allow the page in a frame (``layerviz.show`` inline in Jupyter).
        callbacks: the app's ``callback_map``: a request for another output, or with another
            count of inputs or states, is a 400 (None: not checked).
        suites: the app's ``registered_paths`` (Dash fills it on the first request, before
            this guard runs): any other component-suite path is a 404 (None: not checked).
    """
    policy = content_security_policy(script_hashes, embeddable)

    def _before_request() -> Response | None:
        if request.path == _UPDATE_PATH and request.method == "POST":
            return _check_update_body(callbacks)
        if request.path.startswith(_SUITES_PATH):
            return _check_suite_path(suites)
        return None

    def headers(response: Response) -> Response:
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = policy
        response.headers["Referrer-Policy"] = "no-referrer"
        if not embeddable:
            response.headers["X-Frame-Options"] = "DENY"
        return response

    server.before_request(_before_request)
    server.after_request(headers)
    server.wsgi_app = limit_chunked_bodies(server.wsgi_app, server.config["MAX_CONTENT_LENGTH"])


def limit_chunked_bodies(wsgi_app, max_bytes: int):
    """WSGI middleware: a body without a length (chunked) is read up to ``max_bytes`` + 1 and
    refused with 413 past it, as a body that declares its length already is."""

    def guarded(environ, start_response):
        if (
            environ.get("CONTENT_LENGTH")
            or "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        ):
            return wsgi_app(environ, start_response)
        body = environ["wsgi.input"].read(max_bytes + 1)
        if len(body) > max_bytes:
            log.warning("refused a chunked body over %d bytes", max_bytes)
            start_response("413 Request Entity Too Large", [("Content-Type", "text/plain")])
            return [b"request body too large\n"]
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return wsgi_app(environ, start_response)

    return guarded
