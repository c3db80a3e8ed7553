"""One citizen's visit, end to end, in Chromium against a real `kiosk serve --demo` and a real `kiosk-central`.

ticket on the touch screen (the spool holds the print job) → the clerk logs in and calls → the board shows the
call without a reload → the citizen rates with the detailed form and a comment → `kiosk sync --once` → the
central report shows the rating under the right clerk and field. Screenshots of each screen at 800×480 and
1920×1080 go to test-artifacts/e2e/ (not committed).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from tests.a11y import axe_violations, describe
from tests.central_server import CentralServer
from tests.server import KioskServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
SIZES = [(800, 480), (1920, 1080)]
COMMUNE, CLERK, PIN = "XTN", "Nguyễn Thị Lan", "4321"


def kiosk_cli(kiosk: KioskServer, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", *args],
        env={**kiosk.env, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"kiosk {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def shoot(page, name: str) -> None:
    """The screen as it is now, at both sizes; the page goes back to its own size afterwards."""
    own = page.viewport_size
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}x{height}.png"))
    page.set_viewport_size(own)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The central server with the commune's two clerks, and a kiosk that took its configuration from it."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    root = tmp_path_factory.mktemp("e2e")
    central = CentralServer(root / "central")
    central.cli("init")
    device = central.add_device("Kiosk Bộ phận Một cửa", COMMUNE, "UBND xã Thử Nghiệm")
    assert {"KIOSK_DEVICE_ID", "KIOSK_DEVICE_SECRET"} <= set(device)
    central.cli("add-user", "chutich", "--role", "admin", "--password", "mat-khau-2026")
    clerks = [
        {"code": "LAN", "name": CLERK, "pin": PIN, "counter": 1},
        {"code": "MINH", "name": "Trần Văn Minh", "pin": "8765", "counter": 2},
    ]
    (root / "clerks.json").write_text(json.dumps({"clerks": clerks}, ensure_ascii=False), encoding="utf-8")
    central.cli("import-config", str(root / "clerks.json"), "--commune", COMMUNE)
    with central:
        kiosk = KioskServer(root / "kiosk", demo=True, env={"KIOSK_THANKS_SECONDS": "30"})
        sync_env = {"KIOSK_CENTRAL_URL": central.base, **device}
        kiosk.data_dir.mkdir(parents=True)
        kiosk_cli(kiosk, "init")
        kiosk_cli(kiosk, "sync", "--once", env=sync_env)  # the clerks (and their PINs) come from the central server
        with kiosk:
            yield {"central": central, "kiosk": kiosk, "sync_env": sync_env}


def test_a_citizen_visit_from_ticket_to_the_central_report(world, browser):
    kiosk, central = world["kiosk"], world["central"]
    spool = kiosk.data_dir / "spool"
    db = sqlite3.connect(kiosk.data_dir / "kiosk.db")

    # The board is up before anything happens; it must follow by itself, without a reload.
    board = browser.new_page(viewport={"width": 1920, "height": 1080})
    board.goto(kiosk.base + "/display")
    board.wait_for_function("!document.documentElement.classList.contains('live-down')")
    board.evaluate("window.__sameDocument = true")
    shoot(board, "01-display-empty")

    # 1. A citizen takes a number for "Hộ tịch" on the touch screen; the ticket is printed (spool).
    screen = browser.new_page(viewport={"width": 800, "height": 480})
    screen.goto(kiosk.base + "/ticket")
    shoot(screen, "02-ticket-home")
    screen.click("[data-service=HT]")
    expect(screen.locator("#t-result")).to_be_visible()
    expect(screen.locator("#t-number")).to_have_text("A001")
    shoot(screen, "03-ticket-number")
    expect(screen.locator("#t-print")).to_have_text("Xin ông/bà nhận phiếu ở máy in.", timeout=5000)
    assert sorted(p.suffix for p in spool.iterdir()) == [".bin", ".png"]
    assert b"\x1dv0" in next(spool.glob("*.bin")).read_bytes()  # an ESC/POS raster image, not code-page text

    # 2. The clerk of counter 1 logs in with the PIN the central server gave, and calls the next number.
    clerk = browser.new_page(viewport={"width": 1280, "height": 720})
    clerk.goto(kiosk.base + "/clerk")
    shoot(clerk, "04-clerk-login")
    clerk.select_option("#login-counter", "1")
    clerk.fill("#login-pin", PIN)
    clerk.press("#login-pin", "Enter")
    expect(clerk.locator("#c-console")).to_be_visible()
    expect(clerk.locator("#c-title")).to_contain_text(CLERK)
    clerk.keyboard.press("n")  # the console works from the keyboard: N = call next
    expect(clerk.locator("#c-number")).to_have_text("A001")
    # 3. ...and the board shows it within a second, in the same document.
    expect(board.locator("#d-rows [data-counter='1'] .d-number")).to_have_text("A001", timeout=1000)
    assert board.evaluate("window.__sameDocument") is True
    expect(board.locator("#d-call")).to_contain_text("A001")
    shoot(board, "05-display-called")
    shoot(clerk, "06-clerk-serving")
    clerk.keyboard.press("h")  # H = complete
    expect(clerk.locator("#c-number")).to_have_text("—")
    ticket_id, clerk_id = db.execute("SELECT ticket_id, clerk_id FROM ticket_state WHERE status = 'done'").fetchone()

    # 4. The citizen rates at counter 1: the screen names the clerk; the detailed form with a comment.
    rate = browser.new_page(viewport={"width": 800, "height": 480})
    rate.goto(kiosk.base + "/")
    expect(rate.locator("#who")).to_have_text(f"Đánh giá công chức {CLERK} – quầy 1")
    shoot(rate, "07-rate-home")
    rate.click("[data-level=very_satisfied]")
    expect(rate.locator("#step-thanks")).to_be_visible()
    shoot(rate, "08-rate-thanks")
    rate.click("#go-detail")
    for step, answer in enumerate(["very_satisfied", "satisfied", "very_satisfied", "very_satisfied"], start=1):
        expect(rate.locator(f"#step-q{step}")).to_be_visible()
        if step == 1:
            shoot(rate, "09-rate-question")
        rate.click(f"#step-q{step} [data-answer={answer}]")
    expect(rate.locator("#step-comment")).to_be_visible()
    rate.fill("#comment", "Công chức hướng dẫn tận tình, dễ hiểu.")
    shoot(rate, "10-rate-comment")
    rate.click("#send-detail")
    expect(rate.locator("#step-sent")).to_be_visible()
    expect(rate.locator("#step-sent .thanks")).to_have_text("Đã gửi. Cảm ơn ý kiến của ông/bà!")
    rating = db.execute("SELECT id, ticket_id, clerk_id, service_code FROM ratings").fetchall()
    assert [r[1:] for r in rating] == [(ticket_id, clerk_id, "HT")]

    # 5. The kiosk sends its records.
    out = kiosk_cli(kiosk, "sync", "--once", env=world["sync_env"])
    assert out.startswith("Sync finished:"), out
    assert requests.get(kiosk.base + "/healthz", timeout=5).json()["unsynced"] == 0

    # 6. The commune chairman reads the report: the rating is under Nguyễn Thị Lan and "Hộ tịch".
    # bypass_csp: the central pages forbid inline scripts, and axe-core is injected as one.
    office = browser.new_context(viewport={"width": 1920, "height": 1080}, bypass_csp=True).new_page()
    office.goto(central.base + "/login")
    shoot(office, "11-central-login")
    office.fill("#username", "chutich")
    office.fill("#password", "mat-khau-2026")
    office.click("form.login button[type=submit]")
    office.goto(central.base + "/reports")
    clerk_row = office.locator("tr", has=office.locator("td", has_text=CLERK)).first
    expect(clerk_row.locator("td").nth(3)).to_have_text("1")  # ratings
    field_row = office.locator("tr", has=office.locator("td", has_text="Hộ tịch")).first
    expect(field_row.locator("td").nth(1)).to_have_text("1")
    shoot(office, "12-central-report")
    violations = axe_violations(office)  # the report with figures in it, charts included
    assert not violations, describe(violations)
    office.goto(central.base + "/comments")
    expect(office.get_by_text("Công chức hướng dẫn tận tình, dễ hiểu.")).to_be_visible()
    shoot(office, "13-central-comments")

    for page in (board, screen, clerk, rate, office):
        page.close()
    assert len(list(ARTIFACTS.glob("*.png"))) >= 26
