"""`kiosk serve --demo` announces the demo PINs it created, and only those: a kiosk that already has its own
clerks gets no demo clerk, and its start-up message gives away no PIN that would not work (issue 22, point 7)."""

from __future__ import annotations

import requests

from tests.server import KioskServer


def announced(server: KioskServer) -> str:
    return next(line for line in server.log.read_text().splitlines() if "demo clerks" in line)


def test_a_fresh_demo_kiosk_announces_the_pins_it_created(tmp_path):
    with KioskServer(tmp_path / "fresh", demo=True) as server:
        line = announced(server)
        assert "counter 1 PIN 1111" in line
        login = requests.post(server.base + "/api/clerk/login", json={"counter": 1, "pin": "1111"}, timeout=10)
        assert login.status_code == 200


def test_a_kiosk_with_its_own_clerks_announces_no_demo_pin(tmp_path):
    server = KioskServer(tmp_path / "own", demo=True)
    server.cli("init")
    server.cli("add-clerk", "Nguyễn Thị Hường", "--pin", "4321", "--counter", "1")
    with server:
        line = announced(server)
        assert "PIN" not in line and "none added" in line
        wrong = requests.post(server.base + "/api/clerk/login", json={"counter": 1, "pin": "1111"}, timeout=10)
        assert wrong.status_code == 401  # the PIN the old message announced does not open the console
