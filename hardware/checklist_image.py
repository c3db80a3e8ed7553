"""The checklist of a procedure (what to bring), drawn like the ticket: a 1-bit image the width of the paper,
every word with the bundled font, so Vietnamese prints the same on every ESC/POS printer."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from PIL import Image, ImageDraw

from hardware.ticket_image import TicketFonts, _Canvas, nfc, wrap

TITLE = "GIẤY TỜ CẦN CHUẨN BỊ"
ADVICE = "Chuẩn bị đủ giấy tờ trước khi lấy số. Cảm ơn ông/bà!"


class _ListCanvas(_Canvas):
    def left(self, text: str, size: int, bold: bool = False, indent: int = 0) -> None:
        """Lines aligned left (a list reads down its left edge), wrapped; continuation lines indented."""
        font = self.font(size, bold)
        for number, line in enumerate(wrap(nfc(text), font, self.inner - indent)):
            ascent, descent = font.getmetrics()
            _left, top, _right, bottom = font.getbbox(line, anchor="ls")
            above, below = max(ascent, -top), max(descent, bottom)
            band = Image.new("1", (self.width, above + below), 1)
            x = self.margin + (indent if number else 0)
            ImageDraw.Draw(band).text((x, above), line, font=font, fill=0, anchor="ls")
            self.blocks.append((band.height, band))
            self.gap(int(size * 0.2))


def render_checklist(content: Mapping[str, Any], width: int, fonts: TicketFonts) -> Image.Image:
    """``content``: commune, service (the field's name), name, papers [{name, copies}], forms, fee, time,
    result_at, printed_at (local time)."""
    c = _ListCanvas(width, fonts)
    unit = width / 384
    body, small = int(21 * unit), int(19 * unit)
    c.gap(int(8 * unit))
    c.text(content["commune"], int(20 * unit), bold=True)
    c.rule()
    c.text(TITLE, int(26 * unit), bold=True)
    c.text(content["name"], int(24 * unit), bold=True)
    if content.get("service"):
        c.text(f"Lĩnh vực: {content['service']}", small)
    c.rule(1)
    for number, paper in enumerate(content.get("papers") or [], start=1):
        c.left(f"{number}. {paper['name']} – {paper['copies']} bản", body, indent=int(24 * unit))
    if content.get("forms"):
        c.gap(int(4 * unit))
        c.left("Mẫu đơn: " + "; ".join(content["forms"]), small)
    c.rule(1)
    if content.get("fee"):
        c.left(f"Lệ phí: {content['fee']}", body, bold=True)
    if content.get("time"):
        c.left(f"Thời hạn: {content['time']}", body, bold=True)
    if content.get("result_at"):
        c.left(f"Nhận kết quả: {content['result_at']}", small)
    c.rule(1)
    printed_at: datetime = content["printed_at"]
    c.text(printed_at.strftime("In lúc %H:%M – %d/%m/%Y"), int(17 * unit))
    c.text(ADVICE, small, bold=True)
    c.gap(int(12 * unit))
    return c.render()
