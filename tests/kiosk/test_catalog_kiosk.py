"""The kiosk's side of the catalogue: unique PINs (`/admin`, `kiosk add-clerk`), never an unusable catalogue,
one `Kiosk.reload_catalog()` for every cache — also after another process (`kiosk sync --once`, `kiosk init`)
changed the database under a running app — and an inactive service refused with 409.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from kiosk import catalog_state
from kiosk.app import build_kiosk
from kiosk.catalog import add_clerk
from kiosk.catalog_edit import save_service
from kiosk.cli import main
from kiosk.db import transaction
from kiosk.models import Clerk, Counter, Question, ScaleLevel, Ticket
from tests.kiosk.test_admin import login, set_password, text_of, token


@pytest.fixture
def admin(client, kiosk):
    set_password(kiosk)
    assert login(client).status_code == 302
    return client


def post(client, path: str, **data):
    return client.post(path, data={"csrf_token": token(client, "/admin/clerks"), **data})


def clerks(kiosk) -> list[tuple[str, bool]]:
    with kiosk.sessions() as s:
        return [(c.name, c.active) for c in s.scalars(select(Clerk).order_by(Clerk.code))]


def eventually(check, what: str, seconds: float = 10.0):
    """The running app notices another process's change by itself (its latency is measured in bench/catalog.py)."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def other_process(kiosk):
    """The same database opened as `kiosk sync --once` or `kiosk init` would: another Kiosk, no web app."""
    return build_kiosk(kiosk.settings)


def test_a_pin_is_refused_at_admin_when_another_active_clerk_has_it(admin, kiosk):
    assert post(admin, "/admin/clerks", name="Nguyễn Thị Lan", pin="1111", counter="1").status_code == 302
    clash = post(admin, "/admin/clerks", name="Trần Văn Minh", pin="1111", counter="2")
    assert clash.status_code == 400
    assert "Mã PIN này đã là mã PIN của Nguyễn Thị Lan (CC01)" in text_of(clash)
    assert re.search(r'id="pin-new"[^>]*aria-invalid="true"', clash.get_data(as_text=True))
    assert clerks(kiosk) == [("Nguyễn Thị Lan", True)]
    assert post(admin, "/admin/clerks", name="Trần Văn Minh", pin="2222", counter="2").status_code == 302
    with kiosk.sessions() as s:
        minh = s.scalar(select(Clerk).where(Clerk.code == "CC02"))
    reset = post(admin, f"/admin/clerks/{minh.id}", name="Trần Văn Minh", counter="2", active="1", pin="1111")
    assert reset.status_code == 400 and "Nguyễn Thị Lan (CC01)" in text_of(reset)
    assert kiosk.queue.clerks.login(2, "2222").name == "Trần Văn Minh"  # the old PIN still works
    assert kiosk.queue.clerks.login(1, "1111").name == "Nguyễn Thị Lan"


def test_kiosk_add_clerk_refuses_a_pin_another_clerk_has(kiosk, monkeypatch):
    monkeypatch.setenv("KIOSK_DATA_DIR", kiosk.settings["data_dir"])
    runner = CliRunner()
    first = runner.invoke(main, ["add-clerk", "Nguyễn Thị Lan", "--pin", "1111", "--counter", "1"], obj={})
    assert first.exit_code == 0, first.output
    clash = runner.invoke(main, ["add-clerk", "Trần Văn Minh", "--pin", "1111"], obj={})
    assert clash.exit_code == 2 and "already the PIN of Nguyễn Thị Lan (CC01)" in clash.output
    assert clerks(kiosk) == [("Nguyễn Thị Lan", True)]
    with transaction(kiosk.sessions) as s:
        catalog_state.put(s, catalog_state.OWNER_KEY, "central")
    central = runner.invoke(main, ["add-clerk", "Trần Văn Minh", "--pin", "2222"], obj={})
    assert central.exit_code == 2 and "central server manages" in central.output


def test_admin_never_leaves_the_kiosk_without_a_clerk_a_service_or_an_open_counter(admin, kiosk):
    assert post(admin, "/admin/clerks", name="Nguyễn Thị Lan", pin="1111", counter="1").status_code == 302
    with kiosk.sessions() as s:
        lan = s.scalar(select(Clerk))
    last = post(admin, f"/admin/clerks/{lan.id}", name="Nguyễn Thị Lan", counter="1")
    assert last.status_code == 400 and "Sẽ không còn công chức nào đăng nhập được" in text_of(last)
    assert clerks(kiosk) == [("Nguyễn Thị Lan", True)]
    for code, prefix in [("HT", "A"), ("CT", "B"), ("DD", "C"), ("TP", "F")]:  # no longer needing counters 1, 2
        assert post(admin, f"/admin/services/{code}", name=code, prefix=prefix).status_code == 302
    for number in (1, 2):
        assert post(admin, f"/admin/counters/{number}", name=f"Quầy {number}").status_code == 302
    closed = post(admin, "/admin/counters/3", name="Quầy 3")
    assert closed.status_code == 400 and "Sẽ không còn quầy nào đang mở" in text_of(closed)


