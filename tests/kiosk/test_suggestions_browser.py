"""The suggestion box in Chromium against a real `kiosk serve`: on the kiosk's 800×480 screen from the ticket screen,
typed on the on-screen keyboard with a phone number, thanked, back to the start; on a phone (the QR on the wall
opens `/gop-y`) with the phone's own keyboard."""

from __future__ import annotations

import sqlite3

import pytest
from playwright.sync_api import expect

from tests.browser import fits
from tests.server import KioskServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = KioskServer(tmp_path_factory.mktemp("suggestions") / "var", env={"KIOSK_ANNOUNCER": "none"})
    srv.start()
    yield srv
    srv.stop()


def stored(server) -> list[tuple]:
    with sqlite3.connect(server.data_dir / "kiosk.db") as conn:
        return conn.execute("SELECT text, contact, source FROM comments ORDER BY seq").fetchall()


def test_on_the_kiosk_screen_with_the_on_screen_keyboard(server, browser):
    page = browser.new_page(viewport={"width": 800, "height": 480})
    page.goto(server.base + "/ticket")
    page.click("text=Hòm thư góp ý")
    expect(page.locator("#s-title")).to_have_text("Hòm thư góp ý")
    assert fits(page)
    for key in "gh":
        page.click(f'#vk [data-layer=letters] [data-vk="{key}"]')
    page.click('#vk [data-vk="ê"]')
    page.click('#vk [data-tone="acute"]')
    expect(page.locator("#s-text")).to_have_value("Ghế")
    page.click("#s-contact")
    page.click('#vk [data-vk-action="layer"]')
    for digit in "0912345678":
        page.click(f'#vk [data-layer=digits] [data-vk="{digit}"]')
    expect(page.locator("#s-contact")).to_have_value("0912345678")
    page.click("#s-send")
    expect(page.locator("#s-sent")).to_be_visible()
    expect(page.locator("#s-sent .s-thanks")).to_have_text("Đã gửi. Cảm ơn ý kiến của ông/bà!")
    assert stored(server)[-1] == ("Ghế", "0912345678", "suggestion")
    page.click("#s-sent [data-go-home]")
    page.wait_for_url(server.base + "/")
    page.close()


def test_on_a_phone_from_the_qr_on_the_wall(server, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page.goto(server.base + "/gop-y")
    expect(page.locator("#vk")).to_have_count(0)
    page.click("#s-send")
    expect(page.locator("#s-error")).to_have_text("Mời ông/bà viết nội dung góp ý.")
    page.fill("#s-text", "Cần thêm chỗ để xe máy.")
    page.fill("#s-contact", "12ab")
    page.click("#s-send")
    expect(page.locator("#s-error")).to_have_text("Xin kiểm tra lại số điện thoại: chỉ gồm chữ số.")
    page.fill("#s-contact", "")
    page.click("#s-send")
    expect(page.locator("#s-sent .s-thanks")).to_be_visible()
    assert stored(server)[-1] == ("Cần thêm chỗ để xe máy.", None, "suggestion")
    page.close()
