"""Issue 24, remote settings and diagnostics: a kiosk's settings changed on the central pages reach it signed and
versioned and come back as applied (or refused, with the reason); a diagnostics bundle holds no citizen data.

A real kiosk syncs through the real client with the central app served over loopback (SQLite and PostgreSQL).
The end-to-end run with both programs as processes is tests/e2e/test_remote_settings.py.
"""

from __future__ import annotations

import json
import os
import signal

import pytest
import requests
from sqlalchemy import update

from central.registry import add_commune, add_device, add_user
from central.remote_models import RemoteSettings
from common import remote_settings
from common import settings as settings_mod
from common.errors import ConfigError
from kiosk.uplink import remote_apply
from kiosk.uplink.client import SyncClient
from tests.central.helpers import COMMUNE, TEST_PASSWORD, add_records, sign_in, token


def page_of(device: tuple[str, str]) -> str:
    return f"/fleet/{device[0]}/remote"


def save(client, device: tuple[str, str], **values: str):
    path = page_of(device)
    return client.post(path, data={"csrf_token": token(client, path), **values})


def admin(central_app, username: str = "quantri", role: str = "admin", commune: str | None = None):
    add_user(central_app.extensions["central"], username, TEST_PASSWORD, role, commune_code=commune)
    return sign_in(central_app, username)


def fleet_remote(client) -> dict:
    (device,) = client.get("/fleet.json").json["devices"]
    return device["remote"]


def test_only_harmless_settings_may_be_set_remotely():
    remote = {s.name for s in settings_mod.REGISTRY if s.remote}
    assert {"printer_width", "home_screen", "sync_interval", "spoken_prompts"} <= remote
    never = {"central_url", "device_id", "device_secret", "data_dir", "database_url", "secret_key", "commune_code"}
    never |= {"printer", "announcer"}  # a bad address stops the kiosk at start: it could not be told otherwise
    assert not remote & never
    assert not any("secret" in name or "key" in name for name in remote)


def test_a_remote_file_sits_between_kiosk_toml_and_the_environment(tmp_path):
    toml = tmp_path / "kiosk.toml"
    toml.write_text(f'data_dir = "{tmp_path}"\nhome_screen = "ticket"\nthanks_seconds = 9\nprinter_width = "80mm"\n')
    document = {"values": {"thanks_seconds": 4, "printer_width": "58mm", "device_secret": "stolen"}}
    (tmp_path / settings_mod.REMOTE_FILE).write_text(json.dumps(document))
    loaded = settings_mod.load(toml, env={"KIOSK_PRINTER_WIDTH": "576"})
    assert loaded["home_screen"] == "ticket"  # kiosk.toml, nothing remote
    assert loaded["thanks_seconds"] == 4  # the remote value over kiosk.toml
    assert loaded["printer_width"] == "576"  # the environment over the remote value
    assert loaded["device_secret"] == ""  # a name that may not be set remotely is ignored
    assert loaded.without_remote["thanks_seconds"] == 9
    (tmp_path / settings_mod.REMOTE_FILE).write_text("{not json")
    with pytest.raises(ConfigError, match="remote-settings.json"):
        settings_mod.load(toml, env={})


def test_a_change_is_applied_by_the_kiosk_and_shown_on_the_fleet_page(central_app, device, serve, make_kiosk):
    kiosk = make_kiosk(serve(central_app).url, device)
    client = admin(central_app)
    assert kiosk.settings["home_screen"] == "rating"
    answer = save(client, device, home_screen="ticket", thanks_seconds="8", printer_width="80mm")
    assert answer.status_code == 302, answer.text
    assert fleet_remote(client)["sent"] == 1 and fleet_remote(client)["applied"] is None

    assert SyncClient(kiosk, backoff=0.01).run().ok
    assert kiosk.settings["home_screen"] == "ticket" and kiosk.settings["thanks_seconds"] == 8  # live
    assert kiosk.settings["printer_width"] == "58mm"  # the printer is opened at start: at the next start
    written = json.loads((kiosk.settings.data_path / settings_mod.REMOTE_FILE).read_text())
    assert written["version"] == 1 and written["values"]["printer_width"] == "80mm"
    shown = fleet_remote(client)
    assert (shown["sent"], shown["applied"], shown["refused"]) == (1, 1, None)
    assert shown["restart_pending"] is True  # printer_width waits for the next start, which reads the file:
    restarted = settings_mod.load(env={"KIOSK_DATA_DIR": str(kiosk.settings.data_path)})
    assert restarted["printer_width"] == "80mm" and restarted["home_screen"] == "ticket"
    page = client.get(page_of(device)).text
    assert "quantri" in page and "home_screen = ticket" in page  # the version log says who

    assert save(client, device, thanks_seconds="8").status_code == 302  # home_screen back to the kiosk's own
    assert SyncClient(kiosk, backoff=0.01).run().ok
    assert kiosk.settings["home_screen"] == "rating" and fleet_remote(client)["applied"] == 2


