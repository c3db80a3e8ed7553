"""Exports opened and read back (csv, openpyxl, python-docx), the formula guard, and `kiosk-central report`."""

from __future__ import annotations

import csv
import io

import docx
import openpyxl
import pytest
from click.testing import CliRunner

from central import exports
from central.exports.tables import guard
from central.registry import add_commune, add_device
from central.reports import figures, periods
from central.reports.query import Scope
from kiosk.db import transaction
from tests.central import report_fixture as fx
from tests.central.helpers import TEST_PASSWORD, import_catalog, sign_in

loaded = fx.loaded


def report_of(app, period=periods.quarter(2026, 1), communes=("A",)):
    with app.extensions["central"].engine.connect() as conn:
        return figures.build(conn, period, Scope(communes=communes), min_answers=fx.MIN_ANSWERS)


def csv_sections(data: bytes) -> dict[str, list[list[str]]]:
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")  # Excel needs the BOM to read Vietnamese
    sections, current = {}, None
    for row in csv.reader(io.StringIO(text[1:])):
        if not row:
            current = None
        elif current is None:
            current = sections.setdefault(row[0], [])
        else:
            current.append(row)
    return sections


@pytest.mark.parametrize("text", ["=1+2", "+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1"])
def test_guard_neutralises_formula_starts(text):
    assert guard(text) == "'" + text
    assert guard("Hộ tịch") == "Hộ tịch" and guard(-3) == -3 and guard(2.5) == 2.5 and guard(None) is None


def test_csv_export_reads_back_with_the_figures(loaded):
    app, province = loaded
    sections = csv_sections(exports.render(report_of(app), "csv", "Xã An Bình"))
    summary = dict((row[0], row[1]) for row in sections["Tổng hợp"][1:])
    assert summary["Số lượt đánh giá"] == "8"
    assert summary["Tỷ lệ hài lòng trở lên (%)"] == "87,5"  # the Vietnamese decimal comma
    assert summary["Lượt bấm bị lọc (không tính)"] == "1"
    assert summary["90% công dân được gọi trong vòng (phút)"] == "20"
    clerks = {row[1]: row for row in sections["Theo công chức"][1:]}
    assert clerks["Nguyễn Văn An"][0] == "1" and clerks["Nguyễn Văn An"][-3] == "Hoàn thành 100% nhiệm vụ"


def test_comment_text_and_names_starting_a_formula_are_neutralised(loaded):
    app, province = loaded
    from central.registry import add_user

    add_user(app.extensions["central"], "xuly-export", TEST_PASSWORD, "handler", "A")
    client = sign_in(app, "xuly-export")
    rows = list(csv.reader(io.StringIO(client.get("/comments/export.csv").data.decode("utf-8-sig"))))
    assert rows[1][:7] == ["Thời gian", "Xã", "Quầy", "Mức đánh giá", "Lĩnh vực", "Công chức", "Nội dung góp ý"]
    texts = [row[6] for row in rows[2:]]
    assert '\'=HYPERLINK("http://x","bấm")' in texts
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_clerk_names_that_look_like_formulas(central):
    add_commune(central, "X", "@Xã Thử", "D9")
    feed = fx.Feed(central, "X", add_device(central, "Kiosk X", "X")[0])
    with transaction(central.sessions) as s:
        import_catalog(s, "X", {"clerks": [{"code": "X1", "name": "=2+5", "pin": "1234", "counter": 1}]})
    clerk = fx.clerk_ids(central, "X")["X1"]
    feed.rating("2026-02-02T09:00:00", "satisfied", "HT", 1, clerk)
    feed.send()
    with central.engine.connect() as conn:
        report = figures.build(conn, periods.quarter(2026, 1), Scope(communes=("X",)), min_answers=1)
    sections = csv_sections(exports.render(report, "csv", "X"))
    assert sections["Theo công chức"][1][1] == "'=2+5"
    assert sections["Theo xã"][1][2] == "'@Xã Thử"
    book = openpyxl.load_workbook(io.BytesIO(exports.render(report, "xlsx", "X")))
    cell = book["Theo công chức"]["B3"]
    assert (cell.value, cell.data_type) == ("=2+5", "s")  # stored as text, never as a formula


def test_xlsx_export_reads_back(loaded):
    app, province = loaded
    report = report_of(app, communes=("A", "B"))
    book = openpyxl.load_workbook(io.BytesIO(exports.render(report, "xlsx", "2 xã")))
    assert book.sheetnames[:5] == ["Tổng hợp", "Mức độ hài lòng", "Theo lĩnh vực", "Theo công chức", "Theo xã"]
    summary = {row[0].value: row[1].value for row in book["Tổng hợp"].iter_rows(min_row=3)}
    assert summary["Số lượt đánh giá"] == 11
    assert summary["Lượt bấm bị lọc (không tính)"] == 1
    assert summary["Số thứ tự đã cấp"] == 7
    communes = {row[2].value: [c.value for c in row] for row in book["Theo xã"].iter_rows(min_row=3)}
    assert communes["Xã An Bình"][4] == 8 and communes["Xã An Bình"][-3] == "Khá"
    assert communes["Xã Bình Minh"][-3] == "Xuất sắc"
    # ranked fairly: A (8 ratings, index 62,5) before B (3 ratings, index 16,7)
    assert (communes["Xã An Bình"][0], communes["Xã Bình Minh"][0]) == (1, 2)
    clerks = {row[1].value: [c.value for c in row] for row in book["Theo công chức"].iter_rows(min_row=3)}
    assert clerks["Trần Thị Bình"][7:11] == [0.0, None, None, 1.0]  # contacts and agencies left out
    assert clerks["Trần Thị Bình"][12:14] == [2.5, "Hoàn thành dưới 70% nhiệm vụ"]


