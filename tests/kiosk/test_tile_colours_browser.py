"""A field added to the six of the default catalogue gets a tile colour of its own (issue 22, point 7): up to
twelve fields, no two tiles of the ticket screen share a colour, and every colour keeps white text at WCAG AAA
contrast (7:1). In Chromium against a real `kiosk serve`."""

from __future__ import annotations

import json
import re

import pytest

from tests.server import KioskServer

pytestmark = pytest.mark.browser

NAMES = ["Hộ tịch", "Chứng thực", "Đất đai", "Bảo trợ xã hội", "Người có công", "Tư pháp – khác", "Lao động"]
NAMES += ["Xây dựng", "Giáo dục", "Y tế", "Kinh tế", "Nội vụ"]


def contrast_with_white(rgb: str) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(x) for x in re.findall(r"\d+", rgb)[:3])
    lum = 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    return 1.05 / (lum + 0.05)


def test_twelve_fields_have_twelve_tile_colours(tmp_path, browser):
    services = [{"code": f"F{i}", "name": name, "prefix": chr(65 + i)} for i, name in enumerate(NAMES)]
    counters = [{"number": 1, "services": [s["code"] for s in services]}]
    env = {"KIOSK_SERVICES": json.dumps(services), "KIOSK_COUNTERS": json.dumps(counters), "KIOSK_ANNOUNCER": "none"}
    with KioskServer(tmp_path / "var", env=env) as server:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(server.base + "/ticket")
        colours = page.eval_on_selector_all(".t-tile", "tiles => tiles.map(t => getComputedStyle(t).backgroundColor)")
        assert len(colours) == 12
        assert len(set(colours)) == 12, colours  # the seventh tile was the first one's blue
        assert min(contrast_with_white(c) for c in colours) >= 7
        page.close()
