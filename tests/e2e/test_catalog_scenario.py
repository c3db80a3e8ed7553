"""Issue 11 as a commune lives it, on PostgreSQL, with real processes and the real HTTP forms (CSRF included).

The commune sets its kiosk up alone (`kiosk init`, three `kiosk add-clerk`, the six default services) and works
a morning; then the kiosk is registered (`kiosk-central add-device`) and synced (`kiosk sync --once`) while
`kiosk serve` keeps running. Nothing on the kiosk is deactivated: every clerk still signs in, and the central
report names the three clerks with the morning's figures. An administrator then renames one clerk, moves
another to counter 2 and takes a service out of use on the central pages; after the next `kiosk sync --once`
the running kiosk shows the change (its `/admin` read-only, the service gone from `/ticket`, a ticket for it
refused with 409), and the report shows each person once with the whole history.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pytest
import requests

from central.reports.localtime import DEFAULT_LOCAL_TIME
from tests.central_server import CentralServer
from tests.server import KioskServer

pytestmark = pytest.mark.slow
COMMUNE, NAME = "26734", "Xã Tân Hòa"
CLERKS = [("Nguyễn Thị Lan", "1111", 1), ("Trần Văn Minh", "2222", 2), ("Lê Thị Hoa", "3333", 3)]
ADMIN, PASSWORD = "quantri.tinh", "mat-khau-quan-tri"


def token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(base: str) -> requests.Session:
    web = requests.Session()
    page = web.get(f"{base}/login", timeout=10).text
    answer = web.post(
        f"{base}/login",
        data={"username": ADMIN, "password": PASSWORD, "csrf_token": token(page)},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text
    return web


def serve_and_rate(kiosk: KioskServer, counter: int, pin: str, service: str, levels: list[str]) -> None:
    """A clerk signs in at her counter, calls and finishes one ticket per citizen; each citizen rates at once."""
    clerk = requests.Session()
    assert clerk.post(f"{kiosk.base}/api/clerk/login", json={"counter": counter, "pin": pin}, timeout=10).ok
    for level in levels:
        assert requests.post(f"{kiosk.base}/api/tickets", json={"service": service}, timeout=10).status_code == 201
        assert clerk.post(f"{kiosk.base}/api/counters/{counter}/next", timeout=10).status_code == 200
        assert clerk.post(f"{kiosk.base}/api/counters/{counter}/complete", timeout=10).status_code == 200
        rated = requests.post(f"{kiosk.base}/api/ratings", json={"level": level, "counter": counter}, timeout=10)
        assert rated.status_code == 201 and rated.json()["counted"] is True
    out = clerk.post(f"{kiosk.base}/api/clerk/logout", timeout=10)
    assert out.ok, out.text


def signs_in(kiosk: KioskServer, counter: int, pin: str) -> str:
    """The clerk a PIN signs in at a counter; she signs out again, leaving the counter free (one clerk per counter)."""
    clerk = requests.Session()
    answer = clerk.post(f"{kiosk.base}/api/clerk/login", json={"counter": counter, "pin": pin}, timeout=10)
    assert answer.status_code == 200, answer.text
    assert clerk.post(f"{kiosk.base}/api/clerk/logout", timeout=10).ok
    return answer.json()["clerk"]["name"]


def report(web: requests.Session, base: str) -> dict:
    today = DEFAULT_LOCAL_TIME.day(datetime.now(UTC).replace(tzinfo=None)).isoformat()
    answer = web.get(f"{base}/reports/data.json", params={"period": "custom", "from": today, "to": today}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def by_name(rows: list[dict]) -> dict[str, dict]:
    names = [row["name"] for row in rows]
    assert len(names) == len(set(names)), f"a person appears twice: {names}"
    return {row["name"]: row for row in rows}


def catalogue(kiosk: KioskServer) -> dict:
    """The kiosk's catalogue as it would send it (read from its database, as another process can)."""
    from common import settings
    from kiosk import catalog_state
    from kiosk.db import make_engine, make_sessionmaker

    engine = make_engine(settings.load(overrides={"data_dir": str(kiosk.data_dir)})["database_url"])
    try:
        with make_sessionmaker(engine)() as session:
            return catalog_state.snapshot(session)
    finally:
        engine.dispose()


