"""The typed way in (sync.typed_batch) is only a faster way to the reference's answer.

Whenever it takes a record, the row it makes equals the reference reading's (sync.record_checks.parse_record,
then the server's columns and the clock correction, as central.ingest stores them); whenever the
reference would refuse a record or a batch, the typed way declines and the reference answers. Every field
kind is tried with good values, bad values and the values at its edges. The province of report_fixture,
stored once each way on SQLite and PostgreSQL, ends with the same rows, rollups, facts and quarantine.
"""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from central import ingest
from central.models import RECORD_MODELS, Quarantine
from central.reports import rollups
from common.errors import KioskError
from sync import protocol, record_checks, record_schema, typed_batch
from tests.central import report_fixture as fx
from tests.central.helpers import wire_record

SERVER = ("26734", "0d6c0c52-0c1e-4a47-9a0e-6f8b1b6e2d01", datetime(2026, 11, 20, 1, 0), "sync-id", "main")
UUID = "0e6f3b8e-2d2a-4bb5-9f44-1d7f3f0f0f0f"
NOW = "2026-11-20T08:30:00"

#: What the records tried here say besides helpers.wire_record's defaults (ids to try in every UUID field).
LINKS = {
    "rating": {"ticket_id": UUID},
    "indicator_answer": {"rating_id": UUID},
    "clerk_action": {"action": "transfer", "ticket_id": UUID},
}

#: Values to try in each kind of field, the edges of its bounds among them.
DEEP: dict = {}
_node = DEEP
for _ in range(record_schema.MAX_OBJECT_DEPTH + 1):
    _node["a"] = {}
    _node = _node["a"]
TRIES = {
    record_schema.TEXT: lambda limit: [
        "",
        "a" * limit,
        "a" * (limit + 1),
        "ấ" * limit,
        "ấ" * (limit + 1),
        "tab\there",
        "del\x7f",
        "c1\x85",
        "nul\x00",
        5,
        True,
        ["x"],
        {"a": 1},
    ],
    record_schema.INT: lambda _limit: [0, -1, 2**31 - 1, 2**31, -(2**31 - 1), -(2**31), 10**25, 1.0, 1.5, True, "1"],
    record_schema.SEQ: lambda _limit: [1, 0, -1, 2**63 - 1, 2**63, 10**25, 1.0, True, "7"],
    record_schema.BOOL: lambda _limit: [True, False, 1, 0, "true"],
    record_schema.UUID: lambda _limit: [
        UUID,
        UUID.upper(),
        UUID.replace("-", ""),
        UUID + "\n",
        UUID[:-1],
        UUID + "0",
        UUID[:-1] + "g",
        "{" + UUID[1:-1] + "}",
        UUID[:-1] + "ấ",
        5,
    ],
    record_schema.DATE: lambda _limit: [
        "2026-11-20",
        "20261120",
        "2026-W47-5",
        "2020-01-01",
        "2019-12-31",
        "2100-12-31",
        "2101-01-01",
        "2026-13-01",
        "",
        20261120,
    ],
    record_schema.DATETIME: lambda _limit: [
        NOW,
        "2026-11-20 08:30:00",
        "2026-11-20T08:30:00.123456",
        "2026-11-20T08:30:00.1234567",
        "2026-11-20T08:30:00.12",
        "2026-11-20T08:30:00+07:00",
        "2026-11-20T08:30:00Z",
        "2026-11-20T08:30:00-00:30",
        "2026-11-20",
        "20261120T083000",
        "2026-11-20T08:30",
        "2020-01-01T00:00:00",
        "2019-12-31T23:59:59",
        "2100-12-31T23:59:59",
        "2101-01-01T00:00:00",
        "2020-01-01T00:30:00+01:00",
        "2100-12-31T23:30:00-01:00",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "9999-12-31T23:59:59-14:00",  # past the year 9999 in UTC: OverflowError, not ValueError
        "0001-01-01T00:00:00+14:00",
        "2026-02-30T08:30:00",
        "nonsense",
        5,
    ],
    record_schema.OBJECT: lambda _limit: [
        {},
        {"to": "CT"},
        {"to": "CT", "note": "chuyển quầy", "n": 1.5, "list": [1, "a", None, True]},
        [],
        "x",
        DEEP,
        {"big": 10**25},
        {"big": 2**63},
        {"f": 1e300},
        {"s": "del\x7f"},
    ],
}


