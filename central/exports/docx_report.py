"""The DOCX report in Vietnamese: the paragraphs a commune pastes into its "Báo cáo", then the tables.

Wording follows how commune reports quote the figures ("Trong 6 tháng đầu năm 2026, Bộ phận Một cửa đã
nhận N lượt đánh giá, trong đó X% ở mức hài lòng trở lên …"); numbers are written the Vietnamese way
(87,5%; 10.000). The page is an administrative document's (:mod:`central.exports.docx_layout`: A4 portrait,
Nghị định 30/2020 margins, Times New Roman 13 pt), so the spreadsheets' wide tables are split here into
tables narrow enough for it.
"""

from __future__ import annotations

from typing import Any

from central.exports import docx_layout
from central.exports.suggestion_text import suggestion_sentences
from central.exports.tables import LEFT_WAITING, SERVICES, Table, report_tables, vn

#: In DOCX_TABLES: the table's own first column (its name depends on the report); an empty title: the table's own.
FIRST = "*"
SCORES = ["CS1 thời gian", "CS3 số lần liên hệ", "CS4 số cơ quan", "CS7 thái độ", "Tổng điểm"]
#: (table of report_tables, its title in the document, its columns): each fits 16 cm at 13 pt.
DOCX_TABLES: tuple[tuple[str, str, list[str]], ...] = (
    (
        "services",
        "Theo lĩnh vực: mức độ hài lòng",
        ["Lĩnh vực", "Số lượt đánh giá", "Tỷ lệ hài lòng trở lên (%)", "Chỉ số (0–100)", "Bị lọc"],
    ),
    (
        "services",
        "Theo lĩnh vực: xếp hàng",
        [
            "Lĩnh vực",
            "Số thứ tự",
            "Đã phục vụ",
            "Vắng mặt",
            LEFT_WAITING,
            "Chờ trung bình (phút)",
            "Phục vụ tại quầy trung bình (phút)",
            SERVICES,
        ],
    ),
    (
        "clerks",
        "Theo công chức: mức độ hài lòng",
        [
            "Hạng",
            "Công chức",
            "Số lượt",
            "Tỷ lệ hài lòng trở lên (%)",
            "Chỉ số (0–100)",
            "Chỉ số xếp hạng",
            "Đã phục vụ",
        ],
    ),
    (
        "clerks",
        "Theo công chức: chỉ số theo Thông tư 01/2018/TT-VPCP",
        ["Công chức", *SCORES, "Quy đổi (/10)", "Xếp loại (TT 01)"],
    ),
    (
        "communes",
        "Theo xã: xếp hạng và thiết bị",
        ["Hạng", "Xã", "Thiết bị", "Số lượt", "Chỉ số (0–100)", "Chỉ số xếp hạng"],
    ),
    (
        "communes",
        "Theo xã: mức độ hài lòng",
        [
            "Xã",
            "Số lượt",
            "Tỷ lệ hài lòng trở lên (%)",
            "Chỉ số (0–100)",
            "Bị lọc",
            "Số thứ tự",
            "Chờ trung bình (phút)",
        ],
    ),
    (
        "communes",
        "Theo xã: chỉ số theo Thông tư 01/2018/TT-VPCP",
        ["Xã", *SCORES, "Quy đổi (/18)", "Xếp loại (TT 01)"],
    ),
    (
        "sites",
        "Theo điểm tiếp nhận",
        ["Xã", "Điểm tiếp nhận", "Số lượt", "Tỷ lệ hài lòng trở lên (%)", "Chỉ số (0–100)", "Số thứ tự"],
    ),
    ("counters", "Theo quầy: mức độ hài lòng", ["Quầy", "Số lượt", "Tỷ lệ hài lòng trở lên (%)", "Chỉ số (0–100)"]),
    (
        "counters",
        "Theo quầy: xếp hàng",
        ["Quầy", "Số thứ tự", "Đã phục vụ", "Vắng mặt", LEFT_WAITING, "Chờ trung bình (phút)"],
    ),
    ("queue_days", "", [FIRST, "Số thứ tự", "Đã phục vụ", "Vắng mặt", LEFT_WAITING]),  # by day or by month
    (
        "districts",
        "Theo huyện cũ",
        ["Huyện cũ", "Số xã", "Số lượt", "Tỷ lệ hài lòng trở lên (%)", "Chỉ số (0–100)", "Số thứ tự"],
    ),
    (
        "indicators",
        "Chỉ số theo Thông tư 01/2018/TT-VPCP",
        ["Chỉ số", "Số phiếu", "Điểm", "Tỷ lệ 2 điểm (%)", "Tỷ lệ 1 điểm (%)", "Tỷ lệ 0 điểm (%)"],
    ),
    ("services_served", "", ["Theo", "Tên", "Lượt đến đã phục vụ", SERVICES, "Phục vụ tại quầy trung bình (phút)"]),
)
#: Relative column widths: names get room, numbers little.
WEIGHTS = {
    "Lĩnh vực": 3.0,
    "Công chức": 3.0,
    "Xã": 3.0,
    "Điểm tiếp nhận": 3.0,
    "Thiết bị": 2.6,
    "Chỉ số": 5.0,
    "Xếp loại (TT 01)": 3.2,
    "Hạng": 1.1,
    "Quầy": 2.4,
}


