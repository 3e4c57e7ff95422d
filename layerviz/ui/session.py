"""Which browser session a request belongs to: a random id in a cookie, set on first visit.

The id scopes uploads (``layerviz.ui.store``): a session reaches only what it uploaded, and the
id never appears in a stored key. It is 128 random bits, kept in an ``HttpOnly`` cookie that
ends with the browser session; nothing else about the user is kept.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping

from flask import Flask, g, request

from layerviz.ui.store import current_session

__all__ = ["COOKIE", "install", "session_of"]

COOKIE = "layerviz_session"
_ID = re.compile(r"[A-Za-z0-9_-]{22}")


def session_of(cookies: Mapping[str, str]) -> str | None:
    """The session id in ``cookies``, or None when there is none or it is malformed."""
    value = cookies.get(COOKIE) if isinstance(cookies, Mapping) else None
    return value if isinstance(value, str) and _ID.fullmatch(value) else None


def install(server: Flask) -> None:
    """Give every request a session: the browser's, or a new one sent back in a cookie."""

    @server.before_request
    def _enter_session():
        known = session_of(request.cookies)
        g.layerviz_new_session = known is None
        g.layerviz_session_token = current_session.set(known or secrets.token_urlsafe(16))

    @server.after_request
    def _send_session(response):
        if getattr(g, "layerviz_new_session", False):
            response.set_cookie(
                COOKIE, current_session.get(), httponly=True, samesite="Lax", path="/"
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
