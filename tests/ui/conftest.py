"""Fixtures the dashboard's tests share, each built once per test module (``scope="module"``):
the app with the bundled models, its test client, a workbench and the recipe the page opens
with, and a throwaway redis-server."""

from __future__ import annotations

import pytest
from servers import redis_server

from layerviz.ui.app import create_app
from layerviz.ui.workbench import Workbench


@pytest.fixture(scope="module")
def app():
    """``create_app()`` with the bundled models."""
    return create_app()


@pytest.fixture(scope="module")
def client(app):
    """Flask's test client of ``app``."""
    return app.server.test_client()


@pytest.fixture(scope="module")
def workbench() -> Workbench:
    """A workbench of the bundled models, on its own (no app)."""
    return Workbench()


@pytest.fixture(scope="module")
def default_store(workbench) -> dict:
    """The recipe the page opens with (the default model's default pattern), as stored."""
    return workbench.default_recipe("digits_cnn").to_store()


@pytest.fixture(scope="module")
def redis_url():
    """The URL of a redis-server started for the module (skips where none is installed)."""
    with redis_server() as url:
        yield url
