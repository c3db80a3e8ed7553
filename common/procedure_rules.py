"""The rules a procedure (thủ tục hành chính) keeps, wherever it comes from: a province's file imported at the
central server, or the signed document a kiosk receives. Both ends check with :func:`check_procedure`.

A procedure is ``{"code", "service", "name", "papers": [{"name", "copies"}], "forms": [name], "fee", "days",
"result_at"}``: ``code`` is the procedure's code in the national database (e.g. ``1.001193``), ``service`` the
commune's field (lĩnh vực, ``HT``), ``days`` working days (0: within the day; None: not given).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from common.safe_text import text_problem

PROCEDURE_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
SERVICE_RE = re.compile(r"^[A-Z0-9]{1,16}$")
#: The most procedures one province's list may hold, papers and forms one procedure may list, copies of a paper.
MAX_PROCEDURES = 3000
MAX_PAPERS = 40
MAX_FORMS = 20
MAX_COPIES = 20
MAX_DAYS = 365
LIMITS = {"name": 300, "fee": 300, "result_at": 1000, "paper": 500, "form": 300}


class Problem(ValueError):
    """What is wrong with one field of a procedure: ``field`` names it (``papers[2].copies``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def bounded_text(value: Any, field: str, limit: int, required: bool = True) -> str:
    """A text field of a list taken from a file or the wire (procedures, bookings, posted documents): trimmed, in
    NFC, at most ``limit`` characters, none that a database of ours cannot store; :class:`Problem` naming ``field``."""
    if value is None:
        value = ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise Problem(field, "must be text")
    text = unicodedata.normalize("NFC", str(value)).strip()
    if required and not text:
        raise Problem(field, "is empty")
    if len(text) > limit:
        raise Problem(field, f"is longer than {limit} characters")
    found = text_problem(text)
    if found:
        raise Problem(field, f"holds {found[1]} at position {found[0] + 1}")
    return text


def _whole(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Problem(field, f"must be a whole number from {low} to {high}")
    return value


def _paper(value: Any, field: str) -> dict[str, Any]:
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, Mapping):
        raise Problem(field, "must be an object with a name and copies")
    copies = value.get("copies", 1)
    return {
        "name": bounded_text(value.get("name"), f"{field}.name", LIMITS["paper"]),
        "copies": _whole(copies, f"{field}.copies", 1, MAX_COPIES),
    }


def check_procedure(item: Any) -> dict[str, Any]:
    """The procedure, trimmed and in NFC; raises :class:`Problem` naming the first field that breaks a rule."""
    if not isinstance(item, Mapping):
        raise Problem("procedure", "must be an object")
    code = bounded_text(item.get("code"), "code", 40)
    if not PROCEDURE_CODE_RE.match(code):
        raise Problem("code", "must be letters, digits, dots or dashes (e.g. 1.001193)")
    service = bounded_text(item.get("service"), "service", 16).upper()
    if not SERVICE_RE.match(service):
        raise Problem("service", "must be a field code of capital letters and digits (e.g. HT)")
    papers, forms = item.get("papers") or [], item.get("forms") or []
    if not isinstance(papers, list) or len(papers) > MAX_PAPERS:
        raise Problem("papers", f"must be a list of at most {MAX_PAPERS} papers")
    if not isinstance(forms, list) or len(forms) > MAX_FORMS:
        raise Problem("forms", f"must be a list of at most {MAX_FORMS} forms")
    days = item.get("days")
    days = None if days is None or days == "" else _whole(days, "days", 0, MAX_DAYS)
    return {
        "code": code,
        "service": service,
        "name": bounded_text(item.get("name"), "name", LIMITS["name"]),
        "papers": [_paper(p, f"papers[{i + 1}]") for i, p in enumerate(papers)],
        "forms": [bounded_text(f, f"forms[{i + 1}]", LIMITS["form"]) for i, f in enumerate(forms)],
        "fee": bounded_text(item.get("fee"), "fee", LIMITS["fee"], required=False),
        "days": days,
        "result_at": bounded_text(item.get("result_at"), "result_at", LIMITS["result_at"], required=False),
    }


def fold(text: str) -> str:
    """Text for searching: lower case, without diacritics (đ → d), spaces collapsed: "Đăng ký" → "dang ky"."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.lower().split())


def days_text(days: int | None) -> str:
    """The processing time as people say it ("Trong ngày", "3 ngày làm việc"), "" when not given."""
    if days is None:
        return ""
    return "Trong ngày làm việc" if days == 0 else f"{days} ngày làm việc"