@pytest.fixture
def central(tmp_path, pg_cluster):
    server = CentralServer(tmp_path / "central", env={"KIOSK_CENTRAL_DATABASE_URL": pg_cluster.create_database("c")})
    server.cli("init")
    server.cli("add-user", ADMIN, "--role", "admin", "--password", PASSWORD)
    with server:
        yield server


def test_a_commune_set_up_on_its_kiosk_moves_to_the_central_server(central, tmp_path):
    kiosk = KioskServer(
        tmp_path / "kiosk",
        env={"KIOSK_COMMUNE_CODE": COMMUNE, "KIOSK_COMMUNE_NAME": f"UBND {NAME}", "KIOSK_RESPONSE_INTERVAL": "0"},
    )
    kiosk.cli("init")
    for name, pin, counter in CLERKS:
        kiosk.cli("add-clerk", name, "--pin", pin, "--counter", str(counter))
    kiosk.cli("admin-password", "--password-stdin", input="mat-khau-thiet-bi\n")
    with kiosk:
        # --- a morning of work, before the kiosk knows any central server ------------------------------
        serve_and_rate(kiosk, 1, "1111", "HT", ["very_satisfied", "very_satisfied", "satisfied"])
        serve_and_rate(kiosk, 2, "2222", "DD", ["satisfied", "unsatisfied"])
        serve_and_rate(kiosk, 3, "3333", "BT", ["very_satisfied"])

        # --- registration and first sync -------------------------------------------------------------------
        sync_env = central.add_device("Kiosk Bộ phận Một cửa", COMMUNE, NAME) | {"KIOSK_CENTRAL_URL": central.base}
        first = kiosk.cli("sync", "--once", env=sync_env)
        assert "delivered" in first.stdout, first.stdout
        for name, pin, counter in CLERKS:  # nobody was deactivated: every PIN still signs its clerk in
            assert signs_in(kiosk, counter, pin) == name
        web = sign_in(central.base)
        morning = report(web, central.base)
        clerks = by_name(morning["clerks"])
        assert set(clerks) == {name for name, _, _ in CLERKS}
        lan, minh, hoa = (clerks[name] for name, _, _ in CLERKS)
        assert (lan["ratings"], lan["satisfied_plus_pct"], lan["commune_name"]) == (3, 100.0, NAME)
        assert (minh["ratings"], minh["satisfied_plus_pct"], hoa["ratings"]) == (2, 50.0, 1)
        served = {row["name"]: row["served"] for row in morning["queue"]["clerks"]}
        assert served == {"Nguyễn Thị Lan": 3, "Trần Văn Minh": 2, "Lê Thị Hoa": 1}
        page = web.get(f"{central.base}/reports", timeout=30).text
        assert all(f">{name}</option>" in page for name, _, _ in CLERKS)  # the clerk filter lists them

        # --- the central pages take the catalogue over ---------------------------------------------------
        base = f"{central.base}/admin/communes/{COMMUNE}"
        overview = web.get(base, timeout=10).text
        assert (
            "Các thiết bị đang quản lý danh mục của xã này" in overview and "đang dùng phiên bản mới nhất" in overview
        )
        page = web.get(f"{base}/clerks", timeout=10).text
        ids = dict(
            re.findall(r'action="/admin/communes/26734/clerks/([0-9a-f-]{36})"[^>]*>\s*<input[^>]*>\s*<h2>(\w+)', page)
        )
        assert len(ids) == 3
        by_code = {code: clerk_id for clerk_id, code in ids.items()}
        form = {"csrf_token": token(page), "active": "1"}
        renamed = web.post(
            f"{base}/clerks/{by_code['CC01']}",
            data={**form, "name": "Nguyễn Thị Lan Anh", "counter": "1"},
            allow_redirects=False,
            timeout=10,
        )
        moved = web.post(
            f"{base}/clerks/{by_code['CC03']}", data={**form, "name": "Lê Thị Hoa", "counter": "2"}, timeout=10
        )
        forged = web.post(f"{base}/services/BT", data={"name": "Bảo trợ xã hội", "prefix": "D"}, timeout=10)
        assert forged.status_code == 400  # no CSRF token: refused, nothing changed
        retired = web.post(
            f"{base}/services/BT",
            data={"csrf_token": token(page), "name": "Bảo trợ xã hội", "prefix": "D", "daily_max": ""},
            timeout=10,
        )
        assert renamed.status_code == 302 and moved.ok and retired.ok
        assert "Đã lưu lĩnh vực BT." in retired.text
        overview = web.get(base, timeout=10).text
        assert "máy chủ trung tâm (các trang này)" in overview and "đang dùng phiên bản cũ" in overview
        log = web.get(f"{base}/audit", timeout=10).text
        assert log.count(ADMIN) >= 4 and "nơi quản lý danh mục" in log  # three edits and the switch of owner

        # --- the kiosk takes the change at its next sync -----------------------------------------------
        assert "Catalogue updated" in kiosk.cli("sync", "--once", env=sync_env).stdout
        deadline = time.monotonic() + 10  # the running server notices the other process's change (bench/)
        while "Bảo trợ xã hội" in requests.get(f"{kiosk.base}/ticket", timeout=10).text:
            assert time.monotonic() < deadline, "the inactive service is still offered on /ticket"
            time.sleep(0.05)
        refused = requests.post(f"{kiosk.base}/api/tickets", json={"service": "BT"}, timeout=10)
        assert refused.status_code == 409 and "not in use" in refused.json()["error"]
        assert signs_in(kiosk, 1, "1111") == "Nguyễn Thị Lan Anh"
        assert signs_in(kiosk, 2, "3333") == "Lê Thị Hoa"
        admin = requests.Session()
        page = admin.get(f"{kiosk.base}/admin/login", timeout=10).text
        signed = admin.post(
            f"{kiosk.base}/admin/login", data={"password": "mat-khau-thiet-bi", "csrf_token": token(page)}
        )
        assert signed.ok
        clerks_page = re.sub(r"\s+", " ", admin.get(f"{kiosk.base}/admin/clerks", timeout=10).text)
        assert "Máy chủ trung tâm quản lý lĩnh vực, quầy và công chức" in clerks_page
        assert f"{central.base}/admin/communes/{COMMUNE}" in clerks_page
        assert "<td>Lê Thị Hoa</td><td>2</td>" in clerks_page and "<td>Nguyễn Thị Lan Anh</td><td>1</td>" in clerks_page
        assert web.get(base, timeout=10).text.count("đang dùng phiên bản mới nhất") == 1

        # --- the same people keep working: one row each, with the whole history ------------------------
        serve_and_rate(kiosk, 1, "1111", "HT", ["satisfied"])
        serve_and_rate(kiosk, 2, "3333", "DD", ["very_satisfied"])
        kiosk.cli("sync", "--once", env=sync_env)
    clerks = by_name(report(web, central.base)["clerks"])
    assert set(clerks) == {"Nguyễn Thị Lan Anh", "Trần Văn Minh", "Lê Thị Hoa"}
    assert [clerks[name]["ratings"] for name in ("Nguyễn Thị Lan Anh", "Trần Văn Minh", "Lê Thị Hoa")] == [4, 2, 2]
    for row in clerks.values():
        assert row["known"] and row["commune_name"] == NAME and not re.fullmatch(r"[0-9a-f]{8}", row["name"])

    # --- a second reception point joins later and gets the same catalogue --------------------------------
    second = KioskServer(tmp_path / "second", env={"KIOSK_COMMUNE_CODE": COMMUNE})
    second.cli("init")
    env = central.add_device("Điểm tiếp nhận số 2", COMMUNE, NAME) | {"KIOSK_CENTRAL_URL": central.base}
    second.cli("sync", "--once", env=env)
    assert catalogue(second) == catalogue(kiosk)
    with second:
        assert signs_in(second, 1, "1111") == "Nguyễn Thị Lan Anh"  # her PIN, at another kiosk
        assert signs_in(second, 2, "2222") == "Trần Văn Minh"
        assert "Bảo trợ xã hội" not in requests.get(f"{second.base}/ticket", timeout=10).text
