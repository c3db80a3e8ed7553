"""Documents ready to paste: the DOCX report and the "Thư cảm ơn" letter read back with python-docx (A4 portrait,
Nghị định 30/2020 margins, Times New Roman 13–14 pt), and no English word in anything Vietnamese we export.

The English words are taken from our own English catalogue (every msgid of the pages) and the keys the code
uses inside (``time``, ``attitude``, ``very_satisfied`` …): a word of those in a Vietnamese document is a leak.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime

import docx
import openpyxl
import pytest
from babel.messages.pofile import read_po
from docx.shared import Cm, Pt

from central import exports
from central.exports.thank_you import document_date, parse_commune, thank_you_docx
from central.reports import figures, periods
from central.reports.query import Scope
from common.tt01 import DEFAULT_LEVELS, INDICATORS
from common.web.i18n_catalog import po_path
from tests.central import report_fixture as fx

loaded = fx.loaded
TOLERANCE = Cm(0.02)


def _words(locale: str, field: str) -> set[str]:
    with po_path(locale).open("rb") as fh:
        catalogue = read_po(fh, locale=locale)
    words: set[str] = set()
    for message in catalogue:
        value = getattr(message, field)
        for text in value if isinstance(value, tuple | list) else (value,):
            text = re.sub(r"%\(\w+\)s", " ", text or "")
            words.update(w.lower() for w in re.findall(r"[^\W\d_]{3,}", text) if w.isascii())
    return words


def english_words() -> set[str]:
    """Words of our English msgids that our Vietnamese translations never use (so not names like "Minh")."""
    keys = {*INDICATORS, *DEFAULT_LEVELS, "none", "null", "true", "false", "nan", "flagged", "rank", "code"}
    keys = {part for key in keys for part in key.split("_")}
    return (_words("en", "id") - _words("vi", "string")) | keys


ENGLISH = english_words()


def english_in(texts: list[str]) -> list[str]:
    found = []
    for text in texts:
        for word in re.findall(r"[^\W\d_]+", text):
            if word.isascii() and word.lower() in ENGLISH:
                found.append(f"{word!r} in {text[:80]!r}")
    return found


def document_texts(document) -> list[str]:
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    return [p.text for p in document.paragraphs] + cells


def effective_font(run, paragraph) -> tuple[str | None, float | None]:
    """The font name and size a run shows: its own, else its paragraph style's, else the styles it is based on."""
    name, size = run.font.name, run.font.size
    style = paragraph.style
    while style is not None and (name is None or size is None):
        name = name or style.font.name
        size = size or style.font.size
        style = style.base_style
    return name, size.pt if size is not None else None


def all_paragraphs(document):
    yield from document.paragraphs
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                yield from cell.paragraphs


def assert_administrative_page(document) -> None:
    assert len(document.sections) == 1
    section = document.sections[0]
    assert abs(section.page_width - Cm(21)) < TOLERANCE and abs(section.page_height - Cm(29.7)) < TOLERANCE
    assert section.page_height > section.page_width  # portrait
    assert abs(section.top_margin - Cm(2)) < TOLERANCE and abs(section.bottom_margin - Cm(2)) < TOLERANCE
    assert abs(section.left_margin - Cm(3)) < TOLERANCE
    assert Cm(1.5) - TOLERANCE <= section.right_margin <= Cm(2) + TOLERANCE
    normal = document.styles["Normal"].font
    assert normal.name == "Times New Roman" and Pt(13) <= normal.size <= Pt(14)
    fonts = set()
    for paragraph in all_paragraphs(document):
        for run in paragraph.runs:
            if run.text.strip():
                fonts.add(effective_font(run, paragraph))
    assert {name for name, _ in fonts} == {"Times New Roman"}, fonts
    assert all(13 <= size <= 14 for _, size in fonts), fonts
    for style in ("Heading 1", "Heading 2"):  # python-docx's template would put Calibri Light in blue here
        font = document.styles[style].font
        assert font.name == "Times New Roman" and str(font.color.rgb) == "000000"


def report_of(app, period=periods.quarter(2026, 1), communes=("A",)):
    with app.extensions["central"].engine.connect() as conn:
        return figures.build(conn, period, Scope(communes=communes), min_answers=fx.MIN_ANSWERS)


@pytest.mark.parametrize("communes", [("A",), None], ids=["one commune", "the province"])
def test_the_docx_report_is_an_a4_administrative_document_in_vietnamese(loaded, communes):
    app, _ = loaded
    report = report_of(app, communes=communes)
    label = exports.scope_label(report["communes"], communes is None)
    document = docx.Document(io.BytesIO(exports.render(report, "docx", label)))
    assert_administrative_page(document)
    texts = document_texts(document)
    assert not english_in(texts), english_in(texts)
    assert not any(re.search(r"\d\.\d", t) for t in texts if not re.search(r"\d+/\d+/\d{4}", t)), "decimal points"
    whole = "\n".join(texts)
    assert "1. Tổng thời gian giải quyết thủ tục hành chính so với thời gian cho phép" in whole  # indicator names
    assert "7. Thái độ của cán bộ, công chức" in whole
    queue = next(t for t in texts if t.startswith("Hệ thống xếp hàng"))
    assert "thời gian phục vụ tại quầy trung bình" in queue and "giải quyết" not in queue
    for table in document.tables:  # every table fits between the margins
        widths = [cell.width for cell in table.rows[0].cells]
        assert sum(widths) <= Cm(16) + TOLERANCE, (table.rows[0].cells[0].text, widths)


