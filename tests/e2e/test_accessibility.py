"""Accessibility for elderly citizens and for staff, measured in Chromium against a real `kiosk serve --demo`.

- axe-core (npm, injected by Playwright): no serious or critical violation on any screen; the citizen, ticket
  and display screens also meet WCAG AAA contrast (7:1);
- every touch target on the citizen and ticket screens is at least 60 × 60 px, at 800×480, 1024×600 and
  1920×1080 (the on-screen keyboard included); axe on every step at 800×480 and 1024×600;
- no text under 18 px on the citizen and ticket screens at 800×480;
- the citizen screen answers the physical button panel alone: a press on the mock GPIO button shows the thanks.
"""

from __future__ import annotations

import threading

import pytest
import requests
from playwright.sync_api import expect

from kiosk.app import create_app
from tests.a11y import axe_violations, describe, small_targets, small_text
from tests.central_server import CentralServer
from tests.server import KioskServer

pytestmark = pytest.mark.browser
SMALL, MEDIUM, LARGE, DESK = (800, 480), (1024, 600), (1920, 1080), (1280, 720)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("a11y") / "var"
    env = {"KIOSK_RESPONSE_INTERVAL": "0", "KIOSK_THANKS_SECONDS": "60", "KIOSK_DETAIL_SECONDS": "120"}
    with KioskServer(data, demo=True, env=env) as srv:
        # Something on the board and in the clerk's line: tickets in every service, one called at counter 2.
        clerk = requests.Session()
        assert clerk.post(srv.base + "/api/clerk/login", json={"counter": 2, "pin": "2222"}).status_code == 200
        for code in [s["code"] for s in requests.get(srv.base + "/api/queue").json()["services"]] * 2:
            assert requests.post(srv.base + "/api/tickets", json={"service": code}).status_code == 201
        clerk.post(srv.base + "/api/counters/2/next")
        # and one on hold (giữ chỗ) at counter 3: the board, its phone and that console show it
        holder = requests.Session()
        assert holder.post(srv.base + "/api/clerk/login", json={"counter": 3, "pin": "3333"}).status_code == 200
        assert holder.post(srv.base + "/api/counters/3/next").status_code == 200
        assert holder.post(srv.base + "/api/counters/3/hold", json={"reason": "photocopy"}).status_code == 200
        yield srv


def open_page(browser, server, path, size):
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    page.goto(server.base + path)
    return page


# --- the citizen and ticket screens: each flow walked once per size, every step measured --------------------


def citizen_flow(page):
    """Yield each step of the rating flow as a citizen reaches it: home, thanks, a question, the comment form."""
    expect(page.locator("#step-home")).to_be_visible()
    yield "citizen-home"
    page.click("[data-level=satisfied]")
    expect(page.locator("#step-thanks")).to_be_visible()
    yield "citizen-thanks"
    page.click("#go-detail")
    expect(page.locator("#step-q1")).to_be_visible()
    yield "citizen-question"
    while not page.locator("#step-comment").is_visible():
        page.click(".step.active [data-skip]")
    yield "citizen-comment"
    page.click("#comment")
    expect(page.locator("#step-type")).to_be_visible()
    page.click("#vk [data-vk='t']")
    yield "citizen-keyboard"
    page.click("#vk [data-vk-action=shift]")
    page.click("#vk [data-vk-action=layer]")
    yield "citizen-keyboard-digits"
    page.click("#vk [data-vk-action=done]")
    page.click("#send-detail")
    expect(page.locator("#step-sent")).to_be_visible()
    yield "citizen-sent"


def ticket_flow(page):
    expect(page.locator("#t-home")).to_be_visible()
    yield "ticket-home"
    page.click("#priority")
    yield "ticket-priority"
    page.click(".t-tile >> nth=0")
    expect(page.locator("#t-result")).to_be_visible()
    yield "ticket-result"
    page.click("#t-result [data-home]")
    page.click("#several")  # several fields of one visit (issue 25): two tiles chosen, "Lấy số" shown
    page.click(".t-tile[data-service] >> nth=0")
    page.click(".t-tile[data-service] >> nth=1")
    expect(page.locator("#t-take")).to_be_enabled()
    yield "ticket-several"


