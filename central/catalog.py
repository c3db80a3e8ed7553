"""A commune's catalogue at the central server: the signed document its kiosks apply, and `import-config`.

The catalogue is the commune's services, counters (with the services each handles), clerks (with their PIN
hashes, so a clerk signs in with the same PIN at every kiosk of the commune), the rating scale's wording and
points, and the TT 01 questions of the detailed form. A commune created here is seeded from the settings;
the first kiosk to sync then has its own catalogue adopted (``central.catalog_upload``); an
administrator edits it on the pages (``central.catalog_edit``) or replaces it with `import-config`.
Nothing is ever deleted — what a new catalogue leaves out is deactivated — because records refer to it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from central import audit
from central.identity import load_aliases
from central.models import Clerk, Commune, Counter, CounterService, Question, ScaleLevel, Service
from common.catalog_rules import CODE_RE, PIN_RE, hash_pin, invalid, pin_matches, unusable
from common.errors import NotFoundError, ValidationError
from common.scale import INDICATORS, levels_from_settings
from sync import catalog_document as entries
from sync import protocol

#: The catalogue document's own format (2: owner, questions and aliases; 1 had neither).
DOCUMENT_FORMAT = 2
SECTIONS = ("services", "counters", "clerks", "scale", "questions")


def content(session: Session, commune_code: str) -> dict[str, Any]:
    """The commune's catalogue in the document's shape (without the header)."""
    commune = session.get(Commune, commune_code)
    if commune is None:
        raise NotFoundError(f"Commune {commune_code} does not exist at the central server.")
    where = {"commune_code": commune_code}
    services = session.scalars(
        select(Service).filter_by(**where).order_by(Service.active.desc(), Service.position, Service.code)
    ).all()
    links: dict[int, list[str]] = {}
    for link in session.scalars(select(CounterService).filter_by(**where).order_by(CounterService.service_code)):
        links.setdefault(link.counter_number, []).append(link.service_code)
    counters = session.scalars(select(Counter).filter_by(**where).order_by(Counter.number)).all()
    clerks = session.scalars(select(Clerk).filter_by(**where).order_by(Clerk.code)).all()
    scale = session.scalars(select(ScaleLevel).filter_by(**where).order_by(ScaleLevel.position)).all()
    questions = session.scalars(select(Question).filter_by(**where).order_by(Question.position)).all()
    return {
        "commune": {"code": commune.code, "name": commune.name},
        "owner": commune.catalog_owner,
        "services": [entries.service_entry(s) for s in services],
        "counters": [entries.counter_entry(c, links.get(c.number, [])) for c in counters],
        "clerks": [entries.clerk_entry(c) for c in clerks],
        "scale": [entries.level_entry(s) for s in scale],
        "questions": [entries.question_entry(q) for q in questions] or default_questions(),
        "aliases": load_aliases(session.connection(), (commune_code,)),
    }


def default_questions() -> list[dict[str, Any]]:
    return [
        {"key": i.key, "question": i.question, "answers": list(i.answers), "active": True} for i in INDICATORS.values()
    ]


def version_of(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def catalog_version(session: Session, commune_code: str) -> str:
    """The version of the commune's catalogue now (what a kiosk that is up to date says it uses)."""
    return version_of(content(session, commune_code))


def build_catalog(session: Session, commune_code: str, device_id: str, device_name: str) -> dict[str, Any]:
    """The catalogue document of a commune, as sent (signed) to one of its kiosks."""
    body = content(session, commune_code)
    header = {
        "v": protocol.PROTOCOL_VERSION,
        "format": DOCUMENT_FORMAT,
        "version": version_of(body),
        "device": {"id": device_id, "name": device_name},
    }
    return header | body


def ensure_commune(
    session: Session, code: str, name: str | None, settings: Mapping[str, Any], now: datetime, **place: str | None
) -> Commune:
    """The commune with this code, created (and seeded from the settings) if it is new.

    The seeded catalogue is nobody's edit: the first kiosk that syncs replaces it with its own.
    """
    if not CODE_RE.match(code or ""):
        raise ValidationError(f"Commune code {code!r} must be 1–16 capital letters or digits.")
    commune = session.get(Commune, code)
    if commune is not None:
        return commune
    from central.hierarchy import ensure_main_site, ensure_province

    ensure_province(session, place.get("province_code"), now)
    commune = Commune(code=code, name=name or f"Xã {code}", created_at=now, catalog_owner="kiosk", **place)
    session.add(commune)
    session.flush()
    ensure_main_site(session, code, now)
    replace(
        session,
        code,
        {
            "services": settings["services"],
            "counters": settings["counters"],
            "scale": [{"key": lv.key, "label": lv.label, "points": lv.points} for lv in levels_from_settings(settings)],
        },
    )
    return commune


