"""A value no calendar holds is bad input, never "too large" (issue 21, point 7).

``9999-12-31T23:59:59-14:00`` is a valid ISO 8601 text, but in UTC it falls in the year 10000: reading it
raised OverflowError ("date value out of range"), which the sync endpoint answered as 413 ``{"limit":
"bytes"}`` — and a kiosk answers 413 by sending smaller batches. In the envelope it is a 400 naming the field;
in a record, that record is refused naming its field and the rest of the batch is stored, read the typed way
(msgspec) or the reference way, on SQLite and PostgreSQL (the ``central_db`` fixture).
"""

from __future__ import annotations

import gzip
import json
from datetime import datetime

import pytest

from sync import protocol
from sync.record_schema import DATE, DATETIME, FIELDS
from tests.central.helpers import Signer, envelope, stored_counts, wire_record

T0 = datetime(2026, 11, 20, 1, 0, 0)
#: Times past either end of the calendar once turned into UTC, and a few other texts no reader takes.
OVERFLOWS = ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"]
UNREADABLE = [*OVERFLOWS, "99999-01-01T00:00:00", "2026-11-20T25:00:00", "2026-11-20T08:30:00+25:00", ""]


def gzipped(document: dict, ensure_ascii: bool) -> bytes:
    """The body as a kiosk sends it; with ``ensure_ascii`` its Vietnamese text becomes \\u escapes, which the
    server reads the reference way instead of the typed way."""
    text = json.dumps(document, ensure_ascii=ensure_ascii, default=protocol._json_default)
    return gzip.compress(text.encode())


@pytest.mark.parametrize("sent_at", UNREADABLE)
def test_an_unreadable_sent_at_is_a_400_naming_the_field_not_a_413(central_app, central, device, sent_at):
    signer = Signer(central_app.test_client(), device)
    document = {**envelope(device[0], [wire_record("ticket", 1, T0)], T0), "sent_at": sent_at}
    answer = signer.post(gzipped(document, False))
    assert answer.status_code == 400, answer.json
    assert answer.json["detail"] == {"field": "sent_at"} and "sent_at" in answer.json["error"]
    assert stored_counts(central)["tickets"] == 0


def time_fields():
    for kind, fields in FIELDS.items():
        for field in fields:
            if field.code in (DATE, DATETIME):
                yield kind, field.name


@pytest.mark.parametrize("ensure_ascii", [False, True], ids=["typed", "reference"])
def test_every_unreadable_time_in_a_record_refuses_that_record_naming_its_field(
    central_app, central, device, ensure_ascii
):
    signer = Signer(central_app.test_client(), device)
    seq, tried = 0, 0
    for kind, name in time_fields():
        values = UNREADABLE if name != "business_day" else ["9999-12-31+14:00", "10000-01-01", "2026-02-30", ""]
        for value in values:
            seq += 2
            good = wire_record("comment", seq, T0, text="Rất tốt")
            bad = {**wire_record(kind, seq + 1, T0), name: value}
            answer = signer.post(gzipped(envelope(device[0], [good, bad], T0), ensure_ascii))
            assert answer.status_code == 200, (kind, name, value, answer.status_code, answer.json)
            assert answer.json["accepted"] == [good["id"]], (kind, name, value)
            [refused] = answer.json["rejected"]
            assert refused["id"] == bad["id"] and name in refused["reason"], (kind, name, value, refused)
            tried += 1
    assert tried >= 5 * len(UNREADABLE)
    assert stored_counts(central)["comments"] == tried
