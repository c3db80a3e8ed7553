"""One bad record never blocks a kiosk's sync (issue 12, case 1), on PostgreSQL and on SQLite.

A NUL in a comment, NaN in a clerk action's detail, a 5,000-digit number, a lone surrogate, a year-9999 or
year-1 time, a business day of 9999-12-31: PostgreSQL refuses several of them outright, and once one of them
turned every later batch of its kiosk into a 500. Now the server keeps each such record in quarantine with
the reason (shown on the fleet page), stores the rest of the batch, and the kiosk stops sending it.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from central.models import Quarantine, SyncLog
from central.registry import add_user
from kiosk.db import transaction
from kiosk.health import health
from kiosk.models import ClerkAction, Comment, Rating, Ticket
from kiosk.records import stamp
from kiosk.uplink.client import SyncClient
from tests.central.helpers import (
    TEST_PASSWORD,
    Signer,
    add_records,
    envelope,
    server_ids,
    sign_in,
    stored_counts,
    wire_record,
)

T0 = datetime(2026, 11, 20, 1, 0, 0)


def _poison(kiosk) -> dict[str, str]:
    """Records an older kiosk accepted before it refused such input at the door, written as it wrote them."""
    clock = kiosk.clock
    with transaction(kiosk.sessions) as session:
        rating = stamp(
            session,
            Rating(level="unsatisfied", points=0, channel="touch", panel="touch:1", counted=True, counter_number=1),
            clock,
        )
        session.flush()
        made = {
            "nul_comment": stamp(session, Comment(rating_id=rating.id, counter_number=1, text="bad\x00service"), clock),
            "nan_detail": stamp(
                session, ClerkAction(action="pause", counter_number=1, detail={"x": float("nan")}), clock
            ),
            "far_day": stamp(
                session,
                Ticket(
                    service_code="HT",
                    business_day=date(9999, 12, 31),
                    number=900,
                    display_number="A900",
                    priority=False,
                    channel="touch",
                ),
                clock,
            ),
        }
        year_one = stamp(
            session, Rating(level="satisfied", points=1, channel="touch", panel="touch:1", counted=True), clock
        )
        year_one.device_time = datetime(1, 1, 1)
        made["year_one"] = year_one
        session.flush()
        ids = {name: record.id for name, record in made.items()}
        ids["rating"] = rating.id
    return ids


def test_a_poison_record_is_quarantined_and_the_kiosk_keeps_syncing(central_app, central, device, serve, make_kiosk):
    server = serve(central_app)
    kiosk = make_kiosk(server.url, device)
    before = add_records(kiosk, 12)
    poison = _poison(kiosk)
    after = add_records(kiosk, 12)

    report = SyncClient(kiosk, backoff=0.01, max_backoff=0.05, batch_size=10).run()
    assert report.error is None, report.error
    bad = {poison[k] for k in ("nul_comment", "nan_detail", "far_day", "year_one")}
    assert {r["id"] for r in report.quarantined} == bad
    assert report.ok and "quarantine" in report.message() and report.catalog_applied is not None
    stored = set(server_ids(central))
    assert set(before) | set(after) | {poison["rating"]} <= stored, "every good record is stored"
    assert not bad & stored, "no poison record is stored as it was"

    with central.engine.connect() as conn:
        reasons = {str(r.record_id): r.reason for r in conn.execute(select(Quarantine.__table__))}
    assert set(reasons) == bad
    assert "U+0000" in reasons[poison["nul_comment"]] and "text" in reasons[poison["nul_comment"]]
    assert "nan" in reasons[poison["nan_detail"]].lower() and "detail" in reasons[poison["nan_detail"]]
    assert "business_day" in reasons[poison["far_day"]] and "9999" in reasons[poison["far_day"]]
    assert "device_time" in reasons[poison["year_one"]]

    # The kiosk does not send them again: nothing is pending, and the next sync sends only what is new.
    doc, _ = health(kiosk)
    assert doc["unsynced"] == 0 and doc["sync"]["quarantined"] == 4 and doc["sync"]["ok"] is True
    more = add_records(kiosk, 3)
    again = SyncClient(kiosk, backoff=0.01, max_backoff=0.05).run()
    assert again.ok and again.accepted == len(more) and again.rejected == []
    with central.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Quarantine.__table__)) == 4

    # The fleet page names the kiosk's quarantined records and why.
    add_user(central, "quantri", TEST_PASSWORD, "admin")
    client = sign_in(central_app, "quantri")
    fleet = client.get("/fleet.json").json["devices"]
    [mine] = [d for d in fleet if d["id"] == device[0]]
    assert mine["quarantined"] == 4 and {q["id"] for q in mine["quarantine"]} == bad
    page = client.get("/fleet").text
    assert "U+0000" in page and poison["nul_comment"] in page


def _raw_body(records: list[dict], sent_at: datetime, device_id: str, swap: dict[str, str] | None = None) -> bytes:
    """A gzip batch whose JSON text is edited after encoding (for what json.dumps will not write)."""
    import gzip

    text = json.dumps(envelope(device_id, records, sent_at), ensure_ascii=True, default=str)
    for placeholder, raw in (swap or {}).items():
        text = text.replace(json.dumps(placeholder), raw)
    return gzip.compress(text.encode())


def test_hostile_records_are_quarantined_one_by_one_and_the_rest_stored(central_app, central, device):
    client = Signer(central_app.test_client(), device)
    good = [wire_record("rating", 1, T0), wire_record("ticket", 2, T0)]
    hostile = {
        "nul text": wire_record("comment", 3, T0, text="bad\x00service"),
        "escape char": wire_record("comment", 4, T0, text="ok\x1b[31m"),
        "surrogate": wire_record("comment", 5, T0, text="SURROGATE"),
        "huge number": wire_record("ticket", 6, T0, number="HUGE"),
        "nan detail": wire_record("clerk_action", 7, T0, detail={"x": "NAN"}),
        "deep detail": wire_record("clerk_action", 8, T0, detail={"x": "DEEP"}),
        "year 9999": wire_record("rating", 9, datetime(9999, 12, 31, 23, 0)),
        "year 1": wire_record("rating", 10, datetime(1, 1, 1)),
        "far business day": wire_record("ticket", 11, T0, business_day=date(9999, 12, 31)),
        "nul key": {**wire_record("rating", 12, T0), "x\x00y": 1},
        "nul type": {**wire_record("rating", 13, T0), "type": "rat\x00ing"},
    }
    swap = {
        "SURROGATE": '"a\\ud800b"',
        "HUGE": "9" * 5000,
        "NAN": "NaN",
        "DEEP": "[" * 200 + "]" * 200,
    }
    body = _raw_body(good + list(hostile.values()), T0, device[0], swap)
    answer = client.post(body)
    assert answer.status_code == 200, answer.json
    assert client.answer_signed(answer)
    assert sorted(answer.json["accepted"]) == sorted(r["id"] for r in good)
    rejected = {r["id"]: r for r in answer.json["rejected"]}
    assert set(rejected) == {r["id"] for r in hostile.values()}
    assert all(r["settled"] is True for r in rejected.values())
    counts = stored_counts(central)
    assert (counts["ratings"], counts["tickets"], counts["quarantine"]) == (1, 1, len(hostile))
    # What made each record unstorable is kept as text, so keeping it can never fail the way storing it did.
    with central.engine.connect() as conn:
        payloads = {str(r.record_id): r.payload for r in conn.execute(select(Quarantine.__table__))}
    assert payloads[hostile["nul text"]["id"]]["text"] == "bad\\u0000service"
    assert payloads[hostile["nan detail"]["id"]]["detail"] == {"x": "nan"}
    # Sent again: nothing new stored, nothing doubled.
    again = client.post(body)
    assert again.status_code == 200 and sorted(again.json["already_had"]) == sorted(r["id"] for r in good)
    assert stored_counts(central)["quarantine"] == len(hostile)


def test_an_integer_past_64_bits_is_quarantined_not_rounded_to_a_float(central_app, central, device):
    """A fast JSON reader reads 2**64 as the float 1.8e19, which would pass the detail's checks: never here."""
    client = Signer(central_app.test_client(), device)
    big = wire_record("clerk_action", 2, T0, detail={"x": "BEYOND"})
    answer = client.post(_raw_body([wire_record("rating", 1, T0), big], T0, device[0], {"BEYOND": str(2**64)}))
    assert answer.status_code == 200 and len(answer.json["accepted"]) == 1
    assert [r["id"] for r in answer.json["rejected"]] == [big["id"]]
    assert "too large" in answer.json["rejected"][0]["reason"]
    with central.engine.connect() as conn:
        payload = conn.execute(select(Quarantine.__table__.c.payload)).scalar_one()
    assert payload["detail"]["x"].startswith(str(2**64))  # the digits as sent, kept as text for audit


