"""Ratings per dossier code (mã hồ sơ): the CSV a provincial one-stop information system imports.

TT 01 evaluates each dossier; a clerk attaches the dossier codes to the ticket she serves (typed or scanned
at the clerk console), and the citizen's rating of that ticket carries them. This export writes one row per
(dossier code, counted rating) — a rating of a visit that handled two dossiers is one row for each — in the
format documented in docs/dossiers.md, and :func:`read_csv` reads the same format back (a check of a file,
and what an importing system must accept).

CSV per RFC 4180: UTF-8 with a byte-order mark, comma-separated, CRLF, one header row of these columns in this
order (Vietnamese names, as a province's staff read them); text a spreadsheet would run as a formula gets a
leading apostrophe, as in every export of ours.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from central.exports.tables import FORMULA_START, guard
from central.identity import load_aliases, unknown_name
from central.models import Clerk, Commune, Rating, ScaleLevel, Service, Site
from central.reports.localtime import LocalTime
from central.reports.periods import Period
from central.reports.query import Scope
from common.tt01 import DEFAULT_LEVELS

#: (column header, key) in the order of the file.
COLUMNS = (
    ("Mã hồ sơ", "dossier"),
    ("Lĩnh vực", "field"),
    ("Mã lĩnh vực", "field_code"),
    ("Thời điểm", "time"),
    ("Mức độ", "level"),
    ("Mã mức độ", "level_code"),
    ("Điểm", "points"),
    ("Công chức", "clerk"),
    ("Mã công chức", "clerk_code"),
    ("Đơn vị", "unit"),
    ("Mã đơn vị", "unit_code"),
    ("Điểm tiếp nhận", "site"),
    ("Mã đánh giá", "rating_id"),
)
HEADERS = [header for header, _key in COLUMNS]
#: Rows fetched from the database at a time (the export streams: a province's year is millions of rows).
BATCH = 5000


class DossierFileError(ValueError):
    """A dossier CSV that does not follow the format; the message names the line and the column."""


@dataclass
class _Names:
    communes: dict[str, str]
    sites: dict[tuple[str, str], str]
    services: dict[tuple[str, str], str]
    levels: dict[tuple[str, str], str]
    clerks: dict[str, tuple[str, str]]
    aliases: dict[str, str]


def _names(conn: Connection, communes: tuple[str, ...] | None) -> _Names:
    def scoped(query, column):
        return query if communes is None else query.where(column.in_(communes))

    return _Names(
        communes=dict(conn.execute(scoped(select(Commune.code, Commune.name), Commune.code)).all()),
        sites={
            (c, s): n
            for c, s, n in conn.execute(scoped(select(Site.commune_code, Site.code, Site.name), Site.commune_code))
        },
        services={
            (c, s): n
            for c, s, n in conn.execute(
                scoped(select(Service.commune_code, Service.code, Service.name), Service.commune_code)
            )
        },
        levels={
            (c, k): label
            for c, k, label in conn.execute(
                scoped(select(ScaleLevel.commune_code, ScaleLevel.key, ScaleLevel.label), ScaleLevel.commune_code)
            )
        },
        clerks={
            i: (n, code)
            for i, n, code in conn.execute(scoped(select(Clerk.id, Clerk.name, Clerk.code), Clerk.commune_code))
        },
        aliases=load_aliases(conn, communes),
    )


def rows(conn: Connection, period: Period, scope: Scope, local_time: LocalTime) -> Iterator[dict[str, Any]]:
    """One dict per (dossier code, counted rating) of the period (local days of ``local_time``, the server's) and
    scope, in time order; times in local time with their offset."""
    r = Rating.__table__.c
    start, end = local_time.utc_range(period.start, period.end)
    query = select(
        r.commune_code,
        r.site_code,
        r.id,
        r.corrected_time,
        r.level,
        r.points,
        r.service_code,
        r.clerk_id,
        r.dossier_codes,
    ).where(r.dossier_codes.is_not(None), r.counted.is_(True), r.corrected_time >= start, r.corrected_time < end)
    if scope.communes is not None:
        query = query.where(r.commune_code.in_(scope.communes))
    if scope.site is not None:
        query = query.where(r.site_code == scope.site)
    if scope.service is not None:
        query = query.where(r.service_code == scope.service)
    if scope.counter is not None:
        query = query.where(r.counter_number == scope.counter)
    if scope.clerk is not None:
        query = query.where(r.clerk_id.in_(scope.clerk_ids or (scope.clerk,)))
    names = _names(conn, scope.communes)
    result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(
        query.order_by(r.corrected_time, r.id)
    )
    for row in result:
        clerk_id = names.aliases.get(row.clerk_id, row.clerk_id) if row.clerk_id else None
        clerk_name, clerk_code = names.clerks.get(clerk_id, (unknown_name(clerk_id), "")) if clerk_id else ("", "")
        when = local_time.aware(row.corrected_time)
        level = names.levels.get((row.commune_code, row.level)) or DEFAULT_LEVELS.get(row.level, (row.level,))[0]
        common = {
            "field": names.services.get((row.commune_code, row.service_code or ""), row.service_code or ""),
            "field_code": row.service_code or "",
            "time": when.isoformat(timespec="seconds"),
            "level": level,
            "level_code": row.level,
            "points": row.points,
            "clerk": clerk_name,
            "clerk_code": clerk_code,
            "unit": names.communes.get(row.commune_code, row.commune_code),
            "unit_code": row.commune_code,
            "site": names.sites.get((row.commune_code, row.site_code), row.site_code),
            "rating_id": row.id,
        }
        for code in row.dossier_codes.split():
            yield {"dossier": code, **common}


def csv_chunks(records: Iterator[Mapping[str, Any]]) -> Iterator[bytes]:
    """The CSV file, a few thousand rows at a time (for a streamed download or a file)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADERS)
    yield ("\ufeff" + out.getvalue()).encode("utf-8")
    out.seek(0)
    out.truncate()
    for i, record in enumerate(records, 1):
        writer.writerow([guard(record[key]) if isinstance(record[key], str) else record[key] for _h, key in COLUMNS])
        if i % 2000 == 0:
            yield out.getvalue().encode("utf-8")
            out.seek(0)
            out.truncate()
    if out.tell():
        yield out.getvalue().encode("utf-8")


