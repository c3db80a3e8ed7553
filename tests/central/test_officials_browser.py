"""The officials' screens in Debian's Chromium, with figures in them: no serious or critical axe violation on the
report (grades and "Chưa đủ số phiếu"), the comments inbox and a comment in context, the fleet with a silent kiosk,
the kiosk's `/admin` with its clerk grades, and the error pages of both programs. Screenshots go to
test-artifacts/officials/ (not committed).
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect

from central.app import create_central_app
from central.registry import add_user
from kiosk import admin as admin_auth
from kiosk.app import create_app
from kiosk.clock import FakeClock
from kiosk.db import transaction
from tests.a11y import axe_violations, describe
from tests.central import report_fixture as fx
from tests.central.helpers import LiveServer

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts" / "officials"
DESK = {"width": 1366, "height": 768}
PASSWORD = "mat-khau-2026"


@pytest.fixture(scope="module")
def central(tmp_path_factory):
    """The hand-made province (tests/central/report_fixture.py) with the default grade threshold of 5, served."""
    tmp = tmp_path_factory.mktemp("officials")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("KIOSK_CONFIG", str(tmp / "none.toml"))
        app = create_central_app(
            {"data_dir": str(tmp / "data"), "central_database_url": f"sqlite:///{tmp / 'c.db'}", "TESTING": True},
            clock=fx.FixedClock(fx.SERVER_NOW),
        )
        province = fx.load(app.extensions["central"])
        feed = province.feeds["A"]
        rating = feed.rating("2026-03-03T09:00:00", "unsatisfied", "CT", 2, province.clerks["A2"])
        feed.comment("2026-03-03T09:02:00", "Phải chờ hơi lâu.", "0911222333", 2, rating=rating)
        feed.send()
        add_user(app.extensions["central"], "chutich", PASSWORD, "admin")
        server = LiveServer(app)
        yield server
        server.close()
        app.extensions["central"].close()


def audit(page, name: str) -> list[dict]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    return axe_violations(page)


def test_central_pages_with_figures_pass_the_audit(central, browser):
    # bypass_csp: the central pages forbid inline scripts, and axe-core is injected as one.
    page = browser.new_context(viewport=DESK, bypass_csp=True).new_page()
    page.goto(central.url + "/login?lang=vi")
    page.fill("#username", "chutich")
    page.fill("#password", PASSWORD)
    page.click("form.login button[type=submit]")
    found = {}
    page.goto(central.url + "/reports?period=quarter&year=2026&quarter=1")
    expect(page.locator("tr[data-commune=A] td.grade")).to_have_text("Khá (11,7/18)")  # five answers to CS7
    expect(page.locator("tr[data-clerk] td.grade").first).to_contain_text("Chưa đủ số phiếu")  # 1 to 4 answers
    found["reports"] = audit(page, "reports")
    page.goto(central.url + "/comments")
    expect(page.locator("tr.comment-row td.level").first).to_have_text("Không hài lòng")
    found["comments"] = audit(page, "comments")
    page.locator("tr.comment-row a").first.click()
    expect(page.locator("dl.context")).to_contain_text("Trần Thị Bình")
    found["comment"] = audit(page, "comment")
    page.goto(central.url + "/fleet")
    expect(page.locator("tr.silent")).to_have_count(1)
    expect(page.locator("#office-hours")).to_contain_text("Thứ Hai – Thứ Sáu 07:00–17:00")
    found["fleet"] = audit(page, "fleet")
    page.goto(central.url + "/no-such-page")
    expect(page.locator("h1")).to_have_text("Không tìm thấy trang")
    found["404"] = audit(page, "central-404")
    page.context.close()
    assert not any(found.values()), "\n".join(f"{k}:\n{describe(v)}" for k, v in found.items() if v)


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory):
    """A kiosk in this process where clerk Lan served seven citizens who rated with the detailed form."""
    from waitress.server import create_server

    from kiosk.catalog import add_clerk

    clock = FakeClock()
    app = create_app(
        {"data_dir": str(tmp_path_factory.mktemp("officials-kiosk")), "gpio": "mock", "printer": "none"}, clock=clock
    )
    k = app.extensions["kiosk"]
    with transaction(k.sessions) as s:
        add_clerk(s, "Nguyễn Thị Lan", "4321", 1)
        admin_auth.set_password(s, PASSWORD)
    clerk, citizen = app.test_client(), app.test_client()
    assert clerk.post("/api/clerk/login", json={"counter": 1, "pin": "4321"}).status_code == 200
    for points in (2, 1, 1, 1, 2, 2, 0):
        ticket = citizen.post("/api/tickets", json={"service": "HT"}).get_json()
        clerk.post("/api/counters/1/next")
        clerk.post("/api/counters/1/complete")
        level = {2: "very_satisfied", 1: "satisfied", 0: "unsatisfied"}[points]
        body = {"level": level, "counter": 1, "ticket_id": ticket["id"], "criteria": {"attitude": level}}
        assert citizen.post("/api/ratings", json=body).status_code == 201
        clock.advance(30)
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    k.close()


def test_the_kiosk_admin_page_and_error_pages_pass_the_audit(kiosk, browser):
    page = browser.new_context(viewport=DESK).new_page()
    page.goto(kiosk + "/admin/login")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.goto(kiosk + "/admin")
    grade = page.locator("#by-counter td.grade").first
    expect(grade).to_have_text("Hoàn thành 100% nhiệm vụ (6,5/10)")  # 9 ÷ 7 = 1,29 → 1,3 → 6,5 of 10
    expect(page.locator("#by-counter [data-indicator=attitude]").first).to_contain_text("1,3")
    found = {"admin": audit(page, "kiosk-admin")}
    page.goto(kiosk + "/no-such-page")
    expect(page.locator("h1")).to_have_text("Không tìm thấy trang")
    found["404"] = audit(page, "kiosk-404")
    page.context.close()
    assert not any(found.values()), "\n".join(f"{k}:\n{describe(v)}" for k, v in found.items() if v)
