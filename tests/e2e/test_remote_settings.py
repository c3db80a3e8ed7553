"""Issue 24, remote settings and diagnostics, with both programs as processes: a real `kiosk-central serve` and a
real `kiosk serve` whose sync interval is an hour, so whatever reaches the kiosk comes through its open watch.

A setting changed on the central page is live on the kiosk's screen within seconds and the fleet page shows it
applied; a bad value is refused at the page; a document that does not carry the central server's signature is
refused by the kiosk (and the fleet page says why); "Lấy chẩn đoán" brings back a bundle without citizen data.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import time
from collections.abc import Callable

import pytest
import requests

from tests.central_server import CentralServer
from tests.e2e.test_catalog_push import ADMIN, PASSWORD, sign_in
from tests.server import KioskServer

pytestmark = pytest.mark.slow
COMMUNE, NAME = "42001", "Xã Thạch Hà"
COMMENT, CONTACT = "Chị Hoa ở quầy 2 rất chu đáo", "0987654321"


def until(check: Callable[[], object], within: float, what: str) -> object:
    deadline = time.monotonic() + within
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def csrf(web: requests.Session, url: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', web.get(url, timeout=10).text).group(1)


def remote_of(web: requests.Session, central: CentralServer) -> dict:
    (device,) = web.get(f"{central.base}/fleet.json", timeout=10).json()["devices"]
    return device["remote"]


@contextlib.contextmanager
def running_pair(tmp_path, prepare: Callable[[KioskServer], object] = lambda kiosk: None):
    """A `kiosk-central serve` with an admin and a `kiosk serve` registered to it (``prepare`` sees the kiosk after
    `kiosk init`, before it starts), once the central server has heard from it: (central, kiosk, web, device id)."""
    central = CentralServer(tmp_path / "central")
    central.cli("init")
    central.cli("add-user", ADMIN, "--role", "admin", "--password", PASSWORD)
    with central:
        device = central.add_device("Kiosk Trung tâm", COMMUNE, NAME)
        kiosk = KioskServer(
            tmp_path / "kiosk",
            env={
                "KIOSK_COMMUNE_CODE": COMMUNE,
                "KIOSK_COMMUNE_NAME": f"UBND {NAME}",
                "KIOSK_CENTRAL_URL": central.base,
                "KIOSK_SYNC_INTERVAL": "3600",
                "KIOSK_CATALOG_WATCH_WAIT": "5",
                **device,
            },
        )
        kiosk.cli("init")
        prepare(kiosk)
        with kiosk:
            web = sign_in(central.base)
            until(
                lambda: web.get(f"{central.base}/fleet.json", timeout=10).json()["devices"][0]["last_contact"],
                30,
                "no contact",
            )
            yield central, kiosk, web, device["KIOSK_DEVICE_ID"]


@pytest.fixture
def pair(tmp_path):
    with running_pair(tmp_path) as running:
        yield running


def test_a_setting_changed_centrally_is_live_on_the_kiosk_within_seconds(pair):
    central, kiosk, web, device_id = pair
    page = f"{central.base}/fleet/{device_id}/remote"
    assert 'id="app"' in requests.get(f"{kiosk.base}/", timeout=10).text  # the rating screen at /

    bad = web.post(page, data={"csrf_token": csrf(web, page), "printer_width": "rộng"}, timeout=10)
    assert bad.status_code == 400 and "printer_width" in bad.text
    assert remote_of(web, central)["sent"] is None

    started = time.monotonic()
    saved = web.post(page, data={"csrf_token": csrf(web, page), "home_screen": "ticket"}, timeout=10)
    assert saved.status_code == 200 and "phiên bản 1" in saved.text, saved.text  # redirected back to the page
    until(
        lambda: 'id="ticket-app"' in requests.get(f"{kiosk.base}/", timeout=10).text, 15, "/ is not the ticket screen"
    )
    taken = time.monotonic() - started
    shown = until(lambda: (r := remote_of(web, central))["applied"] == 1 and r, 10, "the fleet page does not show it")
    assert shown["sent"] == 1 and shown["refused"] is None
    row = web.get(f"{central.base}/fleet", timeout=10).text
    assert "đã gửi 1, đã áp dụng 1" in row, row
    print(f"remote setting live on the kiosk {taken:.1f} s after the save")


def test_a_document_without_the_servers_signature_is_refused(pair):
    central, kiosk, web, device_id = pair
    forged = {"home_screen": "ticket"}
    with sqlite3.connect(central.data_dir / "central.db") as db:  # someone with the database, not the master key
        db.execute(
            'INSERT INTO remote_settings (commune_code, device_id, version, "values", signature, saved_at, saved_by)'
            " VALUES (?, ?, 1, ?, ?, '2026-12-06 10:00:00', 'ke-gia-mao')",
            (COMMUNE, device_id.replace("-", ""), json.dumps(forged), "0" * 64),
        )
    shown = until(lambda: (r := remote_of(web, central))["refused"] and r, 30, "the kiosk did not refuse it")
    assert shown["applied"] is None and "signature" in shown["refused"]["reason"]
    assert 'id="app"' in requests.get(f"{kiosk.base}/", timeout=10).text  # still the rating screen
    assert not (kiosk.data_dir / "remote-settings.json").exists()


def test_a_diagnostics_bundle_round_trip_without_citizen_data(pair):
    central, kiosk, web, device_id = pair
    rating = requests.post(
        f"{kiosk.base}/api/ratings",
        json={"level": "very_satisfied", "counter": 1, "comment": COMMENT, "contact": CONTACT},
        timeout=10,
    )
    assert rating.status_code == 201, rating.text
    page = f"{central.base}/fleet/{device_id}/remote"
    started = time.monotonic()
    asked = web.post(f"{central.base}/fleet/{device_id}/diagnostics", data={"csrf_token": csrf(web, page)}, timeout=10)
    assert asked.status_code == 200
    link = until(
        lambda: re.search(r'href="(/fleet/[^"]+/diagnostics/[^"]+\.json)"', web.get(page, timeout=10).text),
        20,
        "no bundle",
    )
    print(f"diagnostics bundle at the central server {time.monotonic() - started:.1f} s after the request")
    download = web.get(central.base + link.group(1), timeout=10)
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    bundle = download.json()
    assert bundle["healthz"]["db"] == "ok" and bundle["versions"]["python"] and bundle["disk"]["free_mb"] > 0
    assert bundle["settings"]["central_url"] == central.base and bundle["settings"]["device_secret"] == "***"
    assert bundle["log"]["lines"], "no log lines in the bundle"
    assert COMMENT not in download.text and "chu đáo" not in download.text and CONTACT not in download.text