def test_docx_report_reads_back_with_the_vietnamese_paragraphs(loaded):
    app, _ = loaded
    document = docx.Document(io.BytesIO(exports.render(report_of(app), "docx", "Xã An Bình")))
    text = [p.text for p in document.paragraphs]
    assert text[0] == "BÁO CÁO KẾT QUẢ ĐÁNH GIÁ MỨC ĐỘ HÀI LÒNG"
    assert (
        "Trong quý I năm 2026, Bộ phận Một cửa đã nhận 8 lượt đánh giá, trong đó 87,5% ở mức hài lòng trở lên "
        "(3 lượt rất hài lòng, 4 lượt hài lòng, 1 lượt không hài lòng); chỉ số hài lòng chung đạt 62,5/100."
    ) in text
    assert any(t.startswith("So với cùng kỳ năm 2025 (2 lượt đánh giá, 50,0% hài lòng trở lên)") for t in text)
    # a flagged press is named by what it may be, not only a repeat within seconds (it may be a visit rated again)
    assert any(
        t.startswith("Có 1 lượt bấm đã được hệ thống lọc (bấm lặp lại, đánh giá lại cùng một lượt") for t in text
    )
    assert any("tăng 37,5 điểm phần trăm" in t for t in text)
    assert any("60,0% rất hài lòng, 20,0% hài lòng, 20,0% không hài lòng" in t for t in text)
    assert any("quy đổi 11,7/18 điểm, xếp loại khá" in t for t in text)
    assert any("90% công dân được gọi trong vòng 20 phút" in t for t in text)
    headed = {t.rows[0].cells[0].text: t for t in document.tables}
    clerks = headed["Hạng"]  # A4 portrait: the clerk table of the spreadsheets is split in two
    assert [c.text for c in clerks.rows[1].cells][:2] == ["1", "Nguyễn Văn An"]
    grades = {row.cells[0].text: [c.text for c in row.cells] for row in headed["Công chức"].rows[1:]}
    assert grades["Nguyễn Văn An"][-2:] == ["7,4", "Hoàn thành 100% nhiệm vụ"]
    half = report_of(app, periods.half(2026, 1))
    first = docx.Document(io.BytesIO(exports.render(half, "docx", "Xã An Bình"))).paragraphs[2].text
    assert first.startswith("Trong 6 tháng đầu năm 2026, Bộ phận Một cửa đã nhận 9 lượt đánh giá")


def test_report_command_writes_each_format(loaded, tmp_path, monkeypatch):
    from central.cli import main

    app, _ = loaded
    settings = app.extensions["central"].settings
    monkeypatch.setenv("KIOSK_DATA_DIR", settings["data_dir"])
    monkeypatch.setenv("KIOSK_CENTRAL_DATABASE_URL", settings["central_database_url"])
    runner = CliRunner()
    for fmt in ("csv", "xlsx", "docx"):
        out = tmp_path / f"report.{fmt}"
        args = ["report", "--from", "2026-01-01", "--to", "2026-03-31", "--format", fmt, "--out", str(out)]
        result = runner.invoke(main, [*args, "--commune", "A"], obj={})
        assert result.exit_code == 0, result.output
        assert "8 ratings" in result.output and out.stat().st_size > 0
    assert csv_sections((tmp_path / "report.csv").read_bytes())["Tổng hợp"][1] == ["Kỳ báo cáo", "quý I năm 2026"]
    assert openpyxl.load_workbook(tmp_path / "report.xlsx")["Tổng hợp"]["B6"].value == 8
    assert "8 lượt đánh giá" in docx.Document(tmp_path / "report.docx").paragraphs[2].text
    whole = runner.invoke(
        main,
        ["report", "--from", "2026-01-01", "--to", "2026-03-31", "--format", "csv", "--out", str(tmp_path / "all.csv")],
        obj={},
    )
    assert whole.exit_code == 0 and "12 ratings" in whole.output
    bad = runner.invoke(
        main,
        ["report", "--from", "2026-03-31", "--to", "2026-01-01", "--format", "csv", "--out", str(tmp_path / "x.csv")],
        obj={},
    )
    assert bad.exit_code == 2 and "before it starts" in bad.output
    unknown = runner.invoke(
        main,
        [
            "report",
            "--from",
            "2026-01-01",
            "--to",
            "2026-01-31",
            "--format",
            "csv",
            "--out",
            str(tmp_path / "y.csv"),
            "--commune",
            "ZZ",
        ],
        obj={},
    )
    assert unknown.exit_code == 2 and "ZZ does not exist" in unknown.output
    assert not (tmp_path / "y.csv").exists()
