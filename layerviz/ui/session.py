"""Which browser session a request belongs to: a random id in a cookie, set on first visit.

The id scopes uploads (``layerviz.ui.store``): a session reaches only what it uploaded, and the
id never appears in a stored key. It is 128 random bits, kept in an ``HttpOnly``,
``SameSite=Lax`` cookie that ends with the browser session; nothing else about the user is kept.

Only the server issues ids: the cookie is ``id.mac``, the MAC an HMAC of the id under
``$LAYERVIZ_SECRET`` (every worker and Celery worker of a deployment shares it; without one, a
key drawn by this process). A cookie the server did not sign, such as an id a client picked to
plant on someone else (session fixation), is ignored and a fresh session is issued.

The cookie is also ``Secure`` (the browser sends it over HTTPS only) when the request came over
HTTPS: the server's own TLS (``request.is_secure``), or ``X-Forwarded-Proto: https`` from a
reverse proxy that terminates TLS, believed only when ``LAYERVIZ_TRUSTED_PROXY=1`` says the
deployment has such a proxy in front (a client could send the header itself otherwise).
``LAYERVIZ_SECURE_COOKIE=1`` makes it ``Secure`` always (TLS ends before a proxy that does not
say so).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Mapping

from flask import Flask, g, request

from layerviz.ui.store import SECRET_VARIABLE, current_session

__all__ = [
    "COOKIE",
    "SECURE_COOKIE_VARIABLE",
    "TRUSTED_PROXY_VARIABLE",
    "came_over_https",
    "cookie_value",
    "install",
    "new_session",
    "session_of",
]

COOKIE = "layerviz_session"
#: ``1``: the session cookie is always ``Secure``.
SECURE_COOKIE_VARIABLE = "LAYERVIZ_SECURE_COOKIE"
#: ``1``: a reverse proxy in front sets ``X-Forwarded-Proto``; believe it.
TRUSTED_PROXY_VARIABLE = "LAYERVIZ_TRUSTED_PROXY"
_VALUE = re.compile(r"([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{22})")
#: The signing key when ``$LAYERVIZ_SECRET`` is not set: this process's own.
_PROCESS_KEY = secrets.token_bytes(32)


def _key() -> bytes:
    return os.environb.get(SECRET_VARIABLE.encode()) or _PROCESS_KEY


def _mac(session: str) -> str:
    digest = hmac.new(_key(), f"session\0{session}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def new_session() -> str:
    """A fresh session id (128 random bits)."""
    return secrets.token_urlsafe(16)


def cookie_value(session: str) -> str:
    """What the cookie holds for ``session``: the id and the server's MAC of it."""
    return f"{session}.{_mac(session)}"


def session_of(cookies: Mapping[str, str]) -> str | None:
    """The session id in ``cookies``, or None when there is none, it is malformed, or this
    server did not issue it (its MAC does not match)."""
    value = cookies.get(COOKIE) if isinstance(cookies, Mapping) else None
    found = _VALUE.fullmatch(value) if isinstance(value, str) else None
    if found is None or not hmac.compare_digest(found.group(2), _mac(found.group(1))):
        return None
    return found.group(1)


def _on(variable: str) -> bool:
    return os.environ.get(variable, "").strip().lower() in ("1", "true", "yes", "on")


def came_over_https(is_secure: bool, headers: Mapping[str, str], trust_proxy: bool) -> bool:
    """Whether a request reached us over HTTPS: our own TLS, or a trusted proxy's word.

    The proxy's ``X-Forwarded-Proto`` is read only when ``trust_proxy``; of a list
    (``https, http``) the last value counts, the one the nearest proxy set.
    """
    if is_secure:
        return True
    forwarded = headers.get("X-Forwarded-Proto") if trust_proxy else None
    return isinstance(forwarded, str) and forwarded.split(",")[-1].strip().lower() == "https"


def install(server: Flask, secure: bool | None = None, trust_proxy: bool | None = None) -> None:
    """Give every request a session: the browser's, or a new one sent back in a cookie.

    Args:
        server: the Flask app.
        secure: always mark the cookie ``Secure`` (default: ``$LAYERVIZ_SECURE_COOKIE``).
        trust_proxy: believe ``X-Forwarded-Proto`` (default: ``$LAYERVIZ_TRUSTED_PROXY``).
    """
    secure = _on(SECURE_COOKIE_VARIABLE) if secure is None else secure
    trust_proxy = _on(TRUSTED_PROXY_VARIABLE) if trust_proxy is None else trust_proxy

    @server.before_request
    def _enter_session():
        known = session_of(request.cookies)
        g.layerviz_new_session = known is None
        g.layerviz_session_token = current_session.set(known or new_session())

    @server.after_request
    def _send_session(response):
        if getattr(g, "layerviz_new_session", False):
            https = secure or came_over_https(request.is_secure, request.headers, trust_proxy)
            response.set_cookie(
                COOKIE,
                cookie_value(current_session.get()),
                httponly=True,
                samesite="Lax",
                path="/",
                secure=https,
            )
        return response

    @server.teardown_request
    def _leave_session(_exc):
        token = g.pop("layerviz_session_token", None)
        if token is not None:
            try:
                current_session.reset(token)
            except ValueError:  # a server that ran the teardown in another context
                current_session.set("local")
