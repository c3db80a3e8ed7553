"""The catalogue's change log in plain words: each entry as who did what to which item, and one sentence saying
what changed — never the raw JSON of the values before and after, "catalog", or "kiosk Kiosk Cẩm Nhượng".

Every entry goes through :func:`describe`, which reads its kind (``AuditEntry.action``) in :data:`KINDS`: a new
kind of entry (a refused upload, say) adds one function there with :func:`kind` and needs nothing else. A kind
not listed still reads as a sentence ("Thay đổi khác"), without its values. Texts go through Flask-Babel, so the
page shows them in its own language (Vietnamese first).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _

#: kind → (what it is, in words; the sentence for one entry).
KINDS: dict[str, tuple[Callable[[], str], Callable[[Any], str]]] = {}


def kind(name: str, what: Callable[[], str]) -> Callable[[Callable[[Any], str]], Callable[[Any], str]]:
    """Register the sentence of one kind of entry (a decorator): ``what`` names the kind in the "What" column."""

    def register(sentence: Callable[[Any], str]) -> Callable[[Any], str]:
        KINDS[name] = (what, sentence)
        return sentence

    return register


def describe(entry: Any) -> dict[str, str]:
    """Who, what, which item and the change of one audit entry, in plain words."""
    what, sentence = KINDS.get(entry.action, (lambda: _("other change"), _other))
    detail = entry.detail if isinstance(entry.detail, dict) else {}
    return {"who": who(entry.actor), "what": what(), "item": _item(entry, detail), "change": sentence(entry)}


def who(actor: str) -> str:
    """ "kiosk Kiosk Cẩm Nhượng" → "Thiết bị “Kiosk Cẩm Nhượng”"; a command by its name; a user as signed in."""
    if actor.startswith("kiosk "):
        return _("Kiosk “%(name)s”", name=actor.removeprefix("kiosk "))
    if actor.startswith("import-config "):
        return _("Command import-config (file %(file)s)", file=actor.removeprefix("import-config "))
    return actor


def _item(entry: Any, detail: dict[str, Any]) -> str:
    after = detail.get("after") if isinstance(detail.get("after"), dict) else {}
    if entry.action == "service":
        return _("Field %(code)s", code=entry.target) + (f" – {after['name']}" if after.get("name") else "")
    if entry.action == "counter":
        return _("Counter %(n)s", n=entry.target)
    if entry.target in ("catalog", "scale", "questions", "scale, questions") or entry.action in ("import", "owner"):
        return _("The whole catalogue") if entry.action in ("owner", "adopt", "import") else _("Rating wording")
    return entry.target


def _yes_no(value: Any) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if value is None or value == "":
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


def _field_names() -> dict[str, str]:
    return {
        "name": _("name"),
        "prefix": _("ticket letter"),
        "daily_max": _("most tickets a day"),
        "services": _("fields"),
        "code": _("code"),
        "counter": _("counter"),
    }


def _changes(kind_name: str, before: dict[str, Any] | None, after: dict[str, Any]) -> str:
    """ "Đang mở: có → không; tên: Quầy 3 → Quầy Tư pháp" — only what changed, never a PIN or its hash."""
    if before is None:
        return _("Added.")
    names = _field_names()
    active = {"service": _("in use"), "counter": _("open"), "clerk": _("at work")}.get(kind_name, _("in use"))
    parts = []
    if after.get("pin") == "reset" or before.get("pin_hash") != after.get("pin_hash", before.get("pin_hash")):
        parts.append(_("PIN changed"))
    for key, new in after.items():
        if key in ("pin", "pin_hash", "id") or before.get(key) == new:
            continue
        if key == "active":
            parts.insert(0, f"{active}: {_yes_no(before.get(key))} → {_yes_no(new)}")
            continue
        parts.append(f"{names.get(key, key)}: {_yes_no(before.get(key))} → {_yes_no(new)}")
    return ("; ".join(parts) + ".") if parts else _("Saved without a change.")


def _values(entry: Any) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    detail = entry.detail if isinstance(entry.detail, dict) else {}
    before, after = detail.get("before"), detail.get("after")
    return (before if isinstance(before, dict) else None), (after if isinstance(after, dict) else {})


@kind("service", lambda: _("field"))
def _service(entry: Any) -> str:
    return _changes("service", *_values(entry))


@kind("counter", lambda: _("counter"))
def _counter(entry: Any) -> str:
    return _changes("counter", *_values(entry))


@kind("clerk", lambda: _("clerk"))
def _clerk(entry: Any) -> str:
    return _changes("clerk", *_values(entry))


def _wording(entry: Any) -> str:
    before, after = _values(entry)
    return _("The wording was saved.") if before is None or before != after else _("Saved without a change.")


for _name, _what in (
    ("wording", lambda: _("rating wording and questions")),
    ("scale", lambda: _("rating wording")),
    ("questions", lambda: _("questions")),
):
    kind(_name, _what)(_wording)


@kind("owner", lambda: _("who manages the catalogue"))
def _owner(entry: Any) -> str:
    to = (entry.detail or {}).get("to")
    if to == "central":
        return _("From now on the catalogue is managed on these central pages; the kiosks receive it.")
    return _("From now on the catalogue is managed on the kiosks (their /admin page).")


@kind("import", lambda: _("import from a file"))
def _import(entry: Any) -> str:
    names = {"services": _("fields"), "counters": _("counters"), "clerks": _("clerks")}
    names |= {"scale": _("rating wording"), "questions": _("questions")}
    sections = (entry.detail or {}).get("sections") or []
    return _("Replaced from the file: %(parts)s.", parts=", ".join(names.get(s, s) for s in sections) or "—")


@kind("adopt", lambda: _("adopted from a kiosk"))
def _adopt(entry: Any) -> str:
    d = entry.detail or {}
    return _(
        "The kiosk's catalogue became the commune's: %(services)s fields, %(counters)s counters, %(clerks)s clerks.",
        services=d.get("services", 0),
        counters=d.get("counters", 0),
        clerks=d.get("clerks", 0),
    )


@kind("alias", lambda: _("same person as a kiosk's clerk"))
def _alias(entry: Any) -> str:
    d = entry.detail or {}
    return _(
        "The kiosk's clerk “%(name)s” (code %(code)s) is this person: her ratings are counted as hers.",
        name=d.get("kiosk_name") or "—",
        code=d.get("kiosk_code") or "—",
    )


@kind("add", lambda: _("clerk added from a kiosk"))
def _add(entry: Any) -> str:
    return _("A clerk a kiosk added was taken into the commune's list.")


def _other(entry: Any) -> str:
    return _("A change of the catalogue.")


@kind("refused", lambda: _("refused: a kiosk tried to change clerks it did not add"))
def _refused(entry: Any) -> str:
    detail = entry.detail if isinstance(entry.detail, dict) else {}
    return _(
        "Nothing of that upload was applied. Kiosk %(name)s (%(id)s) tried to change: %(clerks)s. In a commune with"
        " several kiosks only the central pages change a clerk another kiosk added.",
        name=detail.get("device_name", "?"),
        id=detail.get("device_id", "?"),
        clerks="; ".join(str(c) for c in detail.get("clerks", [])),
    )
