"""Tests for layerviz.ui.session: the session cookie, and when it is ``Secure``."""

from __future__ import annotations

import pytest
from flask import Flask

from layerviz.ui.session import COOKIE, came_over_https, install
from layerviz.ui.store import current_session


def cookie_of(headers=None, base_url="http://localhost", **options) -> str:
    """The Set-Cookie header a first visit gets from a server with ``install(**options)``."""
    server = Flask("session-test")
    install(server, **options)
    server.get("/")(lambda: current_session.get())
    response = server.test_client().get("/", headers=headers or {}, base_url=base_url)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    return cookie


def test_plain_http_gets_no_secure_flag():
    assert "Secure" not in cookie_of()


def test_our_own_tls_gets_secure():
    assert "Secure" in cookie_of(base_url="https://localhost")


def test_a_forwarded_proto_counts_only_from_a_trusted_proxy():
    https = {"X-Forwarded-Proto": "https"}
    assert "Secure" not in cookie_of(https)  # any client can send the header
    assert "Secure" in cookie_of(https, trust_proxy=True)
    assert "Secure" not in cookie_of({"X-Forwarded-Proto": "http"}, trust_proxy=True)


def test_a_setting_forces_it():
    assert "Secure" in cookie_of(secure=True)


@pytest.mark.parametrize(
    ("variables", "headers", "secure"),
    [
        ({}, {"X-Forwarded-Proto": "https"}, False),
        ({"LAYERVIZ_TRUSTED_PROXY": "1"}, {"X-Forwarded-Proto": "https"}, True),
        ({"LAYERVIZ_SECURE_COOKIE": "true"}, {}, True),
        ({"LAYERVIZ_SECURE_COOKIE": "0"}, {}, False),
    ],
)
def test_the_environment_sets_it(monkeypatch, variables, headers, secure):
    monkeypatch.delenv("LAYERVIZ_TRUSTED_PROXY", raising=False)
    monkeypatch.delenv("LAYERVIZ_SECURE_COOKIE", raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert ("Secure" in cookie_of(headers)) is secure


def test_the_nearest_proxy_has_the_last_word():
    assert came_over_https(False, {"X-Forwarded-Proto": "http, https"}, True)
    assert not came_over_https(False, {"X-Forwarded-Proto": "https, http"}, True)
    assert not came_over_https(False, {}, True)
    assert came_over_https(True, {}, False)
