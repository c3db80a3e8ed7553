"""Issue 22 point 5: a catalogue changed centrally is on a running kiosk's ticket screen within seconds.

A real `kiosk-central serve` and a real `kiosk serve` (subprocesses) whose sync interval is an hour: the change
(`kiosk-central import-config`, another process than the server) reaches the ticket screen through the kiosk's
open catalogue watch, not through a sync. A kiosk that cannot reach the server while the change is made takes
it as soon as the server answers again. The commune's catalogue page says, per kiosk, whether it has the newest
version yet.
"""

from __future__ import annotations

import json
import time

import pytest
import requests

from tests.central_server import CentralServer
from tests.central_server import sign_in as sign_in_as
from tests.server import KioskServer

pytestmark = pytest.mark.slow
COMMUNE, NAME = "42001", "Xã Thạch Hà"
ADMIN, PASSWORD = "quantri.tinh", "mat-khau-quan-tri"
#: Far longer than any wait below: whatever the kiosk shows came by the watch, not by a sync.
SYNC_INTERVAL = "3600"


def sign_in(base: str) -> requests.Session:
    return sign_in_as(base, ADMIN, PASSWORD)


def import_config(central: CentralServer, tmp_path, name: str, field: str, prefix: str) -> None:
    """Replace the commune's fields by Hộ tịch and ``field``, both at counter 1 (another process than the server)."""
    doc = {
        "services": [
            {"code": "HT", "name": "Hộ tịch", "prefix": "A"},
            {"code": "XD", "name": field, "prefix": prefix},
        ],
        "counters": [{"number": 1, "services": ["HT", "XD"]}],
    }
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    central.cli("import-config", str(path), "--commune", COMMUNE)


def shows(kiosk: KioskServer, text: str, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if text in requests.get(f"{kiosk.base}/ticket", timeout=10).text:
            return True
        time.sleep(0.2)
    return False


def kiosk_row(web: requests.Session, central: CentralServer, kiosk_name: str) -> str:
    page = web.get(f"{central.base}/admin/communes/{COMMUNE}", timeout=10).text
    table = page.split('<table id="kiosks">', 1)[1].split("</table>", 1)[0]
    rows = [row for row in table.split("<tr>") if kiosk_name in row]
    assert len(rows) == 1, page
    return rows[0]


@pytest.fixture
def central_server(tmp_path):
    server = CentralServer(tmp_path / "central")
    server.cli("init")
    server.cli("add-user", ADMIN, "--role", "admin", "--password", PASSWORD)
    with server:
        yield server


@pytest.fixture
def kiosk_server(central_server, tmp_path):
    central = central_server
    device = central.add_device("Kiosk Trung tâm", COMMUNE, NAME)
    server = KioskServer(
        tmp_path / "kiosk",
        env={
            "KIOSK_COMMUNE_CODE": COMMUNE,
            "KIOSK_COMMUNE_NAME": f"UBND {NAME}",
            "KIOSK_CENTRAL_URL": central.base,
            "KIOSK_SYNC_INTERVAL": SYNC_INTERVAL,
            "KIOSK_CATALOG_WATCH_WAIT": "20",
            **device,
        },
    )
    server.cli("init")
    with server:
        yield server


def test_a_central_change_is_on_the_ticket_screen_within_seconds(central_server, kiosk_server, tmp_path):
    central, kiosk = central_server, kiosk_server
    web = sign_in(central.base)
    deadline = time.monotonic() + 30  # the kiosk's first exchange: its catalogue adopted as the commune's
    while "kiosk-newest" not in kiosk_row(web, central, "Kiosk Trung tâm"):
        assert time.monotonic() < deadline, kiosk_row(web, central, "Kiosk Trung tâm")
        time.sleep(0.3)
    assert "Xây dựng nhà ở" not in requests.get(f"{kiosk.base}/ticket", timeout=10).text

    import_config(central, tmp_path, "first", "Xây dựng nhà ở", "X")
    assert shows(kiosk, "Xây dựng nhà ở", within=15), "the new field is not on the ticket screen"
    ticket = requests.post(f"{kiosk.base}/api/tickets", json={"service": "XD"}, timeout=10)
    assert ticket.status_code == 201 and ticket.json()["display_number"].startswith("X"), ticket.text

    # The kiosk told the server which version it now uses: the page says it has the newest one.
    deadline = time.monotonic() + 10
    while "received-yes" not in (row := kiosk_row(web, central, "Kiosk Trung tâm")):
        assert time.monotonic() < deadline, row
        time.sleep(0.3)
    assert "đã nhận" in row and "đang dùng phiên bản mới nhất" in row


def test_a_kiosk_cut_off_during_a_change_takes_it_when_it_reconnects(central_server, kiosk_server, tmp_path):
    central, kiosk = central_server, kiosk_server
    web = sign_in(central.base)
    import_config(central, tmp_path, "first", "Xây dựng nhà ở", "X")
    assert shows(kiosk, "Xây dựng nhà ở", within=30)

    central.stop()  # the kiosk's watch now finds nobody at the server's address
    import_config(central, tmp_path, "second", "Đất đai và xây dựng", "Q")
    assert not shows(kiosk, "Đất đai và xây dựng", within=3)
    central.start()
    web = sign_in(central.base)
    row = kiosk_row(web, central, "Kiosk Trung tâm")
    assert "received-no" in row and "chưa nhận" in row and "đang dùng phiên bản cũ" in row, row

    assert shows(kiosk, "Đất đai và xây dựng", within=45), "the change did not come when the server was back"
    deadline = time.monotonic() + 10
    while "received-yes" not in (row := kiosk_row(web, central, "Kiosk Trung tâm")):
        assert time.monotonic() < deadline, row
        time.sleep(0.3)


def test_a_refused_catalogue_is_fetched_once_not_again_and_again(central_app, central, device, serve, make_kiosk):
    """The watch's next question names the version the kiosk refused: it waits instead of fetching it in a loop."""
    from sqlalchemy import update

    from central.models import Clerk as CentralClerk
    from kiosk.catalog import add_clerk
    from kiosk.db import transaction
    from kiosk.health import health
    from kiosk.uplink.catalog_watch import CentralCatalogWatch
    from kiosk.uplink.client import SyncClient

    kiosk = make_kiosk(serve(central_app).url, device)
    with transaction(kiosk.sessions) as s:
        add_clerk(s, "Nguyễn Thị Lan", "1111", 1)
    assert SyncClient(kiosk).run().ok
    with central.engine.begin() as conn:  # what the pages prevent, done behind their back: no clerk left
        conn.execute(update(CentralClerk.__table__).values(active=False))
    watch = CentralCatalogWatch(kiosk, wait=1)
    watch.start()
    try:
        deadline = time.monotonic() + 20
        while health(kiosk)[0]["catalog"]["refused"] is None:
            assert time.monotonic() < deadline, "the watch did not take the commune's catalogue"
            time.sleep(0.1)
        time.sleep(4)  # several questions of 1 s each
        assert watch.exchanges == 1 and watch.is_alive()
    finally:
        watch.stop()
    assert kiosk.queue.clerks.login(1, "1111").name == "Nguyễn Thị Lan"  # nothing of it was applied
