"""`/admin/users` and `kiosk-central users`: who may sign in, with which role, seeing what — and the notes
about an account (a district viewer of before the 2025 reform was made a viewer of its communes, and says so).
"""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from central import roles
from central.accounts import Viewer, require, role_name
from central.context import current_central
from central.models import Commune, Province, User
from central.page_base import page_blueprint

bp = page_blueprint("central_users", __name__)


def user_rows(session: Session) -> list[dict[str, Any]]:
    """Every user with its role, the communes it may see and its note, sorted by username."""
    names = dict(session.execute(select(Commune.code, Commune.name)).all())
    provinces = dict(session.execute(select(Province.code, Province.name)).all())
    rows = []
    for user in session.scalars(select(User).order_by(User.username)):
        known = user.role in roles.ROLES
        scope = roles.scope_of(session, user) if known else ()
        kind = roles.ROLES[user.role].scope if known else "none"
        if kind == "all":
            text = "every commune"
        elif kind == "province":
            text = f"province {user.province_code} ({len(scope or ())} communes)"
        else:
            text = "communes " + (", ".join(scope) if scope else "none")
        rows.append(
            {
                "username": user.username,
                "role": user.role,
                "active": user.active and known,
                "scope": kind,
                "communes": [{"code": c, "name": names.get(c, c)} for c in (scope or ())],
                "province": user.province_code,
                "province_name": provinces.get(user.province_code or "", user.province_code),
                "scope_text": text,
                "note": user.note,
            }
        )
    return rows


@bp.get("/admin/users")
@require("users")
def page(viewer: Viewer):
    with current_central().sessions() as session:
        rows = user_rows(session)
    return render_template("central/users.html", users=rows, viewer=viewer, role_name=role_name, title=_("Users"))
