"""The touch form in Chromium against a real `kiosk serve --demo`: one tap stores, no scrolling, returns home;
the on-screen Vietnamese keyboard, the confirmation after "Gửi", the clean state after use and inactivity, and
a rating screen that names a clerk only while one is on duty."""

from __future__ import annotations

import sqlite3
import unicodedata

import pytest
import requests
from playwright.sync_api import expect

from tests.server import KioskServer

SIZES = [(800, 480), (1920, 1080)]
IDLE = 4  # detail_seconds of the test server: the form gives up after this long without a touch


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("browser") / "var"
    env = {"KIOSK_THANKS_SECONDS": "2", "KIOSK_RESPONSE_INTERVAL": "0", "KIOSK_DETAIL_SECONDS": str(IDLE)}
    with KioskServer(data, demo=True, env=env) as srv:
        yield srv


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
    expect(page.locator("#step-sent")).to_be_visible()
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


def open_comment_step(page, server, size=(800, 480)):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.goto(server.base + "/")
    page.click("[data-level=satisfied]")
    page.click("#go-detail")
    while not page.locator("#step-comment").is_visible():
        page.click(".step.active [data-skip]")


def type_on_screen(page, text: str) -> None:
    """Type ``text`` with the on-screen keys only: letters, ă â ê ô ơ ư đ, then the tone key after the word."""
    tones = {"\u0301": "acute", "\u0300": "grave", "\u0309": "hook", "\u0303": "tilde", "\u0323": "dot"}
    for word_index, word in enumerate(text.split(" ")):
        if word_index:
            page.click("#vk [data-vk-action=space]")
        tone = None
        for letter in word:
            parts = unicodedata.normalize("NFD", letter)
            marks = [m for m in parts[1:] if m in tones]
            tone = tone or (tones[marks[0]] if marks else None)
            base = unicodedata.normalize("NFC", "".join(m for m in parts if m not in tones))
            if base.isupper():  # the keyboard starts a sentence with a capital by itself
                expect(page.locator("#vk [data-vk-action=shift]")).to_have_attribute("aria-pressed", "true")
            page.click(f"#vk [data-vk='{base.lower()}']")
        if tone:
            page.click(f"#vk [data-tone={tone}]")


