"""API tokens for ``POST /api/v1/bookings``: one (or more) per province, made by ``kiosk-central
add-booking-token``, shown once and stored only as SHA-256. A token pushes bookings for the communes of its
province and nothing else; ``--disable`` withdraws it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.booking_models import BookingToken
from central.models import Province
from common.errors import NotFoundError

#: Tokens start with this, so a leaked one is recognisable in a log or a repository.
PREFIX = "kbk_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def make_token(session: Session, province: str, name: str, now: datetime) -> tuple[int, str]:
    """A new token for ``province``: (its id, the token itself — not stored, shown to the operator once)."""
    province = province.strip().upper()
    if session.get(Province, province) is None:
        raise NotFoundError(f"Province {province} is unknown: add it first with `kiosk-central add-province`.")
    token = PREFIX + secrets.token_urlsafe(32)
    row = BookingToken(province_code=province, name=name.strip()[:200], token_hash=_digest(token), created_at=now)
    session.add(row)
    session.flush()
    return row.id, token


def disable_token(session: Session, token_id: int) -> None:
    row = session.get(BookingToken, token_id)
    if row is None:
        raise NotFoundError(f"There is no booking token {token_id}.")
    row.enabled = False


def find_token(session: Session, token: str) -> BookingToken | None:
    """The enabled token row ``token`` is, or None."""
    if not token.startswith(PREFIX) or len(token) > 100:
        return None
    return session.scalar(select(BookingToken).where(BookingToken.token_hash == _digest(token), BookingToken.enabled))
