"""How many people are really ahead of each waiting ticket, and how long it will wait.

The console's calling rule (:meth:`kiosk.counters.CounterDesk.call_next`): a counter that presses "next"
takes, among the fields it handles, the waiting ticket of today's queue with priority first, then the
lowest issue sequence; a transferred ticket keeps its sequence. A counter serving two fields therefore
calls them in one merged order, and a ticket of one field waits for the earlier tickets of the other.

When several counters share fields, who calls a ticket depends on which clerk finishes first. The model
fixes that by letting the open counters take turns:

* a counter is *open* when it is active and not paused;
* the first turns go to the counters serving nobody (by number), then to the counters serving someone,
  the one that called its citizen first going first (the clerk action's sequence, which never goes back);
* at its turn a counter calls by the rule above and goes to the back of the line; a counter with nothing
  left to call drops out (no arrivals are foreseen).

**Ahead** of a ticket is the number of tickets called before it, in that play-out, by the counters that
could call it (those that handle its field). A ticket whose field no open counter handles is counted as if
the paused counters were open again; one that no counter handles at all counts its own field's line.

**The wait** follows from the same play-out (:func:`start_time`): the counters that could call the ticket are
free when their current citizens are done (the field's recent average service time minus what has been
spent); the tickets ahead of it, each taking their fields' average, go to whichever is free first; the ticket
is called when the next one is free (far down the line: the work shared among those counters).

**Bookings** (:mod:`kiosk.booking_rule`): a checked-in booking waits in a line of its own — *due* once its booked
time has come, *early* before — and at its turn a counter chooses among the heads of its due, walk-in and early
lines by that module's rule (a due booking first, but not twice in a row while walk-ins wait; an early one only
when nothing else waits), remembering whether its last call was a booking. The play-out does not move the clock:
an early booking is counted behind the walk-ins, as it would be called if its time did not come first.

**A visit with several fields** (kiosk.fields) waits in its current field's line. When the counter serving it
takes its next turn, the field is done and the ticket enters its next field's line at its place by issue time
(priority, then sequence), exactly as "next" does at the console: it may be called again, by that counter or
another, and each such call counts for the tickets behind it. A ticket's ahead counts the calls before its
*first* call in the play-out.

In the usual layout (the counters handling a field all handle the same fields, and no other counter handles
any of them: :func:`closed_group`) the play-out reduces to a count, which is how a ticket just issued learns
its place without reading the whole queue.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from kiosk.booking_rule import choose
from kiosk.clock import Clock, from_naive_utc
from kiosk.fields import AVERAGE_SERVICE_SECONDS
from kiosk.storage import ReadTransaction, read_transaction, stored_time

#: Assumed seconds per citizen until a field has completed tickets to learn from.
DEFAULT_SERVICE_SECONDS = 300.0
#: How many recent completed tickets a field's average uses, and how long the averages are kept.
RECENT_SERVED = 20
AVERAGES_TTL = 30.0
#: Up to this many tickets ahead per counter the wait places each of them on a counter; past it, shares the work.
EXACT_UP_TO = 4


@dataclass(frozen=True, slots=True)
class Waiting:
    ticket_id: str
    service: str
    priority: bool
    seq: int
    #: A checked-in booking: seconds from now to its booked time (0 or less: due); None for a walk-in.
    due: float | None = None
    #: A visit with several fields: those still to serve after ``service``, in order.
    rest: tuple[str, ...] = ()

    @property
    def line(self) -> int:
        """0: due booking, 1: walk-in, 2: early booking (the lines of ``kiosk.booking_rule``)."""
        return 1 if self.due is None else (0 if self.due <= 0 else 2)


@dataclass(frozen=True)
class Desk:
    """A counter as the play-out needs it."""

    number: int
    services: frozenset[str]
    open: bool
    serving: str | None = None  # the field of the ticket being served
    call_seq: int | None = None  # the sequence of that ticket's call
    spent: float = 0.0  # seconds spent on it so far
    last_booked: bool = False  # its latest call was a checked-in booking (``kiosk.booking_rule``)
    #: The ticket served, when its visit has further fields to serve (it enters the next line at the desk's turn).
    serving_ticket: Waiting | None = None


@dataclass(frozen=True, slots=True)
class Place:
    ahead: int
    wait_seconds: float

    @property
    def wait_minutes(self) -> int:
        """The wait in whole minutes as a citizen reads it: at least 1 while anyone is ahead."""
        minutes = round(self.wait_seconds / 60)
        return max(1, minutes) if self.ahead > 0 else minutes


def places(waiting: Iterable[Waiting], desks: Iterable[Desk], seconds: Mapping[str, float]) -> dict[str, Place]:
    """Each waiting ticket's :class:`Place` (see the module's model). ``seconds``: average per field."""
    order = sorted(waiting, key=_rank)
    desks = list(desks)
    found = _play(order, [d for d in desks if d.open], seconds)
    if len(found) < len(order):  # a field with no open counter: as if its paused counters were open
        again = _play(order, desks, seconds)
        found.update({tid: place for tid, place in again.items() if tid not in found})
    ahead_in_field: dict[str, int] = {}
    for w in order:  # no counter handles the field at all: its own line
        n = ahead_in_field.get(w.service, 0)
        ahead_in_field[w.service] = n + 1
        if w.ticket_id not in found:
            found[w.ticket_id] = Place(n, n * seconds.get(w.service, DEFAULT_SERVICE_SECONDS))
    return found


def calling_order(waiting: Iterable[Waiting], desk: Desk, most: int | None = None) -> list[Waiting]:
    """The calls ``desk``'s "next" makes, in order, when its clerk presses it again and again and no other counter
    calls: the play-out with this counter alone (as if open). The first is the one "next" calls now. A visit of
    several fields comes at each of its calls here — the one being served too, when it goes on into a field of
    this counter. ``most``: stop at the first call of that many tickets (the console lists no more)."""
    calls: list[Waiting] = []
    _play(sorted(waiting, key=_rank), [replace(desk, open=True)], {}, calls, most)
    return calls


def _rank(w: Waiting) -> tuple:
    """The order a counter's lines are called in: the booking lines by booked time, walk-ins priority first."""
    return (w.line, w.due, w.seq) if w.due is not None else (1, not w.priority, w.seq)


