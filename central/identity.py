"""One person, one clerk: matching a kiosk's clerks with the commune's, and naming them in reports.

A clerk made on a kiosk has an id its records carry. When the commune adopts that kiosk's catalogue the id
is kept. When another kiosk (with clerks of its own) joins a commune that already has clerks, each of its
clerks is matched with the commune's:

1. the same full name (compared without case, extra spaces or Unicode form differences) and only one such
   clerk in the commune → the same person;
2. otherwise the same code and the same given name (the last word of a Vietnamese name: "Nguyễn Thị Lan" and
   "Nguyễn T. Lan" are both "Lan") → the same person (`import-config` names people by code);
3. otherwise a new person of the commune.

A matched kiosk id becomes an alias (:class:`~central.models.ClerkAlias`) of the commune's clerk: records
keep the id they were made with, and reports resolve aliases, so each person appears once with the whole
history. Rollups stay keyed by the ids as recorded; resolving happens when a report is read, so an alias
made later needs no rebuild.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select

from central.models import ClerkAlias

UNKNOWN_CLERK = "Công chức chưa khai báo (mã {code})"


def normal_name(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name or "").casefold().split())


def given_name(name: str) -> str:
    words = normal_name(name).split()
    return words[-1] if words else ""


def match_person(clerks: Iterable[Any], name: str, code: str) -> tuple[Any, str] | None:
    """The commune's clerk (with ``name``, ``code``) who is this person, and how they matched; or None."""
    clerks = list(clerks)
    same = [c for c in clerks if normal_name(c.name) == normal_name(name)]
    if len(same) == 1:
        return same[0], "name"
    if same:
        coded = [c for c in same if c.code == code]
        return (coded[0], "name") if len(coded) == 1 else None
    coded = [c for c in clerks if c.code == code and given_name(c.name) == given_name(name)]
    return (coded[0], "code") if coded else None


def short_code(clerk_id: str) -> str:
    """How a clerk nobody declared is named: the first 8 hex digits of the id, in capitals."""
    return clerk_id.replace("-", "")[:8].upper()


def unknown_name(clerk_id: str) -> str:
    return UNKNOWN_CLERK.format(code=short_code(clerk_id))


def load_aliases(conn: Any, communes: tuple[str, ...] | None) -> dict[str, str]:
    """alias id → the commune clerk's id (of ``communes``, or every commune)."""
    query = select(ClerkAlias.alias_id, ClerkAlias.clerk_id)
    if communes is not None:
        query = query.where(ClerkAlias.commune_code.in_(communes))
    return {alias: clerk for alias, clerk in conn.execute(query)}


def ids_of(clerk_id: str, aliases: Mapping[str, str]) -> tuple[str, ...]:
    """Every id one person's records may carry: the clerk's own and its aliases."""
    return (clerk_id, *sorted(alias for alias, target in aliases.items() if target == clerk_id))