def test_reload_catalog_refreshes_every_cache_and_tells_the_screens(app, kiosk, client):
    events = kiosk.events.subscribe()
    assert "Bảo trợ xã hội" in client.get("/ticket").get_data(as_text=True)
    assert kiosk.ratings.levels()["unsatisfied"].label == "Không hài lòng"
    with transaction(kiosk.sessions) as s:  # changed behind the caches' back, as a central catalogue would
        save_service(s, "BT", "Bảo trợ xã hội", "D", "", False, new=False)
        s.get(ScaleLevel, "unsatisfied").label = "Chưa hài lòng"
        s.get(Question, "contacts").active = False
    kiosk.reload_catalog()
    assert "Bảo trợ xã hội" not in client.get("/ticket").get_data(as_text=True)
    assert "BT" not in [s["code"] for s in client.get("/api/queue").get_json()["services"]]
    assert kiosk.ratings.levels()["unsatisfied"].label == "Chưa hài lòng"
    page = client.get("/rate").get_data(as_text=True)
    assert "Chưa hài lòng" in page and "Số lần phải liên hệ" not in page and "Thời gian giải quyết" in page
    kinds = []
    while not events.empty():
        kinds.append(events.get_nowait().kind)
    assert "catalog_changed" in kinds
    refused = client.post("/api/tickets", json={"service": "BT"})
    assert refused.status_code == 409 and refused.get_json()["error"].startswith(
        "Service BT (Bảo trợ xã hội) is not in use"
    )
    assert client.post("/api/tickets", json={"service": "XX"}).status_code == 404


def test_a_running_app_notices_a_change_made_by_another_process(app, kiosk, client):
    issued = client.post("/api/tickets", json={"service": "HT"})
    assert issued.status_code == 201
    other = other_process(kiosk)
    try:
        with transaction(other.sessions) as s:
            save_service(s, "HT", "Hộ tịch", "A", "", False, new=False)
            add_clerk(s, "Lê Thị Hoa", "3333", 3)
    finally:
        other.close()
    eventually(lambda: "Hộ tịch" not in client.get("/ticket").get_data(as_text=True), "HT still offered")
    assert client.post("/api/tickets", json={"service": "HT"}).status_code == 409
    assert kiosk.queue.clerks.login(3, "3333").name == "Lê Thị Hoa"
    status = client.get("/healthz").get_json()["catalog"]
    assert status["owner"] == "kiosk" and status["undelivered"] == 2 and status["refused"] is None


def test_admin_says_who_manages_the_catalogue_and_what_was_refused(admin, kiosk):
    page = text_of(admin.get("/admin"))
    assert "Do thiết bị này quản lý" in page and 'id="catalog-refused"' not in page
    note = {
        "version": "abc",
        "reason": "The commune's catalogue (version abc) was refused: No clerk could sign in any more: …",
        "at": "2026-11-20T01:00:00+00:00",
        "msgid": "No clerk could sign in any more: at least one clerk must stay active.",
        "params": {},
    }
    with transaction(kiosk.sessions) as s:
        catalog_state.put(s, catalog_state.OWNER_KEY, "central")
        catalog_state.put(s, catalog_state.REFUSED_KEY, json.dumps(note))
    page = text_of(admin.get("/admin"))
    assert "Do máy chủ trung tâm quản lý" in page
    assert "Danh mục gần nhất từ máy chủ trung tâm đã bị từ chối (08:00 20/11/2026)" in page
    assert "Sẽ không còn công chức nào đăng nhập được" in page
    assert admin.get("/healthz").get_json()["catalog"]["refused"]["version"] == "abc"


def test_no_ticket_for_a_service_no_open_counter_handles(app, kiosk, client):
    """Belt and braces: even when a catalogue that strands a service got in (an old kiosk's database, a hand
    edit), the ticket screen greys its tile and ``POST /api/tickets`` refuses it in Vietnamese: no G001 that no
    console can call."""

    with transaction(kiosk.sessions) as s:  # behind the rules' back: counter 3 (BT, NCC) closed
        s.get(Counter, 3).active = False
    kiosk.reload_catalog()
    answer = client.post("/api/tickets", json={"service": "BT"})
    body = answer.get_json()
    assert answer.status_code == 409 and body["detail"]["reason"] == "no_counter"
    assert body["error"].startswith("Hiện chưa có quầy nào phục vụ lĩnh vực Bảo trợ xã hội")
    assert "BT" not in body["detail"]["allowed"] and "HT" in body["detail"]["allowed"]
    page = client.get("/ticket").get_data(as_text=True)
    tile = re.search(r'<button[^>]*data-unstaffed="BT"[^>]*>.*?</button>', page, re.S)
    assert tile and "disabled" in tile.group(0) and "Chưa có quầy phục vụ" in tile.group(0)
    assert 'data-service="BT"' not in page and 'data-service="HT"' in page
    assert client.post("/api/tickets", json={"service": "HT"}).status_code == 201
    with kiosk.sessions() as s:
        assert [t.service_code for t in s.scalars(select(Ticket))] == ["HT"]
    with transaction(kiosk.sessions) as s:  # the counter opens again: so does the tile
        s.get(Counter, 3).active = True
    kiosk.reload_catalog()
    assert client.post("/api/tickets", json={"service": "BT"}).status_code == 201
