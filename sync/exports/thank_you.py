""" "Thư cảm ơn": the letter a commune sends a citizen who left a comment and a way to reach them.

Only the roles that may see contact details can make it (the letter names the contact).
"""

from __future__ import annotations

import io
from datetime import date, datetime

from sync.reports.localtime import local


def thank_you_docx(
    commune_name: str, comment_text: str, contact: str, commented_at: datetime, reply_note: str | None, today: date
) -> bytes:
    """The letter as a Word document; ``commented_at`` is the comment's corrected time (naive UTC)."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    document = Document()
    normal = document.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(13)
    header = document.add_table(rows=2, cols=2)
    left = [f"ỦY BAN NHÂN DÂN {commune_name.upper()}", "BỘ PHẬN MỘT CỬA"]
    right = ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]
    for i in range(2):
        for cell, text in ((header.cell(i, 0), left[i]), (header.cell(i, 1), right[i])):
            cell.text = text
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
            for run in cell.paragraphs[0].runs:
                run.bold = True
    dated = document.add_paragraph(f"{commune_name}, ngày {today.day:02d} tháng {today.month:02d} năm {today.year}")
    dated.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run("THƯ CẢM ƠN")
    run.bold, run.font.size = True, Pt(15)
    document.add_paragraph(f"Kính gửi: Ông/Bà (liên hệ: {contact})")
    day = local(commented_at)
    document.add_paragraph(
        f"Ủy ban nhân dân {commune_name} trân trọng cảm ơn Ông/Bà đã dành thời gian góp ý về việc giải quyết "
        f"thủ tục hành chính tại Bộ phận Một cửa ngày {day:%d/%m/%Y}."
    )
    document.add_paragraph(f"Nội dung góp ý của Ông/Bà: “{comment_text}”")
    if reply_note:
        document.add_paragraph(f"Ý kiến của Ông/Bà đã được tiếp nhận và xử lý như sau: {reply_note}")
    document.add_paragraph(
        "Mọi ý kiến góp ý của Nhân dân đều được ghi nhận, thông tin người góp ý được giữ bí mật theo quy định, "
        "và là căn cứ để Bộ phận Một cửa không ngừng nâng cao chất lượng phục vụ."
    )
    document.add_paragraph("Trân trọng cảm ơn!")
    sign = document.add_paragraph("TM. ỦY BAN NHÂN DÂN\n(Ký, ghi rõ họ tên)")
    sign.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    data = io.BytesIO()
    document.save(data)
    return data.getvalue()
