"""`/comments`: the comments inbox — read, assign to a handler, mark answered with a reply note.

Beside each comment: the rating it was left with — its level (in the commune's wording), field (lĩnh vực),
counter and clerk — so a comment can be read in context and answered by the right person.

Comments are confidential (NĐ 61/2018, Điều 27): the contact a citizen left is shown, exported and put
in the "Thư cảm ơn" letter only for the roles that answer (handler, admin). Viewers read the text and its
context. The inbox's state lives in ``comment_status``; the comment record itself is never changed.
"""

from __future__ import annotations

from typing import Any

from flask import Response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select

from central.accounts import Viewer, require
from central.context import current_central
from central.exports.spreadsheets import comments_csv
from central.exports.thank_you import thank_you_docx
from central.models import Clerk, Comment, Commune, Rating, ScaleLevel, Service, Site, User
from central.page_base import page_blueprint
from central.report_models import CommentStatus
from central.reports.suggestions import KIND as SUGGESTION
from central.reports.suggestions import kind_filter
from central.views_reports import CODE_RE, UUID_RE
from common.counter_label import counter_label
from common.db import transaction
from common.errors import ConflictError, NotFoundError, ValidationError
from common.tt01 import DEFAULT_LEVELS

bp = page_blueprint("central_comments", __name__)

STATUSES = ("new", "read", "assigned", "answered")
STATUS_VI = {"new": "Mới", "read": "Đã đọc", "assigned": "Đã giao xử lý", "answered": "Đã trả lời"}
PAGE = 50
#: Highest page number asked for (50 comments a page: 5 million comments).
MAX_PAGE = 100_000
MAX_NOTE = 4000
KINDS = (SUGGESTION, "comment")


def _query(viewer: Viewer, status: str | None, commune: str | None, kind: str | None = None):
    c, st, r = Comment.__table__.c, CommentStatus.__table__.c, Rating.__table__.c
    sv, ck, lv = Service.__table__.c, Clerk.__table__.c, ScaleLevel.__table__.c
    joined = (
        Comment.__table__.outerjoin(
            CommentStatus.__table__,
            and_(st.commune_code == c.commune_code, st.device_id == c.device_id, st.comment_id == c.id),
        )
        .outerjoin(
            Rating.__table__, and_(r.commune_code == c.commune_code, r.device_id == c.device_id, r.id == c.rating_id)
        )
        .outerjoin(Service.__table__, and_(sv.commune_code == r.commune_code, sv.code == r.service_code))
        .outerjoin(Clerk.__table__, and_(ck.commune_code == r.commune_code, ck.id == r.clerk_id))
        .outerjoin(ScaleLevel.__table__, and_(lv.commune_code == r.commune_code, lv.key == r.level))
        .outerjoin(Site.__table__, and_(Site.commune_code == c.commune_code, Site.code == c.site_code))
    )
    points = Site.__table__.alias("points")
    site_count = select(func.count()).where(points.c.commune_code == c.commune_code).scalar_subquery()
    query = select(
        c,
        st.status,
        st.assigned_to,
        st.reply_note,
        st.answered_at,
        Commune.name.label("commune_name"),
        r.level.label("level"),
        r.counter_number.label("rating_counter"),
        r.service_code.label("service_code"),
        lv.label.label("level_label"),
        sv.name.label("service_name"),
        ck.name.label("clerk_name"),
        Site.name.label("site_name"),
        site_count.label("site_count"),
    )
    query = query.select_from(joined.join(Commune.__table__, Commune.code == c.commune_code))
    if commune:
        query = query.where(c.commune_code == commune)
    elif viewer.communes is not None:
        query = query.where(c.commune_code.in_(viewer.communes))
    if kind_filter(kind) is not None:
        query = query.where(kind_filter(kind))
    if status == "new":
        query = query.where(or_(st.status.is_(None), st.status == "new"))
    elif status:
        query = query.where(st.status == status)
    return query.order_by(c.corrected_time.desc(), c.id)


