"""The catalogue: how soon a running kiosk shows a change another process made, and what keeping it costs.

* change → gone from /ticket: `kiosk serve` runs; another process (here, this one: `kiosk sync --once` does the
  same) takes a service out of use; time until `GET /ticket` no longer offers it (issue 11: within one second);
* one watcher round: the running kiosk reads the catalogue revision twice a second (`CatalogWatcher`);
* the PIN uniqueness check per active clerk (scrypt, on purpose slow), which an administrator's form pays;
* one catalogue exchange with the central server (PostgreSQL): the first (the commune adopts the kiosk's) and
  the nightly one when nothing changed.

Run: ``python bench/catalog.py`` (or ``python -m bench catalog`` to update bench/RESULTS.md).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stats import row, summary_ms  # noqa: E402

ROUNDS = 20


def ticket_latency(data_dir: Path) -> list[float]:
    import requests

    from common import settings as settings_mod
    from kiosk.app import build_kiosk
    from kiosk.catalog_edit import save_service
    from kiosk.db import transaction
    from tests.server import KioskServer

    server = KioskServer(data_dir, env={"KIOSK_PRINTER": "none"})
    server.cli("init")
    times = []
    with server:
        other = build_kiosk(settings_mod.load(overrides={"data_dir": str(data_dir), "printer": "none"}))
        try:
            for i in range(2 * ROUNDS):
                active = i % 2 == 1
                with transaction(other.sessions) as s:
                    save_service(s, "BT", "Bảo trợ xã hội", "D", "", active, new=False)
                changed = time.perf_counter()
                while ("Bảo trợ xã hội" in requests.get(f"{server.base}/ticket", timeout=10).text) != active:
                    time.sleep(0.005)
                if not active:
                    times.append(time.perf_counter() - changed)
        finally:
            other.close()
    return times


def watcher_round(data_dir: Path, n: int = 5000) -> list[float]:
    from common import settings as settings_mod
    from kiosk.app import build_kiosk

    kiosk = build_kiosk(settings_mod.load(overrides={"data_dir": str(data_dir / "w"), "printer": "none"}))
    times = []
    try:
        for _ in range(n):
            started = time.perf_counter()
            assert kiosk.check_catalog() is False
            times.append(time.perf_counter() - started)
    finally:
        kiosk.close()
    return times


def pin_check(data_dir: Path, clerks: int = 10) -> float:
    """Seconds to check one new PIN against ``clerks`` active clerks."""
    from common import settings as settings_mod
    from kiosk.app import build_kiosk
    from kiosk.catalog import add_clerk, pin_clash
    from kiosk.db import transaction

    kiosk = build_kiosk(settings_mod.load(overrides={"data_dir": str(data_dir / "p"), "printer": "none"}))
    try:
        with transaction(kiosk.sessions) as s:
            for i in range(clerks):
                add_clerk(s, f"Công chức {i}", f"{1000 + i}")
        with kiosk.sessions() as s:
            started = time.perf_counter()
            assert pin_clash(s, "9999") is None
            return time.perf_counter() - started
    finally:
        kiosk.close()


def exchanges(data_dir: Path) -> tuple[float, list[float]]:
    """Seconds of the first catalogue exchange (adoption) and of unchanged nightly ones, on PostgreSQL."""
    from central.app import create_central_app
    from central.registry import add_device
    from common import settings as settings_mod
    from kiosk.app import build_kiosk
    from kiosk.catalog import add_clerk
    from kiosk.db import transaction
    from kiosk.uplink.client import SyncClient, SyncReport
    from tests.central.helpers import LiveServer
    from tests.pg import PgCluster

    with PgCluster(durable=True) as pg:
        app = create_central_app({"data_dir": str(data_dir / "c"), "central_database_url": pg.create_database("c")})
        central = app.extensions["central"]
        server = LiveServer(app)
        device_id, secret = add_device(central, "Bench", "26734", "Xã Tân Hòa")
        settings = settings_mod.load(
            overrides={
                "data_dir": str(data_dir / "k"),
                "printer": "none",
                "central_url": server.url,
                "device_id": device_id,
                "device_secret": secret,
                "commune_code": "26734",
            }
        )
        kiosk = build_kiosk(settings)
        try:
            with transaction(kiosk.sessions) as s:
                for i, name in enumerate(("Nguyễn Thị Lan", "Trần Văn Minh", "Lê Thị Hoa"), start=1):
                    add_clerk(s, name, f"{i}{i}{i}{i}", i)
            client = SyncClient(kiosk)
            started = time.perf_counter()
            client._exchange_catalog(SyncReport())
            first = time.perf_counter() - started
            nightly = []
            for _ in range(ROUNDS):
                started = time.perf_counter()
                client._exchange_catalog(SyncReport())
                nightly.append(time.perf_counter() - started)
        finally:
            kiosk.close()
            server.close()
            central.close()
    return first, nightly


def run() -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        latency = summary_ms(ticket_latency(tmp_path / "serve"))
        rounds = summary_ms(watcher_round(tmp_path))
        per_clerk = pin_check(tmp_path, 10) / 10 * 1000
        first, nightly = exchanges(tmp_path)
    night = summary_ms(nightly)
    return [
        row(
            "catalog",
            "another process's change → gone from /ticket, median",
            latency["median"],
            "ms",
            "< 1000 ms",
            "polled every 0.5 s; each change here lands just after a poll (the worst case)",
        ),
        row("catalog", "another process's change → gone from /ticket, p95", latency["p95"], "ms", "< 1000 ms"),
        row("catalog", "one watcher round (revision read), median", rounds["median"] * 1000, "µs", "", "2 per second"),
        row("catalog", "PIN uniqueness check, per active clerk", per_clerk, "ms", "", "scrypt, on purpose slow"),
        row("catalog", "first catalogue exchange (adopted), PostgreSQL", first * 1000, "ms"),
        row("catalog", "nightly catalogue exchange, nothing changed, median", night["median"], "ms"),
    ]


if __name__ == "__main__":
    for r in run():
        print(f"{r['metric']}: {r['value']:.3f} {r['unit']} {r['target']} {r['comparison']}")
