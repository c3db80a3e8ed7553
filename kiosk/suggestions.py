"""The suggestion box (hòm thư góp ý): a citizen's suggestion without a visit to rate, from the kiosk's screen or a
phone (the QR on the wall opens `/gop-y`). Stored as a comment record whose ``source`` is ``suggestion`` (no rating), synced
like any comment; the contact, if given, is confidential like a comment's (NĐ 61/2018, Điều 27).
"""

from __future__ import annotations

from typing import Any

from common.errors import ValidationError
from kiosk.models import Comment
from kiosk.rating_input import MAX_COMMENT, clean_text, validate_contact
from kiosk.records import stamp
from kiosk.storage import transaction

SOURCE = "suggestion"


def leave_suggestion(kiosk: Any, text: Any, contact: Any = None) -> dict[str, Any]:
    """Store a suggestion (committed before the citizen is thanked); ValidationError for empty or bad text."""
    text = clean_text(text, "text", MAX_COMMENT)
    if not text:
        raise ValidationError("Write the suggestion first.", {"field": "text", "reason": "empty"})
    contact = validate_contact(contact)
    with transaction(kiosk.sessions) as session:
        comment = stamp(session, Comment(text=text, contact=contact, source=SOURCE), kiosk.clock)
        session.flush()
        return {"id": comment.id, "source": SOURCE}
