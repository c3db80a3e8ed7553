"""The wire format: signatures cover every part of a request, bodies are gzip JSON objects of bounded size."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pytest

from sync import protocol
from tests.central.helpers import wire_record

SECRET = "a" * 64
DEVICE = "0b5c0c43-8f55-4f7e-9a0e-6f7c7a1d2e3f"


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
