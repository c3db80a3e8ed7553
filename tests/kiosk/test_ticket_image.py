"""The ticket as printed: ESC/POS raster bytes of exactly the paper width, read back and looked at."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from pathlib import Path

import pytest
from PIL import ImageChops

from hardware.printer.encode import encode_job
from hardware.ticket_image import (
    PAPER_DOTS,
    TicketContent,
    TicketFonts,
    qr_image,
    render_test_page,
    render_ticket,
    vietnamese_alphabet,
)
from tests.escpos_raster import INIT, cut_after_image, decode, ink, raster_blocks

FONTS_DIR = Path(__file__).resolve().parents[2] / "web" / "static" / "fonts"
FONTS = TicketFonts(FONTS_DIR / "DejaVuSans.ttf", FONTS_DIR / "DejaVuSans-Bold.ttf")
WHEN = datetime(2026, 11, 20, 8, 5)
TICKET_ID = "4b3c0d7e-1234-4c55-9a0b-8f2d1e3c4b5a"


def content(**changes) -> TicketContent:
    values = dict(
        commune="UBND xã Thử Nghiệm",
        display_number="A012",
        service="Hộ tịch",
        issued_at=WHEN,
        waiting=3,
        qr_data=TICKET_ID,
        qr_caption="Mã phiếu: 4b3c0d7e",
    )
    values.update(changes)
    return TicketContent(**values)


def same(a, b) -> bool:
    return a.size == b.size and ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() is None


@pytest.mark.parametrize("paper, dots", [("58mm", 384), ("80mm", 576)])
def test_escpos_bytes_hold_a_raster_of_the_paper_width_and_a_cut(paper, dots):
    image = render_ticket(content(), PAPER_DOTS[paper], FONTS)
    data = encode_job(image, dots)

    assert data.startswith(INIT)
    blocks = raster_blocks(data)
    assert blocks and all(block.width == dots for _, block in blocks)
    printed = decode(data)
    assert printed.size == (dots, image.height)
    assert same(printed, image)  # what the printer burns is exactly what was drawn
    share = ink(printed) / (printed.width * printed.height)
    assert 0.03 < share < 0.6, f"ticket is {share:.0%} black"
    assert cut_after_image(data)


@pytest.mark.parametrize("dots", [384, 576])
def test_the_number_is_printed_very_large(dots):
    """Rows that differ between A012 and A345 are the number: one band at least a fifth of the width tall."""
    one = decode(encode_job(render_ticket(content(display_number="A012"), dots, FONTS), dots))
    other = decode(encode_job(render_ticket(content(display_number="A345"), dots, FONTS), dots))
    assert one.size == other.size
    left, top, right, bottom = ImageChops.difference(one.convert("L"), other.convert("L")).getbbox()
    assert bottom - top >= dots // 5  # digits at least 1 cm tall on 58 mm paper
    assert right - left >= dots // 2
    number_box = (0, top, dots, bottom)
    assert ink(one, number_box) > 0.2 * dots * (bottom - top)
    assert top < one.height // 2  # near the top, under the title


@pytest.mark.parametrize("dots", [384, 576])
def test_long_field_names_wrap_and_are_never_clipped(dots):
    short = render_ticket(content(service="Hộ tịch"), dots, FONTS)
    long_name = "Tư pháp – khác: chứng thực hợp đồng, giao dịch liên quan đến bất động sản và di sản thừa kế"
    wrapped = render_ticket(content(service=long_name), dots, FONTS)
    assert wrapped.height > short.height + 60  # several more lines, not one squeezed line
    unbroken = render_ticket(content(service="Chứngthựchợpđồnggiaodịchbấtđộngsảnthừakế" * 2), dots, FONTS)
    for image in (wrapped, unbroken):
        margin = max(8, dots // 32) - 1
        assert ink(image, (0, 0, margin, image.height)) == 0, "ink at the left edge: text clipped"
        assert ink(image, (dots - margin, 0, dots, image.height)) == 0, "ink at the right edge: text clipped"


def test_text_is_nfc_normalised_before_drawing():
    decomposed = content(
        commune=unicodedata.normalize("NFD", "UBND xã Thử Nghiệm"),
        service=unicodedata.normalize("NFD", "Bảo trợ xã hội"),
    )
    composed = content(commune="UBND xã Thử Nghiệm", service="Bảo trợ xã hội")
    assert same(render_ticket(decomposed, 384, FONTS), render_ticket(composed, 384, FONTS))


def test_the_qr_code_is_on_the_ticket_and_differs_with_its_data():
    ticket = render_ticket(content(), 384, FONTS)
    qr = qr_image(TICKET_ID, int(384 * 0.45))
    x = (384 - qr.width) // 2
    found = [y for y in range(ticket.height - qr.height) if same(ticket.crop((x, y, x + qr.width, y + qr.height)), qr)]
    assert len(found) == 1
    link = render_ticket(content(qr_data="http://192.168.1.10:8080/?ticket=" + TICKET_ID), 384, FONTS)
    assert not same(ticket, link)
    plain = render_ticket(content(qr_data=None), 384, FONTS)
    assert plain.height < ticket.height - qr.height


def test_the_ticket_names_its_reception_point():
    named = render_ticket(content(site="Điểm tiếp nhận CN – Điểm Cẩm Nhượng"), 384, FONTS)
    assert named.height > render_ticket(content(), 384, FONTS).height
    assert not same(named, render_ticket(content(site="Điểm tiếp nhận TT"), 384, FONTS))


def test_priority_tickets_say_so():
    assert render_ticket(content(priority=True), 384, FONTS).height > render_ticket(content(), 384, FONTS).height


def test_the_test_page_has_every_vietnamese_letter_with_every_tone():
    text = "\n".join(vietnamese_alphabet())
    assert unicodedata.normalize("NFC", text) == text
    letters = set(text.replace(" ", "").replace("\n", ""))
    for letter in "aăâbcdđeêghiklmnoôơpqrstuưvxy":
        assert letter in letters and letter.upper() in letters
    for toned in "ắằẳẵặấầẩẫậếềểễệốồổỗộớờởỡợứừửữựýỳỷỹỵíìỉĩịúùủũụ":
        assert toned in letters and toned.upper() in letters
    assert len(letters) == 2 * (29 + 12 * 5)
    page = render_test_page("UBND xã Thử Nghiệm", "spool:/tmp", 576, FONTS, WHEN)
    assert page.width == 576 and page.height > 1200
    data = encode_job(page, 576)
    assert decode(data).size == page.size and cut_after_image(data)