def _play(
    order: list[Waiting],
    desks: list[Desk],
    seconds: Mapping[str, float],
    called: list[Waiting] | None = None,
    most: int | None = None,
) -> dict[str, Place]:
    """Each ticket's place at its first call; ``called`` (when given) receives every call, in order. ``most``: stop
    once that many tickets have had their first call."""
    lines: dict[tuple[str, int], list[tuple[tuple, Waiting]]] = {}
    for w in order:
        lines.setdefault((w.service, w.line), []).append((_rank(w), w))  # in rank order: already a heap
    booked = {d.number: d.last_booked for d in desks}
    holding = {d.number: d.serving_ticket for d in desks if d.serving_ticket is not None}
    turns = deque(sorted(desks, key=lambda d: (d.serving is not None, d.call_seq or 0, d.number)))
    calls: dict[str, int] = {}  # field -> calls so far by the counters handling it
    work: dict[str, float] = {}  # field -> seconds of the calls so far by the counters handling it
    free: dict[str, list[float]] = {}  # field -> when each counter handling it is done with its current citizen
    for d in desks:
        for f in d.services:
            free.setdefault(f, []).append(remaining(d, seconds))
    found: dict[str, Place] = {}
    while turns:
        desk = turns.popleft()
        served = holding.pop(desk.number, None)
        if served is not None and served.rest:  # its field done: into the next field's line, at its place
            moved = Waiting(served.ticket_id, served.rest[0], served.priority, served.seq, served.due, served.rest[1:])
            heapq.heappush(lines.setdefault((moved.service, moved.line), []), (_rank(moved), moved))
        heads = [
            min((lines[f, line][0] for f in desk.services if lines.get((f, line))), default=None, key=lambda h: h[0])
            for line in (0, 1, 2)
        ]
        head = choose(*heads, booked[desk.number])
        if head is None:
            continue  # nothing left it may call: it drops out
        _, w = head
        heapq.heappop(lines[w.service, w.line])
        booked[desk.number] = w.due is not None
        holding[desk.number] = w
        if called is not None:
            called.append(w)
        ahead = calls.get(w.service, 0)
        if w.ticket_id not in found:  # its first call (a visit with several fields may be called again)
            found[w.ticket_id] = Place(ahead, start_time(free[w.service], ahead, work.get(w.service, 0.0)))
            if most is not None and len(found) >= most:
                break
        spends = seconds.get(w.service, DEFAULT_SERVICE_SECONDS)
        for f in desk.services:
            calls[f] = calls.get(f, 0) + 1
            work[f] = work.get(f, 0.0) + spends
        turns.append(desk)
    return found


