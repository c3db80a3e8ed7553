"""The catalogue's change log reads as plain Vietnamese (issue 22, point 7): no raw JSON of the values before and
after, no "catalog", no "kiosk Kiosk Cẩm Nhượng", no PIN hash — each entry says who did what to which item."""

from __future__ import annotations

import re
from datetime import datetime

from lxml import html

from central import audit
from central.audit_text import KINDS
from common.db import transaction
from tests.central.test_catalog_pages import post, sign_in, site  # noqa: F401 (fixture)


def rows(client) -> list[list[str]]:
    page = html.fromstring(client.get("/admin/communes/A/audit?lang=vi").text)
    return [
        [" ".join(td.text_content().split()) for td in tr.xpath("./td")]
        for tr in page.xpath('//table[@id="audit"]//tr[td]')
    ]


def test_the_change_log_says_what_changed_in_plain_words(site, central):  # noqa: F811
    admin = sign_in(site, "admin")
    # a new field names the counter that handles it (issue 22: no ticket nobody can call)
    added = post(admin, "/admin/communes/A/services", code="LD", name="Lao động", prefix="G", counters=["TT:1"])
    assert added.status_code == 302, added.text
    assert post(admin, "/admin/communes/A/counters", number="4", services=["LD"]).status_code == 302
    assert post(admin, "/admin/communes/A/clerks", name="Lê Thị Hoa", pin="2468", counter="4").status_code == 302
    assert post(admin, "/admin/communes/A/counters/4", name="", services=["LD"]).status_code in (302, 400)
    with transaction(central.sessions) as s:  # what a kiosk's first upload writes
        kiosk = audit.Actor("kiosk Kiosk Cẩm Nhượng", central=False)
        audit.record(
            s, "A", kiosk, "adopt", "catalog", datetime(2026, 12, 1, 2), {"services": 7, "counters": 3, "clerks": 4}
        )
    got = rows(admin)
    text = " ".join(" ".join(r) for r in got)
    assert "{" not in text and '"after"' not in text and "pin_hash" not in text
    assert not re.search(r"\bcatalog\b", text) and "kiosk Kiosk" not in text
    by_what = {r[2]: r for r in got}
    assert by_what["lĩnh vực"][3] == "Lĩnh vực LD – Lao động" and by_what["lĩnh vực"][4] == "Đã thêm mới."
    assert by_what["công chức"][4] == "Đã thêm mới."
    assert by_what["nơi quản lý danh mục"][3] == "Toàn bộ danh mục"
    assert by_what["nơi quản lý danh mục"][4].startswith("Từ nay danh mục được quản lý trên các trang của máy chủ")
    adopted = by_what["tiếp nhận từ thiết bị"]
    assert adopted[1] == "Thiết bị “Kiosk Cẩm Nhượng”"
    assert adopted[4] == "Danh mục của thiết bị trở thành danh mục của xã: 7 lĩnh vực, 3 quầy, 4 công chức."
    handed = [r for r in got if r[3] == "Quầy số 1"]  # counter 1 took the new field
    assert [r[4] for r in handed] == ["lĩnh vực: CT, HT → CT, HT, LD."]
    closing = [r for r in got if r[2] == "quầy" and r[3] == "Quầy số 4" and r[4] != "Đã thêm mới."]
    assert closing  # the counter closed: "Đang mở: có → không", not {"after": {"active": false, …}}
    for r in closing:
        assert r[3] == "Quầy số 4" and r[4] == "Đang mở: có → không.", r


def test_every_kind_of_entry_is_rendered_by_one_function():
    for name in ("service", "counter", "clerk", "owner", "import", "adopt", "alias", "add", "wording", "scale"):
        assert name in KINDS, name


def test_the_new_clerk_hint_offers_the_code_she_will_really_get(site, central):  # noqa: F811
    admin = sign_in(site, "admin")
    for i, name in enumerate(("Nguyễn Thị Lan", "Trần Văn Minh", "Lê Thị Hoa", "Phạm Văn Đức")):
        assert post(admin, "/admin/communes/A/clerks", name=name, pin=f"{i + 1}{i + 1}57").status_code == 302
    page = html.fromstring(admin.get("/admin/communes/A/clerks?lang=vi").text)
    hint = " ".join(page.xpath('string(//form[@id="clerk-new"])').split())
    assert "mã trống tiếp theo: CC05" in hint and "CC04" not in hint
    assert post(admin, "/admin/communes/A/clerks", name="Hoàng Thị Hường", pin="8642").status_code == 302
    with central.sessions() as s:
        from sqlalchemy import select

        from central.models import Clerk

        assert s.scalar(select(Clerk.code).where(Clerk.name == "Hoàng Thị Hường")) == "CC05"  # the hint's code
