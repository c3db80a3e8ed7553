"""Printer transports from the `printer` URL: real bytes to a real socket, a file, the spool; faults; bad URLs."""

from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from common.errors import ConfigError
from hardware.printer import PrinterConfigError, PrinterFault, open_printer, open_transport, paper_dots
from hardware.printer.encode import encode_job
from hardware.printer.network import NetworkTransport
from hardware.printer.spool import SpoolTransport
from hardware.printer.ticket_printer import TicketPrinter
from kiosk.app import create_app
from tests.escpos_raster import decode, ink
from tests.escpos_server import OFFLINE, PAPER_LOW, PAPER_OUT, FakeNetworkPrinter
from tests.server import free_port

FONTS = Path(__file__).resolve().parents[2] / "web" / "static" / "fonts"
TICKET = {
    "commune": "UBND xã Thử Nghiệm",
    "display_number": "B007",
    "service": "Chứng thực",
    "issued_at": datetime(2026, 11, 20, 9, 30),
    "waiting": 0,
    "qr_data": "ticket-id",
}


@pytest.fixture
def server():
    printer = FakeNetworkPrinter()
    yield printer
    printer.close()


def network_printer(port: int, timeout: float = 3.0) -> TicketPrinter:
    url = f"network:127.0.0.1:{port}"
    return TicketPrinter(
        NetworkTransport(url, "127.0.0.1", port, timeout=timeout), 384, open_printer("none", 384, FONTS).fonts
    )


def test_network_printer_receives_exactly_the_job_bytes(server):
    printer = open_printer(f"network:127.0.0.1:{server.port}", "80mm", FONTS)
    where = printer.print_ticket(TICKET, "B007")
    assert where == f"network printer 127.0.0.1:{server.port}"
    [job] = server.wait_for_jobs(1)
    assert job == encode_job(printer.render(TICKET), 576)
    assert decode(job).width == 576 and ink(decode(job)) > 0
    assert server.queries[:2] == [1, 4]  # it asked whether the printer is online and has paper first
    assert printer.status() == "ok"


def test_network_printer_out_of_paper_gets_no_job(server):
    server.paper = PAPER_OUT
    printer = open_printer(f"network:127.0.0.1:{server.port}", "58mm", FONTS)
    with pytest.raises(PrinterFault) as fault:
        printer.print_ticket(TICKET, "B007")
    assert fault.value.state == "paper_out" and "out of paper" in str(fault.value)
    assert printer.status() == "paper_out"
    time.sleep(0.2)
    assert server.jobs == []
    server.paper = PAPER_LOW  # a new roll is nearly the same as a low one: it prints, and says so
    printer.print_ticket(TICKET, "B007")
    assert len(server.wait_for_jobs(1)) == 1
    assert printer.last_status == "paper_low"


def test_network_printer_that_reports_offline(server):
    server.online = OFFLINE  # cover open
    printer = open_printer(f"network:127.0.0.1:{server.port}", "58mm", FONTS)
    with pytest.raises(PrinterFault) as fault:
        printer.print_ticket(TICKET, "B007")
    assert fault.value.state == "offline" and "cover open" in str(fault.value)


def test_a_printer_that_never_answers_status_still_prints_and_is_not_asked_again(server):
    server.answers = False
    printer = network_printer(server.port, timeout=0.3)
    printer.print_ticket(TICKET, "one")
    asked = len(server.queries)
    printer.print_ticket(TICKET, "two")
    assert len(server.wait_for_jobs(2)) == 2
    assert len(server.queries) == asked == 1


def test_closed_port_is_offline_with_a_plain_reason():
    port = free_port()
    printer = open_printer(f"network:127.0.0.1:{port}", "58mm", FONTS)
    with pytest.raises(PrinterFault) as fault:
        printer.print_ticket(TICKET, "B007")
    assert fault.value.state == "offline"
    assert f"127.0.0.1:{port}" in str(fault.value) and "refused" in str(fault.value)
    assert printer.status() == "offline"


def test_file_printer_writes_the_job_and_fails_plainly_where_it_cannot(tmp_path):
    device = tmp_path / "lp0"
    printer = open_printer(f"file:{device}", "58mm", FONTS)
    printer.print_ticket(TICKET, "B007")
    assert device.read_bytes() == encode_job(printer.render(TICKET), 384)
    missing = open_printer(f"file:{tmp_path / 'no-such-dir' / 'lp0'}", "58mm", FONTS)
    assert missing.status() == "offline"
    with pytest.raises(PrinterFault) as fault:
        missing.print_ticket(TICKET, "B007")
    assert fault.value.state == "offline" and "no-such-dir" in str(fault.value)


