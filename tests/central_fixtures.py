"""Fixtures for the central server: a real PostgreSQL (throwaway cluster) and SQLite, a registered kiosk,
the central app served over loopback by waitress, and a device kiosk with records to send.

``central_db`` is parametrised: every test that uses it runs once on SQLite and once on PostgreSQL.
PostgreSQL tests are skipped only when no PostgreSQL server binaries exist on the machine at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from central.app import create_central_app
from central.registry import add_device
from kiosk.app import build_kiosk
from kiosk.clock import FakeClock
from tests.central.helpers import COMMUNE, LiveServer, device_settings
from tests.pg import PgCluster


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    if PgCluster.find_bindir() is None:
        reason = "PostgreSQL tests skipped: no PostgreSQL server binaries (initdb, pg_ctl) on this machine"
        print(reason)
        pytest.skip(reason)
    cluster = PgCluster().start()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def central_db(request, tmp_path) -> str:
    """A fresh, empty central database URL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'central.db'}"
    return request.getfixturevalue("pg_cluster").create_database("central")


class ServerClock:
    """The central server's clock, set by hand in tests (naive UTC)."""

    def __init__(self, now):
        self._now = now

    def now(self):
        return self._now


@pytest.fixture
def server_clock() -> ServerClock:
    from datetime import datetime

    return ServerClock(datetime(2026, 11, 20, 1, 0, 0))


@pytest.fixture
def central_app(tmp_path, central_db, server_clock):
    app = create_central_app(
        {"data_dir": str(tmp_path / "central"), "central_database_url": central_db, "TESTING": True},
        clock=server_clock,
    )
    yield app
    app.extensions["central"].close()


@pytest.fixture
def central(central_app):
    return central_app.extensions["central"]


@pytest.fixture
def device(central) -> tuple[str, str]:
    """A kiosk registered for commune COMMUNE: (id, secret)."""
    return add_device(central, "Quầy 1", COMMUNE, "Xã Tân Hòa")


@pytest.fixture
def serve() -> Iterator[Callable[..., LiveServer]]:
    servers: list[LiveServer] = []

    def start(app, wrap: Callable | None = None) -> LiveServer:
        servers.append(LiveServer(app, wrap))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def make_kiosk(tmp_path) -> Iterator[Callable]:
    """make_kiosk(url, device, name="kiosk", clock=None, **settings) → a device Kiosk (no hardware)."""
    made = []

    def make(url: str, device: tuple[str, str], name: str = "kiosk", clock=None, **extra):
        kiosk = build_kiosk(device_settings(tmp_path / name, url, device, **extra), clock or FakeClock())
        made.append(kiosk)
        return kiosk

    yield make
    for kiosk in made:
        kiosk.close()
