"""Who holds a visit, against the real `kiosk serve` listening on every address (issue 21, point 1).

The process listens on 0.0.0.0 as on the office network; the test reaches it through this machine's own
non-loopback IPv4 address (a sender on the Wi-Fi, as the kiosk sees it) and through loopback (the kiosk's own
screen). A rating from the network is stored but not counted unless the screen was enrolled by an admin at
`/admin/screens` (here in Chromium, as a tablet at counter 2 would do it).
"""

from __future__ import annotations

import socket
import sqlite3
import subprocess

import pytest
import requests
from playwright.sync_api import expect

from tests.server import KioskServer


def network_address() -> str | None:
    """This machine's first non-loopback IPv4 address (`hostname -I`), or None."""
    try:
        found = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout.split()
    except (OSError, subprocess.SubprocessError):
        found = []
    for address in found:
        try:
            socket.inet_aton(address)
        except OSError:
            continue
        if not address.startswith("127.") and address.count(".") == 3:
            return address
    return None


ADDRESS = network_address()
pytestmark = pytest.mark.skipif(ADDRESS is None, reason="this machine has no non-loopback IPv4 address")


class EveryAddress(KioskServer):
    """`kiosk serve --host 0.0.0.0`: reachable from the network like a kiosk on the office Wi-Fi."""

    def command(self) -> list[str]:
        return [*super().command(), "--host", "0.0.0.0"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("holder") / "var"
    with EveryAddress(data, demo=True, env={"KIOSK_RESPONSE_INTERVAL": "0"}) as srv:
        srv.lan = f"http://{ADDRESS}:{srv.port}"
        yield srv


def network() -> requests.Session:
    """A sender on the office network (no proxy between it and the kiosk)."""
    session = requests.Session()
    session.trust_env = False
    return session


def stored(server, rating_id: str) -> tuple:
    db = sqlite3.connect(server.data_dir / "kiosk.db")
    try:
        return db.execute("SELECT counted, flag FROM ratings WHERE id = ?", (rating_id,)).fetchone()
    finally:
        db.close()


def test_a_network_rating_is_kept_not_counted_and_the_kiosks_own_screen_counts(server):
    ticket = network().post(server.base + "/api/tickets", json={"service": "HT"}, timeout=10).json()
    lan = network()
    assert lan.get(server.lan + "/healthz", timeout=10).status_code == 200  # really reached over the network
    for body in ({"level": "unsatisfied", "ticket_id": ticket["id"]}, {"level": "unsatisfied", "counter": 1}):
        answer = lan.post(server.lan + "/api/ratings", json=body, timeout=10)
        assert answer.status_code == 201
        made = answer.json()
        assert (made["counted"], made["flag"]) == (False, "not_holder")
        assert stored(server, made["id"]) == (0, "not_holder"), "kept, flagged, not counted"
    own = network().post(server.base + "/api/ratings", json={"level": "satisfied", "ticket_id": ticket["id"]})
    assert own.status_code == 201 and own.json()["counted"] is True
    assert stored(server, own.json()["id"]) == (1, None)


@pytest.mark.browser
def test_an_admin_enrols_a_tablet_in_chromium_and_revokes_it(server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN")
    page = context.new_page()
    page.goto(server.lan + "/admin/screens")  # the tablet, on the office network
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Màn hình")
    expect(page.locator("#this-screen-state")).to_contain_text("chưa được ghi danh")
    page.fill("#name-new", "Máy tính bảng quầy 2")
    page.select_option("#counter-new", "2")
    page.get_by_role("button", name="Ghi danh màn hình này").click()
    expect(page.locator("#this-screen-state")).to_have_text("Màn hình này đã được ghi danh là “Máy tính bảng quầy 2”.")
    expect(page.locator("#screens")).to_contain_text("Máy tính bảng quầy 2")

    page.goto(server.lan + "/rate")  # its rating screen: for its own counter, and the tap counts
    with page.expect_response("**/api/ratings") as tapped:
        page.click("[data-level=very_satisfied]")
    made = tapped.value.json()
    assert (made["counted"], made["counter"]) == (True, 2)
    assert stored(server, made["id"]) == (1, None)

    page.goto(server.lan + "/admin/screens")
    page.get_by_role("button", name="Thu hồi Máy tính bảng quầy 2").click()
    expect(page.locator("#no-screens")).to_be_visible()
    expect(page.locator("#this-screen-state")).to_contain_text("chưa được ghi danh")
    page.goto(server.lan + "/rate?counter=2")
    with page.expect_response("**/api/ratings") as tapped:
        page.click("[data-level=very_satisfied]")
    after = tapped.value.json()
    assert (after["counted"], after["flag"]) == (False, "not_holder")
    context.close()
