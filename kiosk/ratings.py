"""Recording ratings: validate, attribute, filter repeated presses, commit durably, then announce.

The web form, the button panel and the CLI all call :meth:`RatingService.record`. It returns only after
the rating is committed (SQLite WAL, synchronous=FULL), so a caller that thanks the citizen afterwards
never thanks for a press that could be lost.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kiosk.clock import Clock, to_naive_utc
from kiosk.db import transaction
from kiosk.errors import ConflictError, NotFoundError, ValidationError
from kiosk.events import EventBus
from kiosk.models import Clerk, Comment, Counter, IndicatorAnswer, Rating, TicketState
from kiosk.records import stamp
from kiosk.scale import INDICATOR_POINTS, INDICATORS, active_levels

CHANNELS = ("touch", "button", "phone")
MAX_COMMENT = 2000
PHONE_RE = re.compile(r"^\+?[0-9][0-9 .\-]{6,18}[0-9]$")
#: How long after the overall rating the detailed form may still add indicators and a comment.
DETAIL_WINDOW = timedelta(minutes=15)


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
        return {"id": self.id, "counted": self.counted}


def _clean_text(value: Any, field: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be text.", {"field": field})
    value = value.strip()
    if len(value) > limit:
        raise ValidationError(
            f"{field} is {len(value)} characters long; the limit is {limit}. Shorten it and send again.",
            {"field": field, "length": len(value), "limit": limit},
        )
    return value or None


def validate_criteria(criteria: Any) -> dict[str, str]:
    if criteria is None:
        return {}
    if not isinstance(criteria, Mapping):
        raise ValidationError('criteria must be an object such as {"time": "satisfied"}.', {"field": "criteria"})
    unknown = sorted(set(criteria) - set(INDICATORS))
    if unknown:
        raise ValidationError(
            f"Unknown indicator(s) {', '.join(unknown)}; use {', '.join(INDICATORS)}.",
            {"field": "criteria", "unknown": unknown},
        )
    for key, level in criteria.items():
        if level not in INDICATOR_POINTS:
            raise ValidationError(
                f"Indicator {key} has level {level!r}; use {', '.join(INDICATOR_POINTS)}.",
                {"field": f"criteria.{key}"},
            )
    return dict(criteria)


def validate_contact(contact: Any) -> str | None:
    contact = _clean_text(contact, "contact", 32)
    if contact is not None and not PHONE_RE.match(contact):
        raise ValidationError("contact must be a phone number (digits, optionally +, spaces).", {"field": "contact"})
    return contact


class RatingService:
    """Validates and stores ratings. One instance per app; safe to call from several threads."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        response_interval: float = 5.0,
        link_window: float = 90.0,
        events: EventBus | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.response_interval = response_interval
        self.link_window = link_window
        self.events = events or EventBus()
        self._lock = threading.Lock()
        self._last_press: dict[str, float] = {}
        self._levels: dict[str, Any] | None = None

    def levels(self) -> dict[str, Any]:
        """The active scale, read once and kept until :meth:`reload` (after a configuration change)."""
        if self._levels is None:
            with self.sessions() as session:
                self._levels = {level.key: level for level in active_levels(session)}
        return self._levels

    def reload(self) -> None:
        self._levels = None

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
    ) -> RecordedRating:
        """Store one rating; returns once it is committed. Raises a 4xx KioskError on bad input."""
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
        comment = _clean_text(comment, "comment", MAX_COMMENT)
        contact = validate_contact(contact)
        panel = panel or f"{channel}:{counter if counter is not None else '-'}"

        with self._lock, transaction(self.sessions) as session:
            if counter is not None and session.get(Counter, counter) is None:
                raise NotFoundError(f"Counter {counter} does not exist on this kiosk.", {"field": "counter"})
            state = self._attribution(session, counter, ticket_id)
            mono = self.clock.monotonic()
            last = self._last_press.get(panel)
            counted = last is None or mono - last >= self.response_interval
            chosen = levels[level]
            rating = stamp(
                session,
                Rating(
                    level=level,
                    points=chosen.points,
                    channel=channel,
                    panel=panel,
                    counted=counted,
                    flag=None if counted else "response_interval",
                    counter_number=counter if counter is not None else (state.counter_number if state else None),
                    ticket_id=state.ticket_id if state else None,
                    clerk_id=state.clerk_id if state else None,
                    service_code=state.service_code if state else None,
                ),
                self.clock,
            )
            session.flush()
            self._add_details(session, rating, criteria, comment, contact)
            clerk = session.get(Clerk, rating.clerk_id) if rating.clerk_id else None
            result = RecordedRating(
                rating.id,
                level,
                chosen.label,
                counted,
                rating.flag,
                rating.counter_number,
                rating.ticket_id,
                rating.clerk_id,
                clerk.name if clerk else None,
                rating.service_code,
            )
            session.commit()
            self._last_press[panel] = mono
        self.events.publish(
            "rating_recorded",
            {"id": result.id, "level": level, "counted": counted, "counter": result.counter, "channel": channel},
        )
        return result

    def context(self, counter: int | None) -> dict[str, Any]:
        """Whom a rating at this counter would be for now: shown on the touch screen before the tap."""
        from kiosk.models import Ticket

        answer: dict[str, Any] = {"counter": counter, "clerk": None, "ticket": None, "service": None}
        if counter is None:
            return answer
        with self.sessions() as session:
            state = self._attribution(session, counter, None)
            if state is None:
                clerk = session.scalar(select(Clerk).where(Clerk.counter_number == counter, Clerk.active).limit(1))
                answer["clerk"] = clerk.name if clerk else None
                return answer
            clerk = session.get(Clerk, state.clerk_id) if state.clerk_id else None
            ticket = session.get(Ticket, state.ticket_id)
            answer.update(
                clerk=clerk.name if clerk else None,
                ticket=ticket.display_number if ticket else None,
                ticket_id=state.ticket_id,
                service=state.service_code,
            )
        return answer

    def add_details(self, rating_id: str, criteria: Any = None, comment: Any = None, contact: Any = None) -> None:
        """The optional second step of the touch form: indicators and a comment for a stored rating."""
        criteria = validate_criteria(criteria)
        comment = _clean_text(comment, "comment", MAX_COMMENT)
        contact = validate_contact(contact)
        with transaction(self.sessions) as session:
            rating = session.get(Rating, rating_id)
            if rating is None:
                raise NotFoundError(f"Rating {rating_id} does not exist.", {"field": "rating_id"})
            if to_naive_utc(self.clock.now()) - rating.device_time > DETAIL_WINDOW:
                raise ConflictError("This rating is too old to add details to; please rate again.")
            answered = set(
                session.scalars(select(IndicatorAnswer.indicator).where(IndicatorAnswer.rating_id == rating_id))
            )
            again = sorted(answered & set(criteria))
            if again:
                raise ConflictError(
                    f"Indicator(s) {', '.join(again)} already answered for this rating.", {"indicators": again}
                )
            self._add_details(session, rating, criteria, comment, contact)

    def _add_details(
        self, session: Session, rating: Rating, criteria: dict, comment: str | None, contact: str | None
    ) -> None:
        for key, level in criteria.items():
            stamp(
                session,
                IndicatorAnswer(rating_id=rating.id, indicator=key, level=level, points=INDICATOR_POINTS[level]),
                self.clock,
            )
        if comment or contact:
            stamp(
                session,
                Comment(rating_id=rating.id, counter_number=rating.counter_number, text=comment or "", contact=contact),
                self.clock,
            )

    def _attribution(self, session: Session, counter: int | None, ticket_id: str | None) -> TicketState | None:
        """The served ticket a rating belongs to: the one named, or the last one completed at the counter."""
        if ticket_id is not None:
            state = session.get(TicketState, ticket_id)
            if state is None:
                raise NotFoundError(f"Ticket {ticket_id} does not exist on this kiosk.", {"field": "ticket_id"})
            return state
        if counter is None:
            return None
        since = to_naive_utc(self.clock.now()) - timedelta(seconds=self.link_window)
        candidate = session.scalars(
            select(TicketState)
            .where(
                TicketState.counter_number == counter,
                TicketState.status == "done",
                TicketState.finished_at >= since,
            )
            .order_by(TicketState.finished_at.desc())
            .limit(1)
        ).first()
        if candidate is None:
            return None
        already = session.scalar(
            select(Rating.id).where(Rating.ticket_id == candidate.ticket_id, Rating.counted).limit(1)
        )
        return None if already else candidate