def test_a_bad_value_is_refused_at_the_page_naming_the_setting(central_app, device):
    client = admin(central_app)
    answer = save(client, device, home_screen="ticket", printer_width="wide")
    assert answer.status_code == 400
    assert "printer_width" in answer.text and 'aria-invalid="true"' in answer.text
    assert fleet_remote(client)["sent"] is None  # nothing saved
    assert save(client, device, sync_interval="soon").status_code == 400
    assert save(client, device, printer_width="100").status_code == 400  # not a multiple of 8 dots
    assert save(client, device, printer="usb:0416:5011").status_code == 400  # not settable remotely
    assert save(client, device, home_screen="menu").status_code == 400


def test_a_commune_admin_sets_only_its_own_communes_kiosks(central_app, central, device):
    add_commune(central, "99999", "Xã Khác")
    other = add_device(central, "Quầy khác", "99999", "Xã Khác")
    client = admin(central_app, "canbo.xa", "commune_admin", COMMUNE)
    assert save(client, device, home_screen="ticket").status_code == 302
    assert client.get(page_of(other)).status_code == 404
    viewer = admin(central_app, "nguoi.xem", "commune_viewer", COMMUNE)
    assert viewer.get(page_of(device)).status_code == 403


def test_a_document_changed_after_it_was_saved_is_refused_by_the_kiosk(central_app, central, device, serve, make_kiosk):
    kiosk = make_kiosk(serve(central_app).url, device)
    client = admin(central_app)
    assert save(client, device, home_screen="ticket").status_code == 302
    with central.engine.begin() as conn:  # behind the pages' back: the values no longer match their signature
        conn.execute(update(RemoteSettings.__table__).values(values={"home_screen": "ticket", "sync_interval": 1}))
    assert SyncClient(kiosk, backoff=0.01).run().ok
    assert kiosk.settings["home_screen"] == "rating"
    assert not (kiosk.settings.data_path / settings_mod.REMOTE_FILE).exists()
    shown = fleet_remote(client)
    assert shown["applied"] is None and shown["refused"]["version"] == 1
    assert "signature" in shown["refused"]["reason"]
    assert "signature" in client.get("/fleet").text


def test_a_diagnostics_bundle_comes_back_without_citizen_data(central_app, device, serve, make_kiosk):
    kiosk = make_kiosk(serve(central_app).url, device)
    add_records(kiosk, 7, comment_every=1)  # comments "Cán bộ nhiệt tình ✓" with contact 0912345678
    client = admin(central_app)
    path = page_of(device)
    assert client.post(f"/fleet/{device[0]}/diagnostics", data={"csrf_token": token(client, path)}).status_code == 302
    assert SyncClient(kiosk, backoff=0.01).run().ok
    link = next(line for line in client.get(path).text.splitlines() if "/diagnostics/" in line and ".json" in line)
    href = link.split('href="', 1)[1].split('"', 1)[0]
    download = client.get(href)
    assert download.status_code == 200
    bundle = json.loads(download.data)
    assert bundle["versions"]["kiosk"] and bundle["healthz"]["db"] == "ok" and bundle["disk"]["free_mb"] > 0
    assert bundle["settings"]["device_secret"] == "***" and device[1] not in download.text
    assert "synced" in bundle["clock"] and isinstance(bundle["log"]["lines"], list)
    assert "nhiệt tình" not in download.text and "0912345678" not in download.text
    assert "Cán bộ" not in download.data.decode()
    viewer = admin(central_app, "nguoi.xem", "commune_viewer", COMMUNE)
    assert viewer.get(href).status_code == 403


class DroppingReports(requests.Session):
    """The kiosk's HTTP transport, whose network drops for every report to the central after the first one."""

    def __init__(self) -> None:
        super().__init__()
        self.reports = 0

    def request(self, method, url, *args, **kwargs):
        if method == "POST" and url.endswith(remote_settings.REMOTE_PATH):
            self.reports += 1
            if self.reports > 1:
                raise requests.ConnectionError("the Wi-Fi dropped")
        return super().request(method, url, *args, **kwargs)


def test_a_report_lost_after_applying_does_not_lose_the_restart(
    central_app, device, serve, make_kiosk, monkeypatch, caplog
):
    """A setting read at start, applied, then the report of it lost (the network dropped): the kiosk still stops
    itself to take it — the version is recorded as applied, and no later sync applies it again."""
    kiosk = make_kiosk(serve(central_app).url, device)
    assert save(admin(central_app), device, printer_width="80mm").status_code == 302
    monkeypatch.setenv("INVOCATION_ID", "under-systemd")  # as kiosk.service runs it
    stops = []
    monkeypatch.setattr(remote_apply.threading, "Timer", lambda delay, call, args: stops.append(args) or Stub())
    with caplog.at_level("WARNING", logger="kiosk.uplink.remote_apply"):
        SyncClient(kiosk, backoff=0.01, http=DroppingReports()).run()  # its records sync; the report is lost
    applied, _refused = remote_apply.state(kiosk)
    assert applied["version"] == 1 and applied["restart_pending"]
    assert stops == [(os.getpid(), signal.SIGTERM)], caplog.text  # kiosk.service stops, Restart=always


class Stub:
    def start(self) -> None:
        """Not started: the SIGTERM to this test process is what the test checks was asked for, not sent."""