def _row(row: Any, viewer: Viewer) -> dict[str, Any]:
    status = row.status or "new"
    counter = row.counter_number if row.counter_number is not None else row.rating_counter
    level_label = row.level_label or (DEFAULT_LEVELS.get(row.level, (row.level,))[0] if row.level else None)
    return {
        "commune": row.commune_code,
        "commune_name": row.commune_name,
        "device": row.device_id,
        "id": row.id,
        "time": row.corrected_time,
        "local_time": f"{current_central().local_time.local(row.corrected_time):%d/%m/%Y %H:%M}",
        "counter": counter,
        # the reception point it was left at; named before the counter where the commune has several
        "site": row.site_code,
        "site_name": row.site_name or row.site_code,
        "point": row.site_code if (row.site_count or 0) > 1 else None,
        "counter_label": counter_label(row.site_code if (row.site_count or 0) > 1 else None, counter)
        if counter is not None
        else None,
        # the rating the comment was left with (None when it came without one)
        "level": row.level,
        "level_label": level_label,  # the commune's own wording ("Chưa hài lòng"), as the exports use it
        "service_code": row.service_code,
        "service_name": row.service_name or row.service_code,
        "clerk_name": row.clerk_name,
        "text": row.text,
        "suggestion": row.source == SUGGESTION,  # from the suggestion box, not left with a rating
        "contact": row.contact if viewer.can("contact") else None,
        "has_contact": bool(row.contact) and viewer.can("contact"),
        "status": status,
        "status_label": STATUS_VI[status],
        "assigned_to": row.assigned_to,
        "reply_note": row.reply_note,
    }


def _filters(viewer: Viewer) -> tuple[str | None, str | None]:
    status = request.args.get("status") or None
    if status is not None and status not in STATUSES:
        raise ValidationError(_("Unknown status."), {"field": "status"})
    commune = (request.args.get("commune") or "").strip().upper() or None
    if commune is not None:
        if not CODE_RE.match(commune):
            raise ValidationError(_("Commune code %(code)s is not valid.", code=commune), {"field": "commune"})
        viewer.check_commune(commune)
    return status, commune


def _kind() -> str | None:
    """The inbox's kind filter: ``suggestion`` (the suggestion box), ``comment`` (left with a rating), or all."""
    kind = request.args.get("kind") or None
    if kind is not None and kind not in KINDS:
        raise ValidationError(_("Unknown kind."), {"field": "kind"})
    return kind


def _page(text: str) -> int:
    """The page asked for: a whole number from 1 to MAX_PAGE (400 otherwise, never a database overflow)."""
    if not text.isdigit() or len(text) > 6 or not 1 <= int(text) <= MAX_PAGE:
        raise ValidationError(
            _("The page must be a whole number from 1 to %(max)s.", max=MAX_PAGE), {"field": "page", "max": MAX_PAGE}
        )
    return int(text)


