"""The roles of the central server's users, in one place: what each may do and which communes it covers.

* ``admin`` — everything, every commune;
* ``commune_admin`` — edits its own commune's catalogue (services, counters, clerks, wording), and reads its
  reports, comments (without contact details) and kiosks;
* ``district_viewer`` — reports, comments (without contact details) and kiosks of its district's communes;
* ``commune_viewer`` — the same for its own commune only;
* ``handler`` — the comments inbox of its commune, with contact details (NĐ 61/2018 Điều 27: only the
  role that answers a comment sees who left it), and the thank-you letter.

A new role (a province's, say) is one entry here: its capabilities and its scope.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Role:
    capabilities: frozenset[str]
    #: "all" communes, the user's "district", or the user's own "commune".
    scope: str


ROLES: dict[str, Role] = {
    "admin": Role(frozenset({"reports", "fleet", "comments", "contact", "answer", "catalog"}), "all"),
    "commune_admin": Role(frozenset({"reports", "fleet", "comments", "catalog"}), "commune"),
    "district_viewer": Role(frozenset({"reports", "fleet", "comments"}), "district"),
    "commune_viewer": Role(frozenset({"reports", "fleet", "comments"}), "commune"),
    "handler": Role(frozenset({"comments", "contact", "answer"}), "commune"),
}


def can(role: str, capability: str) -> bool:
    found = ROLES.get(role)
    return found is not None and capability in found.capabilities
