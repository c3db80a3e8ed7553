"""A record's checks: typed values or the first bad field named; the generated checkers equal the plain loop."""

from __future__ import annotations

import random
from datetime import date, datetime

import pytest

from sync import protocol, record_schema
from sync.record_checks import parse_record
from tests import hostile
from tests.central.helpers import wire_record
from tests.sync.reference_checker import parse_record_reference


def test_a_record_survives_the_trip_with_its_types():
    moment = datetime(2026, 11, 20, 8, 30, 15, 123456)
    record = wire_record("ticket", 7, moment, clock_synced=False)
    body = protocol.encode_batch({"v": 1, "records": [record]})
    decoded = protocol.decode_batch(body, "gzip")["records"][0]
    values = parse_record(decoded)
    assert values["device_time"] == moment and values["business_day"] == date(2026, 11, 20)
    assert values["clock_synced"] is False and values["seq"] == 7
    aware = dict(decoded, device_time="2026-11-20T15:30:15+07:00")
    assert parse_record(aware)["device_time"] == datetime(2026, 11, 20, 8, 30, 15)


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("points", "2", "whole number"),
        ("points", True, "whole number"),
        ("counted", 1, "true or false"),
        ("ticket_id", "not-a-uuid", "UUID"),
        ("level", "x" * 33, "at most 32"),
        ("device_time", "yesterday", "ISO 8601"),
        ("seq", 0, "positive"),
        ("selfie", "x", "unknown field"),
        ("type", "selfie", "unknown record type 'selfie'; use ticket, rating"),
    ],
)
def test_a_bad_field_is_named(field, value, said):
    record = dict(wire_record("rating", 1, datetime(2026, 11, 20)), **{field: value})
    with pytest.raises(ValueError, match=said):
        parse_record(record)


def test_each_record_types_checker_says_what_the_field_list_says():
    """The compiled checkers (one per record type, for speed) against the plain loop over the field list:
    thousands of hostile variations of real records get the same values or the same refusal."""
    rng = random.Random(14)
    extra = [datetime(2019, 12, 31), "2101-01-01T00:00:00", "2026-11-20T08:30:00+07:00", "2026-02-30", "2026-11-20"]
    seen = {"values": 0, "refusals": 0}
    for kind in record_schema.FIELDS:
        base = wire_record(kind, 5, datetime(2026, 11, 20, 8, 30))
        names = [*base, "extra"]
        for _ in range(600):
            record = dict(base)
            for name in rng.sample(names, k=rng.randint(1, 3)):
                record[name] = rng.choice([*hostile.VALUES, *extra, str(rng.random())])
            record["type"] = kind
            for check_text in (True, False):
                outcomes = []
                for parse in (parse_record, parse_record_reference):
                    try:
                        outcomes.append(("values", parse(record, check_text)))
                    except ValueError as exc:
                        outcomes.append(("refusal", str(exc)))
                assert outcomes[0] == outcomes[1], (record, check_text)
                seen["values" if outcomes[0][0] == "values" else "refusals"] += 1
    assert seen["values"] > 500 and seen["refusals"] > 2000, seen
