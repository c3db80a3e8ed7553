""" "Thư cảm ơn": the letter a commune sends a citizen who left a comment and a way to reach them.

Only the roles that may see contact details can make it (the letter names the contact). The layout is an
administrative document's (Nghị định 30/2020, :mod:`central.exports.docx_layout`): the issuing agency
"ỦY BAN NHÂN DÂN XÃ …" beside the national motto, the place and date ("An Bình, ngày 05 tháng 4 năm 2026"),
the title, the text, and "TM. ỦY BAN NHÂN DÂN" for the signature.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from central.exports import docx_layout

#: Administrative levels a commune-level unit can have (since 1 July 2025: xã, phường, đặc khu).
LEVELS = ("thị trấn", "đặc khu", "phường", "xã")
_AGENCY = re.compile(r"^\s*(ubnd|ủy ban nhân dân|uỷ ban nhân dân)\s+", re.IGNORECASE)


@dataclass(frozen=True)
class Commune:
    level: str  # "xã", "phường", "đặc khu", "thị trấn"
    name: str  # the proper name: "An Bình"

    @property
    def agency(self) -> str:
        """ "Ủy ban nhân dân xã An Bình", for the body of the letter."""
        return f"Ủy ban nhân dân {self.level} {self.name}"

    @property
    def heading(self) -> str:
        """ "ỦY BAN NHÂN DÂN XÃ AN BÌNH", the issuing agency at the top left."""
        return self.agency.upper()

    @property
    def place(self) -> str:
        """The place before the date: the commune's name ("An Bình"), with its level when it is a number ("Phường 1")."""
        return f"{self.level.capitalize()} {self.name}" if self.name.isdigit() else self.name


def parse_commune(name: str) -> Commune:
    """A commune's name as configured — "UBND xã An Bình", "Xã An Bình", "Phường 1" or just "An Bình"."""
    text = " ".join(unicodedata.normalize("NFC", name).split())
    text = _AGENCY.sub("", text)
    lowered = text.lower()
    for level in LEVELS:
        if lowered.startswith(level + " ") and len(text) > len(level) + 1:
            return Commune(level, text[len(level) + 1 :].strip())
    return Commune("xã", text)


def document_date(place: str, day: date) -> str:
    """ "An Bình, ngày 05 tháng 4 năm 2026": a day below 10 and a month below 3 get a leading zero (NĐ 30/2020)."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"


def thank_you_docx(
    commune_name: str, comment_text: str, contact: str, commented_at: datetime, reply_note: str | None, today: date
) -> bytes:
    """The letter as a Word document; ``commented_at`` is the comment's corrected time, in local time."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    commune = parse_commune(commune_name)
    document = docx_layout.new_document()
    header = document.add_table(rows=2, cols=2)
    left = [commune.heading, "—————"]
    right = ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]
    for i in range(2):
        for column, text in ((0, left[i]), (1, right[i])):
            cell = header.cell(i, column)
            cell.text = text
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
            for run in cell.paragraphs[0].runs:
                run.bold = i == 0 or column == 1  # the agency, the motto and the national name; not the rule
    dated = document.add_paragraph()
    dated.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    dated.add_run(document_date(commune.place, today)).italic = True
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run("THƯ CẢM ƠN")
    run.bold, run.font.size = True, Pt(docx_layout.TITLE_PT)
    document.add_paragraph(f"Kính gửi: Ông/Bà (liên hệ: {contact})").alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraphs = [
        f"{commune.agency} trân trọng cảm ơn Ông/Bà đã dành thời gian góp ý về việc giải quyết thủ tục hành chính "
        f"tại Bộ phận Một cửa ngày {commented_at:%d/%m/%Y}.",
        f"Nội dung góp ý của Ông/Bà: “{comment_text}”",
    ]
    if reply_note:
        paragraphs.append(f"Ý kiến của Ông/Bà đã được tiếp nhận và xử lý như sau: {reply_note}")
    paragraphs += [
        "Mọi ý kiến góp ý của Nhân dân đều được ghi nhận, thông tin người góp ý được giữ bí mật theo quy định, "
        "và là căn cứ để Bộ phận Một cửa không ngừng nâng cao chất lượng phục vụ.",
        "Trân trọng cảm ơn!",
    ]
    for text in paragraphs:
        document.add_paragraph(text).alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    sign = document.add_paragraph()
    sign.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    sign.add_run("TM. ỦY BAN NHÂN DÂN").bold = True
    sign.add_run("\n(Ký, ghi rõ họ tên)").italic = True
    return docx_layout.save(document)
