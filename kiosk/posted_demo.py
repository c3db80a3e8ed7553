"""`kiosk serve --demo`: the commune's posted documents of ``common.posted_examples`` — the counter's rules, a fee
table, and a form as a small PDF drawn here at start (Pillow, the bundled font): no PDF in the repository."""

from __future__ import annotations

import hashlib
from io import BytesIO
from pathlib import Path
from typing import Any

from common.posted_examples import EXAMPLE_POSTED, FORM_ID, FORM_LINES, FORM_TITLE
from kiosk.clock import to_naive_utc
from kiosk.posted import current_version, folder, store_document
from sync.posted_document import version

FONT = Path(__file__).resolve().parent.parent / "web" / "static" / "fonts" / "DejaVuSans.ttf"


def form_pdf() -> bytes:
    """An A4 page at 100 dpi with the form's lines, as a PDF."""
    from PIL import Image, ImageDraw, ImageFont

    page = Image.new("L", (827, 1169), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(FONT), 22)
    for number, line in enumerate(FORM_LINES):
        draw.text((60, 80 + number * 48), line, font=font, fill=0)
    out = BytesIO()
    page.save(out, "PDF", resolution=100.0)
    return out.getvalue()


def seed_demo_posted(kiosk: Any) -> None:
    """The example rules, fee table and form, when the kiosk holds no posted documents yet."""
    with kiosk.sessions() as session:
        if current_version(session) is not None:
            return
    pdf = form_pdf()
    sha = hashlib.sha256(pdf).hexdigest()
    form = {"id": FORM_ID, "kind": "form", "title": FORM_TITLE, "body": "", "rows": [],
            "file": {"sha256": sha, "size": len(pdf)}, "shown_from": None, "shown_to": None}  # fmt: skip
    documents = [*EXAMPLE_POSTED, form]
    doc = {"version": version(documents), "documents": documents}
    store_document(kiosk.sessions, doc, to_naive_utc(kiosk.clock.now()), folder(kiosk.settings.data_path),
                   lambda _sha, _size: pdf)  # fmt: skip
