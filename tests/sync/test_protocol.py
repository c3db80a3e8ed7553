"""The wire format: records carry exactly the device's columns, signatures cover every part of a request."""

from __future__ import annotations

import gzip
from datetime import UTC, date, datetime

import pytest

from central.models import RECORD_MODELS
from kiosk.models import RECORD_TYPES
from sync import protocol
from tests.central.helpers import wire_record

SECRET = "a" * 64
DEVICE = "0b5c0c43-8f55-4f7e-9a0e-6f7c7a1d2e3f"


def test_record_fields_are_the_device_columns_and_the_central_ones():
    assert set(protocol.RECORD_FIELDS) == set(RECORD_TYPES) == set(RECORD_MODELS)
    for kind, model in RECORD_TYPES.items():
        device_columns = {c.name for c in model.__table__.columns}
        wire = set(protocol.COMMON_FIELDS) | set(protocol.RECORD_FIELDS[kind])
        assert wire == device_columns, kind
        central_columns = {c.name for c in RECORD_MODELS[kind].__table__.columns}
        assert wire <= central_columns, kind


def test_a_record_survives_the_trip_with_its_types():
    moment = datetime(2026, 11, 20, 8, 30, 15, 123456)
    record = wire_record("ticket", 7, moment, clock_synced=False)
    body = protocol.encode_batch({"v": 1, "records": [record]})
    decoded = protocol.decode_batch(body, "gzip")["records"][0]
    values = protocol.parse_record(decoded)
    assert values["device_time"] == moment and values["business_day"] == date(2026, 11, 20)
    assert values["clock_synced"] is False and values["seq"] == 7
    aware = dict(decoded, device_time="2026-11-20T15:30:15+07:00")
    assert protocol.parse_record(aware)["device_time"] == datetime(2026, 11, 20, 8, 30, 15)


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
    ],
)
def test_a_bad_field_is_named(field, value, said):
    record = dict(wire_record("rating", 1, datetime(2026, 11, 20)), **{field: value})
    with pytest.raises(ValueError, match=said):
        protocol.parse_record(record)


def test_the_signature_covers_method_path_device_counter_and_body():
    body = protocol.encode_batch({"v": 1})
    good = protocol.sign(SECRET, "POST", protocol.SYNC_PATH, DEVICE, 5, body)
    assert protocol.signature_ok(SECRET, good, "POST", protocol.SYNC_PATH, DEVICE, 5, body)
    changes = [
        ("GET", protocol.SYNC_PATH, DEVICE, 5, body),
        ("POST", protocol.CONFIG_PATH, DEVICE, 5, body),
        ("POST", protocol.SYNC_PATH, "1" + DEVICE[1:], 5, body),
        ("POST", protocol.SYNC_PATH, DEVICE, 6, body),
        ("POST", protocol.SYNC_PATH, DEVICE, 5, body + b" "),
    ]
    for change in changes:
        assert not protocol.signature_ok(SECRET, good, *change)
    assert not protocol.signature_ok("b" * 64, good, "POST", protocol.SYNC_PATH, DEVICE, 5, body)
    answer = b'{"accepted": []}'
    signed = protocol.sign_response(SECRET, DEVICE, 5, answer)
    assert protocol.response_ok(SECRET, signed, DEVICE, 5, answer)
    assert not protocol.response_ok(SECRET, signed, DEVICE, 6, answer)  # an old answer replayed to a new request


def test_bodies_that_are_not_gzip_json_objects_or_inflate_too_far_are_refused():
    with pytest.raises(protocol.ProtocolError):
        protocol.decode_batch(b"plain", "gzip")
    with pytest.raises(protocol.ProtocolError):
        protocol.decode_batch(gzip.compress(b"[1]"), "gzip")
    with pytest.raises(protocol.ProtocolError):
        protocol.decode_batch(gzip.compress(b"{}")[:-6], "gzip")  # cut short
    with pytest.raises(protocol.ProtocolError):
        protocol.decode_batch(b"{}", "br")
    with pytest.raises(OverflowError):
        protocol.decode_batch(gzip.compress(b"{" + b" " * 5000 + b"}"), "gzip", limit=1000)
    assert protocol.decode_batch(b'{"v": 1}', None) == {"v": 1}


def test_prepared_records_are_spliced_into_the_envelope_unchanged():
    records = [wire_record("comment", 1, datetime(2026, 11, 20, tzinfo=UTC).replace(tzinfo=None), text="Tốt lắm")]
    spliced = protocol.encode_batch({"v": 1, "device": DEVICE}, protocol.encode_records(records))
    whole = protocol.encode_batch({"v": 1, "device": DEVICE, "records": records})
    assert protocol.decode_batch(spliced, "gzip") == protocol.decode_batch(whole, "gzip")


def test_each_record_types_checker_says_what_the_field_list_says():
    """The compiled checkers (one per record type, for speed) against the plain loop over the field list:
    thousands of hostile variations of real records get the same values or the same refusal."""
    import random

    from tests import hostile

    rng = random.Random(14)
    extra = [datetime(2019, 12, 31), "2101-01-01T00:00:00", "2026-11-20T08:30:00+07:00", "2026-02-30", "2026-11-20"]
    seen = {"values": 0, "refusals": 0}
    for kind in protocol.RECORD_FIELDS:
        base = wire_record(kind, 5, datetime(2026, 11, 20, 8, 30))
        names = [*base, "extra"]
        for _ in range(600):
            record = dict(base)
            for name in rng.sample(names, k=rng.randint(1, 3)):
                record[name] = rng.choice([*hostile.VALUES, *extra, str(rng.random())])
            record["type"] = kind
            for check_text in (True, False):
                outcomes = []
                for parse in (protocol.parse_record, protocol.parse_record_reference):
                    try:
                        outcomes.append(("values", parse(record, check_text)))
                    except ValueError as exc:
                        outcomes.append(("refusal", str(exc)))
                assert outcomes[0] == outcomes[1], (record, check_text)
                seen["values" if outcomes[0][0] == "values" else "refusals"] += 1
    assert seen["values"] > 500 and seen["refusals"] > 2000, seen
