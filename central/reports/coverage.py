"""Which communes have kiosks, and whose kiosks reported on the last working day: the province's view of its fleet.

A province reads its communes' figures only as far as they come in. Two facts say how far that is:

* a commune **without a kiosk** ("thiết bị đánh giá điện tử chưa lắp") has no figures at all — it is shown as
  such, never as a commune with zero ratings, and it takes no place in the ranking;
* a commune **reported** on the last working day when every one of its kiosks in service sent a sync (even an
  empty one) since that day's offices opened; "some" when only some did. The working days are those of the
  fleet page (settings ``office_hours`` and ``office_closed_days``, :mod:`central.office_hours`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, select

from central.models import Device, DeviceStatus
from central.office_hours import OfficeHours
from common import tt01

#: How far back the last working day is looked for (a long Tết holiday is shorter than this).
LOOKBACK_DAYS = 40


def last_working_day(hours: OfficeHours, now_utc: datetime) -> tuple[date, datetime] | None:
    """The last day before today (local) on which the offices opened, and its first opening (naive UTC)."""
    today = now_utc.replace(tzinfo=UTC).astimezone(hours.tz).date()
    for back in range(1, LOOKBACK_DAYS + 1):
        day = today - timedelta(days=back)
        periods = hours.periods_on(day)
        if periods:
            first = periods[0][0]
            opening = datetime.combine(day, time(first // 60, first % 60), tzinfo=hours.tz)
            return day, opening.astimezone(UTC).replace(tzinfo=None)
    return None


def kiosks_reporting(conn: Connection, communes: list[str], since: datetime | None) -> dict[str, tuple[int, int]]:
    """Per commune: (kiosks in service, of which synced at or after ``since``)."""
    d, st = Device.__table__.c, DeviceStatus.__table__.c
    query = (
        select(d.commune_code, st.last_sync_at)
        .select_from(Device.__table__.outerjoin(DeviceStatus.__table__, st.device_id == d.id))
        .where(d.enabled.is_(True), d.commune_code.in_(communes))
    )
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for commune, last_sync in conn.execute(query):
        row = counts[commune]
        row[0] += 1
        row[1] += int(since is not None and last_sync is not None and last_sync >= since)
    return {code: (row[0], row[1]) for code, row in counts.items()}


def add_to(report: dict[str, Any], conn: Connection, now_utc: datetime, hours: OfficeHours) -> None:
    """Add each commune's kiosks and reporting state to a report over several communes, and the province's
    summary (``report["province"]``)."""
    found = last_working_day(hours, now_utc)
    day, since = found if found else (None, None)
    state = kiosks_reporting(conn, [c["code"] for c in report["communes"]], since)
    installed = reported = partly = 0
    for commune in report["communes"]:
        kiosks, sent = state.get(commune["code"], (0, 0))
        commune["kiosks"], commune["kiosks_reported"] = kiosks, sent
        commune["installed"] = kiosks > 0
        if not kiosks:
            commune["reported"] = None
            continue
        installed += 1
        commune["reported"] = "all" if sent == kiosks else "some" if sent else "none"
        reported += sent == kiosks
        partly += 0 < sent < kiosks
    _sites_of_communes_without_kiosks(report)
    total = len(report["communes"])
    report["province"] = {
        "communes": total,
        "installed": installed,
        "not_installed": total - installed,
        "reported": reported,
        "partly": partly,
        "reported_pct": tt01.share_pct(reported, installed),
        "last_working_day": day.isoformat() if day else None,
    }


def _sites_of_communes_without_kiosks(report: dict[str, Any]) -> None:
    """Each reception point says whether its commune has a kiosk (``installed``): the exports and the page write a
    commune without one as one line, "Chưa lắp thiết bị", never as a "Trung tâm … 0" row."""
    installed = {c["code"]: c["installed"] for c in report["communes"]}
    for row in report.get("sites", []):
        row["installed"] = installed.get(row["commune"], True)
