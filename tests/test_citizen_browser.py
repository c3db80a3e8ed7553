"""The touch form in Chromium against a real `kiosk serve --demo`: one tap stores, no scrolling, returns home."""

from __future__ import annotations

import sqlite3

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.browser import launch
from tests.server import KioskServer

SIZES = [(800, 480), (1920, 1080)]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("browser") / "var"
    with KioskServer(data, demo=True, env={"KIOSK_THANKS_SECONDS": "2", "KIOSK_RESPONSE_INTERVAL": "0"}) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


def db(server):
    return sqlite3.connect(server.data_dir / "kiosk.db")


def fits(page) -> bool:
    w, h, sw, sh = page.evaluate(
        "[innerWidth, innerHeight, document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    return sw <= w and sh <= h


def test_demo_prints_the_addresses(server):
    log = server.log.read_text()
    for path in ("/ ", "/clerk", "/display"):
        assert f"{server.base}{path}" in log or f"{server.base}{path.strip()}\n" in log


@pytest.mark.browser
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_one_tap_stores_the_rating_and_the_screen_returns_home(server, browser, size, tmp_path):
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    page.goto(server.base + "/")
    expect(page.locator("#home-title")).to_have_text("Ông/bà có hài lòng với sự phục vụ?")
    assert fits(page)
    before = db(server).execute("SELECT count(*) FROM ratings").fetchone()[0]
    page.click("[data-level=very_satisfied]")
    expect(page.locator("#step-thanks")).to_be_visible()
    expect(page.locator("#step-thanks .thanks")).to_have_text("Cảm ơn ông/bà đã đánh giá!")
    rows = db(server).execute("SELECT level, channel, counter_number FROM ratings ORDER BY seq").fetchall()
    assert len(rows) == before + 1 and rows[-1] == ("very_satisfied", "touch", 1)
    expect(page.locator("#step-home")).to_be_visible(timeout=5000)  # back home by itself
    page.screenshot(path=str(tmp_path / f"citizen-{size[0]}.png"))
    page.close()


@pytest.mark.browser
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_detailed_form_fits_and_stores_indicators_and_comment(server, browser, size):
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    page.goto(server.base + "/")
    page.click("[data-level=satisfied]")
    page.click("#go-detail")
    for answer in ("very_satisfied", "satisfied", "satisfied", "unsatisfied"):
        assert fits(page)
        page.click(f".step.active [data-answer={answer}]")
    expect(page.locator("#step-comment")).to_be_visible()
    assert fits(page)
    page.click("[data-chip='Thời gian chờ lâu']")
    for digit in "0912345678":
        page.click(f"[data-key='{digit}']")
    page.click("#send-detail")
    expect(page.locator("#step-thanks")).to_be_visible()
    con = db(server)
    rating_id = con.execute("SELECT id FROM ratings ORDER BY seq DESC LIMIT 1").fetchone()[0]
    answers = dict(con.execute("SELECT indicator, points FROM indicator_answers WHERE rating_id = ?", (rating_id,)))
    assert answers == {"time": 2, "contacts": 1, "agencies": 1, "attitude": 0}
    assert con.execute("SELECT text, contact FROM comments WHERE rating_id = ?", (rating_id,)).fetchone() == (
        "Thời gian chờ lâu",
        "0912345678",
    )
    page.close()


@pytest.mark.browser
def test_the_page_loads_nothing_from_the_internet(server, browser):
    page = browser.new_page()
    outside = []
    page.on("request", lambda r: None if r.url.startswith(server.base) else outside.append(r.url))
    page.goto(server.base + "/")
    page.wait_for_load_state("networkidle")
    assert outside == []
    assert page.evaluate("document.fonts.check('40px KioskSans', 'Ông bà hài lòng')")
    page.close()
