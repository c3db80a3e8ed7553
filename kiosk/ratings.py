"""Recording ratings: validate, attribute, filter repeated presses and repeated tickets, commit, then announce.

The web form, the button panel and the CLI all call :meth:`RatingService.record`. It returns only after
the rating is committed (SQLite WAL, synchronous=FULL), so a caller that thanks the citizen afterwards
never thanks for a press that could be lost.
"""

from __future__ import annotations

import hmac
import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from common.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from kiosk.clock import Clock, to_naive_utc
from kiosk.events import EventBus
from kiosk.fields import rated_visit
from kiosk.models import Comment, IndicatorAnswer, Rating
from kiosk.rating_input import MAX_COMMENT, clean_text, validate_contact, validate_criteria
from kiosk.records import stamp_values
from kiosk.scale import INDICATOR_POINTS, Indicator, active_levels, active_questions
from kiosk.storage import DirectWriter, db_time, read_rows, read_scalars

log = logging.getLogger(__name__)

CHANNELS = ("touch", "button", "phone")
#: Why a stored rating is not counted, first reason first (docs/reports.md): a second rating of a ticket, a rating
#: of a ticket of a closed queue day, a press too soon after the last on the same panel, a rating at a counter
#: whose last visit already has its counted rating, a rating from someone who does not hold the visit.
FLAGS = ("duplicate_ticket", "day_over", "response_interval", "visit_rated", "not_holder")
#: How long after the overall rating the detailed form may still add indicators and a comment.
DETAIL_WINDOW = timedelta(minutes=15)
#: Panels and addresses whose last press is remembered before the idle ones are forgotten.
MAX_REMEMBERED = 1000


@dataclass(frozen=True)
class RecordedRating:
    id: str
    level: str
    label: str
    counted: bool
    flag: str | None
    counter: int | None
    ticket_id: str | None
    clerk_id: str | None
    clerk_name: str | None
    service_code: str | None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "counted": self.counted, "flag": self.flag}