def import_catalog(
    session: Session, commune_code: str, doc: Mapping[str, Any], actor: audit.Actor, now: datetime
) -> list[str]:
    """`import-config`: replace the sections ``doc`` has; a central change (the commune becomes centrally managed).

    Refused as a whole (nothing written) when a section is malformed, a PIN is another active clerk's, or the
    result would leave the commune's kiosks without a service in use, an open counter or an active clerk.
    """
    unknown = set(doc) - {*SECTIONS, "commune", "v", "format", "version", "device", "owner", "aliases"}
    if unknown:
        raise ValidationError(
            f"Unknown section(s) {', '.join(sorted(unknown))}; use {', '.join(SECTIONS)}.",
            {"sections": sorted(unknown)},
        )
    audit.commune_for_change(session, commune_code, actor, now)
    had_clerk = any(c["active"] for c in content(session, commune_code)["clerks"])
    parts = replace(session, commune_code, doc)
    problem = unusable(content(session, commune_code), had_clerk)
    if problem is not None:
        raise problem
    audit.record(session, commune_code, actor, "import", ", ".join(parts), now, {"sections": parts})
    return parts


def replace(session: Session, commune_code: str, doc: Mapping[str, Any]) -> list[str]:
    """Replace the sections of the commune's catalogue that ``doc`` has; returns their names."""
    if session.get(Commune, commune_code) is None:
        raise NotFoundError(f"Commune {commune_code} does not exist: create it with `kiosk-central add-commune`.")
    parts = [part for part in SECTIONS if part in doc]
    try:
        for part in parts:
            if not isinstance(doc[part], list):
                raise ValidationError(f"Section {part} must be a list of entries.", {"section": part})
            {
                "services": _import_services,
                "counters": _import_counters,
                "clerks": _import_clerks,
                "scale": _import_scale,
                "questions": _import_questions,
            }[part](session, commune_code, doc[part])
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValidationError(
            f"The catalogue has an entry without a required field or of the wrong kind: {exc}."
        ) from exc
    session.flush()
    return parts


def _deactivate_others(session: Session, model: type, commune_code: str, keep: set, key: str) -> None:
    for row in session.scalars(select(model).filter_by(commune_code=commune_code)):
        if getattr(row, key) not in keep:
            row.active = False


def _import_services(session: Session, commune_code: str, specs: list) -> None:
    seen = set()
    for position, spec in enumerate(specs):
        code = str(spec["code"]).upper()
        if not CODE_RE.match(code):
            raise ValidationError(f"Service code {code!r} must be 1–16 capital letters or digits.")
        row = session.get(Service, (commune_code, code)) or Service(commune_code=commune_code, code=code)
        row.name = str(spec["name"])[:200]
        row.prefix = str(spec.get("prefix") or "")[:4]
        row.daily_max = spec.get("daily_max")
        row.position, row.active = position, bool(spec.get("active", True))
        session.add(row)
        seen.add(code)
    _deactivate_others(session, Service, commune_code, seen, "code")
    session.flush()


def _import_counters(session: Session, commune_code: str, specs: list) -> None:
    services = set(session.scalars(select(Service.code).filter_by(commune_code=commune_code)))
    in_use = set(session.scalars(select(Service.code).filter_by(commune_code=commune_code, active=True)))
    seen = set()
    session.execute(delete(CounterService).filter_by(commune_code=commune_code))
    for spec in specs:
        number = int(spec["number"])
        row = session.get(Counter, (commune_code, number)) or Counter(commune_code=commune_code, number=number)
        row.name, row.active = str(spec.get("name") or f"Quầy {number}")[:100], bool(spec.get("active", True))
        session.add(row)
        wanted = [str(c).upper() for c in spec.get("services", sorted(in_use))]
        missing = sorted(set(wanted) - services)
        if missing:
            raise ValidationError(f"Counter {number} handles unknown service(s) {', '.join(missing)}.")
        session.add_all(
            CounterService(commune_code=commune_code, counter_number=number, service_code=c) for c in set(wanted)
        )
        seen.add(number)
    _deactivate_others(session, Counter, commune_code, seen, "number")
    session.flush()


