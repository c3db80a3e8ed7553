"""Bookings travel from a real `kiosk-central` process (pushed by a province's booking system with its token) to
the kiosk of the booked reception point at `kiosk sync --once` — only that point's — and check in there with the
central server gone; the booked ticket's mark reaches the central server at the next sync."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import requests

from tests.central_server import CentralServer
from tests.server import KioskServer

COMMUNE = "XTN"


def test_a_booking_reaches_its_points_kiosk_and_checks_in_offline(tmp_path):
    central = CentralServer(tmp_path / "central")
    central.cli("init")
    central.cli("add-province", "42", "Hà Tĩnh")
    central.cli("add-commune", COMMUNE, "UBND xã Thử Nghiệm", "--province", "42")
    central.cli("add-site", COMMUNE, "CN", "Điểm Cẩm Nhượng")
    device = central.add_device("Kiosk Cẩm Nhượng", COMMUNE, "UBND xã Thử Nghiệm")
    central.cli("move-device", device["KIOSK_DEVICE_ID"], "--site", "CN")
    token = central.cli("add-booking-token", "--province", "42").strip().splitlines()[-1]
    soon = (datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    bookings = [
        {"code": "CN-0001", "site": "CN", "service": "HT", "at": soon, "name": "Nguyễn Văn An"},
        {"code": "TT-0001", "site": "TT", "service": "HT", "at": soon},
    ]
    kiosk = KioskServer(tmp_path / "kiosk")
    kiosk.cli("init")
    sync_env = {"KIOSK_CENTRAL_URL": central.base, **device}
    with central:
        pushed = requests.post(
            f"{central.base}/api/v1/bookings",
            json={"commune": COMMUNE, "bookings": bookings},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert pushed.status_code == 200, pushed.text
        assert pushed.json()["added"] == 2
        kiosk.cli("sync", "--once", env=sync_env)
        with sqlite3.connect(kiosk.data_dir / "kiosk.db") as conn:
            assert conn.execute("SELECT code FROM bookings").fetchall() == [("CN-0001",)]  # its point's only
    with kiosk:  # the central server is gone
        done = requests.post(f"{kiosk.base}/api/checkin", json={"code": "cn-0001"}, timeout=10)
        assert done.status_code == 201, done.text
        assert done.json()["booking"] == {"code": "CN-0001", "at": soon[-5:], "late": False}
        other = requests.post(f"{kiosk.base}/api/checkin", json={"code": "TT-0001"}, timeout=10)
        assert other.status_code == 404
    with central:
        kiosk.cli("sync", "--once", env=sync_env)
    db = central.data_dir / "central.db"
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT display_number, booked, site_code FROM tickets").fetchall() == [
            (done.json()["display_number"], 1, "CN")
        ]