class RatingService:
    """Validates and stores ratings. One instance per app; safe to call from several threads."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        response_interval: float = 5.0,
        link_window: float = 90.0,
        events: EventBus | None = None,
        secret_key: str | bytes = b"",
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.response_interval = response_interval
        self.link_window = link_window
        self.events = events or EventBus()
        self._secret_key = secret_key.encode() if isinstance(secret_key, str) else secret_key
        self._lock = threading.Lock()
        self._last_press: dict[str, float] = {}
        self._levels: dict[str, Any] | None = None
        self._questions: list[Indicator] | None = None
        self._counters: frozenset[int] | None = None
        self.engine = sessions.kw["bind"]
        self._writer = DirectWriter(self.engine)
        #: (id, name) of the clerk logged in at a counter today, or None; the composition root plugs in the
        #: queue's clerk desk. A rating names a clerk only when a ticket links it or that clerk is on duty.
        self.clerk_at: Callable[[int], tuple[str, str] | None] = lambda counter: None
        #: Today's queue day (the composition root plugs in the queue's): a ticket of another day is not counted.
        self.queue_day: Callable[[], date] | None = None

    def levels(self) -> dict[str, Any]:
        """The active scale, read once and kept until :meth:`reload` (after a catalogue change)."""
        if self._levels is None:
            with self.sessions() as session:
                self._levels = {level.key: level for level in active_levels(session)}
        return self._levels

    def questions(self) -> list[Indicator]:
        """The TT 01 questions the detailed form asks now, cached like the scale."""
        if self._questions is None:
            with self.sessions() as session:
                self._questions = active_questions(session)
        return self._questions

    def reload(self) -> None:
        """Forget the cached scale, questions and counters (see :meth:`kiosk.app.Kiosk.reload_catalog`)."""
        self._levels = None
        self._questions = None
        self._counters = None

    def record(
        self,
        level: Any,
        channel: Any = "touch",
        counter: Any = None,
        ticket_id: Any = None,
        criteria: Any = None,
        comment: Any = None,
        contact: Any = None,
        panel: str | None = None,
        also: tuple[str, ...] = (),
        holder: bool = True,
    ) -> RecordedRating:
        """Store one rating; returns once it is committed. Raises a 4xx KioskError on bad input.

        Kept but not counted (``counted`` False, with a ``flag``, see :data:`FLAGS`): a rating naming a ticket that
        already has a counted one (``duplicate_ticket``: one ticket, one counted rating) or a ticket of a closed
        queue day (``day_over``); a press within ``response_interval`` of the previous one on the same ``panel`` —
        or on any key of ``also`` — (``response_interval``); a rating without a ticket at a counter whose visit
        it would be for (the ticket completed there within the link window, or being served there) already has
        its counted rating (``visit_rated``: one visit, one counted rating, whatever the channels); and a rating
        from someone who does not hold the visit (``holder`` False, ``not_holder``: the caller decides — the web
        API for a sender that is neither the kiosk's own screen nor an enrolled one). The caller names the panel
        from what the citizen cannot choose: the physical panel, the screen's kiosk session, the sender's address
        (``also``); never the channel or counter the request says.

        This is the hot path of every press, so it runs as driver SQL on one kept-open connection
        (:class:`kiosk.storage.DirectWriter`): BEGIN IMMEDIATE, attribution, sequence number, INSERT(s), COMMIT.
        """
        levels = self.levels()
        if not isinstance(level, str) or level not in levels:
            raise ValidationError(
                f"Unknown rating level {level!r}; use one of {', '.join(levels)}.",
                {"field": "level", "allowed": list(levels)},
            )
        if channel not in CHANNELS:
            raise ValidationError(
                f"Unknown channel {channel!r}; use one of {', '.join(CHANNELS)}.", {"field": "channel"}
            )
        if counter is not None and (isinstance(counter, bool) or not isinstance(counter, int)):
            raise ValidationError("counter must be a whole number.", {"field": "counter"})
        if ticket_id is not None and not isinstance(ticket_id, str):
            raise ValidationError("ticket_id must be text.", {"field": "ticket_id"})
        criteria = validate_criteria(criteria)
        comment = clean_text(comment, "comment", MAX_COMMENT)
        contact = validate_contact(contact)
        if counter is not None and counter not in self.counters():
            self._counters = None  # perhaps added since the cache was filled
        if counter is not None and counter not in self.counters():
            raise NotFoundError(f"Counter {counter} does not exist on this kiosk.", {"field": "counter"})
        panel = (panel or f"{channel}:{counter if counter is not None else '-'}")[:64]
        keys = (panel, *also)
        chosen = levels[level]

        with self._lock:
            with self._writer.transaction() as conn:
                state = self._attribution(conn, counter, ticket_id)
                mono = self.clock.monotonic()
                flag = None
                if state is not None and conn.row(_COUNTED_FOR_TICKET, (state["ticket_id"],)) is not None:
                    flag = "duplicate_ticket" if ticket_id is not None else "visit_rated"
                elif ticket_id is not None and self._day_over(state):
                    flag = "day_over"
                elif any(mono - self._last_press.get(key, -math.inf) < self.response_interval for key in keys):
                    flag = "response_interval"
                elif not holder:
                    flag = "not_holder"
                counted = flag is None
                values = stamp_values(conn, self.clock)
                values.update(
                    level=level,
                    points=chosen.points,
                    channel=channel,
                    panel=panel,
                    counted=counted,
                    flag=flag,
                    counter_number=counter if counter is not None else (state["counter_number"] if state else None),
                    ticket_id=state["ticket_id"] if state else None,
                    clerk_id=state["clerk_id"] if state else None,
                    service_code=state["service_code"] if state else None,
                    dossier_codes=state.get("dossier_codes") if state else None,
                )
                values.update(rated_visit(conn, state))  # a visit of several fields: each field served
                conn.insert(_INSERT_RATING, values)
                self._add_details(conn, values["id"], values["counter_number"], criteria, comment, contact)
                clerk_name = (
                    conn.scalars("SELECT name FROM clerks WHERE id = ?", (values["clerk_id"],))[0]
                    if values["clerk_id"]
                    else None
                )
            # Committed (the `with` block ended without error): only now is the press remembered.
            self._remember(keys, mono)
        result = RecordedRating(
            values["id"],
            level,
            chosen.label,
            counted,
            values["flag"],
            values["counter_number"],
            values["ticket_id"],
            values["clerk_id"],
            clerk_name,
            values["service_code"],
        )
        self.events.publish(
            "rating_recorded",
            {"id": result.id, "level": level, "counted": counted, "counter": result.counter, "channel": channel},
        )
        return result

    def _day_over(self, state: dict | None) -> bool:
        """Whether the ticket of ``state`` belongs to a queue day other than today's (closed: not counted)."""
        if state is None or self.queue_day is None or not state.get("queue_day"):
            return False
        return str(state["queue_day"]) != self.queue_day().isoformat()

    def _remember(self, keys: tuple[str, ...], mono: float) -> None:
        """Note a press on each key; keys idle longer than the interval are forgotten (phones come and go)."""
        if len(self._last_press) > MAX_REMEMBERED:
            horizon = mono - self.response_interval
            self._last_press = {k: t for k, t in self._last_press.items() if t > horizon}
        for key in keys:
            self._last_press[key] = mono

    def details_secret(self, rating_id: str) -> str:
        """The secret that lets the rater (and only the rater) add details: returned to the caller of
        :meth:`record`, never published. Derived from the kiosk's secret key, so nothing is stored."""
        return hmac.new(self._secret_key, f"rating-details:{rating_id}".encode(), "sha256").hexdigest()[:32]

    def close(self) -> None:
        with self._lock:
            self._writer.close()

    def counters(self) -> frozenset[int]:
        """Counter numbers, cached; a number not in the cache is looked up again before it is refused."""
        if self._counters is None:
            self._counters = frozenset(read_scalars(self.engine, "SELECT number FROM counters"))
        return self._counters

    def context(self, counter: int | None) -> dict[str, Any]:
        """Whom a rating at this counter would be for now: shown on the touch screen before the tap.

        ``clerk`` is None when no clerk is on duty there (nobody logged in today, or the counter paused)
        and no ticket served there is waiting for its rating: the rating is then for the office as a whole.
        """
        answer: dict[str, Any] = {"counter": counter, "clerk": None, "ticket": None, "service": None}
        if counter is None:
            return answer
        with self._lock, self._writer.transaction() as conn:
            state = self._attribution(conn, counter, None)
            if state is None:
                return answer
            clerk = conn.scalars("SELECT name FROM clerks WHERE id = ?", (state["clerk_id"],))
            ticket = conn.scalars("SELECT display_number FROM tickets WHERE id = ?", (state["ticket_id"],))
            answer.update(
                clerk=clerk[0] if clerk else None,
                ticket=ticket[0] if ticket else None,
                ticket_id=state["ticket_id"],
                service=state["service_code"],
            )
        return answer

    def add_details(
        self, rating_id: str, secret: Any, criteria: Any = None, comment: Any = None, contact: Any = None
    ) -> None:
        """The optional second step of the touch form: indicators and a comment for a stored rating.

        Needs the rating's :meth:`details_secret` (403 otherwise): the rating's id is public (the live event
        stream carries it), the secret went only to the screen that made the rating.
        """
        expected = self.details_secret(str(rating_id)).encode()
        # as bytes: compare_digest refuses str with non-ASCII characters (a TypeError, i.e. a 500, before)
        if not isinstance(secret, str) or not hmac.compare_digest(secret.encode("utf-8", "replace"), expected):
            raise ForbiddenError(
                "Only the screen that made this rating may add details to it; rate again to add your own.",
                {"field": "secret", "reason": "not_the_rater"},
            )
        criteria = validate_criteria(criteria)
        comment = clean_text(comment, "comment", MAX_COMMENT)
        contact = validate_contact(contact)
        with self._lock, self._writer.transaction() as conn:
            rating = conn.row("SELECT device_time, counter_number FROM ratings WHERE id = ?", (rating_id,))
            if rating is None:
                raise NotFoundError(f"Rating {rating_id} does not exist.", {"field": "rating_id"})
            if db_time(to_naive_utc(self.clock.now()) - DETAIL_WINDOW) > rating["device_time"]:
                raise ConflictError("This rating is too old to add details to; please rate again.")
            answered = set(conn.scalars("SELECT indicator FROM indicator_answers WHERE rating_id = ?", (rating_id,)))
            again = sorted(answered & set(criteria))
            if again:
                raise ConflictError(
                    f"Indicator(s) {', '.join(again)} already answered for this rating.", {"indicators": again}
                )
            self._add_details(conn, rating_id, rating["counter_number"], criteria, comment, contact)

    def check_claimable(self, rating_id: str) -> None:
        """A press on the physical button panel, recent enough to be detailed (NotFound/Conflict otherwise)."""
        found = read_rows(self.engine, "SELECT channel, device_time FROM ratings WHERE id = ?", (str(rating_id),))
        row = found[0] if found else None
        if row is None or row[0] != "button":
            raise NotFoundError(f"There is no button-panel rating {rating_id}.", {"field": "rating_id"})
        if db_time(to_naive_utc(self.clock.now()) - DETAIL_WINDOW) > str(row[1]):
            raise ConflictError("This rating is too old to add details to; please rate again.")

    def _add_details(
        self,
        conn: DirectWriter,
        rating_id: str,
        counter: int | None,
        criteria: dict,
        comment: str | None,
        contact: str | None,
    ) -> None:
        for key, level in criteria.items():
            values = stamp_values(conn, self.clock)
            values.update(rating_id=rating_id, indicator=key, level=level, points=INDICATOR_POINTS[level])
            conn.insert(_INSERT_ANSWER, values)
        if comment or contact:
            values = stamp_values(conn, self.clock)
            values.update(rating_id=rating_id, counter_number=counter, text=comment or "", contact=contact)
            conn.insert(_INSERT_COMMENT, values)

    def _attribution(self, conn: DirectWriter | Any, counter: int | None, ticket_id: str | None) -> dict | None:
        """Whom a rating is for: the ticket named; else at the counter, the ticket completed there last within the
        link window (its clerk served this citizen), the ticket the clerk on duty is serving, or that clerk alone.
        None (the office as a whole) when no clerk is on duty: nobody logged in today, the counter is paused, or
        it is closed (out of use: a clerk who logged in there earlier no longer serves there).
        The visit found may already have its counted rating (by phone, say): the caller flags the new one
        ``visit_rated``, never passes it on to an older visit or to the clerk alone as a second vote.
        """
        if ticket_id is not None:
            row = conn.row(_ATTRIBUTION_BY_TICKET, (ticket_id,))
            if row is None:
                raise NotFoundError(f"Ticket {ticket_id} does not exist on this kiosk.", {"field": "ticket_id"})
            return row
        if counter is None or conn.row(_OPEN, (counter,)) is None:
            return None  # a closed counter names no clerk: its rating is for the office
        since = to_naive_utc(self.clock.now()) - timedelta(seconds=self.link_window)
        row = conn.row(_ATTRIBUTION_BY_COUNTER, (counter, db_time(since)) * 2)
        if row is not None:
            return row
        on_duty = self.clerk_at(counter)
        if on_duty is None or conn.row(_ON_DUTY, (counter, on_duty[0])) is None:
            return None  # nobody logged in today, the counter paused, or the clerk deactivated since
        serving = conn.row(_SERVING_AT_COUNTER, (counter, on_duty[0]))
        return serving or {
            "ticket_id": None,
            "counter_number": counter,
            "clerk_id": on_duty[0],
            "service_code": None,
            "dossier_codes": None,
        }


_INSERT_RATING = Rating.__tablename__
_INSERT_ANSWER = IndicatorAnswer.__tablename__
_INSERT_COMMENT = Comment.__tablename__

#: The visit last completed at the counter within the link window: a ticket done there, or a field of a visit of
#: several fields done there (kiosk.fields) — the visit goes on elsewhere, or has ended elsewhere since — so that
#: a press between two fields is the visit's rating and a second press, at either counter, is ``visit_rated``.
#: Not a field whose visit goes on with its next field at this very counter (that visit is being served here).
_ATTRIBUTION_BY_COUNTER = (
    "SELECT ticket_id, counter_number, clerk_id, service_code, dossier_codes FROM ("
    "SELECT ts.ticket_id, ts.counter_number, ts.clerk_id, ts.service_code, ts.dossier_codes, ts.finished_at AS ended "
    "FROM ticket_state ts WHERE ts.counter_number = ? AND ts.status = 'done' AND ts.finished_at >= ? "
    "UNION ALL SELECT tf.ticket_id, tf.counter_number, (SELECT ca.clerk_id FROM clerk_actions ca "
    "WHERE ca.ticket_id = tf.ticket_id AND ca.action = 'complete' AND ca.counter_number = tf.counter_number "
    "ORDER BY ca.seq DESC LIMIT 1), tf.service_code, tf.dossier_codes, tf.finished_at AS ended "
    "FROM ticket_fields tf JOIN ticket_state ts ON ts.ticket_id = tf.ticket_id "
    "WHERE tf.counter_number = ? AND tf.status = 'done' AND tf.finished_at >= ? "
    "AND NOT (ts.status = 'called' AND ts.counter_number = tf.counter_number)"
    ") ORDER BY ended DESC LIMIT 1"
)
_OPEN = "SELECT 1 AS open FROM counters WHERE number = ? AND active"
_ON_DUTY = "SELECT 1 AS on_duty FROM counters c, clerks k WHERE c.number = ? AND NOT c.paused AND k.id = ? AND k.active"
_SERVING_AT_COUNTER = (
    "SELECT ts.ticket_id, ts.counter_number, ts.clerk_id, ts.service_code, ts.dossier_codes FROM ticket_state ts "
    "WHERE ts.counter_number = ? AND ts.status = 'called' AND ts.clerk_id = ? LIMIT 1"
)
_COUNTED_FOR_TICKET = "SELECT 1 FROM ratings WHERE ticket_id = ? AND counted LIMIT 1"
_ATTRIBUTION_BY_TICKET = (
    "SELECT ticket_id, counter_number, clerk_id, service_code, dossier_codes, queue_day FROM ticket_state "
    "WHERE ticket_id = ?"
)
