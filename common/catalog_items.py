"""The items of a catalogue, each checked by one rule whatever door it came through.

A service, a counter, a clerk, a rating level or a question typed on a form (the kiosk's ``/admin``, the
central pages) or listed in a document (``import-config``, a kiosk's upload, the commune's document a kiosk
takes down, the settings `kiosk init` seeds) becomes the same frozen item here, or a :class:`ValidationError`
whose detail carries the gettext msgid (see :mod:`common.catalog_rules`). What needs the rest of the
catalogue (a code used twice, a counter that does not exist, a PIN another clerk has) is checked by
:mod:`common.catalog_apply` and :mod:`common.catalog_edit`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from common.catalog_rules import (
    CODE_RE,
    ID_RE,
    LEVEL_KEY_RE,
    MAIN_SITE,
    MAX_COUNTER,
    MAX_DAILY,
    MAX_ENTRIES,
    MAX_LABEL,
    MAX_LEVEL_POINTS,
    invalid,
    label_field,
    pin_field,
    pin_hash_field,
    prefix_field,
    text_field,
    upper_code,
    whole,
)
from common.errors import ValidationError
from common.scale import INDICATORS


@dataclass(frozen=True)
class ServiceItem:
    code: str
    name: str
    prefix: str
    daily_max: int | None
    active: bool = True


@dataclass(frozen=True)
class CounterItem:
    """A counter of a reception point: "TT · Quầy 1" and "CN · Quầy 1" are two counters."""

    number: int
    name: str
    active: bool
    services: tuple[str, ...]
    site: str = MAIN_SITE


@dataclass(frozen=True)
class ClerkItem:
    """A clerk as listed: by ``id`` (a kiosk's or the commune's document) or by ``code`` (``import-config``)."""

    code: str
    name: str
    counter: int | None
    active: bool = True
    id: str | None = None
    pin: str | None = None  # typed (a form, import-config): hashed when stored
    pin_hash: str | None = None  # as stored (a document)


@dataclass(frozen=True)
class LevelItem:
    key: str
    label: str
    points: int


@dataclass(frozen=True)
class QuestionItem:
    key: str
    question: str
    answers: tuple[str, str, str]
    active: bool = True


def service_code(value: Any) -> str:
    code = upper_code(value)
    if not CODE_RE.match(code):
        raise invalid("code", "The service code must be 1 to 16 letters or digits without accents, e.g. HT.")
    return code


def clerk_code(value: Any) -> str:
    code = upper_code(value)
    if not CODE_RE.match(code):
        raise invalid("code", "The clerk code must be 1 to 16 letters or digits without accents, e.g. CC01.")
    return code


def service_item(code: Any, name: Any, prefix: Any, daily_max: Any, active: bool = True) -> ServiceItem:
    """A service: code, Vietnamese name, ticket prefix (its uniqueness is the catalogue's rule), daily maximum."""
    return ServiceItem(
        service_code(code),
        text_field(name, "name", "Fill in the service name."),
        prefix_field(prefix),
        whole(daily_max, "daily_max", 1, MAX_DAILY, blank_ok=True),
        active,
    )


def counter_number(value: Any) -> int:
    return whole(value, "number", 1, MAX_COUNTER)  # type: ignore[return-value]


def site_code(value: Any) -> str:
    """The reception point a counter stands at (blank: the commune's centre)."""
    if value is None or value == "":
        return MAIN_SITE
    code = upper_code(value)
    if not CODE_RE.match(code):
        raise invalid("site", "The reception point's code must be 1 to 16 letters or digits without accents, e.g. CN.")
    return code


def counter_item(
    number: Any, services: Iterable[Any], active: bool, name: Any, fallback: str | None = None, site: Any = None
) -> CounterItem:
    """A counter: number, the services it handles (an open one handles one at least), name ("Quầy N" if blank),
    and its reception point (blank: the commune's centre)."""
    number = counter_number(number)
    site = site_code(site)
    if isinstance(services, str | bytes) or not isinstance(services, Iterable):
        raise invalid("services", "Unknown service(s): %(codes)s.", codes=str(services)[:40])
    codes = []
    for code in services:
        if not isinstance(code, str):
            raise invalid("services", "Unknown service(s): %(codes)s.", codes=str(code)[:40])
        codes.append(code.strip().upper())
    codes = sorted({code for code in codes if code})
    if active and not codes:
        raise invalid("services", "An open counter must handle at least one service.")
    label = label_field(name, "name", fallback or f"Quầy {number}")
    return CounterItem(number, label, active, tuple(codes), site)


def clerk_item(
    code: Any,
    name: Any,
    counter: Any,
    active: bool = True,
    *,
    clerk_id: Any = None,
    pin: Any = None,
    pin_hash: Any = None,
) -> ClerkItem:
    """A clerk: code, name, usual counter (blank: none), and a PIN typed or its stored hash."""
    code = clerk_code(code)
    name = text_field(name, "name", "Fill in the clerk's name.")
    number = whole(counter, "counter", 1, MAX_COUNTER, blank_ok=True)
    if clerk_id is not None and not (isinstance(clerk_id, str) and ID_RE.match(clerk_id)):
        raise invalid("id", "The clerk's id must be a UUID (36 characters).")
    typed = pin_field(pin) if pin is not None else None
    stored = pin_hash_field(pin_hash, code) if pin_hash is not None and typed is None else None
    return ClerkItem(code, name, number, active, clerk_id, typed, stored)


def level_item(key: Any, label: Any, points: Any) -> LevelItem:
    if not isinstance(key, str) or not LEVEL_KEY_RE.match(key):
        raise invalid("key", "A level's key must be small letters, digits or _ (at most 32), e.g. satisfied.")
    label = text_field(label, f"label-{key}", "Fill in the wording of every level.", limit=MAX_LABEL)
    return LevelItem(key, label, whole(points, "points", 0, MAX_LEVEL_POINTS))  # type: ignore[arg-type]


def question_item(key: Any, question: Any, answers: Any, active: bool = True) -> QuestionItem:
    """A TT 01 question (blank wording: the official one) with its three answers worth 2, 1 and 0 points."""
    if key not in INDICATORS:
        raise invalid(
            "key",
            "Question %(key)s is not a TT 01 indicator; use %(keys)s.",
            key=str(key)[:40],
            keys=", ".join(INDICATORS),
        )
    official = INDICATORS[key]
    text = text_field(question or official.question, f"question-{key}", "Fill in the wording of every question.")
    if answers is None:
        answers = list(official.answers)
    if not isinstance(answers, list | tuple) or len(answers) != 3:
        raise invalid(f"answer-{key}-0", "Question %(key)s needs three answers (2, 1 and 0 points).", key=key)
    field = f"answer-{key}-0"
    wording = tuple(text_field(a, field, "Fill in the wording of every answer.", limit=MAX_LABEL) for a in answers)
    return QuestionItem(key, text, wording, active)  # type: ignore[arg-type]


# --- a section of a document ------------------------------------------------------------------------


def entries(doc: Mapping[str, Any], section: str) -> list[Mapping[str, Any]]:
    """The section's entries: a list of objects, not more than the section may hold."""
    value = doc.get(section)
    if not isinstance(value, list):
        raise invalid(section, "Section %(section)s must be a list of entries.", section=section)
    if len(value) > MAX_ENTRIES[section]:
        raise invalid(
            section, "Section %(section)s has more than %(limit)s entries.", section=section, limit=MAX_ENTRIES[section]
        )
    for index, entry in enumerate(value):
        if not isinstance(entry, Mapping):
            where = f"{section}[{index}]"
            raise invalid(section, "Entry %(entry)s must be an object with its fields.", entry=where)
    return value


@contextmanager
def entry(section: str, index: int, key: Any = None) -> Iterator[None]:
    """Name the entry a refusal comes from ("services[2] (HT): …"), keeping the msgid for translation."""
    try:
        yield
    except ValidationError as exc:
        where = f"{section}[{index}]" + (f" ({str(key)[:40]})" if isinstance(key, str | int) and key != "" else "")
        detail = exc.detail if isinstance(exc.detail, dict) else {}
        raise ValidationError(f"{where}: {exc.message}", {**detail, "entry": where}) from exc


def once(seen: set, key: Any, twice: ValidationError) -> None:
    """Refuse an entry listed twice (with ``twice``, which names it)."""
    if key in seen:
        raise twice
    seen.add(key)
