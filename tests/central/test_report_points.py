"""Issue 22, points 4 and 6 on the reporting side: "TT · Quầy 1" and "S2 · Quầy 1" are two counters in the filter,
the per-counter tables of every export, the comments inbox and its CSV, and the fleet page names each kiosk's
point; the province's dashboard compares reception points and a commune without a kiosk reads "Chưa lắp thiết
bị" in every export, never a "Trung tâm … 0" row or a line of "—"."""

# ruff: noqa: F811 (the fixtures imported from the modules that define them)
from __future__ import annotations

import csv
import io

from lxml import html

from common.counter_label import counter_label
from tests.central.helpers import COMMUNE, sign_in, wire_record
from tests.central.test_province import QUARTER, loaded, province  # noqa: F401 (fixtures)
from tests.central.test_reports_access import docx_text
from tests.central.test_sites import MONTH, T0, merged, send  # noqa: F401 (fixture)


def test_counter_label_names_the_point_only_where_there_are_several():
    assert counter_label("TT", 1, {"TT", "CN"}) == "TT · Quầy 1"
    assert counter_label("CN", 1, {"TT", "CN"}) == "CN · Quầy 1"
    assert counter_label("TT", 3, {"TT"}) == "Quầy 3"
    assert counter_label(None, 2) == "Quầy 2"
    assert counter_label("CN", 2, None, "Counter") == "CN · Counter 2"


def test_the_counter_filter_offers_each_points_counters_apart(central_app, merged):
    admin = sign_in(central_app, "quantri")
    page = html.fromstring(admin.get(f"/reports?{MONTH}&commune={COMMUNE}&lang=vi").text)
    options = [(o.get("value"), o.text) for o in page.xpath('//select[@name="counter"]/option') if o.get("value")]
    assert options == [("S2:1", "S2 · Quầy 1"), ("TT:1", "TT · Quầy 1")]
    centre = admin.get(f"/reports/data.json?{MONTH}&commune={COMMUNE}&counter=TT:1").json
    point = admin.get(f"/reports/data.json?{MONTH}&commune={COMMUNE}&counter=S2:1").json
    assert (centre["summary"]["ratings"], point["summary"]["ratings"]) == (3, 2)
    assert (centre["scope"]["site"], centre["scope"]["counter"]) == ("TT", 1)
    chosen = html.fromstring(admin.get(f"/reports?{MONTH}&commune={COMMUNE}&counter=S2:1&lang=vi").text)
    assert chosen.xpath('//select[@name="counter"]/option[@selected]/text()') == ["S2 · Quầy 1"]
    both = admin.get(f"/reports/data.json?{MONTH}&commune={COMMUNE}&counter=1").json  # every point's counter 1
    assert both["summary"]["ratings"] == 5
    refused = admin.get(f"/reports/data.json?{MONTH}&commune={COMMUNE}&site=TT&counter=S2:1")
    assert refused.status_code == 400 and refused.json["detail"]["field"] == "counter"
    assert admin.get(f"/reports/data.json?{MONTH}&commune={COMMUNE}&counter=S2:x").status_code == 400


def test_every_export_has_a_row_per_counter_of_each_point(central_app, merged):
    admin = sign_in(central_app, "quantri")
    data = admin.get(f"/reports/data.json?{MONTH}&commune={COMMUNE}").json
    assert [(c["label"], c["ratings"]) for c in data["counters"]] == [("S2 · Quầy 1", 2), ("TT · Quầy 1", 3)]
    page = html.fromstring(admin.get(f"/reports?{MONTH}&commune={COMMUNE}&lang=vi").text)
    cells = [row.xpath("./td/text()")[:2] for row in page.xpath('//table[@id="counters"]//tr[@data-counter]')]
    assert cells == [["S2 · Quầy 1", "2"], ["TT · Quầy 1", "3"]]
    english = html.fromstring(admin.get(f"/reports?{MONTH}&commune={COMMUNE}&lang=en").text)
    assert english.xpath('//table[@id="counters"]//tr[@data-counter]/td[1]/text()') == [
        "S2 · Counter 1",
        "TT · Counter 1",
    ]
    lines = list(csv.reader(io.StringIO(admin.get(f"/reports/export.csv?{MONTH}&commune={COMMUNE}").text)))
    start = lines.index(["Theo quầy"])
    assert [row[2:5] for row in lines[start + 2 : start + 4]] == [
        ["Điểm tiếp nhận Tân Phú", "S2 · Quầy 1", "2"],
        ["Trung tâm Phục vụ hành chính công", "TT · Quầy 1", "3"],
    ]
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(admin.get(f"/reports/export.xlsx?{MONTH}&commune={COMMUNE}").data))
    sheet = book["Theo quầy"]
    assert [sheet.cell(row=r, column=4).value for r in (3, 4)] == ["S2 · Quầy 1", "TT · Quầy 1"]
    text = docx_text(admin.get(f"/reports/export.docx?{MONTH}&commune={COMMUNE}").data)
    assert "Theo quầy: mức độ hài lòng" in text and "S2 · Quầy 1" in text and "TT · Quầy 1" in text


