"""The suggestion box (hòm thư góp ý) at the central server: suggestions are comment records whose
``source`` is ``suggestion`` (left without a rating, from a kiosk's screen or the QR on the wall); the inbox marks them "Góp ý"
and the report counts them apart from ratings: how many came in the period and how many were answered.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.engine import Connection

from central.models import Comment
from central.report_models import CommentStatus
from central.reports.localtime import LocalTime
from central.reports.periods import Period

KIND = "suggestion"


def counts(
    conn: Connection, period: Period, communes: tuple[str, ...] | None, local_time: LocalTime, site: str | None = None
) -> dict[str, int]:
    """``{"received", "answered"}``: suggestions of the period's local days (corrected time) and those answered."""
    c, st = Comment.__table__.c, CommentStatus.__table__.c
    start, end = local_time.utc_range(period.start, period.end)
    query = (
        select(func.count(), func.coalesce(func.sum(case((st.status == "answered", 1), else_=0)), 0))
        .select_from(
            Comment.__table__.outerjoin(
                CommentStatus.__table__,
                and_(st.commune_code == c.commune_code, st.device_id == c.device_id, st.comment_id == c.id),
            )
        )
        .where(c.source == KIND, c.corrected_time >= start, c.corrected_time < end)
    )
    if communes is not None:
        query = query.where(c.commune_code.in_(communes))
    if site is not None:
        query = query.where(c.site_code == site)
    received, answered = conn.execute(query).one()
    return {"received": int(received), "answered": int(answered)}


def kind_filter(kind: str | None) -> Any:
    """The inbox's filter: suggestions only, comments left with a rating only, or everything (None)."""
    c = Comment.__table__.c
    if kind == KIND:
        return c.source == KIND
    if kind == "comment":
        return c.source.is_(None) | (c.source != KIND)
    return None
