"""The kiosk's side of sync: `kiosk sync`, the loop in `kiosk serve`, /healthz, configuration from the server."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import delete, func, select, update

from central.models import Rating as CentralRating
from common.catalog_rules import pin_matches
from common.errors import ValidationError
from kiosk.clock import FakeClock
from kiosk.db import transaction
from kiosk.health import health
from kiosk.models import Clerk, Counter, Rating, Service, SyncedRecord
from kiosk.uplink.client import SyncClient
from kiosk.uplink.device_catalog import apply_catalog
from sync import protocol
from tests.central.helpers import COMMUNE, add_records, assert_exactly_once, import_catalog, server_ids
from tests.server import KioskServer

COMMUNE_SETUP = {
    "services": [
        {"code": "HT", "name": "Hộ tịch", "prefix": "A"},
        {"code": "DD", "name": "Đất đai", "prefix": "C"},
        {"code": "CT", "name": "Chứng thực", "prefix": "B"},
    ],
    "counters": [{"number": 1, "services": ["HT", "CT"]}, {"number": 2, "services": ["DD"]}],
    "clerks": [
        {"code": "CC01", "name": "Nguyễn Thị Lan", "pin": "4321", "counter": 1},
        {"code": "CC02", "name": "Trần Văn Minh", "pin": "8765", "counter": 2},
    ],
    "scale": [
        {"key": "very_satisfied", "label": "Rất hài lòng", "points": 2},
        {"key": "satisfied", "label": "Hài lòng", "points": 1},
        {"key": "unsatisfied", "label": "Chưa hài lòng", "points": 0},
    ],
}


def fast(kiosk, **options) -> SyncClient:
    return SyncClient(kiosk, **{"backoff": 0.01, "max_backoff": 0.05, **options})


def synced(kiosk) -> int:
    with kiosk.sessions() as session:
        return session.scalar(select(func.count()).select_from(SyncedRecord))


def test_sync_sends_everything_in_batches_and_health_shows_it(central_app, central, device, serve, make_kiosk):
    server = serve(central_app)
    kiosk = make_kiosk(server.url, device)
    made = add_records(kiosk, 150)
    seen: list[tuple[int, int]] = []
    report = fast(kiosk, batch_size=25, progress=lambda sent, total: seen.append((sent, total))).run()
    assert report.ok and report.message().startswith("Sync finished") and report.accepted == len(made)
    assert report.batches == -(-len(made) // 25) and seen[-1] == (len(made), len(made))
    assert [s for s, _ in seen] == sorted(s for s, _ in seen)
    assert_exactly_once(central, made)
    doc, _ = health(kiosk)
    assert doc["unsynced"] == 0 and doc["last_sync"] is not None and doc["sync"]["ok"] is True
    more = add_records(kiosk, 5)  # the next sync sends only what is new
    again = fast(kiosk).run()
    assert again.ok and again.accepted == len(more) and again.already_had == 0
    assert_exactly_once(central, made + more)


def test_unsynchronised_device_clock_is_corrected_at_the_server(central_app, central, device, serve, make_kiosk):
    """The server's clock says 20/11 01:00; the Pi believes it is three days earlier and knows it is unsure."""
    server = serve(central_app)
    pi_clock = FakeClock(datetime(2026, 11, 17, 1, 0, tzinfo=UTC), synced=False)
    kiosk = make_kiosk(server.url, device, clock=pi_clock)
    made = kiosk.ratings.record("satisfied", channel="button", counter=1)
    pi_clock.advance(600)  # the sync runs ten minutes after the press
    assert fast(kiosk).run().ok
    with central.sessions() as session:
        stored = session.scalar(select(CentralRating).where(CentralRating.id == made.id))
    assert stored.device_time == datetime(2026, 11, 17, 1, 0)
    assert stored.corrected_time == datetime(2026, 11, 20, 1, 0) - timedelta(seconds=600)
    assert stored.clock_offset == pytest.approx(timedelta(days=3, seconds=-600).total_seconds())


def test_configuration_from_the_server_is_applied_on_the_kiosk(central_app, central, device, serve, make_kiosk):
    with transaction(central.sessions) as session:
        import_catalog(session, COMMUNE, COMMUNE_SETUP)
    server = serve(central_app)
    kiosk = make_kiosk(server.url, device)
    report = fast(kiosk).run()
    assert report.ok and report.catalog_applied is True
    with kiosk.sessions() as session:
        clerks = {c.code: c for c in session.scalars(select(Clerk).where(Clerk.active))}
        services = {s.code: s.active for s in session.scalars(select(Service))}
        counter2 = session.get(Counter, 2)
        counter3 = session.get(Counter, 3)
        assert [s.code for s in counter2.services] == ["DD"]
    assert set(clerks) == {"CC01", "CC02"} and pin_matches(clerks["CC01"], "4321")
    assert not pin_matches(clerks["CC01"], "8765") and clerks["CC02"].counter_number == 2
    assert services["HT"] and services["DD"] and not services["BT"]  # seeded locally, not listed centrally
    assert counter3.active is False
    assert kiosk.ratings.levels()["unsatisfied"].label == "Chưa hài lòng"  # the rating service reloaded
    assert fast(kiosk).run().catalog_applied is False  # same version: nothing to do


