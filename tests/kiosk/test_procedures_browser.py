""" "Tra cứu thủ tục" in Chromium at the kiosk's 800×480 against a real `kiosk serve --demo`: from the ticket screen
to a field, a procedure, its papers and the printed checklist; a search typed on the on-screen keyboard without
diacritics; a number taken straight from the procedure; and back to the start after idle."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import fits
from tests.server import KioskServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("procedures-browser") / "var"
    srv = KioskServer(data, demo=True, env={"KIOSK_ANNOUNCER": "none", "KIOSK_DETAIL_SECONDS": "30"})
    srv.start()
    yield srv
    srv.stop()


def px(page, selector: str) -> float:
    return page.eval_on_selector(selector, "e => parseFloat(getComputedStyle(e).fontSize)")


def test_from_the_ticket_screen_to_the_papers_and_the_printed_list(server, browser):
    page = browser.new_page(viewport={"width": 800, "height": 480})
    page.goto(server.base + "/ticket")
    page.click("text=Tra cứu thủ tục")
    expect(page.locator("#p-title")).to_have_text("Tra cứu thủ tục")
    assert fits(page)
    page.click("[data-field=HT]")
    expect(page.locator("#p-list-title")).to_have_text("Hộ tịch")
    page.click(".p-item >> text=Đăng ký khai sinh")
    expect(page.locator("#p-name")).to_have_text("Đăng ký khai sinh")
    expect(page.locator("#p-papers li").nth(1)).to_have_text(
        "Giấy chứng sinh (hoặc văn bản của người làm chứng) – 1 bản"
    )
    expect(page.locator("#p-fee")).to_have_text("Miễn lệ phí (đăng ký đúng hạn)")
    expect(page.locator("#p-time")).to_have_text("Trong ngày làm việc")
    assert fits(page)
    assert px(page, "#p-name") >= 28 and px(page, "#p-papers") >= 20  # readable from arm's length
    expect(page.locator("#p-print")).to_be_in_viewport()
    before = set((server.data_dir / "spool").glob("checklist-*.bin"))
    page.click("#p-print")
    expect(page.locator("#p-done-text")).to_have_text("Mời ông/bà nhận danh sách giấy tờ ở máy in.")
    printed = set((server.data_dir / "spool").glob("checklist-*.bin")) - before
    assert [p.name.endswith("-1.001193.bin") for p in printed] == [True]
    page.click("#p-done [data-go-home]")
    page.wait_for_url(server.base + "/")
    page.close()


def test_a_search_on_the_keyboard_without_diacritics_then_a_number_for_the_field(server, browser):
    page = browser.new_page(viewport={"width": 800, "height": 480})
    page.goto(server.base + "/thu-tuc")
    page.click("[data-open-search]")
    for key in "chung thuc":
        page.click('[data-vk-action="space"]' if key == " " else f'#vk [data-layer=letters] [data-vk="{key}"]')
    expect(page.locator("#p-q")).to_have_value("Chung thuc")
    expect(page.locator("#p-found .p-item")).to_have_count(2)
    assert fits(page)
    page.click("#p-found .p-item >> text=Chứng thực chữ ký")
    expect(page.locator("#p-fee")).to_have_text("10.000 đồng/trường hợp")
    page.click("#p-ticket")
    expect(page.locator("#p-done-number")).to_have_text("B001")
    expect(page.locator("#p-done-text")).to_have_text("Chứng thực")
    page.close()


def test_the_lookup_goes_back_to_the_start_after_idle(tmp_path, browser):
    srv = KioskServer(tmp_path / "var", demo=True, env={"KIOSK_ANNOUNCER": "none", "KIOSK_DETAIL_SECONDS": "3"})
    with srv:
        page = browser.new_page(viewport={"width": 800, "height": 480})
        page.goto(srv.base + "/thu-tuc")
        page.click("[data-field=CT]")
        expect(page.locator("#p-list")).to_be_visible()
        page.wait_for_url(srv.base + "/", timeout=8000)
        page.close()
