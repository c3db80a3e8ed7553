"""The roles of the central server's users, in one place: what each may do and which communes it covers.

* ``admin`` — everything, every commune; alone it assigns kiosks to rollout rings (``rings``);
* ``province_viewer`` — reports, comments (without contact details) and kiosks of every commune of its province;
* ``commune_admin`` — edits its own commune's catalogue, reception points and kiosks' remote settings
  (``remote``: also their diagnostics bundles), and reads its reports, comments
  (without contact details) and kiosks;
* ``commune_viewer`` — reports, comments (without contact details) and kiosks of its commune — or communes: a
  district viewer of before the 2025 reform became a viewer of every commune its district had;
* ``handler`` — the comments inbox of its commune, with contact details (NĐ 61/2018 Điều 27: only the
  role that answers a comment sees who left it), and the thank-you letter.

Every page asks :func:`can` and limits what it reads to :func:`scope_of`; a new role is one entry here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select


@dataclass(frozen=True)
class Role:
    capabilities: frozenset[str]
    #: "all" communes, the user's "province", or the user's own "commune"(s).
    scope: str


ROLES: dict[str, Role] = {
    "admin": Role(
        frozenset({"reports", "fleet", "comments", "contact", "answer", "catalog", "users", "remote", "rings"}), "all"
    ),
    "province_viewer": Role(frozenset({"reports", "fleet", "comments"}), "province"),
    "commune_admin": Role(frozenset({"reports", "fleet", "comments", "catalog", "remote"}), "commune"),
    "commune_viewer": Role(frozenset({"reports", "fleet", "comments"}), "commune"),
    "handler": Role(frozenset({"comments", "contact", "answer"}), "commune"),
}
#: Roles of one commune only (the others of a commune scope may have several).
SINGLE_COMMUNE = frozenset({"commune_admin", "handler"})


def can(role: str, capability: str) -> bool:
    found = ROLES.get(role)
    return found is not None and capability in found.capabilities


def scope_of(session: Any, user: Any) -> tuple[str, ...] | None:
    """The codes of the communes ``user`` may see (sorted), or None for every commune."""
    from central.models import Commune, UserCommune

    scope = ROLES[user.role].scope
    if scope == "all":
        return None
    if scope == "province":
        if not user.province_code:
            return ()
        return tuple(session.scalars(select(Commune.code).where(Commune.province_code == user.province_code)))
    codes = {user.commune_code} if user.commune_code else set()
    if user.role not in SINGLE_COMMUNE:
        codes |= set(session.scalars(select(UserCommune.commune_code).where(UserCommune.user_id == user.id)))
    return tuple(sorted(codes))
