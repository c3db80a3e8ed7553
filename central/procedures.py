"""A province's commune-level procedures at the central server: import from CSV or JSON, hide per commune, and
the document a commune's kiosks take down (``sync.procedures_document``).

An import replaces the province's whole list in one transaction, or changes nothing: every row is checked by
:func:`common.procedure_rules.check_procedure` first and the errors name the row and the field. A file is JSON
(a list of procedures, or ``{"procedures": [...]}``) or CSV with the columns ``code, service, name, papers,
forms, fee, days, result_at``: papers separated by ``;``, each ``name`` or ``name * N`` for N copies; forms
separated by ``;``. docs/procedures.md has an example.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from central.models import Commune, Province
from central.procedure_models import HiddenProcedure, Procedure
from common.errors import NotFoundError, ValidationError
from common.procedure_rules import MAX_PROCEDURES, Problem, check_procedure
from sync import procedures_document

CSV_COLUMNS = ("code", "service", "name", "papers", "forms", "fee", "days", "result_at")
#: Errors listed in one refusal (the rest are counted).
SHOWN_ERRORS = 10
_COPIES = re.compile(r"^(.*?)\s*\*\s*(\d+)\s*$")


def read_file(path: Path) -> list[dict[str, Any]]:
    """The procedures of a CSV or JSON file, checked; ValidationError listing the rows and fields at fault."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{path.name} is not UTF-8 text (byte {exc.start}); save it as UTF-8.") from None
    if path.suffix.lower() == ".csv":
        rows, first = _csv_rows(text, path.name), 2  # row 1 holds the column names
    else:
        rows, first = _json_rows(text, path.name), 1
    return check_rows(rows, first)


def _json_rows(text: str, name: str) -> list[Any]:
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ValidationError(f"{name} is not valid JSON: {exc}.") from None
    rows = doc.get("procedures") if isinstance(doc, dict) else doc
    if not isinstance(rows, list):
        raise ValidationError(f"{name} must hold a list of procedures (or an object with 'procedures').")
    return rows


def _csv_rows(text: str, name: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("code", "service", "name") if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationError(
            f"{name} lacks the column(s) {', '.join(missing)}; the columns are {', '.join(CSV_COLUMNS)}."
        )
    unknown = [c for c in reader.fieldnames or [] if c not in CSV_COLUMNS]
    if unknown:
        raise ValidationError(
            f"{name} has unknown column(s) {', '.join(unknown)}; the columns are {', '.join(CSV_COLUMNS)}."
        )
    rows = []
    for row in reader:
        if None in row:
            rows.append({"__extra__": True})
            continue
        papers = [_csv_paper(p) for p in (row.get("papers") or "").split(";") if p.strip()]
        forms = [f.strip() for f in (row.get("forms") or "").split(";") if f.strip()]
        rows.append({**row, "papers": papers, "forms": forms})
    return rows


def _csv_paper(text: str) -> dict[str, Any]:
    found = _COPIES.match(text.strip())
    return {"name": found.group(1), "copies": int(found.group(2))} if found else {"name": text.strip(), "copies": 1}


def check_rows(rows: list[Any], first: int = 1) -> list[dict[str, Any]]:
    """Every row checked; ValidationError naming each row (numbered from ``first``) and field that breaks a rule."""
    if len(rows) > MAX_PROCEDURES:
        raise ValidationError(f"The list holds {len(rows)} procedures; at most {MAX_PROCEDURES} are taken.")
    errors, clean, seen = [], [], {}
    for number, row in enumerate(rows, start=first):
        if isinstance(row, dict) and row.get("__extra__"):
            errors.append(f"row {number}: more values than columns")
            continue
        try:
            item = check_procedure(row)
        except Problem as exc:
            errors.append(f"row {number}, field '{exc.field}': {exc.message}")
            continue
        if item["code"] in seen:
            errors.append(f"row {number}, field 'code': {item['code']} is already on row {seen[item['code']]}")
            continue
        seen[item["code"]] = number
        clean.append(item)
    if errors:
        more = f" (and {len(errors) - SHOWN_ERRORS} more)" if len(errors) > SHOWN_ERRORS else ""
        raise ValidationError(
            f"Nothing was imported: {len(errors)} error(s): {'; '.join(errors[:SHOWN_ERRORS])}{more}.",
            {"errors": errors},
        )
    if not clean:
        raise ValidationError("Nothing was imported: the file lists no procedure.")
    return clean


def import_procedures(session: Session, province: str, items: list[dict[str, Any]], now: datetime) -> int:
    """Replace the province's list with ``items`` (checked); returns how many. What communes hid stays hidden."""
    province = province.strip().upper()
    if session.get(Province, province) is None:
        raise NotFoundError(f"Province {province} is unknown: add it first with `kiosk-central add-province`.")
    session.execute(delete(Procedure).where(Procedure.province_code == province))
    session.add_all(
        Procedure(province_code=province, position=position, imported_at=now, **procedures_document.columns(item))
        for position, item in enumerate(items)
    )
    session.flush()
    return len(items)


def _commune(session: Session, code: str) -> Commune:
    commune = session.get(Commune, code.strip().upper())
    if commune is None:
        raise NotFoundError(f"Commune {code} is unknown.")
    return commune


def set_hidden(session: Session, commune_code: str, codes: list[str], hidden: bool, now: datetime) -> list[str]:
    """Hide (or show again) procedures of the commune's province at that commune; returns the codes changed."""
    commune = _commune(session, commune_code)
    known = set(
        session.scalars(
            select(Procedure.code).where(Procedure.province_code == commune.province_code, Procedure.code.in_(codes))
        )
    )
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise NotFoundError(
            f"Procedure(s) {', '.join(unknown)} are not on the list of province {commune.province_code}.",
            {"codes": unknown},
        )
    already = set(session.scalars(select(HiddenProcedure.code).where(HiddenProcedure.commune_code == commune.code)))
    if hidden:
        changed = [c for c in dict.fromkeys(codes) if c not in already]
        session.add_all(HiddenProcedure(commune_code=commune.code, code=c, hidden_at=now) for c in changed)
    else:
        changed = [c for c in dict.fromkeys(codes) if c in already]
        session.execute(
            delete(HiddenProcedure).where(
                HiddenProcedure.commune_code == commune.code, HiddenProcedure.code.in_(changed)
            )
        )
    session.flush()
    return changed


def commune_list(session: Session, commune_code: str) -> list[dict[str, Any]]:
    """The province's procedures with ``hidden`` (at this commune), in the province's order."""
    commune = _commune(session, commune_code)
    hidden = set(session.scalars(select(HiddenProcedure.code).where(HiddenProcedure.commune_code == commune.code)))
    rows = session.scalars(
        select(Procedure).where(Procedure.province_code == commune.province_code).order_by(Procedure.position)
    )
    return [{**procedures_document.entry(p), "hidden": p.code in hidden} for p in rows]


def build_document(session: Session, commune_code: str) -> dict[str, Any]:
    """The procedures a commune's kiosks show: its province's list less what the commune hides."""
    commune = _commune(session, commune_code)
    shown = [
        {k: v for k, v in p.items() if k != "hidden"} for p in commune_list(session, commune.code) if not p["hidden"]
    ]
    return {
        "v": 1,
        "commune": commune.code,
        "province": commune.province_code,
        "version": procedures_document.version(shown),
        "procedures": shown,
    }
