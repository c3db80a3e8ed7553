"""The device's wiring: what `create_app` builds satisfies the ports (kiosk.ports), and is built once, at start-up,
in the one Kiosk every view reads through `current_kiosk()`."""

from __future__ import annotations

from common.throttle import Lockout
from kiosk import ports
from kiosk.app import current_kiosk
from kiosk.uplink.client import SyncLoop

LAN = {"REMOTE_ADDR": "192.168.1.50"}


def test_the_devices_built_for_the_kiosk_satisfy_their_ports(kiosk):
    assert kiosk.printing is not None and isinstance(kiosk.printing.printer, ports.TicketPrinter)
    assert isinstance(kiosk.printing.lights, ports.Lights)
    assert kiosk.printing.lights is kiosk.hardware["rating_panel"]
    assert isinstance(kiosk.hardware["announcer"], ports.Announcer)
    assert isinstance(kiosk.voice, ports.Voice)
    assert isinstance(kiosk.live, ports.LiveHub)
    assert isinstance(SyncLoop(kiosk), ports.SyncLoop)  # made, not started


def test_views_read_the_one_kiosk_of_their_app(app, kiosk):
    assert current_kiosk(app) is kiosk
    with app.test_request_context("/"):
        assert current_kiosk() is kiosk


def test_the_throttles_are_built_at_start_and_shared_by_every_request(app, kiosk):
    gate = kiosk.gates.ratings
    assert gate.limit == kiosk.settings["rating_flood_limit"]
    assert isinstance(kiosk.admin_lockout, Lockout)
    for _ in range(gate.limit):  # a new client (session) each time, one address: one allowance
        app.test_client().post("/api/ratings", json={"level": "satisfied"}, environ_base=LAN)
    assert kiosk.gates.ratings is gate and gate.full(LAN["REMOTE_ADDR"])
    assert app.test_client().post("/api/ratings", json={"level": "satisfied"}, environ_base=LAN).status_code == 429