def test_the_vietnamese_spreadsheets_have_no_english_words(loaded):
    app, _ = loaded
    report = report_of(app, communes=None)
    text = exports.render(report, "csv", "các xã").decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert not english_in(cells), english_in(cells)
    assert "1 time" not in text and "7 attitude" not in text
    assert not [c for c in cells if re.fullmatch(r"-?\d+\.\d+", c)], "a decimal point in the Vietnamese CSV"
    book = openpyxl.load_workbook(io.BytesIO(exports.render(report, "xlsx", "các xã")))
    values = [str(c.value) for sheet in book for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert not english_in(values), english_in(values)
    shares = [c for row in book["Tổng hợp"].iter_rows() for c in row if isinstance(c.value, float)]
    assert shares and all(c.number_format == "0.0" for c in shares)  # numbers, shown the reader's way


@pytest.mark.parametrize(
    ("configured", "heading", "agency", "place"),
    [
        ("UBND xã An Bình", "ỦY BAN NHÂN DÂN XÃ AN BÌNH", "Ủy ban nhân dân xã An Bình", "An Bình"),
        ("Xã An Bình", "ỦY BAN NHÂN DÂN XÃ AN BÌNH", "Ủy ban nhân dân xã An Bình", "An Bình"),
        ("An Bình", "ỦY BAN NHÂN DÂN XÃ AN BÌNH", "Ủy ban nhân dân xã An Bình", "An Bình"),
        ("Ủy ban nhân dân xã  Tân Hòa", "ỦY BAN NHÂN DÂN XÃ TÂN HÒA", "Ủy ban nhân dân xã Tân Hòa", "Tân Hòa"),
        ("Phường 1", "ỦY BAN NHÂN DÂN PHƯỜNG 1", "Ủy ban nhân dân phường 1", "Phường 1"),
        ("UBND đặc khu Côn Đảo", "ỦY BAN NHÂN DÂN ĐẶC KHU CÔN ĐẢO", "Ủy ban nhân dân đặc khu Côn Đảo", "Côn Đảo"),
    ],
)
def test_the_letter_names_the_commune_as_an_administrative_document_does(configured, heading, agency, place):
    commune = parse_commune(configured)
    assert (commune.heading, commune.agency, commune.place) == (heading, agency, place)


def test_dates_as_decree_30_writes_them():
    assert document_date("An Bình", date(2026, 4, 5)) == "An Bình, ngày 05 tháng 4 năm 2026"
    assert document_date("An Bình", date(2026, 2, 14)) == "An Bình, ngày 14 tháng 02 năm 2026"
    assert document_date("An Bình", date(2026, 12, 31)) == "An Bình, ngày 31 tháng 12 năm 2026"


@pytest.mark.parametrize("configured", ["UBND xã An Bình", "Xã An Bình", "An Bình"])
def test_the_thank_you_letter(configured):
    data = thank_you_docx(
        configured,
        "Cán bộ hướng dẫn rất nhiệt tình.",
        "0912345678",
        datetime(2026, 2, 10, 3, 5),
        "Đã gọi điện cảm ơn công dân.",
        date(2026, 4, 5),
    )
    document = docx.Document(io.BytesIO(data))
    assert_administrative_page(document)
    texts = document_texts(document)
    assert not english_in(texts), english_in(texts)
    whole = "\n".join(texts)
    assert texts[0] == "An Bình, ngày 05 tháng 4 năm 2026" and "THƯ CẢM ƠN" in texts
    header = document.tables[0]
    assert header.cell(0, 0).text == "ỦY BAN NHÂN DÂN XÃ AN BÌNH"
    assert header.cell(0, 1).text == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    assert header.cell(1, 1).text == "Độc lập - Tự do - Hạnh phúc"
    assert "Ủy ban nhân dân xã An Bình trân trọng cảm ơn Ông/Bà" in whole
    assert "UBND" not in whole and "Ủy ban nhân dân Xã" not in whole and "ngày 10/02/2026" in whole


def test_the_word_list_catches_what_the_issue_saw():
    assert len(ENGLISH) > 300
    leaks = english_in(["1 time", "3 contacts", "4 agencies", "7 attitude", "Ratings by weekday", "None"])
    assert len(leaks) == 7, leaks  # every word of three letters or more
    assert not english_in(["Xã Bình Minh", "Hộ tịch", "Trần Văn An", "Chỉ số theo Thông tư 01/2018/TT-VPCP"])
