"""A queue ticket drawn as a 1-bit image the exact width of the printer's paper.

Cheap thermal printers turn Vietnamese into "S? th? t?" through their code pages, silently. An image
prints the same on every ESC/POS printer, so every word on the ticket is drawn here with a bundled font
that has the Vietnamese glyphs (DejaVu Sans; the caller passes its path, this package imports nothing of
the kiosk). Text is NFC-normalised so each letter is one precomposed glyph (never a base letter with
loose marks), and long lines are wrapped, never clipped.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

#: Dots across the printable width of common paper rolls (203 dpi heads).
PAPER_DOTS = {"58mm": 384, "80mm": 576}

TITLE = "SỐ THỨ TỰ"
THANKS = "Cảm ơn ông/bà!"


@dataclass(frozen=True)
class TicketFonts:
    regular: Path
    bold: Path


@dataclass(frozen=True)
class TicketContent:
    """What is printed on one ticket; the kiosk fills it from the database."""

    commune: str
    display_number: str
    service: str
    issued_at: datetime  # local time of the commune
    waiting: int  # people waiting ahead of this ticket
    qr_data: str | None = None
    qr_caption: str = ""
    priority: bool = False
    #: The reception point the ticket was taken at ("Điểm CN – …"), printed under the commune; "" when unknown.
    site: str = ""


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@lru_cache(maxsize=64)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


class _Canvas:
    """Blocks of text and images stacked top to bottom, then pasted onto one image of the final height."""

    def __init__(self, width: int, fonts: TicketFonts) -> None:
        self.width = width
        self.margin = max(8, width // 32)
        self.fonts = fonts
        self.blocks: list[tuple[int, Image.Image | None]] = []  # (height, image or None for a gap)

    @property
    def inner(self) -> int:
        return self.width - 2 * self.margin

    def font(self, size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
        return _font(str(self.fonts.bold if bold else self.fonts.regular), size)

    def gap(self, height: int) -> None:
        self.blocks.append((height, None))

    def rule(self, thickness: int = 2) -> None:
        band = Image.new("1", (self.width, thickness + 8), 1)
        ImageDraw.Draw(band).rectangle((self.margin, 4, self.width - self.margin - 1, 3 + thickness), fill=0)
        self.blocks.append((band.height, band))

    def text(self, text: str, size: int, bold: bool = False, spacing: float = 0.15) -> None:
        """Centred lines, wrapped to the paper; each line is as tall as its ink, marks included."""
        font = self.font(size, bold)
        for line in wrap(nfc(text), font, self.inner):
            self.line(line, font)
            self.gap(int(size * spacing))

    def line(self, line: str, font: ImageFont.FreeTypeFont) -> None:
        ascent, descent = font.getmetrics()
        left, top, right, bottom = font.getbbox(line, anchor="ls")
        above, below = max(ascent, -top), max(descent, bottom)
        band = Image.new("1", (self.width, above + below), 1)
        x = (self.width - (right - left)) // 2 - left
        ImageDraw.Draw(band).text((x, above), line, font=font, fill=0, anchor="ls")
        self.blocks.append((band.height, band))

    def number(self, text: str) -> None:
        """The queue number as large as the paper allows (capped so a short number is not absurdly tall)."""
        reference = 100
        font = self.font(reference, bold=True)
        measured = max(font.getlength(text), 1)
        size = int(min(reference * self.inner / measured, self.width * 0.42))
        font = self.font(size, bold=True)
        while font.getlength(text) > self.inner and size > 10:
            size -= 2
            font = self.font(size, bold=True)
        self.line(text, font)

    def image(self, picture: Image.Image) -> None:
        band = Image.new("1", (self.width, picture.height), 1)
        band.paste(picture, ((self.width - picture.width) // 2, 0))
        self.blocks.append((band.height, band))

    def render(self) -> Image.Image:
        height = sum(h for h, _ in self.blocks)
        out = Image.new("1", (self.width, height), 1)
        y = 0
        for h, block in self.blocks:
            if block is not None:
                out.paste(block, (0, y))
            y += h
        return out


def wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Greedy word wrap by measured width; a word wider than the paper is broken between letters."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}" if current else word
            if font.getlength(candidate) <= width:
                current = candidate
                continue
            if current:
                lines.append(current)
            current = ""
            for char in word:  # only reached for a word that alone is wider than the paper
                if font.getlength(current + char) > width and current:
                    lines.append(current)
                    current = ""
                current += char
            if font.getlength(current) > width:
                lines.append(current)
                current = ""
        lines.append(current)
    return [line for line in lines if line] or [""]


def qr_image(data: str, size: int) -> Image.Image:
    """A QR code close to ``size`` dots square, whole dots per module so a phone reads it at once."""
    # A fixed mask (any of the eight is valid) skips qrcode's trial of all eight, most of its time.
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2, box_size=1, mask_pattern=2)
    code.add_data(data)
    code.make(fit=True)
    modules = code.modules_count + 2 * code.border
    code.box_size = max(2, size // modules)
    picture = code.make_image(fill_color="black", back_color="white").get_image()
    return picture.convert("1")


def render_ticket(content: TicketContent, width: int, fonts: TicketFonts) -> Image.Image:
    """The ticket as a 1-bit image exactly ``width`` dots wide (black = 0)."""
    c = _Canvas(width, fonts)
    unit = width / 384  # sizes below are for 58 mm paper and scale with the width
    c.gap(int(8 * unit))
    c.text(content.commune, int(22 * unit), bold=True)
    if content.site:
        c.text(content.site, int(20 * unit))
    c.rule()
    c.gap(int(6 * unit))
    c.text(TITLE, int(30 * unit), bold=True)
    c.number(nfc(content.display_number))
    if content.priority:
        c.text("ƯU TIÊN", int(26 * unit), bold=True)
    c.gap(int(6 * unit))
    c.text(content.service, int(26 * unit), bold=True)
    c.text(content.issued_at.strftime("%H:%M – %d/%m/%Y"), int(20 * unit))
    c.text(f"Số người đang chờ: {content.waiting}", int(22 * unit))
    if content.qr_data:
        c.gap(int(6 * unit))
        c.image(qr_image(content.qr_data, int(width * 0.45)))
        if content.qr_caption:
            c.text(content.qr_caption, int(17 * unit))
    c.rule(1)
    c.text(THANKS, int(22 * unit), bold=True)
    c.gap(int(12 * unit))
    return c.render()


#: Every Vietnamese letter, lower and upper case, with the five tone marks on each vowel.
_VOWELS = "aăâeêioôơuưy"
_TONES = ("\u0301", "\u0300", "\u0309", "\u0303", "\u0323")  # sắc, huyền, hỏi, ngã, nặng


def vietnamese_alphabet() -> list[str]:
    """Lines of the test page: the 29 letters, then each vowel with its five tones (NFC)."""
    letters = "a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y"
    lines = [letters, letters.upper()]
    for vowel in _VOWELS:
        toned = [nfc(vowel + tone) for tone in _TONES]
        lines.append(" ".join([vowel, *toned, *(t.upper() for t in [vowel, *toned])]))
    return lines


def render_test_page(commune: str, printer: str, width: int, fonts: TicketFonts, when: datetime) -> Image.Image:
    """`kiosk printer-test`: a sample ticket followed by every Vietnamese letter, to check the font and cut."""
    sample = render_ticket(
        TicketContent(commune, "A001", "Hộ tịch – in thử", when, 0, qr_data="IN THỬ / TEST", priority=False),
        width,
        fonts,
    )
    c = _Canvas(width, fonts)
    c.text("BẢN IN THỬ – bảng chữ cái tiếng Việt", int(20 * width / 384), bold=True)
    for line in vietnamese_alphabet():
        c.text(line, int(20 * width / 384))
    c.text(f"Máy in: {printer}", int(16 * width / 384))
    c.text(f"Khổ giấy: {width} điểm", int(16 * width / 384))
    c.gap(16)
    letters = c.render()
    page = Image.new("1", (width, sample.height + letters.height), 1)
    page.paste(sample, (0, 0))
    page.paste(letters, (0, sample.height))
    return page
