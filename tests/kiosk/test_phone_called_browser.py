"""The phone's "called" screen (issue 22, point 7): the tone marks of "QUẦY" (Ầ carries a circumflex and a grave
above the capital) stay clear of the line above. Measured in Chromium on a 360 px phone against a real
`kiosk serve`: the top of the ink of "QUẦY", from the font's own metrics, lies below the bottom of the line
before it."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tests.kiosk.test_phone_browser import PHONE, clerk_session, printed_qr, server  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser

INK_TOP = """() => {
  const word = document.querySelector('.p-counter-word'), line = word.closest('.p-counter');
  const style = getComputedStyle(line), above = line.previousElementSibling;
  const ctx = document.createElement('canvas').getContext('2d');
  ctx.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  const m = ctx.measureText(word.textContent.toUpperCase());
  const box = word.getBoundingClientRect();  // the inline box: font ascent + descent, centred in the line
  const baseline = box.top + (box.height - m.fontBoundingBoxAscent - m.fontBoundingBoxDescent) / 2
                   + m.fontBoundingBoxAscent;
  return {ink: baseline - m.actualBoundingBoxAscent, above: above.getBoundingClientRect().bottom,
          text: word.textContent};
}"""


def test_the_tone_marks_of_quay_stay_clear_of_the_line_above(server, browser):  # noqa: F811
    ticket = requests.post(server.base + "/api/tickets", json={"service": "HT"}, timeout=10).json()
    link = printed_qr(server.spool, ticket["display_number"])
    page = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto(link)
    assert clerk_session(server).post(server.base + "/api/counters/1/next").json()["ticket"]["id"] == ticket["id"]
    expect(page.locator("#p-called")).to_be_visible()
    expect(page.locator("#p-counter-n")).to_have_text("1")
    found = page.evaluate(INK_TOP)
    assert found["text"] == "Quầy"
    assert found["ink"] >= found["above"], found
    page.close()