def test_a_batch_that_cannot_be_read_is_a_400_and_stores_nothing(central_app, central, device):
    client = Signer(central_app.test_client(), device)
    before = stored_counts(central)
    far = client.post(envelope(device[0], [wire_record("rating", 1, T0)], datetime(9999, 1, 1)))
    assert far.status_code == 400 and "clock" in far.json["error"] and "9999" in far.json["error"]
    early = client.post(envelope(device[0], [wire_record("rating", 1, T0)], datetime(1, 1, 1)))
    assert early.status_code == 400
    import gzip

    nested = client.post(gzip.compress(("[" * 30000 + "]" * 30000).encode()))
    assert nested.status_code == 400 and "deep" in nested.json["error"]
    assert stored_counts(central) == before
    with central.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(SyncLog.__table__)) == 0


def _refuse_panel_in_database(central, panel: str) -> None:
    """A rule in the database itself (a trigger) that refuses ratings from one panel, as no check of ours does."""
    with central.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(
                "CREATE FUNCTION refuse_panel() RETURNS trigger AS $$ BEGIN IF NEW.panel = '" + panel + "' THEN "
                "RAISE EXCEPTION 'panel refused by the database' USING ERRCODE = '22023'; END IF; RETURN NEW; END "
                "$$ LANGUAGE plpgsql"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse_panel BEFORE INSERT ON ratings FOR EACH ROW EXECUTE FUNCTION refuse_panel()"
            )
        else:
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse_panel BEFORE INSERT ON ratings WHEN NEW.panel = '" + panel + "' "
                "BEGIN SELECT RAISE(ABORT, 'panel refused by the database'); END"
            )


def test_a_record_only_the_database_refuses_is_quarantined_not_a_500(central_app, central, device):
    """Whatever slips past the checks: the batch is stored record by record and the refused one set aside."""
    _refuse_panel_in_database(central, "poison")
    client = Signer(central_app.test_client(), device)
    records = [wire_record("rating", 1, T0), wire_record("rating", 2, T0, panel="poison"), wire_record("ticket", 3, T0)]
    answer = client.post(envelope(device[0], records, T0 + timedelta(minutes=1)))
    assert answer.status_code == 200, answer.json
    assert sorted(answer.json["accepted"]) == sorted([records[0]["id"], records[2]["id"]])
    [refused] = answer.json["rejected"]
    assert refused["id"] == records[1]["id"] and refused["settled"] is True
    assert "database refused" in refused["reason"] and "panel refused" in refused["reason"]
    counts = stored_counts(central)
    assert (counts["ratings"], counts["tickets"], counts["quarantine"]) == (1, 1, 1)
