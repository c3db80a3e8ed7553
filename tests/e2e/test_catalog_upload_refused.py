"""Issue 21, point 3 on the kiosk: a catalogue the central server refuses is said, shown, and not sent forever.

Kiosks A and B of one commune (device databases in tmp_path) and the real `kiosk-central serve`: B brought the
commune its clerks; A's administrator switches one of B's clerks off at A's `/admin`, and a catalogue entry is
damaged behind `/admin`'s back. `kiosk sync --once` (the real command) names what was refused, why, and what to
do; `/admin` and `/healthz` show it; the records still reach the server; the refused catalogue is not sent again.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from sqlalchemy import update

from kiosk import admin as admin_auth
from kiosk import catalog_state
from kiosk.app import build_kiosk, create_app
from kiosk.catalog import add_clerk
from kiosk.catalog_edit import update_clerk
from kiosk.clock import FakeClock
from kiosk.db import transaction
from kiosk.health import health
from kiosk.models import Clerk, Service
from kiosk.uplink.client import SyncClient
from tests.catalog_uploads import COMMUNE, PINS, Kiosk, start_central
from tests.central.helpers import add_records, device_settings

PASSWORD = "mat-khau-quan-tri"


def sync_once(data_dir, url: str, ident: Kiosk) -> subprocess.CompletedProcess:
    env = {
        "KIOSK_DATA_DIR": str(data_dir),
        "KIOSK_CONFIG": str(data_dir / "none.toml"),
        "KIOSK_CENTRAL_URL": url,
        "KIOSK_DEVICE_ID": ident.id,
        "KIOSK_DEVICE_SECRET": ident.secret,
        "KIOSK_COMMUNE_CODE": COMMUNE,
        "KIOSK_PRINTER": "none",
        "KIOSK_GPIO": "mock",
        "PATH": "/usr/bin:/bin",
    }
    command = [sys.executable, "-m", "kiosk.cli", "sync", "--once"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def commune(tmp_path, central_db):
    """The central process; kiosk B (whose clerks the commune adopted) and kiosk A (its web app), both synced."""
    server = start_central(tmp_path / "central", central_db)
    b_id, a_id = Kiosk(server, "Điểm Chi nhánh"), Kiosk(server, "Điểm Trung tâm")
    b = build_kiosk(device_settings(tmp_path / "b", server.base, (b_id.id, b_id.secret)), FakeClock())
    with transaction(b.sessions) as s:
        for counter, (name, pin) in enumerate(PINS.items(), 1):
            add_clerk(s, name, pin, counter)
    assert SyncClient(b, backoff=0.01).run().ok
    settings = {"central_url": server.base, "device_id": a_id.id, "device_secret": a_id.secret}
    app = create_app(
        {"data_dir": str(tmp_path / "a"), "gpio": "mock", "printer": "none", "commune_code": COMMUNE, **settings},
        clock=FakeClock(),
    )
    a = app.extensions["kiosk"]
    assert SyncClient(a, backoff=0.01).run().ok  # A joins: B's clerks sign in at A too
    with transaction(a.sessions) as s:
        admin_auth.set_password(s, PASSWORD)
    yield server, app, a, a_id, b
    a.close()
    b.close()
    server.stop()


def admin_home(app) -> str:
    client = app.test_client()
    page = client.get("/admin/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/admin/login", data={"password": PASSWORD, "csrf_token": csrf}).status_code == 302
    return client.get("/admin").get_data(as_text=True)


def test_kiosk_sync_says_its_clerk_edit_was_refused_and_the_records_still_go(commune, tmp_path):
    server, app, a, a_id, b = commune
    with a.sessions() as s:
        minh = next(c for c in s.query(Clerk) if c.name == "Trần Văn Minh" and c.active)
    with transaction(a.sessions) as s:
        update_clerk(s, minh.id, minh.name, minh.counter_number, False)  # A's admin switches off B's clerk
    made = add_records(a, 3)

    done = sync_once(tmp_path / "a", server.base, a_id)
    said = done.stdout + done.stderr
    assert done.returncode == 2, said
    assert (
        "refused this kiosk's catalogue" in said
        and "Trần Văn Minh" in said
        and "change those clerks on the central pages" in said
    )
    assert f"Sync finished: {len(made)} record(s) stored at the central server" in said, said

    kiosk = a
    note = health(kiosk)[0]["catalog"]["upload_refused"]
    assert note["status"] == 403 and "Trần Văn Minh" in note["reason"]
    home = admin_home(app)
    assert 'id="catalog-upload-refused"' in home and "Trần Văn Minh" in home
    login = kiosk.queue.clerks.login(2, "2222")  # set back to the commune's version here: she signs in
    assert login.name == "Trần Văn Minh"
    kiosk.queue.clerks.logout(login.id, 2)
    assert SyncClient(b, backoff=0.01).run().ok
    assert b.queue.clerks.login(2, "2222").name == "Trần Văn Minh"

    again = sync_once(tmp_path / "a", server.base, a_id)  # nothing new to send: not refused again
    assert again.returncode == 0, again.stdout + again.stderr


def test_a_damaged_entry_is_refused_once_and_not_sent_again(commune):
    server, app, a, a_id, b = commune
    with transaction(a.sessions) as s:  # what /admin prevents, done behind its back
        s.execute(update(Service).where(Service.code == "HT").values(name="Hộ\x07tịch"))
        catalog_state.touch(s, "service:HT")
    made = add_records(a, 2)
    first = SyncClient(a, backoff=0.01).run()
    said = first.message()
    assert first.sent == len(made) and not first.catalog_sent
    assert first.catalog_applied is False  # the commune's catalogue was still taken (the one in use here)
    assert "refused this kiosk's catalogue:" in said and "services[0] (HT)" in said and "U+0007" in said, said
    assert "/admin" in said  # where to correct it
    assert health(a)[0]["catalog"]["upload_refused"]["status"] == 400
    second = SyncClient(a, backoff=0.01).run()  # not sent again as it is: the refusal stands, said as before
    assert not second.catalog_sent and "refused this kiosk's catalogue (since" in second.message()
    as_b = Kiosk(server, "Điểm Chi nhánh", identity=(b.settings["device_id"], b.settings["device_secret"], 50_000))
    assert [s["name"] for s in as_b.document()["services"] if s["code"] == "HT"] == ["Hộ tịch"]
