"""This kiosk's catalogue refused by the central server: remembered, said, and not sent again as it is.

The server refuses an upload that breaks the catalogue's rules (400, naming the entry and why) or that changes
clerks another kiosk or the central server added, in a commune with several kiosks (403). That is no network
fault: sending the same catalogue again would be refused again. The kiosk keeps the refusal (digest, reason,
when) for `kiosk sync`, `/admin` and `/healthz`, sends that catalogue no more, and still sends its records and
takes the commune's catalogue. A catalogue changed since (another digest) is sent at the next sync; once one is
delivered, the refusal is forgotten.

When the refusal names clerks this kiosk may not change, their local edits are given up (no longer "edited
here"), so the commune's version replaces them in the same sync — otherwise every later upload would carry them
and be refused in turn, and no edit of this kiosk would travel again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from kiosk import catalog_state as state
from kiosk import device_state
from kiosk.device_state import CATALOG_UPLOAD_REFUSED
from kiosk.storage import transaction

#: Answers that refuse the catalogue itself (not the request's signature or counter, not the network).
REFUSING = {400, 403, 422}

NEXT_STEP = {
    "clerks_of_other_kiosks": "This kiosk has set those clerks back to the commune's version.",
    None: (
        "Correct that entry at /admin (services, counters, clerks); the corrected catalogue is sent at the next sync."
    ),
}


def held(session: Session) -> dict[str, Any] | None:
    """The refusal that stands (``{"digest", "status", "reason", "at", …}``), or None."""
    note = device_state.get(session, CATALOG_UPLOAD_REFUSED)
    return note if isinstance(note, dict) else None


def refused_digest(session: Session) -> str | None:
    note = held(session)
    return note.get("digest") if note else None


def remember(sessions: Any, digest: str, status: int, error: str, detail: Any, at: str) -> dict[str, Any]:
    """Keep the refusal of the catalogue ``digest``; clerks the kiosk may not change are no longer "edited here"."""
    detail = detail if isinstance(detail, dict) else {}
    rule = detail.get("rule") if detail.get("rule") in NEXT_STEP else None
    note = {"digest": digest, "status": status, "reason": error, "rule": rule, "at": at}
    if isinstance(detail.get("msgid"), str) and isinstance(detail.get("params"), dict):
        note.update(msgid=detail["msgid"], params=detail["params"])
    with transaction(sessions) as session:
        device_state.put(session, CATALOG_UPLOAD_REFUSED, note)
        given_up = {f"clerk:{i}" for i in detail.get("ids") or [] if isinstance(i, str)}
        dirty = state.dirty_items(session)
        if given_up & set(dirty):
            device_state.put(session, device_state.CATALOG_DIRTY, sorted(set(dirty) - given_up) or None)
            device_state.put(session, device_state.CATALOG_VERSION, None)  # apply the commune's again, whole
    return note


def forget(session: Session) -> None:
    if held(session) is not None:
        device_state.put(session, CATALOG_UPLOAD_REFUSED, None)


def message(note: dict[str, Any], new: bool) -> str:
    """The line `kiosk sync` prints: what was refused and why, and what to do."""
    when = "" if new else f" (since {note.get('at')})"
    return (
        f"The central server refused this kiosk's catalogue{when}: {note.get('reason')} "
        f"It is not sent again as it is; the records are sent. {NEXT_STEP[note.get('rule')]}"
    )
