"""Nobody but a registered, enabled kiosk writes into the central server, and only its own commune's records.

Every refused request leaves nothing stored: no record, no quarantine row, no sync log row, and the
device's counter where it was (so the refusal does not lock the real kiosk out). SQLite and PostgreSQL.
"""

from __future__ import annotations

import gzip
import os
import uuid
from datetime import datetime

from central.registry import add_device, set_device_enabled
from sync import protocol
from tests.central.helpers import OTHER_COMMUNE, Signer, envelope, last_counter, stored_counts, wire_record

T0 = datetime(2026, 11, 20, 1, 0, 0)
NOTHING = {"tickets": 0, "ratings": 0, "indicator_answers": 0, "comments": 0, "clerk_actions": 0}


def batch(device_id: str, n: int = 3, **extra) -> dict:
    return envelope(device_id, [wire_record("rating", i, T0) for i in range(1, n + 1)], T0, **extra)


def assert_nothing_stored(central, device_id: str, counter: int = 0) -> None:
    assert stored_counts(central) == {**NOTHING, "quarantine": 0, "sync_log": 0}
    assert last_counter(central, device_id) == counter


def test_wrong_signature_is_refused(central_app, central, device):
    answer = Signer(central_app.test_client(), device).post(batch(device[0]), secret="0" * 64)
    assert answer.status_code == 401 and "signature" in answer.json["error"]
    assert_nothing_stored(central, device[0])


def test_a_body_altered_after_signing_is_refused(central_app, central, device):
    signer = Signer(central_app.test_client(), device)
    body = protocol.encode_batch(batch(device[0]))
    headers = protocol.request_headers(device[1], "POST", protocol.SYNC_PATH, device[0], 1, body)
    altered = batch(device[0])
    altered["records"][0]["level"] = "unsatisfied"
    answer = signer.client.post(
        protocol.SYNC_PATH, data=protocol.encode_batch(altered), headers={**headers, "Content-Encoding": "gzip"}
    )
    assert answer.status_code == 401
    assert_nothing_stored(central, device[0])


def test_a_signature_for_another_path_or_counter_is_refused(central_app, central, device):
    signer = Signer(central_app.test_client(), device)
    body = protocol.encode_batch(batch(device[0]))
    headers = protocol.request_headers(device[1], "POST", "/api/v1/other", device[0], 1, body)
    assert (
        signer.client.post(protocol.SYNC_PATH, data=body, headers={**headers, "Content-Encoding": "gzip"}).status_code
        == 401
    )
    headers = protocol.request_headers(device[1], "POST", protocol.SYNC_PATH, device[0], 1, body)
    headers[protocol.COUNTER_HEADER] = "2"
    assert (
        signer.client.post(protocol.SYNC_PATH, data=body, headers={**headers, "Content-Encoding": "gzip"}).status_code
        == 401
    )
    assert_nothing_stored(central, device[0])


def test_a_replayed_request_is_refused_whatever_the_device_clock_says(central_app, central, device):
    signer = Signer(central_app.test_client(), device)
    body = protocol.encode_batch(batch(device[0]))
    headers = {
        **protocol.request_headers(device[1], "POST", protocol.SYNC_PATH, device[0], 7, body),
        "Content-Encoding": "gzip",
    }
    assert signer.client.post(protocol.SYNC_PATH, data=body, headers=headers).status_code == 200
    before = stored_counts(central)
    replay = signer.client.post(protocol.SYNC_PATH, data=body, headers=headers)
    assert replay.status_code == 409 and replay.json["detail"]["last_counter"] == 7
    older = batch(device[0])  # even new content under an old counter
    assert signer.post(older, counter=5).status_code == 409
    assert stored_counts(central) == before and last_counter(central, device[0]) == 7


def test_requests_without_signing_headers_or_from_an_unknown_device_are_refused(central_app, central, device):
    client = central_app.test_client()
    body = protocol.encode_batch(batch(device[0]))
    assert client.post(protocol.SYNC_PATH, data=body, headers={"Content-Encoding": "gzip"}).status_code == 401
    stranger = (str(uuid.uuid4()), device[1])
    answer = Signer(client, stranger).post(batch(stranger[0]))
    assert answer.status_code == 401 and "not registered" in answer.json["error"]
    assert client.get(protocol.CONFIG_PATH).status_code == 401
    assert_nothing_stored(central, device[0])


def test_a_disabled_device_is_refused(central_app, central, device):
    set_device_enabled(central, device[0], False)
    signer = Signer(central_app.test_client(), device)
    answer = signer.post(batch(device[0]))
    assert answer.status_code == 403 and "disabled" in answer.json["error"]
    assert signer.get_config()[0].status_code == 403
    assert_nothing_stored(central, device[0])


def test_a_device_cannot_write_another_communes_or_devices_records(central_app, central, device):
    other = add_device(central, "Quầy 2", OTHER_COMMUNE)
    signer = Signer(central_app.test_client(), device)
    answer = signer.post(batch(device[0], commune=OTHER_COMMUNE))
    assert answer.status_code == 403 and OTHER_COMMUNE in answer.json["error"]
    assert signer.post(batch(other[0])).status_code == 403  # a batch naming the other device
    assert_nothing_stored(central, device[0])
    assert last_counter(central, other[0]) == 0


def test_malformed_bodies_are_refused_with_400(central_app, central, device):
    signer = Signer(central_app.test_client(), device)
    not_json = gzip.compress(b'{"v": 1, "records": [')
    assert signer.post(not_json).status_code == 400
    assert signer.post(b"this is not gzip").status_code == 400
    assert signer.post(gzip.compress(b"[1, 2]")).status_code == 400
    assert signer.post(batch(device[0], v=99)).status_code == 400
    broken = batch(device[0])
    broken["records"].append("not a record")
    answer = signer.post(broken)
    assert answer.status_code == 400 and answer.json["error"]
    twice = batch(device[0])
    twice["records"].append(twice["records"][0])
    assert signer.post(twice).status_code == 400
    assert_nothing_stored(central, device[0])


def test_a_body_over_the_limit_is_refused_with_413(central_app, central, device):
    signer = Signer(central_app.test_client(), device)
    huge = os.urandom(central.settings["central_max_body"] + 1)  # incompressible, over the byte limit
    assert signer.post(huge).status_code == 413
    bomb = gzip.compress(b" " * (protocol.MAX_DECOMPRESSED + 1024))  # small on the wire, huge inflated
    assert len(bomb) < central.settings["central_max_body"]
    answer = signer.post(bomb)
    assert answer.status_code == 413 and answer.json["detail"]["limit"] == "bytes"
    assert_nothing_stored(central, device[0])


def test_a_batch_over_the_record_limit_is_refused(central_app, central, device):
    signer = Signer(central_app.test_client(), device)
    limit = central.settings["central_max_records"]
    answer = signer.post(batch(device[0], n=limit + 1))
    assert answer.status_code == 413
    assert answer.json["detail"] == {"limit": "records", "max_records": limit}
    assert_nothing_stored(central, device[0])
