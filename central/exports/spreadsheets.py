"""CSV and XLSX exports of a report (and of the comments inbox), safe to open in a spreadsheet.

CSV: UTF-8 with a byte-order mark (so Excel reads Vietnamese), one titled section per table separated
by a blank line, every text cell through :func:`central.exports.tables.guard`, decimals with the Vietnamese
decimal comma ("87,5", quoted) and whole numbers without a thousands separator. XLSX: one sheet per table;
text cells are stored as text (never as formulas), numbers as numbers (one decimal shown, in the reader's
own separator).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from central.exports.tables import Table, guard, report_tables
from common import numbers


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return numbers.decimal(value, "vi", group=False)
    return guard(value)


def _csv(tables: Iterable[Table]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for i, table in enumerate(tables):
        if i:
            writer.writerow([])
        writer.writerow([guard(table.title)])
        writer.writerow([guard(h) for h in table.headers])
        for row in table.rows:
            writer.writerow([_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def report_csv(report: dict[str, Any]) -> bytes:
    return _csv(report_tables(report))


def _xlsx(tables: Iterable[Table]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for table in tables:
        sheet = book.create_sheet(title=table.title[:31])
        sheet.append([table.title])
        sheet["A1"].font = Font(bold=True, size=13)
        sheet.append(table.headers)
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([None] * len(row))
            for col, value in enumerate(row, 1):
                cell = sheet.cell(row=sheet.max_row, column=col)
                cell.value = value
                if isinstance(value, str):
                    cell.data_type = "s"  # "=…" stays text: openpyxl would otherwise write a formula
                elif isinstance(value, float):
                    cell.number_format = "0.0"  # shown with the reader's decimal separator (87,5 in Vietnamese)
        for col, header in enumerate(table.headers, 1):
            letter = sheet.cell(row=2, column=col).column_letter
            longest = max([len(str(header))] + [len(str(r[col - 1])) for r in table.rows if r[col - 1] is not None])
            sheet.column_dimensions[letter].width = min(max(10, longest + 2), 60)
        _print_setup(sheet)
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def _print_setup(sheet: Any) -> None:
    """Print on A4 landscape, every column on one page's width (as many pages down as needed), the title and
    header rows repeated on every page: one day prints as a few readable pages, not 32 split by column."""
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = sheet.ORIENTATION_LANDSCAPE
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:2"
    sheet.print_options.horizontalCentered = True


def report_xlsx(report: dict[str, Any]) -> bytes:
    return _xlsx(report_tables(report))


COMMENT_HEADERS = ["Thời gian", "Xã", "Quầy", "Mức đánh giá", "Lĩnh vực", "Công chức"]
COMMENT_HEADERS += ["Nội dung góp ý", "Trạng thái", "Ghi chú trả lời"]


def _comment_table(comments: Sequence[dict[str, Any]], with_contact: bool) -> Table:
    headers = COMMENT_HEADERS + (["Liên hệ"] if with_contact else [])
    rows = []
    for c in comments:
        # "CN · Quầy 1" where the commune has several reception points, else the counter's number as always
        counter = c["counter_label"] if c["point"] else c["counter"]
        row = [c["local_time"], c["commune_name"], counter, c["level_label"], c["service_name"]]
        row += [c["clerk_name"], c["text"], c["status_label"], c["reply_note"]]
        if with_contact:
            row.append(c["contact"])
        rows.append(row)
    return Table("comments", "Góp ý", headers, rows)


def comments_csv(comments: Sequence[dict[str, Any]], with_contact: bool) -> bytes:
    return _csv([_comment_table(comments, with_contact)])