def test_comments_name_their_point_in_the_inbox_and_its_csv(central_app, central, merged):
    centre, point = merged
    client = central_app.test_client()
    send(client, centre, [wire_record("comment", 10, T0, text="Quầy trung tâm nhanh.")], counter=100)
    send(client, point, [wire_record("comment", 10, T0, text="Điểm Tân Phú chờ lâu.")], counter=100)
    admin = sign_in(central_app, "quantri")
    page = html.fromstring(admin.get("/comments?lang=vi").text)
    by_text = {
        row.xpath("string(.)").split("Quầy")[0]: row.xpath('string(./td[@class="counter"])')
        for row in page.xpath('//tr[@class="comment-row"]')
    }
    assert sorted(by_text.values()) == ["S2 · Quầy 1", "TT · Quầy 1"]
    rows = list(csv.reader(io.StringIO(admin.get("/comments/export.csv").data.decode("utf-8-sig"))))[2:]
    assert sorted((r[2], r[6]) for r in rows) == [
        ("S2 · Quầy 1", "Điểm Tân Phú chờ lâu."),
        ("TT · Quầy 1", "Quầy trung tâm nhanh."),
    ]


def test_the_fleet_page_names_each_kiosks_point(central_app, merged):
    admin = sign_in(central_app, "quantri")
    page = html.fromstring(admin.get("/fleet?lang=vi").text)
    assert "Điểm tiếp nhận" in page.xpath("//table//th/text()")
    sites = {
        row.xpath("string(./td[1])").split()[0] + " " + row.xpath("string(./td[1])").split()[1]: " ".join(
            row.xpath('string(./td[@class="site"])').split()
        )
        for row in page.xpath("//table//tr[td]")
    }
    assert sites == {"Quầy Trung": "Trung tâm Phục vụ hành chính công (TT)", "Quầy Tân": "Điểm tiếp nhận Tân Phú (S2)"}


def test_the_province_dashboard_compares_reception_points(province):
    app, _ = province
    client = sign_in(app, "tinh-p1")
    page = html.fromstring(client.get(f"/reports?{QUARTER}&lang=vi").text)
    assert "Theo điểm tiếp nhận" in page.xpath("//h2/text()")
    rows = page.xpath('//table[@id="sites"]//tr[@data-site]')
    assert [r.get("data-site") for r in rows] == ["A:TT", "B:TT", "C:TT", "N:"]
    assert "Chưa lắp thiết bị" in rows[-1].xpath("string(.)") and ">0<" not in html.tostring(rows[-1]).decode()


def test_a_commune_without_a_kiosk_reads_not_installed_in_every_export(province):
    import docx
    import openpyxl

    app, _ = province
    client = sign_in(app, "tinh-p1")
    document = docx.Document(io.BytesIO(client.get(f"/reports/export.docx?{QUARTER}").data))
    seen = 0
    for table in document.tables:
        for row in table.rows:
            texts = [c.text for c in row.cells]
            if "Xã Núi Cao" in texts:
                seen += 1
                assert "Chưa lắp thiết bị" in texts and "—" not in texts and "0" not in texts, texts
                assert not any(t.startswith("Trung tâm") for t in texts), texts
    assert seen >= 4  # the communes' three tables and the reception points'
    lines = list(csv.reader(io.StringIO(client.get(f"/reports/export.csv?{QUARTER}").text)))
    n_lines = [row for row in lines if "Xã Núi Cao" in row]
    assert len(n_lines) == 2 and all("Chưa lắp thiết bị" in row and "0" not in row for row in n_lines)
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/reports/export.xlsx?{QUARTER}").data))
    site_rows = [[c.value for c in row] for row in book["Theo điểm tiếp nhận"].iter_rows(min_row=3)]
    assert [r[3] for r in site_rows if r[0] == "N"] == ["Chưa lắp thiết bị"]


