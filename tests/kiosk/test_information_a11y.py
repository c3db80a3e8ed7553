"""The counter's information point for elderly readers, in Chromium at 800×480 against a real `kiosk serve --demo`:
"Tra cứu thủ tục" and the suggestion box have no serious axe violation with AAA contrast, every touch target at
least 60 px and no text under 18 px, at each step."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.a11y import axe_violations, describe, small_targets, small_text
from tests.server import KioskServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def steps(tmp_path_factory, browser):
    """{step: {"axe", "targets", "text"}} for every step of the lookup and the suggestion box at 800×480."""
    data = tmp_path_factory.mktemp("info-a11y") / "var"
    found = {}
    with KioskServer(data, demo=True, env={"KIOSK_ANNOUNCER": "none", "KIOSK_DETAIL_SECONDS": "120"}) as srv:
        page = browser.new_page(viewport={"width": 800, "height": 480})

        def measure(step: str) -> None:
            found[step] = {
                "axe": axe_violations(page, enhanced_contrast=True),
                "targets": small_targets(page),
                "text": small_text(page),
            }

        page.goto(srv.base + "/thu-tuc")
        measure("fields")
        page.click("[data-field=HT]")
        expect(page.locator("#p-list")).to_be_visible()
        measure("list")
        page.click(".p-item >> nth=0")
        expect(page.locator("#p-detail")).to_be_visible()
        measure("detail")
        page.click("[data-go-back]")
        page.click("#p-list [data-go=p-fields]")
        page.click("[data-open-search]")
        page.click('#vk [data-layer=letters] [data-vk="k"]')
        expect(page.locator("#p-found .p-item").first).to_be_visible()
        measure("search")
        page.goto(srv.base + "/gop-y?screen=kiosk")
        measure("suggestion")
        page.close()
    return found


@pytest.mark.parametrize("step", ["fields", "list", "detail", "search", "suggestion"])
def test_each_step_is_accessible_at_800x480(steps, step):
    measured = steps[step]
    assert not measured["axe"], f"{step}:\n{describe(measured['axe'])}"
    assert not measured["targets"], f"{step}: touch targets under 60 px: {measured['targets']}"
    assert not measured["text"], f"{step}: text under 18 px: {measured['text']}"