@pytest.fixture(scope="module")
def touch_screens(server, browser):
    """{(size, step): {"axe", "targets", "text"}} for every step of the citizen and ticket flows."""
    found = {}
    for size in (SMALL, MEDIUM, LARGE):
        for path, flow in (("/", citizen_flow), ("/ticket", ticket_flow)):
            page = open_page(browser, server, path, size)
            for step in flow(page):
                found[size, step] = {
                    "buttons": page.evaluate("document.querySelectorAll('.active button').length"),
                    "axe": axe_violations(page, enhanced_contrast=True) if size in (SMALL, MEDIUM) else [],
                    "targets": small_targets(page),
                    "text": small_text(page) if size == SMALL else [],
                }
            page.context.close()
    return found


STEPS = ["citizen-home", "citizen-thanks", "citizen-question", "citizen-comment", "citizen-keyboard"]
STEPS += ["citizen-keyboard-digits", "citizen-sent", "ticket-home", "ticket-priority", "ticket-result"]
STEPS += ["ticket-several"]


@pytest.mark.parametrize("size", [SMALL, MEDIUM], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("step", STEPS)
def test_touch_screens_have_no_serious_axe_violation_and_aaa_contrast(touch_screens, step, size):
    violations = touch_screens[size, step]["axe"]
    assert not violations, f"{step}:\n{describe(violations)}"


@pytest.mark.parametrize("size", [SMALL, MEDIUM, LARGE], ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_touch_target_is_at_least_60px(touch_screens, size):
    assert all(touch_screens[size, step]["buttons"] for step in STEPS), "a step without buttons was measured"
    found = {step: touch_screens[size, step]["targets"] for step in STEPS if touch_screens[size, step]["targets"]}
    assert not found, f"touch targets under 60 px: {found}"


def test_no_text_under_18px_on_the_citizen_and_ticket_screens(touch_screens):
    found = {step: touch_screens[SMALL, step]["text"] for step in STEPS if touch_screens[SMALL, step]["text"]}
    assert not found, f"text under 18 px at 800x480: {found}"


# --- the other screens ----------------------------------------------------------------------------------------


def clerk(logged_in):
    def go(page):
        if not logged_in:
            expect(page.locator("#c-login")).to_be_visible()
            return
        page.select_option("#login-counter", "1")
        page.fill("#login-pin", "1111")
        page.click("#login-form button[type=submit]")
        expect(page.locator("#c-console")).to_be_visible()
        page.click("[data-action=next]")
        expect(page.locator("#c-number")).not_to_have_text("—")

    return "/clerk", go


def clerk_holding(page):
    """Counter 3 with a ticket on hold in its list, serving the next one, the reasons for a hold open."""
    page.select_option("#login-counter", "3")
    page.fill("#login-pin", "3333")
    page.click("#login-form button[type=submit]")
    expect(page.locator("#c-held-box")).to_be_visible()
    page.click("[data-action=next]")
    expect(page.locator("#c-number")).not_to_have_text("—")
    page.click("[data-action=hold]")
    expect(page.locator("#c-hold")).to_be_visible()


def clerk_taking_a_held_counter(page):
    """Lê Thị Hoa chooses counter 2, which Trần Văn Minh holds: the warning, then the confirmation."""
    expect(page.locator("#c-login")).to_be_visible()
    page.select_option("#login-clerk", label="Lê Thị Hoa")
    page.select_option("#login-counter", "2")
    expect(page.locator("#login-held")).to_be_visible()
    page.fill("#login-pin", "3333")
    page.click("#login-form button[type=submit]")
    expect(page.locator("#login-confirm")).to_be_visible()


def admin_login():
    def go(page):
        expect(page.locator("#password")).to_be_visible()

    return "/admin/login", go


def admin_pages(page, paths):
    """Sign in with the demo password, then open each admin page in turn (one session for all)."""
    page.fill("#password", "demo")
    page.click("form.stack button[type=submit]")
    expect(page.locator("h1").first).to_be_visible()
    for path in paths:
        page.goto(page.url.split("/admin")[0] + path)
        expect(page.locator("h1").first).to_be_visible()
        yield path


def display():
    def go(page):
        expect(page.locator("#d-rows .d-number").nth(1)).not_to_have_text("—")
        expect(page.locator("#d-held li")).to_have_count(1)

    return "/display", go


SCREENS = [("display", display(), LARGE, True), ("display-720p", display(), DESK, True)]
SCREENS += [("clerk-login", clerk(False), DESK, False), ("clerk-console", clerk(True), DESK, False)]
SCREENS += [("clerk-console-hold", ("/clerk", clerk_holding), DESK, False)]
SCREENS += [("clerk-login-held-counter", ("/clerk", clerk_taking_a_held_counter), DESK, False)]
SCREENS += [("admin-login", admin_login(), DESK, False)]


@pytest.mark.parametrize("name, screen, size, aaa", SCREENS, ids=[s[0] for s in SCREENS])
def test_no_serious_or_critical_axe_violation(server, browser, name, screen, size, aaa):
    path, go = screen
    page = open_page(browser, server, path, size)
    go(page)
    violations = axe_violations(page, enhanced_contrast=aaa)
    page.context.close()
    assert not violations, f"{name}:\n{describe(violations)}"


ADMIN_PAGES = ("/admin", "/admin/panel", "/admin/bookings", "/admin/services", "/admin/counters", "/admin/clerks",
               "/admin/screens")  # fmt: skip


def test_admin_pages_have_no_serious_or_critical_axe_violation(server, browser):
    page = open_page(browser, server, "/admin/login", DESK)
    found = {path: axe_violations(page) for path in admin_pages(page, ADMIN_PAGES)}
    page.context.close()
    assert list(found) == list(ADMIN_PAGES)  # every page was opened and checked
    assert not any(found.values()), "\n".join(f"{k}:\n{describe(v)}" for k, v in found.items() if v)


@pytest.fixture(scope="module")
def central(tmp_path_factory):
    """`kiosk-central serve` with one commune, a kiosk registered, and an admin account."""
    server = CentralServer(tmp_path_factory.mktemp("a11y-central") / "central")
    server.cli("init")
    server.add_device("Kiosk", "XTN", "UBND xã Thử Nghiệm")
    server.cli("add-user", "chutich", "--role", "admin", "--password", "mat-khau-2026")
    with server:
        yield server


def test_central_pages_have_no_serious_or_critical_axe_violation(central, browser):
    # bypass_csp: the central pages forbid inline scripts, and axe-core is injected as one.
    page = browser.new_context(viewport={"width": DESK[0], "height": DESK[1]}, bypass_csp=True).new_page()
    page.goto(central.base + "/login")
    found = {"/login": axe_violations(page)}
    page.fill("#username", "chutich")
    page.fill("#password", "mat-khau-2026")
    page.click("form.login button[type=submit]")
    for path in ("/reports", "/comments", "/fleet", "/panel", "/panel/XTN"):
        page.goto(central.base + path)
        expect(page.locator("h1").first).to_be_visible()
        found[path] = axe_violations(page)
    page.context.close()
    assert not any(found.values()), "\n".join(f"{k}:\n{describe(v)}" for k, v in found.items() if v)


# --- the button panel alone --------------------------------------------------------------------------------


@pytest.fixture
def live_kiosk(tmp_path):
    """The real app in this process (waitress in a thread), so the test can press its mock GPIO buttons."""
    from waitress.server import create_server

    app = create_app(
        {
            "data_dir": str(tmp_path / "var"),
            "gpio": "mock",
            "printer": "none",
            "response_interval": 0,
            "thanks_seconds": 60,
        }
    )
    server = create_server(app, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield app.extensions["kiosk"], f"http://127.0.0.1:{server.effective_port}"
    server.close()
    app.extensions["kiosk"].close()


def test_the_physical_buttons_alone_drive_the_citizen_screen(live_kiosk, browser):
    kiosk, base = live_kiosk
    page = browser.new_page(viewport={"width": SMALL[0], "height": SMALL[1]})
    page.goto(base + "/")
    expect(page.locator("#step-home")).to_be_visible()
    page.wait_for_function("document.documentElement.classList.contains('live-down') === false")
    page.wait_for_timeout(300)  # the event stream is open
    pins = kiosk.settings["button_pins"]
    pin = kiosk.hardware["pin_factory"].pin(pins[0])  # the first button: "Rất hài lòng"
    pin.drive_low()
    pin.drive_high()
    expect(page.locator("#step-thanks")).to_be_visible(timeout=3000)
    # The press can be detailed on the screen: the detail form belongs to the button's rating.
    page.click("#go-detail")
    page.click(".step.active [data-answer=very_satisfied]")
    while not page.locator("#step-comment").is_visible():
        page.click(".step.active [data-skip]")
    page.click("#send-detail")
    expect(page.locator("#step-sent")).to_be_visible()
    import sqlite3

    db = sqlite3.connect(kiosk.settings.database_url.split("///", 1)[1])
    rows = db.execute("SELECT id, level, channel FROM ratings").fetchall()
    assert [(level, channel) for _id, level, channel in rows] == [("very_satisfied", "button")]
    assert db.execute("SELECT rating_id, indicator, points FROM indicator_answers").fetchall() == [
        (rows[0][0], "time", 2)
    ]
    page.close()


#: Keeps what the page's own event stream delivers (window.__heard) and its streams (window.__sources), so a
#: test can wait until the page has really heard an event instead of sleeping and hoping.
HEARD = """
(function () {
  var Native = window.EventSource;
  window.__heard = [];
  window.__sources = [];
  function Recorded(url, init) { var s = new Native(url, init); window.__sources.push(s); return s; }
  Recorded.prototype = Native.prototype;
  Recorded.CONNECTING = 0; Recorded.OPEN = 1; Recorded.CLOSED = 2;
  var add = Native.prototype.addEventListener;
  Native.prototype.addEventListener = function (kind, fn, options) {
    return add.call(this, kind, function (e) { window.__heard.push([kind, e.data]); return fn.call(this, e); }, options);
  };
  window.EventSource = Recorded;
})();
"""


def test_a_button_press_at_another_counter_does_not_thank_here(live_kiosk, browser):
    kiosk, base = live_kiosk
    here = browser.new_page(viewport={"width": SMALL[0], "height": SMALL[1]})
    here.add_init_script(HEARD)
    here.goto(base + "/?counter=2")
    panel_screen = browser.new_page(viewport={"width": SMALL[0], "height": SMALL[1]})
    panel_screen.goto(base + "/?counter=1")
    here.wait_for_function("window.__sources.some(function (s) { return s.readyState === 1; })")
    pin = kiosk.hardware["pin_factory"].pin(kiosk.settings["button_pins"][0])  # the panel is counter 1's
    pin.drive_low()
    pin.drive_high()
    # The press arrived: stored for counter 1, and the panel's own screen thanks the citizen.
    expect(panel_screen.locator("#step-thanks")).to_be_visible()
    with kiosk.sessions() as session:
        from kiosk.models import Rating

        assert [(r.level, r.channel, r.counter_number) for r in session.query(Rating)] == [
            ("very_satisfied", "button", 1)
        ]
    # This screen heard the same press on its stream, handled it, and stayed at home.
    here.wait_for_function(
        "window.__heard.some(function (h) { return h[0] === 'rating_recorded' && JSON.parse(h[1]).counter === 1; })"
    )
    expect(here.locator("#step-home")).to_be_visible()
    expect(here.locator("#step-thanks")).to_be_hidden()
    here.close()
    panel_screen.close()


PHONE = (360, 740)


def phone_token(server, status: str) -> str:
    import sqlite3

    db = sqlite3.connect(server.data_dir / "kiosk.db")
    try:
        return db.execute("SELECT token FROM ticket_state WHERE status = ? LIMIT 1", (status,)).fetchone()[0]
    finally:
        db.close()


@pytest.mark.parametrize("status", ["waiting", "called", "held", "done"])
def test_the_phone_page_has_no_serious_axe_violation_and_aaa_contrast(server, browser, status):
    """A citizen's phone at 360×740: waiting, called, on hold (giữ chỗ), and served with the rating form open (run last: it serves
    a ticket at counter 3)."""
    if status == "done":
        clerk = requests.Session()
        assert clerk.post(server.base + "/api/clerk/login", json={"counter": 3, "pin": "3333"}).status_code == 200
        assert clerk.post(server.base + "/api/counters/3/next").status_code == 200
        assert clerk.post(server.base + "/api/counters/3/complete").status_code == 200
    page = open_page(browser, server, f"/t/{phone_token(server, status)}", PHONE)
    if status == "done":
        page.locator("summary").click()  # the optional questions too
        expect(page.locator("#p-rate")).to_be_visible()
    violations = axe_violations(page, enhanced_contrast=True)
    overflow = page.evaluate("document.documentElement.scrollWidth")
    page.context.close()
    assert not violations, f"phone page ({status}):\n{describe(violations)}"
    assert overflow <= PHONE[0], f"the phone page scrolls sideways ({overflow} px)"
