"""Editing a commune's catalogue on the central pages: services, counters, clerks, rating wording, questions.

Each function changes one item inside the caller's transaction and raises on a refusal (the caller's
rollback leaves nothing written): the same checks as the kiosk's `/admin` (:mod:`kiosk.catalog_edit`,
whose field parsers and messages it shares), a PIN no other active clerk of the commune has, and never a
catalogue that would leave the commune's kiosks without a service in use, an open counter for one, or an
active clerk. The first such change makes the commune centrally managed; every change is in the audit log.
"""

from __future__ import annotations

import unicodedata
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central import audit
from central.catalog import content
from central.models import Clerk, Counter, CounterService, Question, ScaleLevel, Service
from common.catalog_rules import (
    CODE_RE,
    MAX_COUNTER,
    MAX_DAILY,
    PIN_RE,
    flag,
    hash_pin,
    invalid,
    missing,
    pin_matches,
    text_field,
    ticket_prefix,
    unusable,
    whole,
)
from common.scale import INDICATORS


def _had_clerk(session: Session, commune: str) -> bool:
    query = select(Clerk.id).where(Clerk.commune_code == commune, Clerk.active.is_(True)).limit(1)
    return session.scalar(query) is not None


def _still_usable(session: Session, commune: str, had_clerk: bool) -> None:
    session.flush()
    problem = unusable(content(session, commune), had_clerk)
    if problem is not None:
        raise problem


# --- services ---------------------------------------------------------------------------------------


def save_service(
    session: Session,
    commune: str,
    code: Any,
    name: Any,
    prefix: Any,
    daily_max: Any,
    active: Any,
    *,
    new: bool,
    actor: audit.Actor,
    now: datetime,
) -> Service:
    audit.commune_for_change(session, commune, actor, now)
    code = str(code or "").strip().upper()
    if new:
        if not CODE_RE.match(code):
            raise invalid("code", "The service code must be 1 to 16 letters or digits without accents, e.g. HT.")
        if session.get(Service, (commune, code)) is not None:
            raise invalid("code", "A service with code %(code)s already exists.", code=code)
        last = session.scalar(select(func.max(Service.position)).where(Service.commune_code == commune))
        row = Service(commune_code=commune, code=code, position=(last or 0) + 1)
        before = None
    else:
        row = session.get(Service, (commune, code))
        if row is None:
            raise missing("code", "Service %(code)s does not exist in this commune.", code=code)
        before = _service_values(row)
    name = text_field(name, "name", "Fill in the service name.")
    prefix = ticket_prefix(
        prefix,
        lambda p: session.scalar(
            select(Service.code).where(Service.commune_code == commune, Service.prefix == p, Service.code != code)
        ),
    )
    daily = whole(daily_max, "daily_max", 1, MAX_DAILY, blank_ok=True)
    had_clerk = _had_clerk(session, commune)
    row.name, row.prefix, row.daily_max, row.active = name, prefix, daily, True if new else flag(active)
    session.add(row)
    _still_usable(session, commune, had_clerk)
    audit.record(session, commune, actor, "service", code, now, {"before": before, "after": _service_values(row)})
    return row


def _service_values(row: Service) -> dict[str, Any]:
    return {"name": row.name, "prefix": row.prefix, "daily_max": row.daily_max, "active": row.active}


# --- counters ---------------------------------------------------------------------------------------


def save_counter(
    session: Session,
    commune: str,
    number: Any,
    services: list[Any],
    active: Any,
    name: Any,
    *,
    new: bool,
    actor: audit.Actor,
    now: datetime,
) -> Counter:
    audit.commune_for_change(session, commune, actor, now)
    number = whole(number, "number", 1, MAX_COUNTER)
    row = session.get(Counter, (commune, number))
    if new and row is not None:
        raise invalid("number", "Counter %(number)s already exists.", number=number)
    if not new and row is None:
        raise missing("number", "Counter %(number)s does not exist.", number=number)
    before = None if new else _counter_values(session, row)
    row = row or Counter(commune_code=commune, number=number)
    codes = sorted({str(code).strip().upper() for code in services or [] if str(code).strip()})
    known = set(session.scalars(select(Service.code).where(Service.commune_code == commune)))
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise invalid("services", "Unknown service(s): %(codes)s.", codes=", ".join(unknown))
    is_active = True if new else flag(active)
    if is_active and not codes:
        raise invalid("services", "An open counter must handle at least one service.")
    label = unicodedata.normalize("NFC", str(name or "")).strip() or row.name or f"Quầy {number}"
    if len(label) > 100:
        raise invalid("name", "The name is longer than %(limit)s characters.", limit=100)
    had_clerk = _had_clerk(session, commune)
    row.name, row.active = label, is_active
    session.add(row)
    session.flush()
    for link in session.scalars(select(CounterService).filter_by(commune_code=commune, counter_number=number)):
        session.delete(link)
    session.flush()
    session.add_all(CounterService(commune_code=commune, counter_number=number, service_code=c) for c in codes)
    _still_usable(session, commune, had_clerk)
    after = _counter_values(session, row)
    audit.record(session, commune, actor, "counter", str(number), now, {"before": before, "after": after})
    return row


def _counter_values(session: Session, row: Counter) -> dict[str, Any]:
    links = session.scalars(
        select(CounterService.service_code).filter_by(commune_code=row.commune_code, counter_number=row.number)
    )
    return {"name": row.name, "active": row.active, "services": sorted(links)}


# --- clerks -----------------------------------------------------------------------------------------


def _counter_of(session: Session, commune: str, counter: Any) -> int | None:
    number = whole(counter, "counter", 1, MAX_COUNTER, blank_ok=True)
    if number is not None and session.get(Counter, (commune, number)) is None:
        raise invalid("counter", "Counter %(number)s does not exist.", number=number)
    return number


