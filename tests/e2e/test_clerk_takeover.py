"""Issue 21, point 4: one kiosk cannot take over its commune's clerks.

Two kiosks of one commune and the real `kiosk-central serve`: kiosk B (a device database in tmp_path) brings the
commune its clerks 1111/2222/3333; kiosk A sends one signed upload that switches every clerk off and adds a
clerk with PIN 9999. The upload is refused whole and logged with A's name; after B's next sync, B's clerks still
sign in there and 9999 signs in nowhere.
"""

from __future__ import annotations

import copy
import re

import pytest
import requests

from common.errors import AuthError
from kiosk.app import build_kiosk
from kiosk.catalog import add_clerk
from kiosk.clock import FakeClock
from kiosk.db import transaction
from kiosk.uplink.client import SyncClient
from tests.catalog_uploads import PINS, Kiosk, clerk, everything, start_central
from tests.central.helpers import device_settings

ADMIN, PASSWORD = "quantri.xa", "mat-khau-quan-tri"


def _sign_in(base: str) -> requests.Session:
    web = requests.Session()
    page = web.get(f"{base}/login", timeout=10).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    data = {"username": ADMIN, "password": PASSWORD, "csrf_token": csrf}
    assert web.post(f"{base}/login", data=data, allow_redirects=False, timeout=10).status_code == 302
    return web


@pytest.fixture
def commune(tmp_path, central_db):
    """The central process; kiosk B (a real device, whose clerks the commune adopted) and kiosk A (signed)."""
    server = start_central(tmp_path / "central", central_db)
    server.cli("add-user", ADMIN, "--role", "admin", "--password", PASSWORD)
    b_settings = Kiosk(server, "Điểm Chi nhánh")
    b = build_kiosk(device_settings(tmp_path / "b", server.base, (b_settings.id, b_settings.secret)), FakeClock())
    with transaction(b.sessions) as s:
        for counter, (name, pin) in enumerate(PINS.items(), 1):
            add_clerk(s, name, pin, counter)
    first = SyncClient(b, backoff=0.01).run()
    assert first.ok and first.catalog_sent, first.message()
    a = Kiosk(server, "Điểm Trung tâm")
    yield server, a, b
    b.close()
    server.stop()


def test_one_kiosk_cannot_switch_off_the_communes_clerks(commune):
    server, a, b = commune
    doc = a.document()
    hostile = {part: copy.deepcopy(doc[part]) for part in ("services", "counters", "clerks", "scale", "questions")}
    for person in hostile["clerks"]:
        person["active"] = False
    hostile["clerks"].append(clerk("Kẻ Lạ", "CC99", "9999", 1))
    answer = a.upload(hostile, everything(hostile))
    assert answer.status_code == 403, answer.text
    refusal = answer.json()
    assert refusal["detail"]["rule"] == "clerks_of_other_kiosks"
    assert all(name in refusal["error"] for name in PINS) and "central pages" in refusal["error"]

    report = SyncClient(b, backoff=0.01).run()
    assert report.ok, report.message()
    for counter, (name, pin) in enumerate(PINS.items(), 1):
        login = b.queue.clerks.login(counter, pin)
        assert login.name == name
        b.queue.clerks.logout(login.id, counter)
    with pytest.raises(AuthError):
        b.queue.clerks.login(1, "9999")
    assert all(person["name"] != "Kẻ Lạ" for person in a.document()["clerks"])  # not added either

    web = _sign_in(server.base)
    page = web.get(f"{server.base}/admin/communes/26734/audit", timeout=10)
    assert page.status_code == 200
    row = next(r for r in page.text.split("<tr>") if "Điểm Trung tâm" in r)
    assert "Nguyễn Thị Lan" in row and a.id in row
    assert "từ chối" in row and "Không áp dụng phần nào" in row  # in plain words, Vietnamese first


def test_a_kiosk_still_changes_its_own_clerks_and_adds_new_ones(commune):
    server, a, b = commune
    doc = a.document()
    mine = {part: copy.deepcopy(doc[part]) for part in ("services", "counters", "clerks", "scale", "questions")}
    mine["clerks"][0]["name"] = "Nguyễn Thị Lan Anh"
    mine["clerks"].append(clerk("Phạm Văn Nam", "CC04", "4444", 2))
    own = Kiosk(server, "Điểm Chi nhánh", identity=(b.settings["device_id"], b.settings["device_secret"], 10_000))
    answer = own.upload(mine, everything(mine))
    assert answer.status_code == 200, answer.text
    names = {person["name"] for person in a.document()["clerks"] if person["active"]}
    assert {"Nguyễn Thị Lan Anh", "Phạm Văn Nam"} <= names