def record(kind: str, **fields) -> dict:
    """A kiosk's record of ``kind`` (helpers.wire_record) with the id UUID, then ``fields`` as given (any value)."""
    return {**wire_record(kind, 7, datetime.fromisoformat(NOW), **LINKS.get(kind, {})), "id": UUID, **fields}


def body(records: list, ensure_ascii: bool = False, **envelope) -> bytes:
    document = {"v": 1, "device": "d", "commune": "26734", "sent_at": NOW, "clock_synced": True}
    return json.dumps({**document, **envelope, "records": records}, ensure_ascii=ensure_ascii).encode()


def reference_row(raw: dict, correction: float | None) -> tuple | None:
    """The row the reference way stores for ``raw``, or None when it refuses the record: read by the reference
    way itself (ingest.prepare, then the checks ingest._checked makes as the rows are stored)."""
    try:
        prepared = ingest.prepare(protocol.parse_batch(body([raw])), "d", "26734", 5000)
    except (KioskError, protocol.ProtocolError):
        return None
    server = dict(zip(typed_batch.SERVER_COLUMNS, SERVER, strict=True))
    columns = typed_batch.row_columns(raw["type"])
    rows = [
        tuple(values[name] for name in columns)
        for kind in prepared.raw
        for values in ingest._checked(prepared, kind, server, correction, rollups.Presses())
    ]
    return None if prepared.invalid else rows[0]


def typed_rows(text: bytes, correction: float | None) -> dict[str, list[tuple]] | None:
    """The rows the typed way makes of a batch, or None when it declines (the reference way then reads it)."""
    batch = typed_batch.read(text)
    if batch is None:
        return None
    try:
        return {
            kind: list(typed_batch.row_builder(kind)(records, SERVER, correction, Counter()))
            for kind, records in batch.by_kind.items()
        }
    except typed_batch.Declined:
        return None


def variants():
    """(kind, record, must be taken typed) for every field of every type and every value tried in it."""
    for kind, fields in record_schema.FIELDS.items():
        yield kind, record(kind), True
        for name, code, limit, optional, _later in fields:
            for value in [*TRIES[code](limit), None]:
                yield kind, record(kind, **{name: value}), False
            if optional:
                missing = record(kind)
                missing.pop(name, None)
                yield kind, missing, True
        yield kind, {**record(kind), "unknown": 1}, False
        missing = record(kind)
        del missing["seq"]
        yield kind, missing, False


@pytest.mark.parametrize("correction", [None, 3600.0, -7 * 86400.0, 1e10])
@pytest.mark.parametrize("clock_synced", [True, False])
def test_every_record_the_typed_way_takes_equals_the_reference(correction, clock_synced):
    taken = declined = 0
    for kind, raw, clean in variants():
        raw = {**raw, "clock_synced": clock_synced} if raw.get("clock_synced") is True else raw
        for ensure_ascii in (False, True):
            text = body([raw], ensure_ascii)
            rows = typed_rows(text, correction)
            expected = reference_row(json.loads(text)["records"][0], correction)
            if rows is None:
                declined += 1
                continue
            taken += 1
            assert rows == {kind: [expected]}, (kind, raw)
            if clean and not ensure_ascii and correction is None:
                assert expected is not None
        if clean and correction is None:  # a clean record of a kiosk is taken the typed way
            assert typed_rows(body([raw]), correction) is not None, (kind, raw)
    if correction == 1e10 and not clock_synced:  # every time moved out of the years: the reference refuses all
        assert taken == 0
    else:
        assert taken > 150 and declined > 150


def test_the_presses_counted_typed_equal_the_reference_presses():
    raws = [record("rating", id=f"{i:08x}-2d2a-4bb5-9f44-1d7f3f0f0f0f", level=lvl) for i, lvl in enumerate("ab" * 30)]
    raws += [
        record("rating", id=f"{i:08x}-2d2a-4bb5-9f44-1d7f3f0f0f00", device_time=f"2026-11-20T{i:02d}:05:00+07:00")
        for i in range(10)
    ]
    presses = Counter()
    batch = typed_batch.read(body(raws))
    list(typed_batch.row_builder("rating")(batch.by_kind["rating"], SERVER, None, presses))
    reference = rollups.Presses()
    for raw in raws:
        values = record_checks.parse_record(raw)
        reference.add({**values, "corrected_time": values["device_time"]})
    assert presses == reference.alike and len(presses) == 12