def _pin(session: Session, commune: str, pin: Any, exclude: str | None, *, required: bool) -> str | None:
    pin = str(pin or "").strip()
    if not pin and not required:
        return None
    if not PIN_RE.match(pin):
        raise invalid("pin", "The PIN must be 4 to 8 digits.")
    query = select(Clerk).where(Clerk.commune_code == commune, Clerk.active.is_(True)).order_by(Clerk.code)
    for other in session.scalars(query):
        if other.id != exclude and pin_matches(other, pin):
            raise invalid(
                "pin",
                "This PIN is already the PIN of %(name)s (%(code)s); every clerk needs a PIN of their own. Choose another.",
                name=other.name,
                code=other.code,
            )
    return pin


def add_clerk(
    session: Session, commune: str, name: Any, code: Any, counter: Any, pin: Any, *, actor: audit.Actor, now: datetime
) -> Clerk:
    """A new active clerk of the commune (code CC01, CC02, … unless given), with a PIN no one else has."""
    audit.commune_for_change(session, commune, actor, now)
    name = text_field(name, "name", "Fill in the clerk's name.")
    taken = set(session.scalars(select(Clerk.code).where(Clerk.commune_code == commune)))
    code = str(code or "").strip().upper()
    if code and not CODE_RE.match(code):
        raise invalid("code", "The clerk code must be 1 to 16 letters or digits without accents, e.g. CC01.")
    if code in taken:
        raise invalid("code", "A clerk with code %(code)s already exists.", code=code)
    code = code or next(f"CC{n:02d}" for n in range(1, 10_000) if f"CC{n:02d}" not in taken)
    number = _counter_of(session, commune, counter)
    plain = _pin(session, commune, pin, None, required=True)
    row = Clerk(
        commune_code=commune,
        id=str(uuid.uuid4()),
        code=code,
        name=name,
        pin_hash=hash_pin(plain),
        counter_number=number,
        active=True,
    )
    session.add(row)
    session.flush()
    audit.record(session, commune, actor, "clerk", f"{code} {name}", now, {"before": None, "after": _clerk_values(row)})
    return row


def save_clerk(
    session: Session,
    commune: str,
    clerk_id: str,
    name: Any,
    counter: Any,
    active: Any,
    pin: Any = None,
    *,
    actor: audit.Actor,
    now: datetime,
) -> Clerk:
    """Rename, move to another counter, (de)activate, or give a new PIN; the clerk keeps her id and history."""
    audit.commune_for_change(session, commune, actor, now)
    row = session.get(Clerk, (commune, clerk_id))
    if row is None:
        raise missing("clerk", "This clerk does not exist in this commune.")
    before = _clerk_values(row)
    name = text_field(name, "name", "Fill in the clerk's name.")
    number = _counter_of(session, commune, counter)
    is_active = flag(active)
    plain = _pin(session, commune, pin, row.id, required=False)
    had_clerk = _had_clerk(session, commune)
    row.name, row.counter_number, row.active = name, number, is_active
    if plain is not None:
        row.pin_hash = hash_pin(plain)
    session.add(row)
    _still_usable(session, commune, had_clerk)
    after = _clerk_values(row) | ({"pin": "reset"} if plain is not None else {})
    audit.record(session, commune, actor, "clerk", f"{row.code} {name}", now, {"before": before, "after": after})
    return row


def _clerk_values(row: Clerk) -> dict[str, Any]:
    return {"name": row.name, "code": row.code, "counter": row.counter_number, "active": row.active}


# --- rating wording and questions -------------------------------------------------------------------


def save_wording(
    session: Session,
    commune: str,
    labels: dict[str, Any],
    questions: dict[str, dict[str, Any]],
    *,
    actor: audit.Actor,
    now: datetime,
) -> None:
    """The labels of the rating levels (their points follow TT 01), and which questions are asked, worded how."""
    audit.commune_for_change(session, commune, actor, now)
    levels = {row.key: row for row in session.scalars(select(ScaleLevel).filter_by(commune_code=commune))}
    before = {"labels": {k: r.label for k, r in levels.items()}}
    for key, label in labels.items():
        if key in levels:
            field = f"label-{key}"
            levels[key].label = text_field(label, field, "Fill in the wording of every level.", limit=100)
    stored = {q.key: q for q in session.scalars(select(Question).filter_by(commune_code=commune))}
    before["questions"] = {k: [q.active, q.question, list(q.answers)] for k, q in stored.items()}
    for position, indicator in enumerate(INDICATORS.values()):
        spec = questions.get(indicator.key, {})
        row = stored.get(indicator.key) or Question(
            commune_code=commune, key=indicator.key, answers=list(indicator.answers), position=position
        )
        row.active = flag(spec.get("active"))
        field = f"question-{indicator.key}"
        text = spec.get("question") or row.question or indicator.question
        row.question = text_field(text, field, "Fill in the wording of every question.")
        if indicator.key != "attitude":  # its answers are the rating levels' own wording
            field = f"answer-{indicator.key}-0"
            answers = spec.get("answers") or list(row.answers or indicator.answers)
            row.answers = [text_field(a, field, "Fill in the wording of every answer.", limit=100) for a in answers]
        row.position = position
        session.add(row)
    session.flush()
    after = {"labels": {k: r.label for k, r in levels.items()}}
    rows = session.scalars(select(Question).filter_by(commune_code=commune))
    after["questions"] = {q.key: [q.active, q.question, list(q.answers)] for q in rows}
    audit.record(session, commune, actor, "wording", "scale, questions", now, {"before": before, "after": after})