def paragraphs(report: dict[str, Any], scope_label: str) -> list[str]:
    """The report's sentences, in the order a commune report uses them."""
    s, q, label = report["summary"], report["queue"], report["period"]["label"]
    when = f"Trong {label}" if report["period"]["kind"] != "custom" else f"Trong thời gian {label}"
    whose = f" của {scope_label}" if len(report["communes"]) > 1 else ""
    parts = [f"{vn(lv['n'])} lượt {lv['label'].lower()}" for lv in report["levels"] if lv["n"]]
    text = [
        f"{when}, Bộ phận Một cửa{whose} đã nhận {vn(s['ratings'])} lượt đánh giá, trong đó "
        f"{vn(s['satisfied_plus_pct'])}% ở mức hài lòng trở lên"
        + (f" ({', '.join(parts)})" if parts else "")
        + (f"; chỉ số hài lòng chung đạt {vn(s['index'])}/100." if s["index"] is not None else ".")
    ]
    if s["flagged"]:
        text.append(
            f"Có {vn(s['flagged'])} lượt bấm đã được hệ thống lọc (bấm lặp lại, đánh giá lại cùng một lượt phục vụ "
            "hoặc không từ màn hình của người được phục vụ): vẫn được lưu nhưng không tính vào kết quả."
        )
    prev = report.get("previous_year")
    if prev:
        ps, change = prev["summary"], prev["change"]
        year = prev["period"]["from"][:4]
        if not ps["ratings"]:
            text.append(f"Cùng kỳ năm {year} chưa có dữ liệu đánh giá điện tử để so sánh.")
        elif change["satisfied_plus_pct"] is not None:
            d = change["satisfied_plus_pct"]
            trend = "không thay đổi" if d == 0 else f"{'tăng' if d > 0 else 'giảm'} {vn(abs(d))} điểm phần trăm"
            text.append(
                f"So với cùng kỳ năm {year} ({vn(ps['ratings'])} lượt đánh giá, {vn(ps['satisfied_plus_pct'])}% "
                f"hài lòng trở lên), tỷ lệ hài lòng trở lên {trend}; số lượt đánh giá "
                f"{'tăng' if change['ratings'] >= 0 else 'giảm'} {vn(abs(change['ratings']))} lượt."
            )
    attitude = next((i for i in report["indicators"] if i["key"] == "attitude" and i["answers"]), None)
    if attitude:
        labels = {lv["key"]: lv["label"].lower() for lv in report["levels"]}
        d = attitude["distribution"]
        text.append(
            f"Về thái độ của cán bộ, công chức khi hướng dẫn, tiếp nhận hồ sơ và giải quyết thủ tục hành chính "
            f"({vn(attitude['answers'])} phiếu): {vn(d['2'])}% {labels.get('very_satisfied', 'rất hài lòng')}, "
            f"{vn(d['1'])}% {labels.get('satisfied', 'hài lòng')}, {vn(d['0'])}% "
            f"{labels.get('unsatisfied', 'không hài lòng')}."
        )
    scored = [i for i in report["indicators"] if i["answers"] and i["number"]]
    if scored:
        text.append(
            "Điểm các chỉ số theo Thông tư 01/2018/TT-VPCP: "
            + "; ".join(f"chỉ số {i['number']} đạt {vn(i['score'])} điểm" for i in scored)
            + " (chỉ số không có phiếu đánh giá không được tính)."
        )
    if len(report["communes"]) == 1 and report["communes"][0]["tt01"]:
        r = report["communes"][0]["tt01"]
        if r["converted"] is None:
            text.append(
                f"Tổng điểm các chỉ số có dữ liệu là {vn(r['total'])}/{r['max']}; chưa đủ số phiếu để xếp loại "
                f"(cần ít nhất {vn(r['min_answers'])} phiếu ở một chỉ số, mới có {vn(r['most_answers'])})."
            )
        else:
            text.append(
                f"Tổng điểm các chỉ số có dữ liệu là {vn(r['total'])}/{r['max']}, quy đổi {vn(r['converted'])}/18 "
                f"điểm, xếp loại {r['band_label'].lower()}."
            )
    if q["issued"]:
        text.append(
            f"Hệ thống xếp hàng đã cấp {vn(q['issued'])} số thứ tự, phục vụ {vn(q['served'])} lượt công dân, "
            f"{vn(q['no_show'])} lượt vắng mặt khi được gọi; thời gian chờ trung bình {vn(q['mean_wait_min'])} phút, "
            f"90% công dân được gọi trong vòng {vn(q['p90_wait_min'])} phút; thời gian phục vụ tại quầy trung bình "
            f"{vn(q['mean_service_min'])} phút."
        )
        booked = q.get("booked")
        if booked and booked["booked"]["issued"]:  # central.reports.booked
            text.append(
                f"Trong đó {vn(booked['booked']['issued'])} số thứ tự cấp cho công dân đã đặt lịch hẹn, thời gian chờ "
                f"trung bình {vn(booked['booked']['mean_wait_min'])} phút (công dân đến trực tiếp: "
                f"{vn(booked['walk_in']['mean_wait_min'])} phút)."
            )
        text += _visit_sentences(q)
    province = report.get("province")
    if province and province["communes"] > 1:
        day = province["last_working_day"]
        sentence = f"{vn(province['installed'])}/{vn(province['communes'])} xã đã lắp thiết bị đánh giá điện tử" + (
            f", {vn(province['not_installed'])} xã chưa lắp thiết bị" if province["not_installed"] else ""
        )
        if day and province["installed"]:
            sentence += (
                f"; ngày làm việc gần nhất ({day[8:10]}/{day[5:7]}/{day[:4]}) có {vn(province['reported'])} xã "
                f"({vn(province['reported_pct'])}%) đã gửi đủ số liệu"
            )
        text.append(sentence + ".")
    fields = [f for f in report["services"] if f["code"] and f["ratings"]]
    if fields:
        text.append(
            "Theo lĩnh vực: "
            + "; ".join(
                f"{f['name']} {vn(f['ratings'])} lượt ({vn(f['satisfied_plus_pct'])}% hài lòng trở lên)" for f in fields
            )
            + "."
        )
    text += suggestion_sentences(report)  # the suggestion box, apart from the ratings
    return text