def test_a_configuration_that_fails_half_way_changes_nothing(make_kiosk, device):
    kiosk = make_kiosk("http://127.0.0.1:9", device)

    def services() -> dict:
        with kiosk.sessions() as session:
            return {s.code: (s.name, s.active) for s in session.scalars(select(Service))}

    before = services()
    doc = {
        "version": "x",
        "services": [{"code": "HT", "name": "Hộ tịch MỚI"}],
        "counters": [{"number": 1, "services": ["HT"]}],
        "clerks": [
            {"id": "8f0e7b1c-0000-4000-8000-000000000001", "code": "CC01", "name": "A", "pin_hash": "x", "counter": 1},
            {"id": "8f0e7b1c-0000-4000-8000-000000000002", "code": "CC01", "name": "B", "pin_hash": "y", "counter": 1},
        ],
        "scale": [
            {"key": "satisfied", "label": "Hài lòng", "points": 1},
            {"key": "unsatisfied", "label": "Không", "points": 0},
        ],
    }
    with pytest.raises(ValidationError, match="nothing"):
        apply_catalog(kiosk, doc)
    with kiosk.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Clerk)) == 0
    assert services() == before
    with pytest.raises(ValidationError):
        apply_catalog(kiosk, {**doc, "services": []})


def test_answers_not_signed_by_the_server_mark_nothing(central_app, central, device, serve, make_kiosk):
    def forge(app):
        def wrapped(environ, start_response):
            def start(status, headers, exc_info=None):
                headers = [(k, "0" * 64 if k == protocol.SIGNATURE_HEADER else v) for k, v in headers]
                return start_response(status, headers, exc_info)

            return app(environ, start)

        return wrapped

    server = serve(central_app, wrap=forge)
    kiosk = make_kiosk(server.url, device)
    add_records(kiosk, 20)
    report = fast(kiosk, max_attempts=2).run()
    assert not report.ok and "could not finish" in report.message()
    assert synced(kiosk) == 0 and health(kiosk)[0]["unsynced"] > 0


def test_a_record_the_server_refuses_stays_on_the_kiosk_and_sync_reports_failure(
    central_app, central, device, serve, make_kiosk
):
    server = serve(central_app)
    kiosk = make_kiosk(server.url, device)
    made = add_records(kiosk, 10)
    assert fast(kiosk).run().ok
    # A restored backup in which one rating differs from what the server already has.
    with kiosk.engine.begin() as conn:
        conn.execute(delete(SyncedRecord.__table__))
        changed = conn.execute(select(Rating.id).limit(1)).scalar()
        conn.execute(update(Rating.__table__).where(Rating.id == changed).values(level="unsatisfied", points=0))
    report = fast(kiosk).run()
    assert not report.ok and report.already_had == len(made) - 1
    assert "refused 1 record" in report.message() and "conflict" in report.message()
    assert synced(kiosk) == len(made) - 1
    assert health(kiosk)[0]["sync"]["ok"] is False


def test_kiosk_sync_command(central_app, central, device, serve, make_kiosk, tmp_path):
    from kiosk.cli import main

    server = serve(central_app)
    kiosk = make_kiosk(server.url, device, "pi")
    made = add_records(kiosk, 30)
    env = {
        "KIOSK_DATA_DIR": str(tmp_path / "pi"),
        "KIOSK_CENTRAL_URL": server.url,
        "KIOSK_DEVICE_ID": device[0],
        "KIOSK_DEVICE_SECRET": device[1],
        "KIOSK_COMMUNE_CODE": COMMUNE,
        "KIOSK_PRINTER": "none",
    }
    runner = CliRunner()
    done = runner.invoke(main, ["sync", "--once"], env=env, obj={})
    assert done.exit_code == 0, done.output
    assert f"{len(made)} record(s) stored" in done.output
    assert_exactly_once(central, made)
    unknown = runner.invoke(
        main, ["sync", "--once"], env={**env, "KIOSK_DEVICE_ID": str(__import__("uuid").uuid4())}, obj={}
    )
    assert unknown.exit_code == 2 and "not registered" in unknown.output
    unset = runner.invoke(main, ["sync", "--once"], env={**env, "KIOSK_DEVICE_SECRET": ""}, obj={})
    assert unset.exit_code == 2 and "device_secret" in unset.output
    down = runner.invoke(main, ["sync", "--once"], env={**env, "KIOSK_CENTRAL_URL": "http://127.0.0.1:9"}, obj={})
    assert down.exit_code == 2 and "could not finish" in down.output and "Nothing is lost" in down.output


@pytest.mark.parametrize("central_db", ["sqlite"], indirect=True)
def test_kiosk_serve_syncs_in_the_background(central_app, central, device, serve, tmp_path):
    server = serve(central_app)
    env = {
        "KIOSK_CENTRAL_URL": server.url,
        "KIOSK_DEVICE_ID": device[0],
        "KIOSK_DEVICE_SECRET": device[1],
        "KIOSK_COMMUNE_CODE": COMMUNE,
        "KIOSK_SYNC_INTERVAL": "0.5",
        "KIOSK_RESPONSE_INTERVAL": "0",
    }
    with KioskServer(tmp_path / "pi", env=env) as kiosk_server:
        ids = [
            requests.post(
                kiosk_server.base + "/api/ratings", json={"level": "satisfied", "counter": 1}, timeout=5
            ).json()["id"]
            for _ in range(5)
        ]
        deadline = time.monotonic() + 30
        while sorted(server_ids(central)) != sorted(ids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sorted(server_ids(central)) == sorted(ids)
        while time.monotonic() < deadline:
            state = requests.get(kiosk_server.base + "/healthz", timeout=5).json()
            if state["unsynced"] == 0 and state["last_sync"]:
                break
            time.sleep(0.1)
        assert state["unsynced"] == 0 and state["sync"]["ok"] is True
