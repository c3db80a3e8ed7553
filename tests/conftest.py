"""Shared fixtures: an app on tmp_path with mock pins and an injected clock (flaskr style)."""

from __future__ import annotations

import pytest

from kiosk.app import create_app
from kiosk.clock import FakeClock
from tests.queue_helpers import make_app

# The central server, its databases and kiosks beside it: fixtures for every part of the tests; and how the suite
# runs on several processes (`-n N --dist loadgroup`, tests/parallel.py).
pytest_plugins = ["tests.central_fixtures", "tests.parallel"]


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    """No test reads the machine's /etc/kiosk/kiosk.toml or a developer's KIOSK_* variables."""
    import os

    for name in list(os.environ):
        if name.startswith("KIOSK_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("KIOSK_CONFIG", str(tmp_path / "no-such-kiosk.toml"))


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def app(tmp_path, clock, request):
    """The kiosk on tmp_path with mock pins and the injected clock.

    A module or test marked ``pytest.mark.staffed(**settings)`` gets the commune of tests/queue_helpers.py
    instead: clerks at counters 1–3, no printer, no announcer, and those settings.
    """
    staffed = request.node.get_closest_marker("staffed")
    if staffed is not None:
        app = make_app(tmp_path / "var", clock, **staffed.kwargs)
    else:
        app = create_app({"data_dir": str(tmp_path / "var"), "gpio": "mock", "TESTING": True}, clock=clock)
    yield app
    app.extensions["kiosk"].close()


@pytest.fixture
def kiosk(app):
    return app.extensions["kiosk"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium through Playwright, one per test module."""
    from playwright.sync_api import sync_playwright

    from tests.browser import launch

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()
