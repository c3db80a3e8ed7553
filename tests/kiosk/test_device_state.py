"""The device's facts in ``device_state``: every key declared once, stored exactly as kiosks in the field store it.

A database written by an earlier release is read as it is (no migration), and what the kiosk writes now is,
byte for byte, what it wrote before: the texts below are those earlier releases wrote.
"""

from __future__ import annotations

import sqlite3

import pytest

from kiosk import admin as admin_auth
from kiosk import catalog_state, device_state
from kiosk.db import transaction
from tests.queue_helpers import issue, login, make_app, rows

CLERK = "0b6f7c1e-2f4e-4d8a-9a51-3c1f2e7d9b10"

#: key: (the text a kiosk in the field has stored, what it reads as)
FIELD = {
    "seq": ("41", 41),
    "sync_counter": ("96", 96),
    "last_sync": (
        '{"at": "2026-03-02T22:00:05+07:00", "ok": false, "last_ok_at": null, "sent": 3, "pending": 0, '
        '"error": "Không kết nối được máy chủ"}',
        {
            "at": "2026-03-02T22:00:05+07:00",
            "ok": False,
            "last_ok_at": None,
            "sent": 3,
            "pending": 0,
            "error": "Không kết nối được máy chủ",
        },
    ),
    "queue_day": ('{"day": "2026-03-02", "trusted": true}', {"day": "2026-03-02", "trusted": True}),
    "number_floor": ('{"day": "2026-03-02", "floors": {"HT": 12}}', {"day": "2026-03-02", "floors": {"HT": 12}}),
    "catalog_owner": ("central", "central"),
    "catalog_revision": ("7", 7),
    "catalog_dirty": (f'["clerk:{CLERK}", "service:HT"]', [f"clerk:{CLERK}", "service:HT"]),
    "catalog_sent": ("9f2c4e1a", "9f2c4e1a"),
    "catalog_version": ("v3-2026-03-01", "v3-2026-03-01"),
    "catalog_refused": (
        '{"version": "v4", "reason": "Quầy 1 không còn lĩnh vực nào", "at": "2026-03-02T22:00:05+07:00"}',
        {"version": "v4", "reason": "Quầy 1 không còn lĩnh vực nào", "at": "2026-03-02T22:00:05+07:00"},
    ),
    "catalog_upload_refused": (
        '{"digest": "9f2c4e1a", "status": 403, "reason": "CC02 Trần Văn Minh: active", "at": "2026-03-02T22:00:05+07:00"}',
        {
            "digest": "9f2c4e1a",
            "status": 403,
            "reason": "CC02 Trần Văn Minh: active",
            "at": "2026-03-02T22:00:05+07:00",
        },
    ),
    "catalog_pages": ("https://tinh.example/admin/communes/26734", "https://tinh.example/admin/communes/26734"),
    "catalog_site": (
        '{"code": "CN", "name": "\\u0110i\\u1ec3m C\\u1ea9m Nh\\u01b0\\u1ee3ng"}',
        {"code": "CN", "name": "Điểm Cẩm Nhượng"},
    ),
    "login_failures": ('{"failures": 2, "locked": false}', {"failures": 2, "locked": False}),
    "admin_login_failures": ('{"failures": 5, "locked": true}', {"failures": 5, "locked": True}),
    "admin_password_hash": ("scrypt:32768:8:1$salt$0a1b", "scrypt:32768:8:1$salt$0a1b"),
    "admin_session_epoch": ("3", 3),
    f"clerk_session:{CLERK}": ("2", 2),
    "remote_applied": (
        '{"version": 3, "at": "2026-03-02T22:00:05+07:00", "restart_pending": true, "pid": 812, "ignored": []}',
        {"version": 3, "at": "2026-03-02T22:00:05+07:00", "restart_pending": True, "pid": 812, "ignored": []},
    ),
    "remote_refused": (
        '{"version": 4, "reason": "chữ ký không khớp", "at": "2026-03-02T22:00:05+07:00"}',
        {"version": 4, "reason": "chữ ký không khớp", "at": "2026-03-02T22:00:05+07:00"},
    ),
    "enrolled_screens": (
        '{"q3V-x9aLmB2cD4eF6gH8iJ": {"name": "Máy tính bảng quầy 2", "counter": 2, "enrolled_at": "2026-03-02 08:00", '
        '"by": "admin @ 192.168.1.20"}}',
        {
            "q3V-x9aLmB2cD4eF6gH8iJ": {
                "name": "Máy tính bảng quầy 2",
                "counter": 2,
                "enrolled_at": "2026-03-02 08:00",
                "by": "admin @ 192.168.1.20",
            }
        },
    ),
}


