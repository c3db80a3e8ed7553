"""`/fleet` tells the truth: unsynced counts as the kiosk left them, any signed request is contact, printer states in
words, and a kiosk switched off for the weekend is not red on Monday morning (setting ``office_hours``).

Real kiosks sync through the real client to the central app served over loopback, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from central.models import SyncLog
from central.office_hours import OfficeHours
from central.registry import add_user
from common.errors import ConfigError
from kiosk.uplink.client import SyncClient
from tests.central.helpers import TEST_PASSWORD, Signer, add_records, envelope, sign_in

#: Friday 20 November 2026, 16:30 local (UTC+7), as the server's naive-UTC clock says it.
FRIDAY_1630 = datetime(2026, 11, 20, 9, 30)


def local(text: str) -> datetime:
    """A local time "2026-11-23T08:00" as the server's naive UTC."""
    return datetime.fromisoformat(text) - timedelta(hours=7)


def fleet_client(central_app, username="admin"):
    central = central_app.extensions["central"]
    add_user(central, username, TEST_PASSWORD, "admin")
    return sign_in(central_app, username)


def one(client) -> dict:
    (device,) = client.get("/fleet.json").json["devices"]
    return device


@pytest.mark.parametrize("batch", [5, 1000])
def test_right_after_a_sync_the_fleet_shows_nothing_unsynced(central_app, device, serve, make_kiosk, batch):
    server = serve(central_app)
    kiosk = make_kiosk(server.url, device)
    add_records(kiosk, 14, comment_every=50)  # 14 ratings, 2 tickets, 2 clerk actions, 1 answer, 1 comment = 20
    report = SyncClient(kiosk, batch_size=batch, backoff=0.01).run()
    assert report.ok and report.sent == 20
    client = fleet_client(central_app)
    assert one(client)["unsynced"] == 0  # not 20 (or 5, or 1): the count the kiosk had *before* its last batch
    add_records(kiosk, 3, comment_every=50)  # made after the sync: the server cannot know yet
    assert one(client)["unsynced"] == 0
    assert SyncClient(kiosk, batch_size=2, backoff=0.01).run().ok
    assert one(client)["unsynced"] == 0


def test_a_batch_reports_what_is_left_after_it(central_app, device):
    """The server stores what the kiosk reports; a kiosk mid-way through its backlog says how much is left."""
    signer = Signer(central_app.test_client(), device)
    body = envelope(device[0], [], datetime(2026, 11, 20, 1, 0))
    body["status"] = {"unsynced": 37, "printer": "paper_out", "version": "1.2.0"}
    assert signer.post(body).status_code == 200
    shown = one(fleet_client(central_app))
    assert (shown["unsynced"], shown["printer"], shown["version"]) == (37, "paper_out", "1.2.0")


def test_any_signed_request_is_contact(central_app, central, device, serve, make_kiosk, server_clock):
    server = serve(central_app)
    kiosk = make_kiosk(server.url, device)
    server_clock._now = FRIDAY_1630
    assert SyncClient(kiosk, backoff=0.01).run().ok  # nothing to send: one empty batch still goes
    with central.sessions() as s:
        kinds = [k for (k,) in s.execute(select(SyncLog.kind).order_by(SyncLog.received_at, SyncLog.kind))]
    assert kinds.count("sync") == 1
    client = fleet_client(central_app)
    first = one(client)
    assert first["last_contact"] == FRIDAY_1630.isoformat() and first["unsynced"] == 0
    # Monday: a catalogue fetch alone (no batch) is contact too
    server_clock._now = local("2026-11-23T09:00")
    signer = Signer(central_app.test_client(), device)
    signer.counter = 10**6  # above the kiosk's own counters
    response, _counter = signer.get_config()
    assert response.status_code == 200
    assert one(client)["last_contact"] == server_clock._now.isoformat()


@pytest.mark.parametrize(
    ("state", "words"),
    [
        ("ok", "Sẵn sàng"),
        ("paper_out", "Hết giấy"),
        ("paper_low", "Sắp hết giấy"),
        ("offline", "Mất kết nối"),
        (None, "Chưa báo"),
    ],
)
def test_printer_states_in_vietnamese(central_app, device, state, words):
    signer = Signer(central_app.test_client(), device)
    body = envelope(device[0], [], datetime(2026, 11, 20, 1, 0))
    body["status"] = {"unsynced": 0, "printer": state, "version": "1.0.0"}
    assert signer.post(body).status_code == 200
    page = fleet_client(central_app).get("/fleet?lang=vi").text
    cell = re.search(r'<td class="printer[^"]*">([^<]*)</td>', page).group(1)
    assert cell == words, cell
    assert "paper_out" not in re.sub(r"<[^>]+>", " ", page) and "offline" not in re.sub(r"<[^>]+>", " ", page)


