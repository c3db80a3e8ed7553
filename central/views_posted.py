"""`/admin/posted/<commune>`: the commune's posted documents (niêm yết) — the counter's rules, the fee table, forms
as PDFs, notices — added, changed, hidden or removed; they travel to the commune's kiosks at their next sync.

Role ``catalog``: a ``commune_admin`` its own commune; an ``admin`` every commune, and
`/admin/posted/province/<code>` to post to every commune of a province at once. A refused form (a file that is not
a PDF, one too large, a field at fault) answers 400 or 413 with the page and the reason, and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from central import posted
from central.accounts import Viewer, require
from central.context import current_central
from central.hierarchy import CODE_RE
from central.ingest import TooLarge
from central.models import Commune, Province
from central.page_base import page_blueprint
from central.posted_models import PostedFile
from central.views_catalog import _commune, refused_form, visible_communes
from common.db import transaction
from common.errors import ForbiddenError, NotFoundError, ValidationError
from common.posted_rules import KINDS, MAX_PDF_BYTES

bp = page_blueprint("central_posted", __name__)


def _owner(viewer: Viewer, code: str, province: bool) -> tuple[str, str | None]:
    if not province:
        code = _commune(viewer, code)
    elif viewer.communes is not None:
        raise ForbiddenError(_("Only an administrator may post to every commune of a province."))
    elif not CODE_RE.match(code or ""):
        raise NotFoundError(_("There is no such province."))
    with current_central().sessions() as s:
        return posted.owner_of(s, None if province else code, code if province else None)


@bp.get("/admin/posted")
@require("catalog")
def communes(viewer: Viewer):
    with current_central().sessions() as s:
        rows = visible_communes(s, viewer)
        provinces = s.query(Province).order_by(Province.code).all() if viewer.communes is None else []
    if len(rows) == 1 and viewer.communes is not None:
        return redirect(url_for(".page", code=rows[0].code))
    return render_template("central/posted_communes.html", viewer=viewer, communes=rows, provinces=provinces)


def _page(viewer: Viewer, code: str, province: bool, failed: dict | None = None, status: int = 200):
    prov, commune = _owner(viewer, code, province)
    with current_central().sessions() as s:
        docs = posted.documents_of(s, prov, commune)
        page = render_template(
            "central/posted.html",
            viewer=viewer,
            commune=s.get(Commune, commune) if commune else None,
            province=s.get(Province, prov),
            docs=docs,
            kinds=KINDS,
            failed=failed,
            rows_text=lambda d: "\n".join(
                " | ".join(filter(None, (r["name"], r["amount"], r["note"]))) for r in d.rows
            ),
            max_mb=MAX_PDF_BYTES // 2**20,
            here=_here(code, province),
        )
    return page, status


def _here(code: str, province: bool, **kw) -> str:
    return url_for(".province_page" if province else ".page", code=code, **kw)


@bp.get("/admin/posted/<code>")
@require("catalog")
def page(code: str, viewer: Viewer):
    return _page(viewer, code, False)


@bp.get("/admin/posted/province/<code>")
@require("catalog")
def province_page(code: str, viewer: Viewer):
    return _page(viewer, code, True)


def _save(viewer: Viewer, code: str, province: bool, key: str, action: Callable[[Session, str, str | None], str]):
    prov, commune = _owner(viewer, code, province)
    try:
        with transaction(current_central().sessions) as s:
            message = action(s, prov, commune)
    except (ValidationError, NotFoundError, TooLarge) as exc:
        return _page(viewer, code, province, refused_form(key, exc), exc.status)
    flash(message, "ok")
    return redirect(_here(code, province) + f"#doc-{key}")


def _upload() -> bytes | None:
    file = request.files.get("file")
    if file is None or not file.filename:
        return None
    return file.stream.read(MAX_PDF_BYTES + 1)  # one byte past the cap is enough to refuse it


def _save_view(code: str, viewer: Viewer, province: bool, ident: str | None):
    now = current_central().clock.now()
    pdf = _upload()

    def action(s: Session, prov: str, commune: str | None) -> str:
        row = posted.save(s, prov, commune, request.form, pdf, now, ident)
        return _("“%(title)s” saved; the kiosks take it at their next sync.", title=row.title)

    return _save(viewer, code, province, ident or "new", action)


@bp.post("/admin/posted/<code>")
@bp.post("/admin/posted/<code>/<ident>")
@require("catalog")
def save(code: str, viewer: Viewer, ident: str | None = None):
    return _save_view(code, viewer, False, ident)


@bp.post("/admin/posted/province/<code>")
@bp.post("/admin/posted/province/<code>/<ident>")
@require("catalog")
def province_save(code: str, viewer: Viewer, ident: str | None = None):
    return _save_view(code, viewer, True, ident)


def _switch_view(code: str, viewer: Viewer, province: bool, ident: str, what: str):
    def action(s: Session, prov: str, commune: str | None) -> str:
        if what == "remove":
            posted.remove(s, prov, commune, ident)
            return _("The document was removed.")
        row = posted.set_hidden(s, prov, commune, ident, what == "hide")
        return (
            _("“%(title)s” is hidden from the kiosks.", title=row.title)
            if row.hidden
            else _("“%(title)s” is shown on the kiosks again.", title=row.title)
        )

    return _save(viewer, code, province, ident, action)


@bp.post("/admin/posted/<code>/<ident>/<any(hide, show, remove):what>")
@require("catalog")
def switch(code: str, ident: str, what: str, viewer: Viewer):
    return _switch_view(code, viewer, False, ident, what)


@bp.post("/admin/posted/province/<code>/<ident>/<any(hide, show, remove):what>")
@require("catalog")
def province_switch(code: str, ident: str, what: str, viewer: Viewer):
    return _switch_view(code, viewer, True, ident, what)


@bp.get("/admin/posted/<code>/<ident>/form.pdf")
@require("catalog")
def pdf(code: str, ident: str, viewer: Viewer) -> Response:
    """A form's PDF as the kiosks get it: our name and type, never the uploader's."""
    prov, commune = _owner(viewer, code, False)
    with current_central().sessions() as s:
        doc = next((d for d in posted.documents_of(s, prov, commune) if d.id == ident and d.file_sha256), None)
        row = s.get(PostedFile, doc.file_sha256) if doc else None
        if row is None:
            raise NotFoundError(_("There is no such PDF."))
        content = row.content
    response = Response(content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{ident}.pdf"'
    return response