def remaining(desk: Desk, seconds: Mapping[str, float]) -> float:
    """Seconds until a counter is done with its current citizen, from the field's average."""
    if desk.serving is None:
        return 0.0
    return max(0.0, seconds.get(desk.serving, DEFAULT_SERVICE_SECONDS) - desk.spent)


def start_time(free: list[float], ahead: int, work: float) -> float:
    """When a ticket is called: the counters that could call it are free at ``free`` (seconds from now), and
    ``ahead`` tickets needing ``work`` seconds in all go first, each to the counter free first. Near the front
    of the line each of those tickets is placed (as if all took the average); further back the work is shared."""
    if ahead == 0:
        return min(free)
    if ahead >= EXACT_UP_TO * len(free):
        return (sum(free) + work) / len(free)
    each, times = work / ahead, sorted(free)
    for _ in range(ahead):
        heapq.heapreplace(times, times[0] + each)
    return times[0]


def closed_group(desks: Iterable[Desk], field: str) -> tuple[list[Desk], frozenset[str]] | None:
    """The open counters handling ``field`` and their fields, when they all handle the same fields and no other
    open counter handles any of them (the usual layout); None otherwise. In such a group the play-out's
    answer is a count: the tickets of those fields before this one."""
    open_ = [d for d in desks if d.open]
    group = [d for d in open_ if field in d.services]
    if not group or any(d.services != group[0].services for d in group):
        return None
    fields = group[0].services
    if any(d.services & fields for d in open_ if field not in d.services):
        return None
    return group, fields


