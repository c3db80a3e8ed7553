"""The DOCX report in Vietnamese: the paragraphs a commune pastes into its "Báo cáo", then the tables.

Wording follows how commune reports quote the figures ("Trong 6 tháng đầu năm 2026, Bộ phận Một cửa đã
nhận N lượt đánh giá, trong đó X% ở mức hài lòng trở lên …"); numbers are written the Vietnamese way
(87,5%; 10.000). Times New Roman 13 pt, as administrative documents use (Nghị định 30/2020).
"""

from __future__ import annotations

import io
from typing import Any

from sync.exports.tables import Table, report_tables, vn

TABLES_IN_DOCX = ("services", "clerks", "communes", "indicators")


def _style(document) -> None:
    from docx.shared import Pt

    normal = document.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(13)


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
            f"Có {vn(s['flagged'])} lượt bấm lặp lại trong thời gian ngắn đã được hệ thống lọc: vẫn được lưu "
            "nhưng không tính vào kết quả."
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
        text.append(
            f"Tổng điểm các chỉ số có dữ liệu là {vn(r['total'])}/{r['max']}, quy đổi {vn(r['converted'])}/18 "
            f"điểm, xếp loại {r['band_label'].lower()}."
        )
    if q["issued"]:
        text.append(
            f"Hệ thống xếp hàng đã cấp {vn(q['issued'])} số thứ tự, phục vụ {vn(q['served'])} lượt công dân, "
            f"{vn(q['no_show'])} lượt vắng mặt khi được gọi; thời gian chờ trung bình {vn(q['mean_wait_min'])} phút, "
            f"90% công dân được gọi trong vòng {vn(q['p90_wait_min'])} phút; thời gian giải quyết trung bình tại "
            f"quầy {vn(q['mean_service_min'])} phút."
        )
    fields = [f for f in report["services"] if f["code"] and f["ratings"]]
    if fields:
        text.append(
            "Theo lĩnh vực: "
            + "; ".join(
                f"{f['name']} {vn(f['ratings'])} lượt ({vn(f['satisfied_plus_pct'])}% hài lòng trở lên)" for f in fields
            )
            + "."
        )
    return text


def _table(document, table: Table) -> None:
    document.add_heading(table.title, level=2)
    grid = document.add_table(rows=1, cols=len(table.headers))
    grid.style = "Table Grid"
    for cell, header in zip(grid.rows[0].cells, table.headers, strict=True):
        cell.text = header
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row in table.rows:
        cells = grid.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = vn(value) if isinstance(value, int | float) else ("" if value is None else str(value))
    from docx.shared import Pt

    for row in grid.rows:  # wide tables: a smaller type than the paragraphs
        for cell in row.cells:
            for run in cell.paragraphs[0].runs:
                run.font.size = Pt(10)


def report_docx(report: dict[str, Any], scope_label: str) -> bytes:
    """The report as a Word document (paragraphs, then the tables)."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    document = Document()
    _style(document)
    section = document.sections[0]  # landscape: the clerk table has sixteen columns
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    title = document.add_heading("BÁO CÁO KẾT QUẢ ĐÁNH GIÁ MỨC ĐỘ HÀI LÒNG", level=1)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    sub = document.add_paragraph(f"Kỳ báo cáo: {report['period']['label']} — Phạm vi: {scope_label}")
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for sentence in paragraphs(report, scope_label):
        document.add_paragraph(sentence)
    tables = {t.key: t for t in report_tables(report)}
    for key in TABLES_IN_DOCX:
        if tables[key].rows and not (key == "communes" and len(tables[key].rows) < 2):
            _table(document, tables[key])
    data = io.BytesIO()
    document.save(data)
    return data.getvalue()