@bp.get("/comments")
@require("comments")
def inbox(viewer: Viewer):
    status, commune = _filters(viewer)
    kind = _kind()
    page = _page(request.args.get("page", "1"))
    query = _query(viewer, status, commune, kind)
    with current_central().engine.connect() as conn:
        total = conn.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
        rows = [_row(r, viewer) for r in conn.execute(query.limit(PAGE).offset((page - 1) * PAGE))]
    return render_template(
        "central/comments.html",
        comments=rows,
        status=status,
        commune=commune,
        page=page,
        pages=max(1, -(-total // PAGE)),
        total=total,
        statuses=STATUS_VI,
        viewer=viewer,
        kind=kind,
    )


@bp.get("/comments/export.csv")
@require("comments")
def export(viewer: Viewer):
    status, commune = _filters(viewer)
    with current_central().engine.connect() as conn:
        rows = [_row(r, viewer) for r in conn.execute(_query(viewer, status, commune, _kind()))]
    return Response(
        comments_csv(rows, viewer.can("contact")),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="gop-y.csv"'},
    )


def _one(viewer: Viewer, commune: str, device: str, comment_id: str) -> dict[str, Any]:
    if not (CODE_RE.match(commune) and UUID_RE.match(device) and UUID_RE.match(comment_id)):
        raise NotFoundError(_("There is no such comment."))
    viewer.check_commune(commune)
    c = Comment.__table__.c
    query = _query(viewer, None, commune).where(c.device_id == device, c.id == comment_id)
    with current_central().engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None:
        raise NotFoundError(_("There is no such comment."))
    return _row(row, viewer)


def _assignable(commune: str) -> list[Any]:
    with current_central().sessions() as s:
        query = select(User.id, User.username, User.role).where(
            User.active.is_(True),
            or_(User.role == "admin", and_(User.role == "handler", User.commune_code == commune)),
        )
        return s.execute(query.order_by(User.username)).all()


@bp.get("/comments/<commune>/<device>/<comment_id>")
@require("comments")
def detail(commune: str, device: str, comment_id: str, viewer: Viewer):
    comment = _one(viewer, commune, device, comment_id)
    users = _assignable(commune) if viewer.can("answer") else []
    names = {u.id: u.username for u in users}
    return render_template(
        "central/comment.html",
        c=comment,
        users=users,
        assigned=names.get(comment["assigned_to"]),
        viewer=viewer,
        statuses=STATUS_VI,
    )


def _update(viewer: Viewer, commune: str, device: str, comment_id: str, **values: Any) -> None:
    now = current_central().clock.now()
    with transaction(current_central().sessions) as s:
        row = s.get(CommentStatus, (commune, device, comment_id))
        if row is None:
            row = CommentStatus(commune_code=commune, device_id=device, comment_id=comment_id, status="new")
            s.add(row)
        if values.get("status") == "read" and row.status != "new":
            values.pop("status")  # reading again does not undo an assignment or an answer
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at, row.updated_by = now, viewer.id


@bp.post("/comments/<commune>/<device>/<comment_id>/<action>")
@require("answer")
def act(commune: str, device: str, comment_id: str, action: str, viewer: Viewer):
    comment = _one(viewer, commune, device, comment_id)
    now = current_central().clock.now()
    if action == "read":
        _update(viewer, commune, device, comment_id, status="read", read_at=now)
    elif action == "assign":
        target = request.form.get("user") or ""
        if target not in {u.id for u in _assignable(commune)}:
            raise ValidationError(_("Choose a handler of this commune."), {"field": "user"})
        status = "answered" if comment["status"] == "answered" else "assigned"
        _update(viewer, commune, device, comment_id, status=status, assigned_to=target)
    elif action == "answer":
        note = (request.form.get("reply_note") or "").strip()
        if not note:
            raise ValidationError(_("Write what was done or answered before marking the comment answered."))
        if len(note) > MAX_NOTE:
            raise ValidationError(_("The reply note is too long."), {"field": "reply_note"})
        _update(
            viewer,
            commune,
            device,
            comment_id,
            status="answered",
            reply_note=note,
            answered_at=now,
            answered_by=viewer.id,
        )
    else:
        raise NotFoundError(_("Unknown action."))
    return redirect(url_for(".detail", commune=commune, device=device, comment_id=comment_id))


@bp.get("/comments/<commune>/<device>/<comment_id>/thanks.docx")
@require("contact")
def thanks(commune: str, device: str, comment_id: str, viewer: Viewer):
    comment = _one(viewer, commune, device, comment_id)
    if not comment["contact"]:
        raise ConflictError(_("This comment left no contact, so there is nobody to send a letter to."))
    central = current_central()
    with central.sessions() as s:
        name = s.get(Commune, commune).name
    body = thank_you_docx(
        name,
        comment["text"],
        comment["contact"],
        central.local_time.local(comment["time"]),
        comment["reply_note"],
        central.local_time.day(central.clock.now()),
    )
    return Response(
        body,
        mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        headers={"Content-Disposition": 'attachment; filename="thu-cam-on.docx"'},
    )