def _unguard(value: str) -> str:
    """A cell as it was before :func:`guard` made it inert ("'=x" → "=x")."""
    if value.startswith("'") and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


def read_csv(data: bytes) -> list[dict[str, Any]]:
    """Read a dossier CSV of this format back: one dict per row (keys of :data:`COLUMNS`), or DossierFileError."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DossierFileError(f"The file is not UTF-8 text: {exc}.") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header != HEADERS:
        raise DossierFileError(f"Line 1 must be the header {', '.join(HEADERS)}; it is {', '.join(header or [])}.")
    out = []
    for line, values in enumerate(reader, 2):
        if not values:
            continue
        if len(values) != len(COLUMNS):
            raise DossierFileError(f"Line {line} has {len(values)} columns; the format has {len(COLUMNS)}.")
        record = {key: _unguard(value) for (_h, key), value in zip(COLUMNS, values, strict=True)}
        if not record["dossier"]:
            raise DossierFileError(f"Line {line}: the column Mã hồ sơ is empty.")
        try:
            moment = datetime.fromisoformat(record["time"])
        except ValueError:
            raise DossierFileError(f"Line {line}: Thời điểm {record['time']!r} is not an ISO 8601 time.") from None
        if moment.tzinfo is None:
            raise DossierFileError(
                f"Line {line}: Thời điểm {record['time']!r} has no UTC offset, as the export writes."
            )
        try:
            record["points"] = int(record["points"])
        except ValueError:
            raise DossierFileError(f"Line {line}: Điểm {record['points']!r} is not a whole number.") from None
        record["time"] = moment
        out.append(record)
    return out
