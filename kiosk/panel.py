"""The manager's live panel (issue 25): each counter's state, waiting per field, the longest wait, and alerts.

One plain dict (:func:`panel_state`), the same for the kiosk's `/admin/panel` and for the snapshot the kiosk sends
to the central server (:mod:`kiosk.uplink.panel_push`): every time is the kiosk's local time in ISO form and every
duration is in whole seconds as of ``now``, so a page can keep counting from there. A counter is

* ``open``: a clerk is logged in and it is not paused;
* ``paused``: the clerk paused it (since the last ``pause`` action);
* ``closed``: nobody is logged in at it.

A mark (``alert``) is set where a threshold of the commune is passed: someone waiting longer than
``panel_wait_alert_minutes``, a counter paused longer than ``panel_pause_alert_minutes`` (settings). Held tickets
(issue 25, "hold") are read through :func:`held_tickets` alone, so the hold feature slots in there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from common.counter_label import counter_label
from kiosk.catalog_state import read_site
from kiosk.clock import Clock, from_naive_utc
from kiosk.storage import ReadTransaction, read_transaction

#: The status of a ticket put on hold (the hold feature writes it; a held ticket waits apart from the line).
HELD_STATUS = "held"

_WAITING = (
    "SELECT t.display_number, ts.service_code, ts.queued_at, ts.priority FROM ticket_state ts "
    "JOIN tickets t ON t.id = ts.ticket_id WHERE ts.status = 'waiting' AND ts.queue_day = ? ORDER BY ts.queued_at"
)
_HELD = (
    "SELECT t.display_number, ts.service_code, ts.counter_number, ts.called_at FROM ticket_state ts "
    "JOIN tickets t ON t.id = ts.ticket_id WHERE ts.status = ? AND ts.queue_day = ? ORDER BY ts.called_at"
)
_PAUSED_SINCE = (
    "SELECT counter_number, MAX(device_time) FROM clerk_actions WHERE action = 'pause' GROUP BY counter_number"
)


def _moment(stored: str | datetime | None) -> datetime | None:
    """A stored naive-UTC time (text or datetime) as an aware UTC time."""
    if stored is None:
        return None
    moment = datetime.fromisoformat(stored) if isinstance(stored, str) else stored
    return from_naive_utc(moment)


def _seconds(now: datetime, since: datetime | None) -> int | None:
    return None if since is None else max(0, round((now - since).total_seconds()))


def held_tickets(r: ReadTransaction, day: str, now: datetime) -> list[dict[str, Any]]:
    """Tickets on hold today (none until the hold feature writes that status): number, field, counter, for how long."""
    held = []
    for row in r.rows(_HELD, (HELD_STATUS, day)):
        since = _moment(row["called_at"])
        held.append(
            {
                "display_number": row["display_number"],
                "service": row["service_code"],
                "counter": row["counter_number"],
                "seconds": _seconds(now, since),
            }
        )
    return held


def panel_state(queue: Any, clock: Clock, wait_minutes: float, pause_minutes: float) -> dict[str, Any]:
    """The panel of this kiosk now, from the queue's snapshot (`GET /api/queue`) and three small reads."""
    snap = queue.snapshot()
    now = clock.now()
    engine = queue.engine
    wait_limit, pause_limit = wait_minutes * 60, pause_minutes * 60
    site = read_site(engine)
    site_code = site["code"] if site else None
    names = {s["code"]: s["name"] for s in snap["services"]}
    with read_transaction(engine) as r:
        waiting = r.rows(_WAITING, (snap["day"],))
        paused_since = {row[0]: row[1] for row in r.raw.execute(_PAUSED_SINCE).fetchall()}
        held = held_tickets(r, snap["day"], now)
    counters = []
    for c in snap["counters"]:
        state = "paused" if c["paused"] else ("open" if c["clerk"] else "closed")
        serving = None
        if c["serving"]:
            since = datetime.fromisoformat(c["serving"]["called_at"]) if c["serving"]["called_at"] else None
            serving = {
                "display_number": c["serving"]["display_number"],
                "service": c["serving"]["service"],
                "since": c["serving"]["called_at"],
                "seconds": _seconds(now, since),
            }
        paused_for = _seconds(now, _moment(paused_since.get(c["number"]))) if c["paused"] else None
        counters.append(
            {
                "number": c["number"],
                "label": counter_label(site_code, c["number"]),
                "state": state,
                "clerk": c["clerk"],
                "services": c["services"],
                "serving": serving,
                "paused_seconds": paused_for,
                "alert": paused_for is not None and paused_for > pause_limit,
            }
        )
    fields = {code: {"code": code, "name": names.get(code, code), "waiting": n, "longest_seconds": None,
                     "longest_number": None, "alert": False} for code, n in snap["waiting"].items()}  # fmt: skip
    longest = None
    for row in waiting:  # oldest first: the first of each field is its longest wait
        entry = fields.get(row["service_code"])
        if entry is None or entry["longest_seconds"] is not None:
            continue
        entry["longest_seconds"] = _seconds(now, _moment(row["queued_at"]))
        entry["longest_number"] = row["display_number"]
        entry["alert"] = entry["longest_seconds"] > wait_limit
        if longest is None or entry["longest_seconds"] > longest["seconds"]:
            longest = {"display_number": row["display_number"], "service": row["service_code"],
                       "seconds": entry["longest_seconds"], "alert": entry["alert"]}  # fmt: skip
    rows = list(fields.values())
    return {
        "now": clock.local(now).isoformat(timespec="seconds"),
        "day": snap["day"],
        "site": site_code,
        "thresholds": {"wait_minutes": wait_minutes, "pause_minutes": pause_minutes},
        "counters": counters,
        "fields": rows,
        "waiting": sum(f["waiting"] for f in rows),
        "longest": longest,
        "held": held,
        "alerts": sum(1 for c in counters if c["alert"]) + sum(1 for f in rows if f["alert"]),
    }
