"""The CUPS and serial transports for real: a real cupsd with a raw queue, and pyserial on a pseudo-terminal.

`printer = "cups:NAME"`: python-escpos → pycups → cupsd (started here, its own socket) → the raw queue → CUPS's
socket backend → a listening test printer, which receives exactly the job's bytes, whose raster is the ticket. `printer = "serial:/dev/pts/N:19200"`:
pyserial on one end of a socat pty pair, a printer on the other that answers the status queries, including
"paper out" read back over the same line. USB printing stays untested here (no USB printer on this machine).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from hardware.printer import PrinterFault, open_printer
from hardware.printer.encode import encode_job
from tests.escpos_raster import cut_after_image, decode, ink
from tests.escpos_server import OFFLINE, PAPER_OUT, FakeNetworkPrinter
from tests.kiosk.test_printer import FONTS, TICKET
from tests.printers import CupsServer, SerialPrinter

needs_cupsd = pytest.mark.skipif(
    not (shutil.which("cupsd") or os.path.exists("/usr/sbin/cupsd")) or os.geteuid() != 0,
    reason="needs the cups Debian package and root (cupsd runs its backends as user lp)",
)
needs_socat = pytest.mark.skipif(not shutil.which("socat"), reason="needs socat (Debian package socat)")


@pytest.fixture
def cups(monkeypatch):
    pytest.importorskip("cups", reason="pycups is in the test extra (needs libcups2-dev to build)")
    # Not under pytest's tmp_path (mode 0700): CUPS's backends run as user lp and read the spool from here.
    folder = Path(tempfile.mkdtemp(prefix="kiosk-cups-"))
    folder.chmod(0o755)
    server = CupsServer(folder).start()
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def device():
    """The printer behind the CUPS queue (CUPS's socket backend connects to it like to a port-9100 printer)."""
    printer = FakeNetworkPrinter()
    yield printer
    printer.close()


@needs_cupsd
def test_a_ticket_printed_through_a_cups_raw_queue_reaches_the_printer_byte_for_byte(cups, device):
    cups.add_queue("XP58", f"socket://127.0.0.1:{device.port}")
    printer = open_printer("cups:XP58", "58mm", FONTS)
    assert printer.status() == "ok"  # the queue is idle and accepting

    where = printer.print_ticket(TICKET, "B007")

    assert where == "CUPS printer XP58"
    expected = encode_job(printer.render(TICKET), 384)
    [job] = device.wait_for_jobs(1, timeout=20)
    assert job == expected  # no filter touched it: the printer gets exactly what was encoded
    picture = decode(job)
    assert picture.width == 384 and ink(picture) > 0 and cut_after_image(job)


@needs_cupsd
def test_a_stopped_cups_queue_is_offline_and_gets_no_ticket(cups, device):
    cups.add_queue("XP58", f"socket://127.0.0.1:{device.port}")
    cups.admin("cupsdisable", "XP58")
    printer = open_printer("cups:XP58", "58mm", FONTS)
    assert printer.status() == "offline"
    with pytest.raises(PrinterFault) as fault:
        printer.print_ticket(TICKET, "B007")
    assert fault.value.state == "offline"
    assert device.wait_for_jobs(1, timeout=1) == []


@needs_cupsd
def test_kiosk_printer_test_prints_on_the_cups_queue(cups, device, tmp_path):
    """The command a technician runs after setting `printer = "cups:NAME"`, as a separate process."""
    cups.add_queue("Quay1", f"socket://127.0.0.1:{device.port}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env.update(
        KIOSK_DATA_DIR=str(tmp_path / "var"), KIOSK_CONFIG=str(tmp_path / "none.toml"), KIOSK_PRINTER="cups:Quay1"
    )
    done = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "printer-test"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "Test ticket sent to CUPS printer Quay1" in done.stdout
    [job] = device.wait_for_jobs(1, timeout=20)
    assert ink(decode(job)) > 0


@pytest.fixture
def serial_printer(tmp_path):
    pytest.importorskip("serial", reason="pyserial is in the test extra")
    printer = SerialPrinter(tmp_path / "serial")
    yield printer
    printer.close()


@needs_socat
def test_a_ticket_printed_on_a_serial_line_at_19200_baud(serial_printer):
    url = f"serial:{serial_printer.device}:19200"
    assert serial_printer.device.startswith("/dev/pts/")
    printer = open_printer(url, "58mm", FONTS)

    where = printer.print_ticket(TICKET, "B007")

    assert where == f"serial printer {serial_printer.device} at 19200 baud"
    expected = encode_job(printer.render(TICKET), 384)
    received = serial_printer.wait_for(len(expected))
    assert received == expected
    assert serial_printer.queries[:2] == [1, 4]  # asked online, then paper, before sending the job
    assert ink(decode(received)) > 0


@needs_socat
def test_a_serial_printer_out_of_paper_says_so_over_the_line_and_gets_no_job(serial_printer):
    serial_printer.paper = PAPER_OUT
    printer = open_printer(f"serial:{serial_printer.device}:19200", "58mm", FONTS)
    with pytest.raises(PrinterFault) as fault:
        printer.print_ticket(TICKET, "B007")
    assert fault.value.state == "paper_out" and "out of paper" in str(fault.value)
    assert printer.status() == "paper_out"
    time.sleep(0.3)
    assert bytes(serial_printer.received) == b""  # the ticket was not sent into an empty printer

    serial_printer.paper = 0x12  # a new roll
    printer.print_ticket(TICKET, "B007")
    expected = encode_job(printer.render(TICKET), 384)
    assert serial_printer.wait_for(len(expected)) == expected
    assert printer.status() == "ok"


@needs_socat
def test_a_serial_printer_with_its_cover_open_reports_offline(serial_printer):
    serial_printer.online = OFFLINE
    printer = open_printer(f"serial:{serial_printer.device}:19200", "58mm", FONTS)
    with pytest.raises(PrinterFault) as fault:
        printer.print_ticket(TICKET, "B007")
    assert fault.value.state == "offline"
