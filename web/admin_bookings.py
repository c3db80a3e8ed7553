"""`/admin/bookings`: the day's bookings on this kiosk's list, for the office (issue 25, :mod:`kiosk.bookings_day`).

Today's and tomorrow's bookings by time, each with its code, field, the citizen's name when the booking carries
one, and where it stands (expected, checked in at HH:MM with its ticket, served, no-show, late as a walk-in), with
the day's counts on top. Behind the admin sign-in like every `/admin` page: the code and the name are never on a
public screen. `/admin/bookings.json` is the same list as data for the office's tools. Read from the kiosk's own
copy of the list: works offline.
"""

from __future__ import annotations

from flask import jsonify, render_template

from kiosk.bookings_day import BookingDay, bookings_days, days_json
from kiosk.models import BookingList
from web.admin import bp, fmt_moment, kiosk


def current_days() -> list[BookingDay]:
    k = kiosk()
    return bookings_days(k.engine, k.clock, k.settings["booking_grace_minutes"])


@bp.get("/bookings")
def bookings():
    k = kiosk()
    with k.sessions() as session:
        row = session.get(BookingList, 1)  # which list the kiosk holds, and since when
        received = fmt_moment(row.received_at) if row else None
    return render_template(
        "admin_bookings.html", days=current_days(), received=received, grace=k.settings["booking_grace_minutes"]
    )


@bp.get("/bookings.json")
def bookings_json():
    return jsonify(days_json(current_days()))
