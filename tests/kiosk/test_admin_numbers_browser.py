"""Kiosk `/admin` writes its numbers the Vietnamese way and keeps them in their cards (issue 22, point 7): free disk
space "76,6 GB" (never "78395.5 MB"), and a waiting time "6 phút 39 giây" wraps inside its card instead of
spilling out of it. In Chromium against a real `kiosk serve --demo`."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from common import numbers
from tests.server import KioskServer

pytestmark = pytest.mark.browser


def test_megabytes_are_written_as_people_read_them():
    assert numbers.megabytes(78395.5) == "76,6 GB"
    assert numbers.megabytes(78395.5, "en") == "76.6 GB"
    assert numbers.megabytes(512.4) == "512 MB"
    assert numbers.megabytes(None) == "—"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = KioskServer(tmp_path_factory.mktemp("admin-numbers") / "var", env={"KIOSK_ANNOUNCER": "none"}, demo=True)
    srv.start()
    yield srv
    srv.stop()


def test_disk_space_and_durations_read_well_and_stay_in_their_cards(server, browser):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.goto(server.base + "/admin/login")
    page.fill("#password", "demo")
    page.click("form.stack button[type=submit]")
    expect(page.locator("#disk-state")).to_be_visible()
    disk = page.locator("#disk-state dd").inner_text()
    assert re.fullmatch(r"còn trống \d{1,3}(\.\d{3})*(,\d)? [GM]B", disk), disk
    # the figure, in the card as the page writes it: it must wrap inside, not run out of the card
    page.evaluate(
        """() => { for (const id of ['mean-wait', 'mean-service']) document.getElementById(id).textContent =
                   '6\\u00a0phút 39\\u00a0giây'; }"""
    )
    for width in range(700, 1400, 50):
        page.set_viewport_size({"width": width, "height": 768})
        spilled = page.evaluate(
            """() => [...document.querySelectorAll('.card')].filter(c => c.scrollWidth > c.clientWidth + 1)
                     .map(c => c.innerText.replace(/\\s+/g, ' '))"""
        )
        assert not spilled, (width, spilled)
    page.close()