#: How the one rating of a visit of several fields counts (docs/reports.md, "Visits and services").
RATING_NOTE = (
    "Công dân giải quyết nhiều lĩnh vực trong một lượt đến đánh giá một lần: lượt đánh giá đó được tính cho mỗi "
    "lĩnh vực đã phục vụ (mỗi hồ sơ một lượt đánh giá, theo Thông tư 01/2018/TT-VPCP) và cho mỗi công chức đã phục "
    "vụ, nhưng chỉ tính một lần trong tổng số lượt đánh giá của xã, điểm tiếp nhận và quầy."
)


def _visit_sentences(q: dict[str, Any]) -> list[str]:
    """Visits and services apart, calls out of turn, and the bookings that never came."""
    text = [
        f"Số lượt công dân đến là {vn(q['issued'])} (mỗi số thứ tự một lượt); số lượt phục vụ theo lĩnh vực là "
        f"{vn(q.get('services_served'))} (một lượt đến giải quyết nhiều lĩnh vực tính mỗi lĩnh vực một lượt); "
        f"{vn(q.get('out_of_order') or 0)} lượt gọi ngoài thứ tự."
    ]
    if (q.get("services_served") or 0) > q["served"]:  # visits of several fields: how their rating counts
        text.append(RATING_NOTE)
    bookings = q.get("bookings")
    if bookings and bookings["bookings"]:
        text.append(
            f"Có {vn(bookings['bookings'])} lịch hẹn trong kỳ: {vn(bookings['checked_in'])} lịch hẹn đã đến, "
            f"{vn(bookings['no_show'])} lịch hẹn không đến"
            + (f", {vn(bookings['open'])} lịch hẹn chưa rõ" if bookings["open"] else "")
            + "."
        )
    return text


