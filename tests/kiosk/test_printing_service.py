"""Printing in the background: the ticket is issued whatever the printer does, the fault is recorded and
shown, and the clerk's reprint works once the fault is cleared."""

from __future__ import annotations

import time
from datetime import datetime

import pytest
from escpos.printer import Dummy
from sqlalchemy import select

from common.errors import NotFoundError
from hardware.printer.base import EscposTransport
from hardware.printer.ticket_printer import TicketPrinter
from kiosk.app import create_app, open_ticket_printer
from kiosk.catalog import add_clerk
from kiosk.db import transaction
from kiosk.models import PrintJob, Ticket, TicketState
from kiosk.printing import PrintService, rating_link
from tests.escpos_raster import decode, ink
from tests.escpos_server import PAPER_OK, PAPER_OUT, FakeNetworkPrinter
from tests.server import free_port


@pytest.fixture
def make_app(tmp_path, clock):
    apps = []

    def make(**settings):
        config = {"data_dir": str(tmp_path / "var"), "gpio": "mock", "TESTING": True, **settings}
        app = create_app(config, clock=clock)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["kiosk"].close()


@pytest.fixture
def servers():
    started = []

    def start(port: int = 0, **kwargs) -> FakeNetworkPrinter:
        server = FakeNetworkPrinter(port, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


def jobs_of(kiosk, ticket_id: str) -> list[PrintJob]:
    with kiosk.sessions() as session:
        return list(session.scalars(select(PrintJob).where(PrintJob.ticket_id == ticket_id).order_by(PrintJob.id)))


def login_clerk(client, kiosk, counter: int = 1, pin: str = "1234") -> None:
    with transaction(kiosk.sessions) as session:
        add_clerk(session, "Nguyễn Thị Lan", pin, counter)
    assert client.post("/api/clerk/login", json={"counter": counter, "pin": pin}).status_code == 200


def blinking(panel, seconds: float = 2.0) -> bool:
    """Every LED of the panel goes both on and off within ``seconds`` (the fault pattern)."""
    seen: dict[str, set[bool]] = {key: set() for key in panel.leds}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(len(s) < 2 for s in seen.values()):
        for key, led in panel.leds.items():
            seen[key].add(bool(led.is_lit))
        time.sleep(0.02)
    return all(s == {True, False} for s in seen.values())


def dark(panel, seconds: float = 0.8) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(led.is_lit for led in panel.leds.values()):
            return False
        time.sleep(0.02)
    return True


def test_a_ticket_prints_to_the_spool_and_the_job_is_recorded(make_app, tmp_path):
    app = make_app()
    kiosk = app.extensions["kiosk"]
    ticket = kiosk.queue.issue("HT")
    kiosk.printing.submit(ticket.id)
    assert kiosk.printing.wait(ticket.id, timeout=10) == (True, None)
    [job] = jobs_of(kiosk, ticket.id)
    assert (job.status, job.attempts, job.error) == ("printed", 1, None)
    [bin_file] = (tmp_path / "var" / "spool").glob(f"*-{ticket.display_number}-*.bin")
    assert bin_file.with_suffix(".png").exists()
    printed = decode(bin_file.read_bytes())
    assert printed.width == 384 and ink(printed) > 0
    assert app.test_client().get("/healthz").get_json()["printer"] == "ok"


def test_the_ticket_says_how_many_wait_ahead_and_carries_the_rating_link(make_app):
    kiosk = make_app(rating_url="http://192.168.1.10:8080/?counter=1").extensions["kiosk"]
    for _ in range(3):
        kiosk.queue.issue("HT")
    kiosk.queue.issue("DD")  # another queue
    mine = kiosk.queue.issue("HT")
    urgent = kiosk.queue.issue("HT", priority=True)
    content = kiosk.printing.ticket_content(mine.id)
    assert content["waiting"] == 4  # three before it and the priority ticket that will be called first
    assert content["display_number"] == mine.display_number and content["service"] == "Hộ tịch"
    assert content["commune"] == kiosk.settings["commune_name"]
    # The QR code opens the ticket's own phone page on the office Wi-Fi (issue 15), not a guessable ticket id.
    assert content["qr_data"].startswith("http://192.168.1.10:8080/t/") and mine.id not in content["qr_data"]
    assert content["issued_at"] == datetime(2026, 11, 20, 8, 0)  # 01:00 UTC is 08:00 in Hà Nội
    assert kiosk.printing.ticket_content(urgent.id)["waiting"] == 0
    assert rating_link("http://wifi.local/rate?ticket=old", "abc") == "http://wifi.local/rate?ticket=abc"


def test_offline_printer_never_loses_the_ticket_and_the_clerk_reprints_it(make_app, servers):
    port = free_port()  # nothing listens here: connection refused, like a printer switched off
    app = make_app(printer=f"network:127.0.0.1:{port}")
    kiosk, client = app.extensions["kiosk"], app.test_client()
    panel = kiosk.hardware["rating_panel"]

    answer = client.post("/api/tickets", json={"service": "HT"})
    assert answer.status_code == 201
    body = answer.get_json()
    assert body["printed"] is False and "offline" in body["print_error"]
    with kiosk.sessions() as session:  # issued, and waiting in the queue
        assert session.get(Ticket, body["id"]) is not None
        assert session.get(TicketState, body["id"]).status == "waiting"
    [job] = jobs_of(kiosk, body["id"])
    assert (job.status, job.attempts) == ("failed", 3) and "refused" in job.error
    assert client.get("/healthz").get_json()["printer"] == "offline"
    assert blinking(panel)

    server = servers(port)  # the printer is back
    login_clerk(client, kiosk)
    reprint = client.post(f"/api/tickets/{body['id']}/reprint")
    assert reprint.status_code == 200
    assert reprint.get_json() == {"ticket_id": body["id"], "printed": True, "print_error": None, "printer": "ok"}
    [job_bytes] = server.wait_for_jobs(1)
    assert decode(job_bytes).width == 384
    assert [j.status for j in jobs_of(kiosk, body["id"])] == ["failed", "printed"]
    assert client.get("/healthz").get_json()["printer"] == "ok"
    assert dark(panel)
    listing = client.get("/api/printer").get_json()
    assert listing["status"] == "ok" and listing["jobs"][0]["display_number"] == body["display_number"]


def test_out_of_paper_is_detected_before_sending_and_recorded(make_app, servers):
    server = servers(paper=PAPER_OUT)
    kiosk = make_app(printer=f"network:127.0.0.1:{server.port}").extensions["kiosk"]
    ticket = kiosk.queue.issue("CT")
    kiosk.printing.submit(ticket.id)
    printed, error = kiosk.printing.wait(ticket.id, timeout=10)
    assert printed is False and "out of paper" in error
    assert server.jobs == []  # nothing was sent into a printer with no paper
    assert kiosk.printing.status() == "paper_out"
    assert blinking(kiosk.hardware["rating_panel"])

    server.paper = PAPER_OK  # a new roll
    kiosk.printing.reprint(ticket.id)
    assert kiosk.printing.wait(ticket.id, timeout=10) == (True, None)
    assert len(server.wait_for_jobs(1)) == 1
    assert kiosk.printing.status() == "ok"


class FlakyDevice(Dummy):
    """A python-escpos device whose line stalls (socket timeout) while ``stalled`` is set."""

    stalled = True

    def _raw(self, msg: bytes) -> None:
        if FlakyDevice.stalled:
            raise TimeoutError("timed out")
        super()._raw(msg)

    def _read(self) -> bytes:
        return b""  # no status answers, as on a TX-only serial cable


def test_a_printer_that_times_out_fails_the_job_not_the_ticket(make_app):
    kiosk = make_app(printer="none").extensions["kiosk"]
    fonts = open_ticket_printer(kiosk.settings).fonts
    printer = TicketPrinter(EscposTransport("serial:/dev/ttyS9", FlakyDevice, "serial printer /dev/ttyS9"), 384, fonts)
    service = PrintService(kiosk.sessions, kiosk.clock, printer, commune_name="UBND xã Thử Nghiệm", backoff=0.01)
    try:
        ticket = kiosk.queue.issue("BT")
        service.submit(ticket.id)
        printed, error = service.wait(ticket.id, timeout=10)
        assert printed is False and "did not answer" in error
        assert service.status() == "offline"
        FlakyDevice.stalled = False
        service.reprint(ticket.id)
        assert service.wait(ticket.id, timeout=10) == (True, None)
        assert [(j.status, j.attempts) for j in jobs_of(kiosk, ticket.id)] == [("failed", 3), ("printed", 1)]
    finally:
        FlakyDevice.stalled = True
        service.close()


def test_a_printer_file_in_a_missing_folder_fails_plainly(make_app, tmp_path):
    kiosk = make_app(printer=f"file:{tmp_path / 'no-such-dir' / 'lp0'}").extensions["kiosk"]
    ticket = kiosk.queue.issue("HT")
    kiosk.printing.submit(ticket.id)
    printed, error = kiosk.printing.wait(ticket.id, timeout=10)
    assert printed is False and "no-such-dir" in error
    assert kiosk.printing.status() == "offline"
    with kiosk.sessions() as session:
        assert session.get(Ticket, ticket.id) is not None


def test_no_printer_answers_at_once_and_health_says_disabled(make_app):
    app = make_app(printer="none")
    client = app.test_client()
    body = client.post("/api/tickets", json={"service": "HT"}).get_json()
    assert body["printed"] is False and body["print_error"]
    assert client.get("/healthz").get_json()["printer"] == "disabled"
    kiosk = app.extensions["kiosk"]
    kiosk.printing.reprint(body["id"])
    printed, error = kiosk.printing.wait(body["id"], timeout=5)
    assert printed is False and "No printer is configured" in error
    assert jobs_of(kiosk, body["id"])[-1].attempts == 1  # not retried: trying again cannot help


def test_reprint_needs_a_clerk_and_a_real_ticket(make_app):
    app = make_app()
    kiosk, client = app.extensions["kiosk"], app.test_client()
    ticket = kiosk.queue.issue("HT")
    assert client.post(f"/api/tickets/{ticket.id}/reprint").status_code == 401
    assert client.get("/api/printer").status_code == 401
    login_clerk(client, kiosk)
    missing = client.post("/api/tickets/no-such-ticket/reprint")
    assert missing.status_code == 404 and "does not exist" in missing.get_json()["error"]
    with pytest.raises(NotFoundError):
        kiosk.printing.reprint("no-such-ticket")
    assert client.post(f"/api/tickets/{ticket.id}/reprint").get_json()["printed"] is True


def test_a_job_cut_short_by_a_restart_is_flagged_for_reprint(make_app):
    kiosk = make_app(printer="none").extensions["kiosk"]
    ticket = kiosk.queue.issue("HT")
    with transaction(kiosk.sessions) as session:  # what a power cut mid-print leaves behind
        now = datetime(2026, 11, 20, 1, 0)
        session.add(PrintJob(ticket_id=ticket.id, status="pending", attempts=1, created_at=now, updated_at=now))
    kiosk.close()
    again = make_app().extensions["kiosk"]
    printed, error = again.printing.wait(ticket.id, timeout=1)
    assert printed is False and "restarted" in error
