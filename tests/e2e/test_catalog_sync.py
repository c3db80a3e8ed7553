"""The catalogue between kiosks and the central server (SQLite and PostgreSQL): adopted, joined, merged, refused.

Kiosks here are the real device code without hardware (``make_kiosk``) talking to the central app served over
loopback; clerks sign in through the kiosk's real log-in (``ClerkDesk.login``); reports are built by the same
code as `/reports`.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

import pytest
from sqlalchemy import select, update

from central import catalog
from central.models import AuditEntry, ClerkAlias, Commune, DeviceStatus
from central.models import Clerk as CentralClerk
from central.registry import add_device
from central.reports import figures, periods
from central.reports.query import Scope
from common.errors import AuthError
from kiosk import catalog_state
from kiosk.catalog import add_clerk
from kiosk.catalog_edit import save_service
from kiosk.db import transaction
from kiosk.health import health
from kiosk.models import Clerk, Rating
from kiosk.records import stamp
from kiosk.uplink.client import SyncClient
from sync import protocol
from tests.central.helpers import COMMUNE, Signer, envelope, import_catalog, wire_record

PEOPLE = [("Nguyễn Thị Lan", "1111", 1), ("Trần Văn Minh", "2222", 2), ("Lê Thị Hoa", "3333", 3)]
DAY = date(2026, 11, 20)
POINTS = {"very_satisfied": 2, "satisfied": 1, "unsatisfied": 0}


def fast(kiosk) -> SyncClient:
    return SyncClient(kiosk, backoff=0.01, max_backoff=0.05)


def sync(kiosk):
    report = fast(kiosk).run()
    assert report.ok, report.message()
    return report


def clerks_of(kiosk, people) -> dict[str, str]:
    with transaction(kiosk.sessions) as s:
        return {name: add_clerk(s, name, pin, counter).id for name, pin, counter in people}


def rate(kiosk, clerk_id: str | None, n: int = 1, level: str = "satisfied") -> None:
    """``n`` counted presses at counter 1 attributed to a clerk, stamped as the kiosk stamps every record."""
    with transaction(kiosk.sessions) as s:
        for _ in range(n):
            rating = Rating(level=level, points=POINTS[level], channel="touch", panel="touch:1", counted=True)
            rating.counter_number, rating.clerk_id, rating.service_code = 1, clerk_id, "HT"
            stamp(s, rating, kiosk.clock)
            kiosk.clock.advance(10)


def report(central, communes=(COMMUNE,)) -> dict:
    with central.engine.connect() as conn:
        return figures.build(conn, periods.from_range(DAY, DAY), Scope(communes=communes), compare=False)


def people(central) -> dict[str, dict]:
    rows = report(central)["clerks"]
    names = [r["name"] for r in rows]
    assert len(names) == len(set(names)), f"a person appears twice: {names}"
    return {r["name"]: r for r in rows}


def signs_in(kiosk, counter: int, pin: str) -> str:
    return kiosk.queue.clerks.login(counter, pin).name


def catalogue(kiosk) -> dict:
    with kiosk.sessions() as s:
        return catalog_state.snapshot(s)


def actions(central) -> list[tuple[str, str]]:
    with central.sessions() as s:
        return [(e.action, e.actor) for e in s.scalars(select(AuditEntry).order_by(AuditEntry.at, AuditEntry.action))]


def test_first_sync_adopts_the_kiosks_catalogue_and_deactivates_nothing(
    central_app, central, device, serve, make_kiosk
):
    server = serve(central_app)
    kiosk = make_kiosk(server.url, device)
    ids = clerks_of(kiosk, PEOPLE)
    with transaction(kiosk.sessions) as s:
        save_service(s, "HT", "Hộ tịch – khai sinh", "A", "80", True, new=False)
    rate(kiosk, ids["Nguyễn Thị Lan"], 3)
    rate(kiosk, ids["Trần Văn Minh"], 2, "very_satisfied")
    mine = catalogue(kiosk)
    first = sync(kiosk)
    assert first.catalog_sent and first.accepted == 5
    with central.sessions() as s:
        held = catalog.content(s, COMMUNE)
        assert s.get(Commune, COMMUNE).catalog_owner == "kiosk" and s.get(Commune, COMMUNE).catalog_adopted_at
    for part in ("services", "counters", "clerks"):
        assert held[part] == mine[part], part  # the commune's catalogue equals the kiosk's, ids included
    assert catalogue(kiosk) == mine  # and nothing on the kiosk changed
    for name, pin, counter in PEOPLE:
        assert signs_in(kiosk, counter, pin) == name
    assert ("adopt", "kiosk Quầy 1") in actions(central)
    named = people(central)
    assert (named["Nguyễn Thị Lan"]["ratings"], named["Trần Văn Minh"]["satisfied_plus_pct"]) == (3, 100.0)
    assert named["Nguyễn Thị Lan"]["commune_name"] == "Xã Tân Hòa"
    again = sync(kiosk)
    assert not again.catalog_sent and again.catalog_applied is False  # sent once; nothing new either way
    with central.sessions() as s:
        status = s.get(DeviceStatus, (COMMUNE, device[0]))
        assert status.catalog_version == catalog.catalog_version(s, COMMUNE) and status.catalog_refused is None


def test_a_second_kiosk_joins_and_gets_the_same_catalogue(central_app, central, device, serve, make_kiosk):
    server = serve(central_app)
    first = make_kiosk(server.url, device, "first")
    ids = clerks_of(first, PEOPLE)
    with transaction(first.sessions) as s:
        save_service(s, "HT", "Hộ tịch – khai sinh", "A", "", True, new=False)
    rate(first, ids["Trần Văn Minh"], 2)
    sync(first)
    # A reception point of the merged commune: its own kiosk, set up alone with the clerks who work there.
    second = make_kiosk(server.url, add_device(central, "Điểm tiếp nhận Tân Phú", COMMUNE), "second")
    local = clerks_of(second, [("Trần  Văn Minh", "5555", 1), ("Phạm Văn Đức", "4444", 2)])
    rate(second, local["Trần  Văn Minh"], 3)
    sync(second)
    sync(first)  # the first kiosk takes the clerk the second brought
    assert catalogue(second) == catalogue(first)
    assert signs_in(second, 1, "1111") == "Nguyễn Thị Lan"  # a clerk of the commune, with her PIN
    assert signs_in(second, 3, "2222") == "Trần Văn Minh"  # the same person as the second kiosk's Minh
    assert signs_in(second, 2, "4444") == "Phạm Văn Đức" == signs_in(first, 2, "4444")
    with pytest.raises(AuthError):
        signs_in(second, 1, "5555")  # Minh now signs in with the commune's PIN everywhere
    with second.sessions() as s:
        old = s.get(Clerk, local["Trần  Văn Minh"])
        assert not old.active and old.code.startswith("~")  # kept (records refer to it), not a second Minh
    with central.sessions() as s:
        alias = s.scalar(select(ClerkAlias))
        assert (alias.alias_id, alias.clerk_id, alias.matched_by) == (
            local["Trần  Văn Minh"],
            ids["Trần Văn Minh"],
            "name",
        )
    assert {a for a, who in actions(central) if who == "kiosk Điểm tiếp nhận Tân Phú"} == {"alias", "add"}
    named = people(central)
    assert named["Trần Văn Minh"]["ratings"] == 5 and named["Trần Văn Minh"]["id"] == ids["Trần Văn Minh"]


def test_import_config_names_a_person_by_code_and_reports_show_her_once(
    central_app, central, device, serve, make_kiosk
):
    server = serve(central_app)
    kiosk = make_kiosk(server.url, device)
    ids = clerks_of(kiosk, [("Nguyễn Thị Lan", "1111", 1)])  # CC01 on the kiosk
    rate(kiosk, ids["Nguyễn Thị Lan"], 21)
    with transaction(central.sessions) as s:  # the district wrote the commune's file before the kiosk synced
        import_catalog(s, COMMUNE, {"clerks": [{"code": "CC01", "name": "Nguyễn T. Lan", "pin": "2468", "counter": 1}]})
    sync(kiosk)
    # An old kiosk of the commune sends a press by a clerk it never declared to anyone.
    old = Signer(central_app.test_client(), add_device(central, "Kiosk cũ", COMMUNE))
    stranger = wire_record("rating", 1, datetime(2026, 11, 20, 2, 0), clerk_id="832babd5-0000-4000-8000-000000000001")
    assert old.post(envelope(old.device_id, [stranger], datetime(2026, 11, 20, 2, 0))).status_code == 200
    named = people(central)
    assert named["Nguyễn T. Lan"]["ratings"] == 21  # one person, the whole history
    assert "Nguyễn Thị Lan" not in named
    undeclared = named["Công chức chưa khai báo (mã 832BABD5)"]
    assert (undeclared["ratings"], undeclared["known"], undeclared["commune_name"]) == (1, False, "Xã Tân Hòa")
    assert signs_in(kiosk, 1, "2468") == "Nguyễn T. Lan"
    with central.sessions() as s:
        assert s.scalar(select(ClerkAlias.matched_by)) == "code"
        assert s.get(Commune, COMMUNE).catalog_owner == "central"


def test_kiosk_edits_travel_up_while_the_kiosks_manage_the_catalogue(central_app, central, device, serve, make_kiosk):
    server = serve(central_app)
    first = make_kiosk(server.url, device, "first")
    clerks_of(first, PEOPLE)
    sync(first)
    second = make_kiosk(server.url, add_device(central, "Quầy 2", COMMUNE), "second")
    sync(second)
    with transaction(first.sessions) as s:
        save_service(s, "DD", "Đất đai – chứng nhận", "C", "30", True, new=False)
        add_clerk(s, "Võ Thị Mai", "7777", 3)
    assert health(first)[0]["catalog"]["undelivered"] == 2
    report = sync(first)
    assert report.catalog_sent and health(first)[0]["catalog"]["undelivered"] == 0
    sync(second)
    assert catalogue(second) == catalogue(first)
    assert signs_in(second, 3, "7777") == "Võ Thị Mai"
    assert ("service", "kiosk Quầy 1") in actions(central)
    # A resend of what the server already has (the answer was lost on the way) changes nothing twice.
    before = actions(central)
    with transaction(first.sessions) as s:
        catalog_state.put(s, catalog_state.SENT_KEY, None)
    assert sync(first).catalog_sent and actions(central) == before


def test_a_catalogue_that_would_leave_no_clerk_is_refused_and_logged(
    central_app, central, device, serve, make_kiosk, caplog
):
    server = serve(central_app)
    kiosk = make_kiosk(server.url, device)
    clerks_of(kiosk, PEOPLE)
    sync(kiosk)
    with central.engine.begin() as conn:  # what the pages prevent, done behind their back
        conn.execute(update(CentralClerk.__table__).values(active=False))
    with caplog.at_level(logging.ERROR, logger="kiosk.uplink.device_catalog"):
        refused = fast(kiosk).run()
    assert not refused.ok and "No clerk could sign in any more" in refused.message()
    assert "catalogue refused" in caplog.text
    for name, pin, counter in PEOPLE:  # nothing of it was applied
        assert signs_in(kiosk, counter, pin) == name
    note = health(kiosk)[0]["catalog"]["refused"]
    assert "No clerk could sign in any more" in note["reason"]
    with central.sessions() as s:  # the kiosk told the server, whose pages show it
        assert "No clerk could sign in" in s.get(DeviceStatus, (COMMUNE, device[0])).catalog_refused
    with central.engine.begin() as conn:
        conn.execute(update(CentralClerk.__table__).values(active=True))
    assert fast(kiosk).run().ok and health(kiosk)[0]["catalog"]["refused"] is None
    with central.sessions() as s:
        assert s.get(DeviceStatus, (COMMUNE, device[0])).catalog_refused is None


def test_a_server_of_the_first_release_still_sends_its_catalogue_and_locks_nobody_out(
    central_app, central, device, serve, make_kiosk
):
    def first_release(app):
        def wrapped(environ, start_response):
            if environ["PATH_INFO"] == protocol.CATALOG_PATH:
                start_response("404 NOT FOUND", [("Content-Type", "application/json")])
                return [b'{"error": "Not Found"}']
            return app(environ, start_response)

        return wrapped

    with transaction(central.sessions) as s:
        import_catalog(
            s, COMMUNE, {"clerks": [{"code": "CC01", "name": "Nguyễn Thị Lan", "pin": "4321", "counter": 1}]}
        )
    server = serve(central_app, wrap=first_release)
    kiosk = make_kiosk(server.url, device)
    clerks_of(kiosk, [("Lê Văn Nam", "1111", 2)])  # CC01 here too, and unknown to that server
    report = sync(kiosk)
    assert report.catalog_applied and not report.catalog_sent
    assert signs_in(kiosk, 1, "4321") == "Nguyễn Thị Lan"
    assert signs_in(kiosk, 2, "1111") == "Lê Văn Nam"  # not deactivated: the server has just never heard of him
    with kiosk.sessions() as s:
        assert s.scalar(select(Clerk.code).where(Clerk.name == "Lê Văn Nam")) == "CC02"
    assert sync(kiosk).catalog_applied is False