def test_a_weekend_of_silence_is_not_red(central_app, device, server_clock):
    signer = Signer(central_app.test_client(), device)
    server_clock._now = FRIDAY_1630  # the kiosk's last sync before it is switched off for the weekend
    assert signer.post(envelope(device[0], [], server_clock._now)).status_code == 200
    client = fleet_client(central_app)
    server_clock._now = local("2026-11-23T08:00")  # Monday morning: 0.5 h on Friday + 1 h today
    monday = one(client)
    assert (monday["office_hours_since_contact"], monday["silent"]) == (1.5, False)
    assert monday["hours_since_contact"] == 63.5
    page = client.get("/fleet?lang=vi").text
    assert 'class="silent"' not in page and "Thứ Hai – Thứ Sáu 07:00–17:00" in page
    server_clock._now = local("2026-11-23T16:00")  # still nothing by Monday afternoon: 9.5 office hours
    late = one(client)
    assert (late["office_hours_since_contact"], late["silent"]) == (9.5, True)
    assert 'class="silent"' in client.get("/fleet?lang=vi").text


def test_saturday_mornings_and_lunch_breaks(tmp_path, central_db, server_clock):
    from central.app import create_central_app
    from central.registry import add_device

    hours = {"mon-fri": "07:00-11:30, 13:30-17:00", "sat": "07:30-11:30"}
    app = create_central_app(
        {"data_dir": str(tmp_path / "c"), "central_database_url": central_db, "office_hours": hours, "TESTING": True},
        clock=server_clock,
    )
    try:
        device = add_device(app.extensions["central"], "Quầy 1", "26734", "Xã Tân Hòa")
        server_clock._now = FRIDAY_1630
        assert Signer(app.test_client(), device).post(envelope(device[0], [], FRIDAY_1630)).status_code == 200
        server_clock._now = local("2026-11-23T08:00")
        client = fleet_client(app)
        assert one(client)["office_hours_since_contact"] == 0.5 + 4 + 1  # Friday, Saturday morning, Monday
        assert "Thứ Bảy 07:30–11:30" in client.get("/fleet?lang=vi").text
    finally:
        app.extensions["central"].close()


# --- the office_hours setting ----------------------------------------------------------------------------


def test_office_hours_count_only_open_time():
    week = OfficeHours.parse({"mon-fri": "07:00-17:00"})
    assert week.open_seconds(local("2026-11-20T16:30"), local("2026-11-23T08:00")) == 1.5 * 3600
    assert week.open_seconds(local("2026-11-21T09:00"), local("2026-11-22T20:00")) == 0  # a whole weekend
    assert week.open_seconds(local("2026-11-23T08:00"), local("2026-11-20T08:00")) == 0  # backwards
    assert week.is_open(local("2026-11-23T07:00")) and not week.is_open(local("2026-11-23T17:00"))
    later = OfficeHours.parse({"mon-sat": "07:00-17:00", "sat": ""})  # a later key overrides an earlier one
    assert not later.is_open(local("2026-11-21T09:00")) and later.is_open(local("2026-11-20T09:00"))


def test_public_holidays_are_closed_days():
    tet = OfficeHours.parse({"mon-fri": "07:00-17:00"}, closed_days=["2027-02-04..2027-02-10", "2027-04-30"])
    # last contact Wednesday 3 February 2027 at 16:00; back on Thursday 11 February at 08:00: 1 + 1 office hours
    assert tet.open_seconds(local("2027-02-03T16:00"), local("2027-02-11T08:00")) == 2 * 3600
    assert not tet.is_open(local("2027-04-30T09:00")) and tet.is_open(local("2027-04-29T09:00"))
    with pytest.raises(ConfigError, match="office_closed_days"):
        OfficeHours.parse({}, closed_days=["30/04/2027"])
    with pytest.raises(ConfigError, match="office_closed_days"):
        OfficeHours.parse({}, closed_days=["2027-02-10..2027-02-04"])


@pytest.mark.parametrize(
    "bad",
    [
        {"mon-fry": "07:00-17:00"},
        {"mon": "7h-17h"},
        {"mon": "17:00-07:00"},
        {"mon": "07:00-12:00, 11:00-17:00"},
        {"fri-mon": "07:00-17:00"},
        ["mon-fri"],
    ],
)
def test_a_malformed_office_hours_setting_is_a_plain_config_error(bad):
    with pytest.raises(ConfigError, match="office_hours"):
        OfficeHours.parse(bad)


def test_the_server_refuses_to_start_with_malformed_office_hours(tmp_path, monkeypatch):
    from central.cli import main

    monkeypatch.setenv("KIOSK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KIOSK_OFFICE_HOURS", '{"mon-fri": "7-17"}')
    result = CliRunner().invoke(main, ["serve", "--port", "0"], obj={})
    assert result.exit_code == 2 and "office_hours" in result.output and "Traceback" not in result.output
