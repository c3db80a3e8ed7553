"""The central pages of issue 26 in Debian's Chromium: a commune_admin posts a fee table and a form's PDF through the
real page (the file chooser), sees them listed, hides a procedure with its switch; no serious or critical axe
violation on either page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from central.app import create_central_app
from central.procedures import import_procedures
from central.registry import add_commune, add_province, add_user
from common.db import transaction
from common.procedure_examples import EXAMPLE_PROCEDURES
from kiosk.posted_demo import form_pdf
from tests.a11y import axe_violations, describe
from tests.central.helpers import COMMUNE, LiveServer
from tests.central.test_officials_browser import DESK, PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def central(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("posted-pages")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("KIOSK_CONFIG", str(tmp / "none.toml"))
        app = create_central_app(
            {"data_dir": str(tmp / "data"), "central_database_url": f"sqlite:///{tmp / 'c.db'}", "TESTING": True}
        )
        central = app.extensions["central"]
        add_province(central, "79", "Thành phố Hồ Chí Minh")
        add_commune(central, COMMUNE, "Xã Tân Hòa", province="79")
        with transaction(central.sessions) as s:
            import_procedures(s, "79", EXAMPLE_PROCEDURES, central.clock.now())
        add_user(central, "qt-xa", PASSWORD, "commune_admin", COMMUNE)
        server = LiveServer(app)
        yield server
        server.close()
        central.close()


def test_a_commune_admin_posts_and_hides_in_the_browser(central, browser, tmp_path):
    pdf = tmp_path / "to-khai.pdf"
    pdf.write_bytes(form_pdf())
    page = browser.new_context(viewport=DESK, bypass_csp=True).new_page()
    page.goto(central.url + "/login?lang=vi")
    page.fill("#username", "qt-xa")
    page.fill("#password", PASSWORD)
    page.click("form.login button[type=submit]")
    page.click("header >> text=Niêm yết")
    page.select_option("#kind-new", "fees")
    page.fill("#title-new", "Bảng phí, lệ phí")
    page.fill("#rows-new", "Chứng thực bản sao từ bản chính | 2.000 đ/trang\nChứng thực chữ ký | 10.000 đ")
    page.click("#doc-new button[type=submit]")
    expect(page.locator("p.notice.ok")).to_contain_text("Bảng phí, lệ phí")
    page.select_option("#kind-new", "form")
    page.fill("#title-new", "Tờ khai đăng ký khai sinh")
    page.set_input_files("#file-new", str(pdf))
    page.click("#doc-new button[type=submit]")
    expect(page.locator("p.notice.ok")).to_contain_text("Tờ khai đăng ký khai sinh")
    expect(page.locator("form.item h2", has_text="Biểu mẫu (PDF)")).to_have_count(1)
    found = axe_violations(page)
    assert not found, describe(found)
    page.click("header >> text=Thủ tục")
    row = page.locator("#p-1\\.001193")
    row.locator("button").click()
    expect(page.locator("#p-1\\.001193 .badge")).to_have_text("đang ẩn")
    found = axe_violations(page)
    assert not found, describe(found)