def _table(document: Any, table: Table) -> None:
    from docx.shared import Cm

    document.add_heading(table.title, level=2)
    grid = document.add_table(rows=1, cols=len(table.headers))
    grid.style = "Table Grid"
    grid.autofit = False
    weights = [WEIGHTS.get(h, 1.7) for h in table.headers]
    widths = [Cm(docx_layout.text_width_cm() * w / sum(weights)) for w in weights]
    for cell, header in zip(grid.rows[0].cells, table.headers, strict=True):
        cell.text = header
        for run in cell.paragraphs[0].runs:
            run.bold = True
    noted = []
    for n, row in enumerate(table.rows):
        cells = grid.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            if value is None and n in table.notes:
                continue  # a row with a note has no figures, not "—" ones (no place in a ranking either)
            cell.text = vn(value) if isinstance(value, int | float) or value is None else str(value)  # None: "—"
        if n in table.notes:
            noted.append((cells, table.notes[n]))
    for row in grid.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = width
    for cells, at in noted:  # "Chưa lắp thiết bị" across the figures it stands for, not a row of "—"
        note = cells[at].text
        if at < len(cells) - 1:
            merged = cells[at].merge(cells[-1])
            merged.text = note


def _with_rows(key: str, tables: dict[str, Table]) -> bool:
    rows = tables[key].rows
    if key in ("sites", "districts", "counters"):  # one point, district or counter: nothing to compare
        return len(rows) > 1
    return bool(rows) and not (key == "communes" and len(rows) < 2)  # one commune: the paragraphs say it all


def report_docx(report: dict[str, Any], scope_label: str) -> bytes:
    """The report as a Word document (paragraphs, then the tables)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    document = docx_layout.new_document()
    title = document.add_heading("BÁO CÁO KẾT QUẢ ĐÁNH GIÁ MỨC ĐỘ HÀI LÒNG", level=1)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    sub = document.add_paragraph(f"Kỳ báo cáo: {report['period']['label']} — Phạm vi: {scope_label}")
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for sentence in paragraphs(report, scope_label):
        document.add_paragraph(sentence).alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    tables = {t.key: t for t in report_tables(report)}
    for key, heading, columns in DOCX_TABLES:
        if _with_rows(key, tables):
            table = tables[key]
            columns = [table.headers[0] if c == FIRST else c for c in columns]
            _table(document, table.pick(key, heading or table.title, columns))
    return docx_layout.save(document)