def test_spool_writes_the_raw_bytes_and_a_png_preview(tmp_path):
    printer = open_printer(f"spool:{tmp_path / 'spool'}", "58mm", FONTS)
    where = printer.print_ticket(TICKET, "20261120-093000-B007-1")
    bin_file = tmp_path / "spool" / "20261120-093000-B007-1.bin"
    png_file = bin_file.with_suffix(".png")
    assert where == f"spool file {bin_file}"
    assert sorted(os.listdir(tmp_path / "spool")) == [bin_file.name, png_file.name]  # no partial files left
    preview = Image.open(png_file)
    assert preview.width == 384
    assert ImageChops.difference(decode(bin_file.read_bytes()).convert("L"), preview.convert("L")).getbbox() is None
    assert printer.status() == "ok"


def test_spool_that_cannot_be_written_is_a_fault(tmp_path):
    spool = SpoolTransport("spool:x", str(tmp_path / "spool"))
    printer = TicketPrinter(spool, 384, open_printer("none", 384, FONTS).fonts)
    (tmp_path / "spool").rmdir()
    (tmp_path / "spool").write_text("a file where the folder was")
    with pytest.raises(PrinterFault):
        printer.print_ticket(TICKET, "B007")


def test_no_printer_is_disabled_and_not_retried():
    printer = open_printer("none", "58mm", FONTS)
    assert printer.status() == "disabled"
    with pytest.raises(PrinterFault) as fault:
        printer.print_ticket(TICKET, "B007")
    assert fault.value.state == "disabled" and fault.value.retry is False


@pytest.mark.parametrize(
    "url, kind",
    [
        ("spool:{tmp}/s", "SpoolTransport"),
        ("file:/dev/usb/lp0", "FileTransport"),
        ("network:10.0.0.5", "NetworkTransport"),
        ("network:printer.local:9101", "NetworkTransport"),
        ("none", "NoPrinter"),
    ],
)
def test_printer_urls(url, kind, tmp_path):
    transport = open_transport(url.format(tmp=tmp_path))
    assert type(transport).__name__ == kind
    if kind == "NetworkTransport":
        assert transport.port == (9101 if url.endswith("9101") else 9100)


@pytest.mark.parametrize(
    "url",
    [
        "bogus:1",
        "",
        "spool:",
        "network:",
        "network:host:port",
        "network:host:70000",
        "usb:04b8",
        "usb:xyz:0202",
        "serial:/dev/ttyUSB0:fast",
        "nonesuch",
        "/dev/usb/lp0",
    ],
)
def test_bad_printer_urls_name_the_setting(url):
    with pytest.raises(PrinterConfigError) as error:
        open_transport(url)
    assert "Setting printer (KIOSK_PRINTER)" in str(error.value) and repr(url) in str(error.value)


@pytest.mark.parametrize(
    "url, module, package",
    [
        ("usb:04b8:0202", "usb", "pyusb"),
        ("serial:/dev/ttyUSB0:19200", "serial", "pyserial"),
        ("cups:TM-T20", "cups", "pycups"),
    ],
)
def test_a_transport_whose_package_is_missing_says_which_one(url, module, package, monkeypatch):
    import importlib

    # As on a machine without the package (the test extra installs pyserial and pycups): python-escpos's own check.
    monkeypatch.setattr(importlib.import_module(f"escpos.printer.{module}"), "is_usable", lambda: False)
    with pytest.raises(PrinterConfigError) as error:
        open_transport(url)
    assert package in str(error.value) and "KIOSK_PRINTER" in str(error.value)


def test_paper_widths():
    assert paper_dots("58mm") == 384 and paper_dots("80mm") == 576 and paper_dots("80") == 576
    assert paper_dots(512) == 512
    for bad in ("70mm", "wide", "100", "0"):
        with pytest.raises(PrinterConfigError, match="printer_width"):
            paper_dots(bad)


def test_an_unknown_printer_url_stops_the_kiosk_at_start_up(tmp_path):
    with pytest.raises(ConfigError) as error:
        create_app({"data_dir": str(tmp_path / "var"), "gpio": "mock", "printer": "lpt1"})
    assert "Setting printer (KIOSK_PRINTER) = 'lpt1'" in error.value.message
    with pytest.raises(ConfigError, match="printer_width"):
        create_app({"data_dir": str(tmp_path / "var"), "gpio": "mock", "printer_width": "wide"})