@pytest.mark.parametrize(
    "text",
    [
        body([record("rating"), record("ticket")]),  # one id twice
        body([record("rating"), {**record("rating"), "id": UUID[:-1] + "1"}])[:-1],  # cut short
        body([record("rating")]).replace(b'"type": "rating"', b'"type": "rating", "type": "ticket"'),
        body([record("rating")]).replace(b'"type": "rating"', b'"type": "ticket", "type": "rating"'),
        body([record("rating")]).replace(b'"type": "rating"', b'"\\u0074ype": "rating"'),
        body([record("rating")]).replace(b'"level": "very_satisfied"', b'"level": "very_\\u0073atisfied"'),
        body([record("rating")]).replace(b'"points": 2', b'"points": 2.0'),
        body([record("rating")]).replace(b'"points": 2', b'"points": NaN'),
        body([record("rating")]).replace(b'"points": 2', b'"points": Infinity'),
        body([record("rating")]).replace(b'"very_satisfied"', b'"very\tsatisfied"'),  # a raw tab: not JSON
        body([record("rating")]).replace(b'"very_satisfied"', b'"very\xed\xa0\x80"'),  # a surrogate as UTF-8
        body([record("clerk_action", detail={"n": 1})]).replace(b'"n": 1', b'"n": ' + b"9" * 25),
        body([record("rating")]).replace(b'"seq": 7', b'"seq": ' + b"7" * 5000),
        body([{**record("rating"), "type": "telegram"}]),
        body([[1, 2]]),
        body([record("rating")], v=2),
        body([record("rating")], sent_at="2019-01-01T00:00:00"),
        b"\xef\xbb\xbf" + body([record("rating")]),
        body([record("rating")]) + b" x",
        b"[" + body([record("rating")]) + b"]",
    ],
)
def test_a_batch_the_reference_reads_otherwise_is_declined(text):
    """The server's reading (prepare_body) refuses what the reference refuses, with the same message, and takes
    the typed way only what the reference takes whole, with the same rows."""
    try:
        reference = ingest.prepare(protocol.parse_batch(text), "d", "26734", 5000)
    except (KioskError, protocol.ProtocolError) as exc:
        with pytest.raises(type(exc)) as raised:
            ingest.prepare_body(text, "d", "26734", 5000)
        assert str(raised.value) == str(exc)
        return
    prepared = ingest.prepare_body(text, "d", "26734", 5000)
    rows = typed_rows(text, None) if prepared.typed is not None else None
    if rows is not None:
        assert not reference.invalid
        assert rows == {kind: [reference_row(raw, None) for _id, raw in items] for kind, items in reference.raw.items()}


def test_a_type_named_twice_alike_is_read_as_the_reference_reads_it():
    text = body([record("rating")]).replace(b'"type": "rating"', b'"type": "rating", "type": "rating"')
    assert typed_rows(text, None) == {"rating": [reference_row(record("rating"), None)]}


# --- stored each way ----------------------------------------------------------------------------------


def _stored(central) -> dict[str, list]:
    """Every record row (but the sync that brought it), derived row and quarantined record of a central."""
    out = {}
    with central.engine.connect() as conn:
        for table in [m.__table__ for m in RECORD_MODELS.values()] + [Quarantine.__table__]:
            columns = [c for c in table.columns if c.name not in ("sync_id", "received_at")]
            out[table.name] = sorted((tuple(r) for r in conn.execute(select(*columns))), key=repr)
        for table in rollups.DERIVED:
            out[table.name] = sorted((tuple(r) for r in conn.execute(select(table))), key=repr)
    return out


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_province_stored_typed_equals_the_province_stored_the_reference_way(database, request, tmp_path):
    from central.app import create_central_app

    def load(way: str):
        if database == "sqlite":
            url = f"sqlite:///{tmp_path / way}.db"
        else:
            url = request.getfixturevalue("pg_cluster").create_database(way)
        app = create_central_app({"data_dir": str(tmp_path / way), "central_database_url": url, "TESTING": True})
        central = app.extensions["central"]
        ids = random.Random(14)  # the same ids both times: devices, clerks, records (and each sync's, not compared)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(fx, "WAY", way)
            patch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=ids.getrandbits(128), version=4))
            ways = fx.load(central).ways
        return central, ways

    typed, typed_ways = load("server")
    reference, reference_ways = load("reference")
    try:
        assert set(typed_ways) == {"typed"} and set(reference_ways) == {"reference"}  # every batch, each way
        mine, theirs = _stored(typed), _stored(reference)
        assert mine["ratings"] and mine["ticket_facts"] and mine["rollup_indicators"] and mine["rollup_pending"] == []
        assert mine == theirs
    finally:
        typed.close()
        reference.close()