def test_the_xlsx_prints_on_a4_landscape_one_page_wide_with_its_headers_repeated(central_app, merged):
    import openpyxl

    admin = sign_in(central_app, "quantri")
    book = openpyxl.load_workbook(io.BytesIO(admin.get(f"/reports/export.xlsx?{MONTH}&commune={COMMUNE}").data))
    for sheet in book:
        setup = sheet.page_setup
        assert (setup.paperSize, setup.orientation) == (9, "landscape"), sheet.title  # 9: A4
        assert (setup.fitToWidth, setup.fitToHeight, sheet.sheet_properties.pageSetUpPr.fitToPage) == (1, 0, True)
        assert sheet.print_title_rows == "$1:$2", sheet.title  # the title and header rows on every page


def test_tickets_left_waiting_at_the_end_of_the_day_have_their_column(central_app, merged):
    centre, _point = merged
    first = wire_record("ticket", 20, T0)
    second = wire_record("ticket", 21, T0, number=2, display_number="A002")
    call = wire_record("clerk_action", 22, T0.replace(minute=5), ticket_id=first["id"], action="call")
    done = wire_record("clerk_action", 23, T0.replace(minute=9), ticket_id=first["id"], action="complete")
    send(central_app.test_client(), centre, [first, second, call, done], counter=200)
    admin = sign_in(central_app, "quantri")
    data = admin.get(f"/reports/data.json?{MONTH}&commune={COMMUNE}").json
    assert (data["queue"]["issued"], data["queue"]["served"], data["queue"]["left_waiting"]) == (2, 1, 1)
    assert [(f["code"], f["left_waiting"]) for f in data["queue"]["services"]] == [("HT", 1)]
    assert [(d["bucket"], d["left_waiting"]) for d in data["queue"]["days"]] == [("2026-11-18", 1)]
    page = html.fromstring(admin.get(f"/reports?{MONTH}&commune={COMMUNE}&lang=vi").text)
    assert page.xpath('string(//*[@id="left-waiting"]/div[@class="value"])') == "1"
    day = page.xpath('//table[@id="queue-days"]//tr[@data-day="2026-11-18"]/td/text()')
    assert day == ["18/11/2026", "2", "1", "0", "1"]
    lines = list(csv.reader(io.StringIO(admin.get(f"/reports/export.csv?{MONTH}&commune={COMMUNE}").text)))
    days = lines.index(["Xếp hàng theo ngày"])
    assert lines[days + 1 : days + 3] == [
        ["Ngày", "Số thứ tự", "Đã phục vụ", "Vắng mặt", "Chưa được phục vụ"],
        ["18/11/2026", "2", "1", "0", "1"],
    ]
    fields = lines.index(["Theo lĩnh vực"])
    assert lines[fields + 2][lines[fields + 1].index("Chưa được phục vụ")] == "1"
    text = docx_text(admin.get(f"/reports/export.docx?{MONTH}&commune={COMMUNE}").data)
    assert "Xếp hàng theo ngày" in text and "Chưa được phục vụ" in text


def test_a_rating_without_a_ticket_says_so_instead_of_an_unknown_field(central_app, merged):
    centre, _point = merged
    alone = wire_record("rating", 30, T0, service_code=None, clerk_id=None)
    send(central_app.test_client(), centre, [alone], counter=300)
    admin = sign_in(central_app, "quantri")
    page = html.fromstring(admin.get(f"/reports?{MONTH}&commune={COMMUNE}&lang=vi").text)
    assert "(không gắn phiếu)" in page.xpath("//td/text()")
    assert "(không rõ lĩnh vực)" not in page.xpath("//td/text()")
    lines = list(csv.reader(io.StringIO(admin.get(f"/reports/export.csv?{MONTH}&commune={COMMUNE}").text)))
    assert ["—", "(không gắn phiếu)", "1"] in [row[:3] for row in lines]


def test_former_districts_are_named_and_chart_axes_read_as_vietnamese_dates(province):
    import re

    app, _ = province
    client = sign_in(app, "tinh-p1")
    page = html.fromstring(client.get(f"/reports?{QUARTER}&lang=vi").text)
    options = page.xpath('//select[@name="district"]/option[@value!=""]/text()')
    assert options and all(o.startswith("Huyện cũ ") and ": Xã " in o for o in options), options
    assert page.xpath('//select[@name="district"]/option[@value="D1"]/text()')[0].startswith("Huyện cũ D1: ")
    axis = page.xpath('//svg[@aria-label="Diễn biến số lượt đánh giá"]//text/text()') or [
        t for svg in page.xpath("//svg") for t in svg.xpath(".//text/text()") if "/" in t
    ]
    assert "01/01" in axis and "31/03" in axis, axis
    svg_text = " ".join(page.xpath("//svg//text()"))
    assert not re.search(r"\d{4}-\d{2}-\d{2}", svg_text)