class QueueLine:
    """Reads the queue's state and plays it out; one per app, safe from several threads."""

    def __init__(self, engine: Any, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self._averages: tuple[float, dict[str, float]] | None = None
        self._counters: tuple[float, list[tuple[int, frozenset[str], bool]]] | None = None

    def places(self, day: date) -> dict[str, Place]:
        """Every waiting ticket of ``day``'s queue (the one the counters call), by ticket id."""
        with read_transaction(self.engine) as r:
            return self.read(r, day)

    def read(self, r: ReadTransaction, day: date) -> dict[str, Place]:
        """:meth:`places` inside a read transaction the caller already holds."""
        rests = _rests(r, day.isoformat())
        waiting = self._waiting(r, day, rests)
        if not waiting:
            return {}
        desks = self._desks(r, rests)
        return places(waiting, desks, self._seconds(r, {f for d in desks for f in d.services}))

    def counter_order(self, r: ReadTransaction, day: date, counter: int, most: int | None = None) -> list[Waiting]:
        """The calls counter ``counter``'s "next" makes in ``day``'s queue, in order, up to the first call of
        ``most`` tickets (:func:`calling_order`); empty for a counter that is not active."""
        rests = _rests(r, day.isoformat())
        desk = next((d for d in self._desks(r, rests) if d.number == counter), None)
        return [] if desk is None else calling_order(self._waiting(r, day, rests), desk, most)

    def _waiting(self, r: ReadTransaction, day: date, rests: Mapping[str, tuple[str, ...]]) -> list[Waiting]:
        now = self.clock.now()
        return [
            Waiting(
                row["ticket_id"],
                row["service_code"],
                bool(row["priority"]),
                int(row["seq"]),
                None if row["due_at"] is None else -_since(row["due_at"], now),
                rests.get(row["ticket_id"], ()),
            )
            for row in r.rows(_WAITING, (day.isoformat(),))
        ]  # fmt: skip

    def place(self, r: ReadTransaction, ticket_id: str) -> Place | None:
        """One waiting ticket's place (None when it is not waiting). In a closed group of counters (the usual
        layout: :func:`closed_group`) a count and a sum, without playing the whole queue out."""
        found = r.rows(_TICKET, (ticket_id,))
        if not found:
            return None
        me = found[0]
        rests = _rests(r, str(me["queue_day"]))
        desks = self._desks(r, rests)
        group = None if rests else closed_group(desks, me["service_code"])  # visits of several fields: play out
        if group is None or r.rows(_BOOKED_WAITING, (me["queue_day"],)):  # bookings in play: the whole play-out
            return self.read(r, date.fromisoformat(str(me["queue_day"]))).get(ticket_id)
        members, fields = group
        seconds = self._seconds(r, set(fields))
        codes = sorted(fields)
        marks = ",".join("?" * len(codes))
        day, priority = str(me["queue_day"]), int(bool(me["priority"]))
        # Those of its rank or above (the queue index alone), less those of its rank issued after it or itself
        # (few: it has usually just been issued).
        before: dict[str, int] = {}
        for row in r.rows(_RANK_OR_ABOVE.format(marks=marks), (day, *codes, priority)):
            before[row["service_code"]] = int(row["n"])
        for row in r.rows(_SAME_RANK_LATER.format(marks=marks), (me["seq"], day, *codes, priority)):
            before[row["service_code"]] -= int(row["n"])
        work = sum(n * seconds.get(code, DEFAULT_SERVICE_SECONDS) for code, n in before.items())
        ahead = sum(before.values())
        return Place(ahead, start_time([remaining(d, seconds) for d in members], ahead, work))

    def forget(self) -> None:
        """After a completion, a pause or a catalogue change the averages and the counters are read again."""
        self._averages = None
        self._counters = None

    def _desks(self, r: ReadTransaction, rests: Mapping[str, tuple[str, ...]]) -> list[Desk]:
        serving = {row["counter_number"]: row for row in r.rows(_SERVING)}
        booked = {row["counter_number"] for row in r.rows(_LAST_CALL_BOOKED)}
        now = self.clock.now()
        desks = []
        for number, services, open_ in self._layout(r):
            current = serving.get(number)
            desks.append(
                Desk(
                    number,
                    services,
                    open_,
                    current["service_code"] if current else None,
                    current["call_seq"] if current else None,
                    self._spent(current["called_at"], now) if current else 0.0,
                    number in booked,
                    _served(current, rests) if current else None,
                )
            )
        return desks

    def _layout(self, r: ReadTransaction) -> list[tuple[int, frozenset[str], bool]]:
        """The active counters, the fields each handles and whether it is open; kept like the averages (a pause,
        a resume and a catalogue change forget it at once)."""
        cached, now = self._counters, self.clock.monotonic()
        if cached is not None and now - cached[0] <= AVERAGES_TTL:
            return cached[1]
        handled: dict[int, set[str]] = {}
        for row in r.rows(_HANDLED):
            handled.setdefault(row["counter_number"], set()).add(row["service_code"])
        layout = [
            (row["number"], frozenset(handled.get(row["number"], ())), not row["paused"]) for row in r.rows(_COUNTERS)
        ]
        self._counters = (now, layout)
        return layout

    @staticmethod
    def _spent(called_at: str | datetime | None, now: datetime) -> float:
        if called_at is None:
            return 0.0
        return max(0.0, _since(called_at, now))

    def _seconds(self, r: ReadTransaction, fields: set[str]) -> dict[str, float]:
        cached = self._averages
        now = self.clock.monotonic()
        if cached is not None and now - cached[0] <= AVERAGES_TTL and fields <= cached[1].keys():
            return cached[1]
        averages = {}
        for field in sorted(fields):
            found = r.scalars(AVERAGE_SERVICE_SECONDS, (field, field, RECENT_SERVED))
            # a field with nothing completed yet (or served in no time at all) keeps the default
            averages[field] = float(found[0]) if found and found[0] else DEFAULT_SERVICE_SECONDS
        self._averages = (now, averages)
        return averages


def _since(moment: str | datetime, now: datetime) -> float:
    """Seconds from a stored (naive UTC) time to ``now``; negative for a time to come."""
    return (now - from_naive_utc(stored_time(moment))).total_seconds()


def _rests(r: ReadTransaction, day: str) -> dict[str, tuple[str, ...]]:
    """The fields still to serve after the current one, of each visit in ``day``'s queue that has some (few or
    none; a visit left waiting on an earlier day does not count)."""
    fields: dict[str, list[str]] = {}
    for row in r.rows(_FIELDS_LEFT, (day,)):
        fields.setdefault(row["ticket_id"], []).append(row["service_code"])
    return {tid: tuple(codes[1:]) for tid, codes in fields.items() if len(codes) > 1}


def _served(current: Mapping[str, Any], rests: Mapping[str, tuple[str, ...]]) -> Waiting | None:
    rest = rests.get(current["ticket_id"])
    if not rest:
        return None
    return Waiting(
        current["ticket_id"], current["service_code"], bool(current["priority"]), int(current["seq"]), rest=rest
    )


_FIELDS_LEFT = (
    "SELECT tf.ticket_id, tf.service_code FROM ticket_fields tf JOIN ticket_state ts ON ts.ticket_id = tf.ticket_id "
    "WHERE tf.status = 'waiting' AND ts.status IN ('waiting', 'called') AND ts.queue_day = ? "
    "ORDER BY tf.ticket_id, tf.position"
)
_WAITING = (
    "SELECT ts.ticket_id, ts.service_code, ts.priority, t.seq, ts.due_at FROM ticket_state ts JOIN tickets t ON t.id = ts.ticket_id "
    "WHERE ts.status = 'waiting' AND ts.queue_day = ?"
)
_TICKET = (
    "SELECT ts.service_code, ts.priority, ts.queue_day, t.seq FROM ticket_state ts JOIN tickets t ON t.id = ts.ticket_id "
    "WHERE ts.ticket_id = ? AND ts.status = 'waiting'"
)
#: Per field, a day's waiting tickets of a priority rank or above (``priority >= ?``), and those of the rank
#: issued at or after a sequence number (CROSS JOIN: SQLite walks the few tickets from that number on): the
#: difference is who is called before (priority first, then issue order).
_RANK_OR_ABOVE = (
    "SELECT service_code, COUNT(*) AS n FROM ticket_state WHERE status = 'waiting' AND queue_day = ? "
    "AND service_code IN ({marks}) AND priority >= ? GROUP BY service_code"
)
_SAME_RANK_LATER = (
    "SELECT ts.service_code, COUNT(*) AS n FROM tickets t CROSS JOIN ticket_state ts ON ts.ticket_id = t.id "
    "WHERE t.seq >= ? AND ts.status = 'waiting' AND ts.queue_day = ? AND ts.service_code IN ({marks}) "
    "AND ts.priority = ? GROUP BY ts.service_code"
)
_COUNTERS = "SELECT number, paused FROM counters WHERE active"
_BOOKED_WAITING = "SELECT 1 FROM ticket_state WHERE status = 'waiting' AND queue_day = ? AND due_at IS NOT NULL LIMIT 1"
#: The counters whose latest call was a checked-in booking (``kiosk.booking_rule.last_call_was_booking``).
_LAST_CALL_BOOKED = (
    "SELECT ca.counter_number FROM clerk_actions ca JOIN ticket_state ts ON ts.ticket_id = ca.ticket_id "
    "WHERE ca.seq IN (SELECT MAX(seq) FROM clerk_actions WHERE action = 'call' GROUP BY counter_number) "
    "AND ts.due_at IS NOT NULL"
)
_HANDLED = (
    "SELECT cs.counter_number, cs.service_code FROM counter_services cs "
    "JOIN services s ON s.code = cs.service_code WHERE s.active"
)
_SERVING = (
    "SELECT ts.ticket_id, ts.counter_number, ts.service_code, ts.called_at, ts.priority, t.seq, "
    "(SELECT MAX(ca.seq) FROM clerk_actions ca WHERE ca.ticket_id = ts.ticket_id AND ca.action = 'call') AS call_seq "
    "FROM ticket_state ts JOIN tickets t ON t.id = ts.ticket_id WHERE ts.status = 'called'"
)
