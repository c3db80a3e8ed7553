"""The comments inbox shows each comment in context — the rating's level (in the commune's wording), field, counter
and clerk — to everyone who reads comments, while the contact stays with the roles that answer (NĐ 61/2018, Điều 27).
"""

from __future__ import annotations

import csv
import io

import pytest
from lxml import html

from central.registry import add_commune, add_device, add_user
from kiosk.db import transaction
from tests.central import report_fixture as fx
from tests.central.helpers import TEST_PASSWORD, import_catalog, sign_in

CONTACT = "0912345678"


@pytest.fixture
def inbox(central):
    add_commune(central, "X", "Xã Tân Hòa", "D1")
    with transaction(central.sessions) as s:
        import_catalog(
            s,
            "X",
            {
                "services": [{"code": "HT", "name": "Hộ tịch", "prefix": "A"}, {"code": "DD", "name": "Đất đai"}],
                "counters": [{"number": 1, "services": ["HT"]}, {"number": 2, "services": ["DD"]}],
                "clerks": [{"code": "X2", "name": "Phạm Thị Hoa", "pin": "2468", "counter": 2}],
                "scale": [
                    {"key": "very_satisfied", "label": "Rất hài lòng", "points": 2},
                    {"key": "satisfied", "label": "Hài lòng", "points": 1},
                    {"key": "unsatisfied", "label": "Chưa hài lòng", "points": 0},
                ],
            },
        )
    feed = fx.Feed(central, "X", add_device(central, "Kiosk X", "X")[0])
    clerk = fx.clerk_ids(central, "X")["X2"]
    rating = feed.rating("2026-03-02T09:00:00", "unsatisfied", "DD", 2, clerk)
    feed.comment("2026-03-02T09:01:00", "Phải đi lại ba lần mới xong hồ sơ.", CONTACT, 2, rating=rating)
    feed.comment("2026-03-02T10:00:00", "Nên có thêm ghế chờ.")  # left on its own, no rating
    feed.send()
    add_user(central, "xem-x", TEST_PASSWORD, "commune_viewer", "X")
    add_user(central, "xuly-x", TEST_PASSWORD, "handler", "X")
    return central


def rows(page: str) -> list[list[str]]:
    return [
        [" ".join(td.text_content().split()) for td in tr.xpath("./td")]
        for tr in html.fromstring(page).xpath('//tr[@class="comment-row"]')
    ]


def test_each_comment_shows_its_rating_field_counter_and_clerk(central_app, inbox):
    viewer = sign_in(central_app, "xem-x")
    got = rows(viewer.get("/comments?lang=vi").text)
    # Time, commune, counter, rating, field, clerk, comment, status (a viewer has no contact column)
    assert [r[1:8] for r in got] == [
        ["Xã Tân Hòa", "—", "—", "—", "—", "Nên có thêm ghế chờ.", "Mới"],
        ["Xã Tân Hòa", "2", "Chưa hài lòng", "Đất đai", "Phạm Thị Hoa", "Phải đi lại ba lần mới xong hồ sơ.", "Mới"],
    ]
    assert CONTACT not in viewer.get("/comments?lang=vi").text  # confidential: not for viewers
    english = rows(viewer.get("/comments?lang=en").text)
    assert english[1][3] == "Unsatisfied"  # the level in the page's language
    handler = sign_in(central_app, "xuly-x")
    assert rows(handler.get("/comments?lang=vi").text)[1][8] == CONTACT


def test_the_comment_page_and_the_export_carry_the_context(central_app, inbox):
    handler = sign_in(central_app, "xuly-x")
    link = html.fromstring(handler.get("/comments?lang=vi").text).xpath('//tr[@class="comment-row"]//a/@href')[1]
    page = html.fromstring(handler.get(link + "?lang=vi").text)
    context = dict(
        zip(page.xpath("//dl[@class='context']/dt/text()"), page.xpath("//dl[@class='context']/dd/text()"), strict=True)
    )
    assert context == {"Mức đánh giá": "Chưa hài lòng", "Lĩnh vực": "Đất đai", "Quầy": "2", "Công chức": "Phạm Thị Hoa"}
    assert "(Xử lý góp ý)" in handler.get(link + "?lang=vi").text  # the role in words, not "(handler)"
    assert "(handler)" not in handler.get(link + "?lang=vi").text
    exported = list(csv.reader(io.StringIO(handler.get("/comments/export.csv").data.decode("utf-8-sig"))))
    header, *lines = exported[1:]
    assert header == ["Thời gian", "Xã", "Quầy", "Mức đánh giá", "Lĩnh vực", "Công chức", "Nội dung góp ý"] + [
        "Trạng thái",
        "Ghi chú trả lời",
        "Liên hệ",
    ]
    assert lines[1][2:6] == ["2", "Chưa hài lòng", "Đất đai", "Phạm Thị Hoa"] and lines[1][-1] == CONTACT
    viewer = sign_in(central_app, "xem-x")
    assert "Liên hệ" not in viewer.get("/comments/export.csv").data.decode("utf-8-sig")
