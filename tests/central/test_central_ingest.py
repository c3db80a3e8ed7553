"""`POST /api/v1/sync` and `GET /api/v1/config` at the central server, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from central.models import (
    ClerkAction,
    DeviceStatus,
    Quarantine,
    Rating,
    SyncLog,
    Ticket,
)
from central.registry import add_device
from common.catalog_rules import pin_matches
from kiosk.db import transaction
from tests.central.helpers import OTHER_COMMUNE, Signer, envelope, import_catalog, stored_counts, wire_record

T0 = datetime(2026, 11, 20, 1, 0, 0)


def test_a_batch_is_stored_once_and_the_signed_answer_names_every_record(central_app, central, device):
    client = Signer(central_app.test_client(), device)
    records = [
        wire_record("ticket", 1, T0),
        wire_record("rating", 2, T0 + timedelta(minutes=5)),
        wire_record("clerk_action", 3, T0, detail={"to": "ĐĐ", "n": 2}),
        wire_record("comment", 4, T0, text="Cán bộ nhiệt tình, hướng dẫn tận tình", contact="0912 345 678"),
    ]
    answer = client.post(envelope(device[0], records, T0))
    assert answer.status_code == 200, answer.json
    assert client.answer_signed(answer)
    assert sorted(answer.json["accepted"]) == sorted(r["id"] for r in records)
    assert answer.json["already_had"] == [] and answer.json["rejected"] == []
    with central.sessions() as session:
        rating = session.scalar(select(Rating))
        action = session.scalar(select(ClerkAction))
    assert (rating.commune_code, rating.device_id, rating.level) == ("26734", device[0], "very_satisfied")
    assert rating.corrected_time == rating.device_time == T0 + timedelta(minutes=5) and rating.clock_offset is None
    assert action.detail == {"to": "ĐĐ", "n": 2}


def test_a_resend_is_a_harmless_success(central_app, central, device):
    client = Signer(central_app.test_client(), device)
    records = [wire_record("rating", n, T0) for n in range(1, 6)]
    assert client.post(envelope(device[0], records, T0)).status_code == 200
    before = stored_counts(central)
    again = client.post(envelope(device[0], records, T0))
    assert again.status_code == 200
    assert sorted(again.json["already_had"]) == sorted(r["id"] for r in records)
    assert again.json["accepted"] == [] and again.json["rejected"] == []
    after = stored_counts(central)
    assert after["ratings"] == before["ratings"] == 5 and after["quarantine"] == 0


def test_same_id_with_other_content_is_refused_kept_for_audit_and_never_overwrites(central_app, central, device):
    client = Signer(central_app.test_client(), device)
    original = wire_record("rating", 1, T0, level="very_satisfied", points=2)
    client.post(envelope(device[0], [original], T0))
    forged = dict(original, level="unsatisfied", points=0)
    fresh = wire_record("rating", 2, T0)
    answer = client.post(envelope(device[0], [forged, fresh], T0))
    assert answer.status_code == 200
    assert answer.json["accepted"] == [fresh["id"]]
    [rejected] = answer.json["rejected"]
    assert rejected["id"] == original["id"] and "conflict" in rejected["reason"] and "level" in rejected["reason"]
    client.post(envelope(device[0], [forged], T0))  # the same refused record again is kept once
    with central.sessions() as session:
        stored = session.scalar(select(Rating).where(Rating.id == original["id"]))
        audit = session.scalars(select(Quarantine)).all()
    assert (stored.level, stored.points) == ("very_satisfied", 2)
    assert len(audit) == 1 and audit[0].payload["level"] == "unsatisfied" and audit[0].record_id == original["id"]


def test_an_invalid_record_is_refused_with_its_reason_and_the_rest_is_stored(central_app, central, device):
    client = Signer(central_app.test_client(), device)
    good = wire_record("ticket", 1, T0)
    bad = wire_record("rating", 2, T0, points="two")
    unknown = dict(wire_record("rating", 3, T0), type="selfie")
    answer = client.post(envelope(device[0], [good, bad, unknown], T0))
    assert answer.status_code == 200
    assert answer.json["accepted"] == [good["id"]]
    reasons = {r["id"]: r["reason"] for r in answer.json["rejected"]}
    assert "points" in reasons[bad["id"]] and "selfie" in reasons[unknown["id"]]
    counts = stored_counts(central)
    assert (counts["tickets"], counts["ratings"], counts["quarantine"]) == (1, 0, 2)


def test_records_made_with_an_unsynchronised_clock_get_a_corrected_time(central_app, central, device, server_clock):
    """The Pi booted three days in the past: its times are shifted by the offset seen at sync."""
    client = Signer(central_app.test_client(), device)
    behind = timedelta(days=3, seconds=7)
    device_now = T0 - behind
    made_unsynced = wire_record("rating", 1, device_now - timedelta(hours=1), clock_synced=False)
    made_synced = wire_record("rating", 2, T0 - timedelta(hours=2), clock_synced=True)
    answer = client.post(envelope(device[0], [made_unsynced, made_synced], device_now, clock_synced=False))
    assert answer.status_code == 200 and answer.json["clock_offset"] == behind.total_seconds()
    # Later NTP fixed the clock; a record from before the fix arrives now and gets the offset last seen.
    server_clock._now = T0 + timedelta(hours=1)
    late = wire_record("ticket", 3, device_now - timedelta(minutes=30), clock_synced=False)
    assert client.post(envelope(device[0], [late], T0 + timedelta(hours=1), clock_synced=True)).status_code == 200
    with central.sessions() as session:
        corrected = {r.id: r.corrected_time for r in session.scalars(select(Rating))}
        ticket = session.scalar(select(Ticket))
        status = session.scalar(select(DeviceStatus))
        offsets = sorted(log.clock_offset for log in session.scalars(select(SyncLog)))
    assert corrected[made_unsynced["id"]] == T0 - timedelta(hours=1)
    assert corrected[made_synced["id"]] == T0 - timedelta(hours=2)
    assert ticket.corrected_time == T0 - timedelta(minutes=30) and ticket.clock_offset == behind.total_seconds()
    assert status.clock_synced is True and status.clock_offset == 0 and status.unsynced_offset == behind.total_seconds()
    assert offsets == [0, behind.total_seconds()]
    assert (status.printer, status.software_version) == ("ok", "test")


def test_config_is_the_communes_own_and_signed_for_the_device(central_app, central, device):
    other = add_device(central, "Quầy 1", OTHER_COMMUNE, "Xã Khác")
    with transaction(central.sessions) as session:
        import_catalog(
            session,
            "26734",
            {
                "services": [{"code": "HT", "name": "Hộ tịch", "prefix": "A"}, {"code": "DD", "name": "Đất đai"}],
                "counters": [{"number": 1, "services": ["HT"]}, {"number": 2, "services": ["DD"]}],
                "clerks": [{"code": "CC01", "name": "Nguyễn Thị Lan", "pin": "4321", "counter": 1}],
                "scale": [
                    {"key": "very_satisfied", "label": "Rất hài lòng", "points": 2},
                    {"key": "satisfied", "label": "Hài lòng", "points": 1},
                    {"key": "unsatisfied", "label": "Chưa hài lòng", "points": 0},
                ],
            },
        )
    client = Signer(central_app.test_client(), device)
    answer, counter = client.get_config()
    assert answer.status_code == 200 and client.answer_signed(answer, counter)
    doc = answer.json
    assert doc["commune"] == {"code": "26734", "name": "Xã Tân Hòa"}
    assert [(s["code"], s["active"]) for s in doc["services"]][:2] == [("HT", True), ("DD", True)]
    assert {s["code"]: s["active"] for s in doc["services"]}["CT"] is False  # seeded, then left out: deactivated
    assert {c["number"]: c["services"] for c in doc["counters"] if c["active"]} == {1: ["HT"], 2: ["DD"]}
    [clerk] = doc["clerks"]
    assert clerk["name"] == "Nguyễn Thị Lan" and pin_matches(type("C", (), {"pin_hash": clerk["pin_hash"]}), "4321")
    assert [s["label"] for s in doc["scale"]] == ["Rất hài lòng", "Hài lòng", "Chưa hài lòng"]
    other_answer, _ = Signer(central_app.test_client(), other).get_config()
    assert other_answer.json["commune"]["code"] == OTHER_COMMUNE and other_answer.json["clerks"] == []
    assert other_answer.json["version"] != doc["version"]
    replay = central_app.test_client().get("/api/v1/config", headers=dict(answer.request.headers))
    assert replay.status_code == 409
