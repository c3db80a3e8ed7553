"""The record declaration: its fields are the device's columns, its clock correction and press key."""

from __future__ import annotations

import inspect
from datetime import datetime

import pytest

from central.models import RECORD_MODELS
from kiosk.models import RECORD_TYPES
from sync import record_schema
from sync.record_schema import correct_time, press_key, press_values
from tests.central.helpers import wire_record


def test_record_fields_are_the_device_columns_and_the_central_ones():
    assert set(record_schema.FIELDS) == set(RECORD_TYPES) == set(RECORD_MODELS)
    for kind, model in RECORD_TYPES.items():
        device_columns = {c.name for c in model.__table__.columns}
        wire = {f.name for f in record_schema.FIELDS[kind]}
        assert wire == device_columns, kind
        central_columns = {c.name for c in RECORD_MODELS[kind].__table__.columns}
        assert wire <= central_columns, kind


def test_a_field_added_later_is_sent_only_when_it_holds_a_value():
    """A server of the first release refuses unknown fields: a rating without dossier codes leaves them out."""
    without = wire_record("rating", 1, datetime(2026, 11, 20), dossier_codes=None)
    assert "dossier_codes" not in without and without["flag"] is None and "flag" in without
    assert wire_record("rating", 1, datetime(2026, 11, 20))["device_time"] == "2026-11-20T00:00:00"
    with_codes = wire_record("rating", 1, datetime(2026, 11, 20), dossier_codes="H01.1 H01.2")
    assert with_codes["dossier_codes"] == "H01.1 H01.2"


def test_a_time_the_clock_had_right_or_with_no_offset_known_is_not_shifted():
    moment = datetime(2026, 11, 20, 8, 30)
    assert correct_time(moment, True, 3600.0) == (None, moment)
    assert correct_time(moment, False, None) == (None, moment)
    assert correct_time(moment, False, -7200.0) == (-7200.0, datetime(2026, 11, 20, 6, 30))


def test_a_corrected_time_outside_the_years_is_refused_saying_so():
    with pytest.raises(ValueError, match=r"device time 2020-01-01 00:30 corrected by the clock offset \(-3600 s\)"):
        correct_time(datetime(2020, 1, 1, 0, 30), False, -3600.0)
    with pytest.raises(ValueError, match="falls outside 2020–2100"):
        correct_time(datetime(2100, 12, 31, 23, 30), False, 3600.0)
    with pytest.raises(OverflowError):
        correct_time(datetime(2026, 11, 20), False, 1e15)


def test_presses_of_one_hour_alike_share_their_key_and_it_reads_back():
    assert tuple(inspect.signature(press_key).parameters)[1:] == record_schema.PRESS_FIELDS
    values = dict(zip(record_schema.PRESS_FIELDS, ("HT", 2, None, "satisfied", True, 1, "button"), strict=True))
    key = press_key(datetime(2026, 11, 20, 8, 5, 59), **values)
    assert key == press_key(datetime(2026, 11, 20, 8, 59, 1), **values)
    assert key != press_key(datetime(2026, 11, 20, 9, 0), **values)
    assert key != press_key(datetime(2026, 11, 20, 8, 5), **{**values, "channel": "touch"})
    assert key != press_key(datetime(2026, 11, 20, 8, 5), **{**values, "counted": False})
    assert press_values(key) == {"corrected_time": datetime(2026, 11, 20, 8), **values}