@pytest.fixture
def app(tmp_path, clock):
    app = make_app(tmp_path / "var", clock)
    yield app
    app.extensions["kiosk"].close()


def test_every_declared_key_has_its_field_encoding_here():
    families = {family.prefix for family in device_state.FAMILIES}
    listed = {next((prefix for prefix in families if name.startswith(prefix)), name) for name in FIELD}
    assert listed == set(device_state.KEYS) | families


@pytest.mark.parametrize("name", sorted(FIELD))
def test_a_field_database_reads_as_it_is_and_is_written_back_byte_for_byte(app, tmp_path, name):
    stored, value = FIELD[name]
    kiosk = app.extensions["kiosk"]
    key = device_state.declared(name)
    db = sqlite3.connect(tmp_path / "var" / "kiosk.db")
    with db:
        db.execute("INSERT OR REPLACE INTO device_state (key, value) VALUES (?, ?)", (name, stored))
    db.close()
    with kiosk.sessions() as session:
        assert device_state.get(session, key) == value
    assert device_state.read(kiosk.engine, key) == value

    with transaction(kiosk.sessions) as session:
        device_state.put(session, key, None)
        assert device_state.get(session, key) == key.default
        device_state.put(session, key, value)
    assert rows(tmp_path / "var" / "kiosk.db", "SELECT value FROM device_state WHERE key = ?", (name,)) == [(stored,)]
    device_state.write(kiosk.engine, key, value)
    assert rows(tmp_path / "var" / "kiosk.db", "SELECT value FROM device_state WHERE key = ?", (name,)) == [(stored,)]


def test_an_early_plain_last_sync_reads_as_its_text(app):
    kiosk = app.extensions["kiosk"]
    with transaction(kiosk.sessions) as session:
        catalog_state.put(session, device_state.LAST_SYNC.name, "2025-11-30T22:00:00+07:00")
    assert device_state.read(kiosk.engine, device_state.LAST_SYNC) == "2025-11-30T22:00:00+07:00"


def test_a_key_nobody_declared_is_refused():
    with pytest.raises(KeyError, match="not declared"):
        device_state.declared("catalog_ownr")


def test_what_a_working_kiosk_stores_is_all_declared(app, tmp_path):
    """Tickets, a rating, clerk log-in and log-out, a wrong PIN, the admin password and a catalogue change."""
    kiosk = app.extensions["kiosk"]
    client = app.test_client()
    issue(client)
    kiosk.ratings.record("satisfied", "touch", counter=1)
    login(client, 1)
    assert client.post("/api/clerk/logout").status_code in (200, 204)
    assert client.post("/api/clerk/login", json={"counter": 2, "pin": "0000"}).status_code == 401
    with transaction(kiosk.sessions) as session:
        admin_auth.set_password(session, "mật-khẩu-quản-trị")
        catalog_state.touch(session, "service:HT")
    admin_auth.end_sessions(kiosk.sessions)

    stored = dict(rows(tmp_path / "var" / "kiosk.db", "SELECT key, value FROM device_state"))
    assert {"seq", "queue_day", "number_floor", "login_failures", "admin_password_hash"} <= set(stored)
    assert any(name.startswith(device_state.CLERK_SESSION.prefix) for name in stored)
    for name, text in stored.items():
        key = device_state.declared(name)
        assert key.codec.encode(key.codec.decode(text)) == text, name
