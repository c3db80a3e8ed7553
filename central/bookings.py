"""A commune's bookings (lịch hẹn) at the central server: a CSV or JSON file imported, a provincial booking
system's push, and the document a reception point's kiosks take down (``sync.bookings_document``).

An import or a push is all-or-nothing: every row is checked by :func:`common.booking_rules.check_booking`, its
reception point must be one of the commune's, and the errors name the row and the field. A booking's code is its
identity within the commune: pushing the same code again changes that booking (a moved time) or nothing, never
makes a second one. A file is JSON (a list, or ``{"bookings": [...]}``) or CSV with the columns ``code, site,
service, at, name``. docs/bookings.md has an example.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.booking_models import Booking
from central.models import Commune, Site
from central.procedures import checked_rows, json_rows, read_text
from common.booking_rules import FIELDS, MAX_BOOKINGS, TIME_FORMAT, Problem, check_booking
from common.errors import NotFoundError, ValidationError
from sync import bookings_document


def read_file(path: Path) -> list[dict[str, Any]]:
    """The rows of a CSV or JSON file of bookings (unchecked)."""
    text = read_text(path)
    return _csv_rows(text, path.name) if path.suffix.lower() == ".csv" else json_rows(text, path.name, "bookings")


def _csv_rows(text: str, name: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    columns = reader.fieldnames or []
    missing = [c for c in ("code", "service", "at") if c not in columns]
    unknown = [c for c in columns if c not in FIELDS]
    if missing or unknown:
        what = f"lacks the column(s) {', '.join(missing)}" if missing else f"has unknown column(s) {', '.join(unknown)}"
        raise ValidationError(f"{name} {what}; the columns are {', '.join(FIELDS)}.")
    return [{"__extra__": True} if None in row else dict(row) for row in reader]


def check_rows(session: Session, commune_code: str, rows: list[Any], first: int = 1) -> list[dict[str, Any]]:
    """Every row checked against the rules and the commune's reception points; ValidationError naming each row
    (numbered from ``first``: 2 for a CSV file, whose row 1 holds the column names) and field at fault."""
    commune = _commune(session, commune_code)
    if len(rows) > MAX_BOOKINGS:
        raise ValidationError(f"{len(rows)} bookings at once; at most {MAX_BOOKINGS} are taken.")
    sites = set(session.scalars(select(Site.code).where(Site.commune_code == commune.code, Site.active)))

    def check(row: Any) -> dict[str, Any]:
        item = check_booking(row)
        if sites and item["site"] not in sites:
            raise Problem("site", f"{item['site']} is not a reception point of commune {commune.code}")
        return item

    return checked_rows(rows, first, check, "no booking given")


def store(session: Session, commune_code: str, items: list[dict[str, Any]], source: str, now: datetime) -> dict:
    """Add or change the commune's bookings by code; ``{"added", "changed", "unchanged"}``."""
    commune = _commune(session, commune_code)
    counts = {"added": 0, "changed": 0, "unchanged": 0}
    for item in items:
        values = {
            "site_code": item["site"],
            "service_code": item["service"],
            "at": datetime.strptime(item["at"], TIME_FORMAT),
            "name": item["name"],
        }
        booking = session.get(Booking, (commune.code, item["code"]))
        if booking is None:
            session.add(Booking(commune_code=commune.code, code=item["code"], source=source, received_at=now, **values))
            counts["added"] += 1
        elif all(getattr(booking, k) == v for k, v in values.items()):
            counts["unchanged"] += 1
        else:
            for key, value in values.items():
                setattr(booking, key, value)
            booking.source, booking.received_at = source, now
            counts["changed"] += 1
    session.flush()
    return counts


def _commune(session: Session, code: str) -> Commune:
    commune = session.get(Commune, str(code).strip().upper())
    if commune is None:
        raise NotFoundError(f"Commune {code} is unknown.", {"commune": str(code)[:16]})
    return commune


def build_document(session: Session, commune_code: str, site_code: str, today: datetime, days: int) -> dict:
    """The bookings of one reception point from the local day ``today`` for ``days`` days, in time order."""
    start = today.replace(hour=0, minute=0, second=0, microsecond=0)
    rows = session.scalars(
        select(Booking)
        .where(
            Booking.commune_code == commune_code,
            Booking.site_code == site_code,
            Booking.at >= start,
            Booking.at < start + timedelta(days=days),
        )
        .order_by(Booking.at, Booking.code)
    )
    items = [bookings_document.entry(b) for b in rows]
    return {
        "v": 1,
        "commune": commune_code,
        "site": site_code,
        "version": bookings_document.version(items),
        "bookings": items,
    }