def _import_clerks(session: Session, commune_code: str, specs: list) -> None:
    counters = set(session.scalars(select(Counter.number).filter_by(commune_code=commune_code)))
    by_code = {c.code: c for c in session.scalars(select(Clerk).filter_by(commune_code=commune_code))}
    seen, plain = set(), {}
    for spec in specs:
        code = str(spec["code"]).upper()
        if not CODE_RE.match(code):
            raise ValidationError(f"Clerk code {code!r} must be 1–16 capital letters or digits.")
        if code in seen:
            raise invalid("code", "Clerk code %(code)s appears twice.", code=code)
        row = by_code.get(code) or Clerk(commune_code=commune_code, id=str(uuid.uuid4()), code=code)
        if "pin" in spec:
            if not PIN_RE.match(str(spec["pin"])):
                raise ValidationError(f"The PIN of clerk {code} must be 4 to 8 digits.")
            row.pin_hash = hash_pin(str(spec["pin"]))
            plain[code] = str(spec["pin"])
        elif spec.get("pin_hash"):
            row.pin_hash = str(spec["pin_hash"])
        elif not row.pin_hash:
            raise ValidationError(f"Clerk {code} needs a pin (4 to 8 digits).")
        counter = spec.get("counter")
        if counter is not None and int(counter) not in counters:
            raise ValidationError(f"Clerk {code} sits at counter {counter}, which the commune does not have.")
        row.name = str(spec["name"])[:200]
        row.counter_number = None if counter is None else int(counter)
        row.active = bool(spec.get("active", True))
        session.add(row)
        by_code[code] = row
        seen.add(code)
    _deactivate_others(session, Clerk, commune_code, seen, "code")
    session.flush()
    _refuse_shared_pins(session, commune_code, plain)


def _refuse_shared_pins(session: Session, commune_code: str, plain: dict[str, str]) -> None:
    """No two active clerks with one PIN: typed PINs compared as typed, else against the stored hashes."""
    active = {c.code: c for c in session.scalars(select(Clerk).filter_by(commune_code=commune_code, active=True))}
    codes = sorted(code for code in plain if code in active)
    for i, code in enumerate(codes):
        for other in codes[:i]:
            if plain[other] == plain[code]:
                raise _shared(active[code], active[other])
        for other, clerk in active.items():
            if other not in plain and pin_matches(clerk, plain[code]):
                raise _shared(active[code], clerk)


def _shared(clerk: Clerk, other: Clerk) -> ValidationError:
    return invalid(
        "pin",
        "The PIN of %(name)s (%(code)s) is already the PIN of %(other)s (%(other_code)s); every clerk needs a "
        "PIN of their own.",
        name=clerk.name,
        code=clerk.code,
        other=other.name,
        other_code=other.code,
    )


def _import_scale(session: Session, commune_code: str, specs: list) -> None:
    if not 2 <= len(specs) <= 5:
        raise ValidationError("The rating scale needs 2 to 5 levels.")
    seen = set()
    for position, spec in enumerate(specs):
        key = str(spec["key"])
        row = session.get(ScaleLevel, (commune_code, key)) or ScaleLevel(commune_code=commune_code, key=key)
        row.label, row.points, row.position = str(spec["label"])[:100], int(spec["points"]), position
        row.active = True
        session.add(row)
        seen.add(key)
    _deactivate_others(session, ScaleLevel, commune_code, seen, "key")
    session.flush()


def _import_questions(session: Session, commune_code: str, specs: list) -> None:
    """The questions asked, in order; a TT 01 question left out is not asked (never deleted)."""
    seen = set()
    for position, spec in enumerate(specs):
        key = str(spec["key"])
        if key not in INDICATORS:
            raise ValidationError(f"Question {key!r} is not a TT 01 indicator; use {', '.join(INDICATORS)}.")
        answers = spec.get("answers", list(INDICATORS[key].answers))
        if not (isinstance(answers, list) and len(answers) == 3 and all(str(a).strip() for a in answers)):
            raise ValidationError(f"Question {key} needs three answers (2, 1 and 0 points).")
        row = session.get(Question, (commune_code, key)) or Question(commune_code=commune_code, key=key)
        row.question = str(spec.get("question") or INDICATORS[key].question)[:200]
        row.answers = [str(a).strip()[:100] for a in answers]
        row.position, row.active = position, bool(spec.get("active", True))
        session.add(row)
        seen.add(key)
    for position, indicator in enumerate(INDICATORS.values(), start=len(specs)):
        if indicator.key not in seen and session.get(Question, (commune_code, indicator.key)) is None:
            session.add(
                Question(
                    commune_code=commune_code,
                    key=indicator.key,
                    question=indicator.question,
                    answers=list(indicator.answers),
                    position=position,
                    active=False,
                )
            )
    _deactivate_others(session, Question, commune_code, seen, "key")
    session.flush()