# --- through `POST /api/v1/sync` ------------------------------------------------------------------------


def _day(central_app, central, device, *extra: dict):
    """A kiosk's clean hour (tickets, their calls and completions, ratings, answers, a comment) and ``extra``."""
    from tests.central.helpers import wire_record

    start, records = datetime(2026, 11, 20, 1, 0), []
    for i in range(20):
        ticket = wire_record("ticket", 5 * i + 1, start + timedelta(minutes=3 * i))
        call = wire_record("clerk_action", 5 * i + 2, start + timedelta(minutes=3 * i + 1), ticket_id=ticket["id"])
        done = wire_record(
            "clerk_action", 5 * i + 3, start + timedelta(minutes=3 * i + 2), action="complete", ticket_id=ticket["id"]
        )
        rating = wire_record("rating", 5 * i + 4, start + timedelta(minutes=3 * i + 2), ticket_id=ticket["id"])
        answer = wire_record(
            "indicator_answer", 5 * i + 5, start + timedelta(minutes=3 * i + 2), rating_id=rating["id"]
        )
        records += [ticket, call, done, rating, answer]
    return records + [wire_record("comment", 101, start + timedelta(hours=1)), *extra]


def test_a_clean_batch_is_stored_typed_and_a_resend_is_already_had(central_app, central, device, caplog):
    from tests.central.helpers import Signer, envelope, stored_counts

    signer, records = Signer(central_app.test_client(), device), _day(central_app, central, device)
    with caplog.at_level("INFO", logger="central.api"):
        first = signer.post(envelope(device[0], records, datetime(2026, 11, 20, 2, 0)))
        again = signer.post(envelope(device[0], records, datetime(2026, 11, 20, 2, 5)))
    assert first.status_code == again.status_code == 200
    assert sorted(first.json["accepted"]) == sorted(r["id"] for r in records)
    assert sorted(again.json["already_had"]) == sorted(r["id"] for r in records) and not again.json["accepted"]
    assert ["read typed", "read the reference way"] == [m.rsplit("(", 1)[1][:-1] for m in caplog.messages[-2:]]
    assert stored_counts(central)["ratings"] == 20
    with central.engine.connect() as conn:
        facts = conn.execute(select(rollups.TicketFact.__table__.c.outcome)).scalars().all()
    assert facts == ["served"] * 20  # the typed way kept the queue figures too


def test_a_record_that_declines_midway_leaves_nothing_of_the_typed_try(central_app, central, device):
    """A ticket whose business day is past the years passes msgspec, then declines while the tickets are being
    copied (after the comments and answers were): the savepoint goes, the reference way stores the rest and
    quarantines the ticket with its reason, and the rollups count each stored record once."""
    from central.reports.rebuild import rebuild
    from tests.central.helpers import Signer, envelope, stored_counts, wire_record
    from tests.central.test_reports_rollups import snapshot

    bad = wire_record("ticket", 200, datetime(2026, 11, 20, 3, 0))
    bad["business_day"] = "9999-12-31"
    records = _day(central_app, central, device, bad)
    answer = Signer(central_app.test_client(), device).post(envelope(device[0], records, datetime(2026, 11, 20, 4)))
    assert answer.status_code == 200
    assert [r["id"] for r in answer.json["rejected"]] == [bad["id"]]
    assert "business_day" in answer.json["rejected"][0]["reason"] and "9999" in answer.json["rejected"][0]["reason"]
    assert len(answer.json["accepted"]) == len(records) - 1
    counts = stored_counts(central)
    assert counts["tickets"] == 20 and counts["comments"] == 1 and counts["indicator_answers"] == 20
    incremental = snapshot(central)
    with central.engine.begin() as conn:
        rebuild(conn)
    assert snapshot(central) == incremental