@pytest.mark.browser
@pytest.mark.parametrize("size", [(800, 480), (1024, 600)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_typing_on_the_vietnamese_keyboard_stores_exactly_that_comment(server, browser, size):
    page = browser.new_page()
    open_comment_step(page, server, size)
    page.click("#comment")  # the kiosk has no keyboard of its own: the screen shows one
    expect(page.locator("#step-type")).to_be_visible()
    assert fits(page)
    keys = page.eval_on_selector_all(
        "#vk button", "bs => bs.filter(b => b.getClientRects().length).map(b => b.getBoundingClientRect())"
    )
    assert len(keys) == 47 and min(min(k["width"], k["height"]) for k in keys) >= 60  # big keys, even at 800x480
    type_on_screen(page, "Nhân viên rất nhiệt tình")
    expect(page.locator("#vk-text")).to_have_value("Nhân viên rất nhiệt tình")
    page.click("#vk [data-vk-action=done]")
    expect(page.locator("#comment")).to_have_value("Nhân viên rất nhiệt tình")
    page.click("#send-detail")
    # A clear confirmation, and no offer of a second round of details.
    expect(page.locator("#step-sent")).to_be_visible()
    expect(page.locator("#step-sent .thanks")).to_have_text("Đã gửi. Cảm ơn ý kiến của ông/bà!")
    expect(page.locator("#go-detail")).to_be_hidden()
    (text,) = db(server).execute("SELECT text FROM comments ORDER BY seq DESC LIMIT 1").fetchone()
    assert text == "Nhân viên rất nhiệt tình" and unicodedata.is_normalized("NFC", text)
    assert len(text) == 24  # one code point per letter: "ấ" is U+1EA5, not a + two combining marks
    expect(page.locator("#step-home")).to_be_visible(timeout=5000)  # back home after the confirmation
    page.close()


@pytest.mark.browser
def test_tone_keys_follow_vietnamese_spelling(server, browser):
    page = browser.new_page()
    page.goto(server.base + "/")
    words = [
        ("hoa", "grave", "hòa"), ("quy", "acute", "quý"), ("gia", "acute", "giá"), ("gi", "grave", "gì"),
        ("ngươi", "grave", "người"), ("toan", "acute", "toán"), ("ngoai", "grave", "ngoài"), ("cua", "hook", "của"),
        ("thuyên", "grave", "thuyền"), ("tuôi", "hook", "tuổi"), ("giưa", "tilde", "giữa"), ("Đươc", "dot", "Được"),
        ("hòa", "grave", "hoa"), ("hòa", "acute", "hóa"), ("tr", "acute", None),
    ]  # fmt: skip
    found = page.evaluate("ws => ws.map(([w, t]) => KioskKeyboard.withTone(w, t))", [[w, t] for w, t, _ in words])
    assert found == [expected for _, _, expected in words]
    page.close()


@pytest.mark.browser
def test_a_tone_typed_early_moves_to_its_vowel_and_the_same_tone_again_removes_it(server, browser):
    page = browser.new_page()
    open_comment_step(page, server)
    page.click("#comment")
    for key in "to":
        page.click(f"#vk [data-vk='{key}']")
    page.click("#vk [data-tone=acute]")
    expect(page.locator("#vk-text")).to_have_value("Tó")
    for key in "an":
        page.click(f"#vk [data-vk='{key}']")
    expect(page.locator("#vk-text")).to_have_value("Toán")
    page.click("#vk [data-tone=acute]")
    expect(page.locator("#vk-text")).to_have_value("Toan")
    page.click("#vk [data-vk-action=back]")
    page.click("#vk [data-vk-action=layer]")
    page.click("#vk [data-vk='2']")
    expect(page.locator("#vk-text")).to_have_value("Toa2")
    page.close()


@pytest.mark.browser
def test_a_too_short_phone_number_gets_the_right_message_and_nothing_is_stored(server, browser):
    page = browser.new_page()
    open_comment_step(page, server)
    before = db(server).execute("SELECT count(*) FROM comments").fetchone()[0]
    for digit in "09123":
        page.click(f"[data-key='{digit}']")
    page.click("#send-detail")
    expect(page.locator("#detail-error")).to_have_text("Số điện thoại quá ngắn: xin kiểm tra lại (ít nhất 8 chữ số).")
    expect(page.locator("#step-comment")).to_be_visible()
    assert db(server).execute("SELECT count(*) FROM comments").fetchone()[0] == before
    for digit in "45678":
        page.click(f"[data-key='{digit}']")
    expect(page.locator("#detail-error")).to_have_text("")
    page.click("#send-detail")
    expect(page.locator("#step-sent")).to_be_visible()
    assert db(server).execute("SELECT contact FROM comments ORDER BY seq DESC LIMIT 1").fetchone() == ("0912345678",)
    page.close()


@pytest.mark.browser
def test_after_inactivity_the_form_is_clean_and_the_answers_given_are_kept(server, browser):
    page = browser.new_page(viewport={"width": 800, "height": 480})
    page.goto(server.base + "/")
    page.click("[data-level=very_satisfied]")
    expect(page.locator("#step-thanks")).to_be_visible()
    rating = db(server).execute("SELECT id FROM ratings ORDER BY seq DESC LIMIT 1").fetchone()[0]
    page.click("#go-detail")
    page.click(".step.active [data-answer=satisfied]")  # one question answered, then the citizen walks away
    while not page.locator("#step-comment").is_visible():
        page.click(".step.active [data-skip]")
    page.click("[data-chip='Công chức nhiệt tình']")
    expect(page.locator("[data-chip='Công chức nhiệt tình']")).to_have_attribute("aria-pressed", "true")
    for digit in "0912":
        page.click(f"[data-key='{digit}']")
    page.click("#comment")
    page.click("#vk [data-vk='a']")
    page.click("#vk [data-vk-action=layer]")  # the keyboard left on digits
    expect(page.locator("#step-home")).to_be_visible(timeout=(IDLE + 3) * 1000)
    answers = db(server).execute("SELECT indicator, level FROM indicator_answers WHERE rating_id = ?", (rating,))
    assert answers.fetchall() == [("time", "satisfied")]  # kept
    assert db(server).execute("SELECT count(*) FROM comments WHERE rating_id = ?", (rating,)).fetchone() == (0,)
    # The next citizen finds everything as new.
    page.click("[data-level=satisfied]")
    page.click("#go-detail")
    while not page.locator("#step-comment").is_visible():
        page.click(".step.active [data-skip]")
    expect(page.locator("#comment")).to_have_value("")
    expect(page.locator("#contact")).to_have_value("")
    expect(page.locator("[data-chip][aria-pressed=true]")).to_have_count(0)
    page.click("#comment")
    expect(page.locator("#vk [data-layer=letters]")).to_be_visible()
    expect(page.locator("#vk-text")).to_have_value("")
    page.close()


@pytest.mark.browser
def test_the_rating_screen_names_a_clerk_only_while_one_is_on_duty(server, browser):
    page = browser.new_page(viewport={"width": 800, "height": 480})
    page.goto(server.base + "/")
    office = "Đánh giá chung Bộ phận Một cửa: hiện không có công chức tại quầy 1"
    # Right after start-up nobody is logged in: the screen asks about the office, not counter 1's usual clerk.
    expect(page.locator("#who")).to_have_text(office)
    page.click("[data-level=very_satisfied]")
    expect(page.locator("#step-thanks")).to_be_visible()
    assert db(server).execute("SELECT clerk_id FROM ratings ORDER BY seq DESC LIMIT 1").fetchone() == (None,)
    page.click("#step-thanks [data-home]")

    clerk = requests.Session()
    assert clerk.post(server.base + "/api/clerk/login", json={"counter": 1, "pin": "1111"}, timeout=5).ok
    try:
        expect(page.locator("#who")).to_have_text("Đánh giá công chức Nguyễn Thị Lan – quầy 1", timeout=8000)
        page.click("[data-level=satisfied]")
        expect(page.locator("#step-thanks")).to_be_visible()
        named = db(server).execute(
            "SELECT c.name FROM ratings r JOIN clerks c ON c.id = r.clerk_id ORDER BY r.seq DESC LIMIT 1"
        )
        assert named.fetchone() == ("Nguyễn Thị Lan",)
    finally:
        clerk.post(server.base + "/api/clerk/logout", timeout=5)
    page.click("#step-thanks [data-home]")
    expect(page.locator("#who")).to_have_text(office)
    page.close()
