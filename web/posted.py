"""The posted documents (niêm yết) at the kiosk: the screen "Niêm yết" (`/niem-yet`, from the ticket screen), one
document (`/niem-yet/<id>`: rules or a notice as text, the fee table, a form's PDF in the browser with a QR to take it
on a phone), the PDF itself, and `GET /api/posted` for the display board, which shows the rules and the fee table
between calls.

The thermal printer cannot print an A4 form: the form's page offers a QR instead, which opens the PDF at the address
phones reach the kiosk on (the same as the ticket's phone page, ``/t/…``). All of it is served from the kiosk's own
copy: it works offline.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request, send_file

from common.errors import ValidationError
from common.posted_rules import KINDS
from kiosk import posted
from kiosk.app import current_kiosk
from web.phone_qr import phone_address, phone_qr

bp = Blueprint("posted", __name__)


def _today():
    return current_kiosk().clock.local().date()


@bp.app_context_processor
def _globals() -> dict:
    """``posted_held()`` for the ticket screen: whether to offer "Niêm yết"."""

    def posted_held() -> bool:
        with current_kiosk().sessions() as session:
            return bool(posted.shown(session, _today()))

    return {"posted_held": posted_held}


@bp.get("/api/posted")
def list_posted():
    """The documents shown today, in the commune's order; ``?kind=rules,fees`` only those kinds."""
    kinds = tuple(k for k in (request.args.get("kind") or "").split(",") if k) or None
    if kinds and any(k not in KINDS for k in kinds):
        raise ValidationError(f"kind must be among {', '.join(KINDS)}.", {"field": "kind"})
    with current_kiosk().sessions() as session:
        found = posted.shown(session, _today(), kinds)
    return jsonify([{**d, "pdf": f"/niem-yet/{d['id']}.pdf" if d["file"] else None} for d in found])


def _screen(docs: list | None, doc: dict | None):
    kiosk = current_kiosk()
    return render_template(
        "posted.html", docs=docs, doc=doc, commune=kiosk.settings["commune_name"],
        idle_seconds=int(kiosk.settings["detail_seconds"]), phones=phone_address() is not None,
    )  # fmt: skip


@bp.get("/niem-yet")
def posted_screen():
    """ "Niêm yết": the commune's rules, fees, forms and notices, one big button each."""
    with current_kiosk().sessions() as session:
        return _screen(posted.shown(session, _today()), None)


@bp.get("/niem-yet/<ident>")
def posted_document(ident: str):
    """One document, big: the text, the fee table, or the form's PDF with a QR to take it on a phone."""
    with current_kiosk().sessions() as session:
        return _screen(None, posted.get(session, ident, _today()))


@bp.get("/niem-yet/<ident>.pdf")
def posted_pdf(ident: str):
    """A form's PDF from the kiosk's copy, as ``application/pdf`` under our own name, for the screen and phones."""
    kiosk = current_kiosk()
    with kiosk.sessions() as session:
        doc = posted.get(session, ident, _today())
    path = posted.pdf_file(posted.folder(kiosk.settings.data_path), doc)
    response = send_file(path, mimetype="application/pdf", download_name=f"{doc['id']}.pdf", max_age=0)
    response.headers["Content-Disposition"] = f'inline; filename="{doc["id"]}.pdf"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/niem-yet/<ident>/qr.png")
def posted_qr(ident: str):
    """The QR that opens a form's PDF on a phone."""
    with current_kiosk().sessions() as session:
        doc = posted.get(session, ident, _today())
    return phone_qr(f"/niem-yet/{doc['id']}.pdf")
