"""The page of a Vietnamese administrative document (Nghị định 30/2020/NĐ-CP, Phụ lục I), for every DOCX we make.

A4 portrait (21 × 29,7 cm); margins top and bottom 2 cm, left 3 cm, right 2 cm; Times New Roman, 13 pt body,
black, every style (headings and tables included) — so a commune can paste the paragraphs into its own
document, or print the letter, without touching the layout.
"""

from __future__ import annotations

from typing import Any

FONT = "Times New Roman"
BODY_PT = 13
TITLE_PT = 14
PAGE_CM = (21.0, 29.7)
MARGINS_CM = {"top": 2.0, "bottom": 2.0, "left": 3.0, "right": 2.0}


def _font(style: Any, size: int | None = None, bold: bool | None = None) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    font = style.font
    font.name = FONT
    font.color.rgb = RGBColor(0, 0, 0)
    if size is not None:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()  # Word picks the font per script: set them all
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attribute), FONT)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)


def new_document() -> Any:
    """An empty python-docx Document laid out for an administrative text."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm

    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(PAGE_CM[0]), Cm(PAGE_CM[1])
    section.top_margin, section.bottom_margin = Cm(MARGINS_CM["top"]), Cm(MARGINS_CM["bottom"])
    section.left_margin, section.right_margin = Cm(MARGINS_CM["left"]), Cm(MARGINS_CM["right"])
    _font(document.styles["Normal"], BODY_PT)
    for name, size in (("Title", TITLE_PT), ("Heading 1", TITLE_PT), ("Heading 2", BODY_PT)):
        _font(document.styles[name], size, bold=True)
        document.styles[name].font.italic = False
    return document


def text_width_cm() -> float:
    return PAGE_CM[0] - MARGINS_CM["left"] - MARGINS_CM["right"]


def save(document: Any) -> bytes:
    import io

    data = io.BytesIO()
    document.save(data)
    return data.getvalue()
