"""The wire format between a kiosk and `kiosk-central`, used by both ends.

A batch is a gzip-compressed JSON object (``Content-Encoding: gzip``)::

    {"v": 1, "device": ID, "commune": CODE, "sent_at": ISO, "clock_synced": bool,
     "status": {"unsynced": n, "printer": "...", "version": "..."},
     "records": [{"type": "rating", "id": UUID, "seq": n, "device_time": ISO, "clock_synced": bool, ...}]}

Every request is signed with the device's secret: HMAC-SHA256 over the protocol tag, the method, the
path (with its query string), the device id, a per-device counter and the SHA-256 of the body as sent.
The server keeps the last counter it accepted from each device and takes only a greater one, so a
replayed or reordered request is refused without looking at the device's (possibly wrong) clock.
Answers are signed the same way over the request's counter, so a device never marks records as sent,
or applies a catalogue, on the word of anyone but the server.

The catalogue (services, counters, clerks, rating wording, questions) travels in its own signed exchange,
``POST /api/v1/catalog``, a gzip JSON body like a batch::

    {"v": 1, "device": ID, "commune": CODE, "applied": VERSION | null, "refused": TEXT | null,
     "catalog": {...} | null, "digest": SHA256 | null, "changed": ["service:HT", "clerk:<id>", ...]}

``catalog`` is the kiosk's own catalogue, sent only when it changed since the server last acknowledged it
(``digest`` names it; ``changed`` lists the items edited at `/admin` since). The signed answer is
``{"v": 1, "received": DIGEST | null, "outcome": ..., "catalog": DOCUMENT}``: the kiosk counts its catalogue
as delivered only when ``received`` names its digest, then applies the commune's ``DOCUMENT`` (format 2:
``version``, ``owner``, services, counters, clerks, scale, questions, aliases). ``GET /api/v1/catalog`` returns
the document alone; ``GET /api/v1/config`` is the same for kiosks of the first release (which ignore what
they do not know). Batches stay at protocol version 1.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import hmac
import json
import re
import zlib
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from common.safe_text import BAD_CHAR, describe_char, json_problem, parse_int

try:  # a batch's JSON is read about 2.5× faster by orjson; json (the standard library) is the reference
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency; json alone gives the same answers, slower
    orjson = None

PROTOCOL_VERSION = 1
SCHEME = "KIOSK-HMAC-SHA256-v1"

DEVICE_HEADER = "X-Kiosk-Device"
COUNTER_HEADER = "X-Kiosk-Counter"
SIGNATURE_HEADER = "X-Kiosk-Signature"

SYNC_PATH = "/api/v1/sync"
CATALOG_PATH = "/api/v1/catalog"
#: The catalogue's address for kiosks of the first release (GET only).
CONFIG_PATH = "/api/v1/config"

#: Hard cap on a batch once decompressed (a small gzip body must not inflate without bound).
MAX_DECOMPRESSED = 32 * 1024 * 1024

#: Times a record may carry (device time, business day, the batch's sent_at): outside, it is quarantined.
EARLIEST = datetime(2020, 1, 1)
LATEST = datetime(2101, 1, 1)
#: Deepest nesting of an object field (a clerk action's detail).
MAX_OBJECT_DEPTH = 8

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
INT32 = 2**31 - 1
INT64 = 2**63 - 1


class ProtocolError(ValueError):
    """A body or record that does not follow the protocol; the message says what is wrong."""


# --- signing ---------------------------------------------------------------------------------------


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def string_to_sign(method: str, path: str, device_id: str, counter: int, body_sha256: str) -> bytes:
    return "\n".join([SCHEME, method.upper(), path, device_id, str(counter), body_sha256]).encode()


def sign(secret: str, method: str, path: str, device_id: str, counter: int, body: bytes) -> str:
    """The signature header value of a request."""
    mac = hmac.new(secret.encode(), string_to_sign(method, path, device_id, counter, body_hash(body)), "sha256")
    return mac.hexdigest()


def signature_ok(
    secret: str, signature: str, method: str, path: str, device_id: str, counter: int, body: bytes
) -> bool:
    return hmac.compare_digest(sign(secret, method, path, device_id, counter, body), signature or "")


def request_headers(secret: str, method: str, path: str, device_id: str, counter: int, body: bytes) -> dict:
    return {
        DEVICE_HEADER: device_id,
        COUNTER_HEADER: str(counter),
        SIGNATURE_HEADER: sign(secret, method, path, device_id, counter, body),
    }


def sign_response(secret: str, device_id: str, counter: int, body: bytes) -> str:
    """The server's signature on its answer to the request that carried ``counter``."""
    return sign(secret, "ANSWER", "", device_id, counter, body)


def response_ok(secret: str, signature: str, device_id: str, counter: int, body: bytes) -> bool:
    return hmac.compare_digest(sign_response(secret, device_id, counter, body), signature or "")


# --- bodies ----------------------------------------------------------------------------------------


def iso(moment: datetime | date) -> str:
    return moment.isoformat()


def encode_records(records: list[dict[str, Any]]) -> str:
    """The JSON text of a batch's records (kept apart so a client can prepare it ahead of sending)."""
    return json.dumps(records, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def encode_batch(envelope: Mapping[str, Any], records_json: str | None = None) -> bytes:
    """The gzip-compressed JSON body of a batch; ``records_json`` (from :func:`encode_records`) is spliced in."""
    if records_json is not None:
        head = json.dumps({**envelope, "records": []}, ensure_ascii=False, separators=(",", ":"))
        text = head[: -len("[]}")] + records_json + "}"
    else:
        text = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), default=_json_default)
    return gzip.compress(text.encode(), compresslevel=5, mtime=0)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__}")


def decode_batch(raw: bytes, content_encoding: str | None, limit: int = MAX_DECOMPRESSED) -> dict:
    """Decompress and parse a batch body. Raises ProtocolError (400) or OverflowError (413)."""
    return parse_batch(inflate(raw, content_encoding, limit))


def inflate(raw: bytes, content_encoding: str | None, limit: int = MAX_DECOMPRESSED) -> bytes:
    """A body's JSON text, decompressed. Raises ProtocolError (400) or OverflowError (413)."""
    encoding = (content_encoding or "").strip().lower()
    if encoding == "gzip":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            raw = inflater.decompress(raw, limit + 1)
        except zlib.error as exc:
            raise ProtocolError(f"The body is not valid gzip: {exc}.") from exc
        if len(raw) > limit or inflater.unconsumed_tail:
            raise OverflowError(f"The batch is larger than {limit // (1024 * 1024)} MiB once decompressed.")
        if not inflater.eof:
            raise ProtocolError("The gzip body is cut short.")
    elif encoding not in ("", "identity"):
        raise ProtocolError(f"Content-Encoding {content_encoding!r} is not understood; send gzip.")
    return raw


def parse_batch(raw: bytes) -> dict:
    """A batch's JSON text parsed: a :class:`Batch`. Raises ProtocolError (400)."""
    try:
        data = _loads(raw)
    except ProtocolError:
        raise
    except ValueError:  # a number too long for Python: read again with it marked (its record is quarantined)
        data = _loads(raw, parse_int=parse_int)
    if not isinstance(data, dict):
        raise ProtocolError("The batch must be a JSON object.")
    return Batch(data, suspicious=_suspicious(raw))


#: Maps every digit to "0" and everything else to a space: a run of 19 zeros in the result is a run of 19 digits.
_DIGITS = bytes(48 if 48 <= i <= 57 else 32 for i in range(256))
_LONG_DIGITS = b"0" * 19


def _loads(raw: bytes, **hooks: Any) -> Any:
    """Parse a batch's JSON. orjson reads it when it can only give what json would: it refuses NaN, lone
    surrogates, a byte-order mark and nesting deeper than 1,024 (then json reads the body and answers as before),
    and reads an integer beyond 64 bits as a float, so a body with 19 digits in a row (2**63 has 19) goes to json."""
    if orjson is not None and not hooks and _LONG_DIGITS not in raw.translate(_DIGITS):
        with contextlib.suppress(orjson.JSONDecodeError):  # then json reads it, and says what is wrong
            return orjson.loads(raw)
    try:
        return json.loads(raw, **hooks)
    except RecursionError:
        raise ProtocolError("The batch is nested too deeply to read.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"The batch is not valid JSON: {exc}.") from exc


class Batch(dict):
    """A decoded batch; ``suspicious`` when its text may hold a character no database of ours can store
    (then every text field is checked; a clean batch — nearly all of them — skips that work)."""

    def __init__(self, data: dict, suspicious: bool = True) -> None:
        super().__init__(data)
        self.suspicious = suspicious


#: In the JSON text: an escaped C0 control, DEL, C1 control or surrogate; a C1 control as UTF-8.
_ESCAPES = re.compile(rb"\\u00[0189][0-9a-fA-F]|\\u007[fF]|\\u[dD][89a-fA-F]")
_C1 = re.compile(rb"\xc2[\x80-\x9f]")


def has_escape(raw: bytes) -> bool:
    """Whether a JSON text holds a \\u escape. A kiosk writes UTF-8 without escapes, and a text without any
    backslash (one quick byte search) has none."""
    return b"\\" in raw and b"\\u" in raw


def _suspicious(raw: bytes) -> bool:
    """Whether a batch's JSON text may hold a character no database of ours can store. A kiosk writes
    UTF-8 without escapes, so the fast byte searches nearly always settle it without a regex."""
    if b"\x7f" in raw:
        return True
    if has_escape(raw) and _ESCAPES.search(raw):
        return True
    return b"\xc2" in raw and _C1.search(raw) is not None


def check_envelope(data: Mapping[str, Any]) -> tuple[datetime, bool, list]:
    """The envelope's device time, clock flag and records list; raises ProtocolError when malformed."""
    if data.get("v") != PROTOCOL_VERSION:
        raise ProtocolError(f"Protocol version {data.get('v')!r} is not understood; this server speaks v1.")
    for key in ("device", "commune"):
        if not isinstance(data.get(key), str):
            raise ProtocolError(f"The batch needs a {key!r} text field.")
    sent_at = _parse_datetime(data.get("sent_at"))
    if sent_at is None:
        raise ProtocolError("The batch needs 'sent_at', the device's wall-clock time in ISO 8601.")
    if not EARLIEST <= sent_at < LATEST:
        raise ProtocolError(
            f"The kiosk's clock says {sent_at:%Y-%m-%d %H:%M}, outside {EARLIEST.year}–{LATEST.year - 1}: "
            "set the kiosk's clock (NTP), then sync again; nothing is lost meanwhile."
        )
    if not isinstance(data.get("clock_synced"), bool):
        raise ProtocolError("The batch needs 'clock_synced' (true or false).")
    records = data.get("records")
    if not isinstance(records, list):
        raise ProtocolError("The batch needs a 'records' list.")
    if data.get("status") is not None and not isinstance(data["status"], dict):
        raise ProtocolError("'status' must be an object.")
    return sent_at, data["clock_synced"], records


# --- records ---------------------------------------------------------------------------------------


def _parse_datetime(value: Any) -> datetime | None:
    if type(value) is not str:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


# Field kinds; a record type is a list of (name, kind, text limit, optional). One loop with an if-chain
# checks a record: this runs for every record the server receives, so it avoids a call per field.
TEXT, INT, BOOL, UUID, DATE, DATETIME, OBJECT, SEQ = range(8)
_WANTED = {
    TEXT: "text of at most {} characters",
    INT: "a whole number",
    BOOL: "true or false",
    UUID: "a lower-case UUID",
    DATE: "a date YYYY-MM-DD",
    DATETIME: "an ISO 8601 time",
    OBJECT: "an object",
    SEQ: "a positive whole number",
}


def _f(kind: int, limit: int = 0, optional: bool = False) -> tuple[int, int, bool]:
    return kind, limit, optional


#: Columns every record carries (besides ``type``), then the columns of each record type. They match
#: the device tables in ``kiosk.models`` (a test keeps them in step).
COMMON_FIELDS: dict[str, tuple[int, int, bool]] = {
    "id": _f(UUID),
    "seq": _f(SEQ),
    "device_time": _f(DATETIME),
    "clock_synced": _f(BOOL),
}
RECORD_FIELDS: dict[str, dict[str, tuple[int, int, bool]]] = {
    "ticket": {
        "service_code": _f(TEXT, 16),
        "business_day": _f(DATE),
        "number": _f(INT),
        "display_number": _f(TEXT, 16),
        "priority": _f(BOOL),
        "channel": _f(TEXT, 16),
    },
    "rating": {
        "level": _f(TEXT, 32),
        "points": _f(INT),
        "channel": _f(TEXT, 16),
        "panel": _f(TEXT, 64),
        "counted": _f(BOOL),
        "flag": _f(TEXT, 64, True),
        "counter_number": _f(INT, 0, True),
        "ticket_id": _f(UUID, 0, True),
        "clerk_id": _f(UUID, 0, True),
        "service_code": _f(TEXT, 16, True),
        # the dossier codes (mã hồ sơ) of the rated ticket, separated by spaces; left out of the record when
        # there are none, so a server of the first release still takes the rating
        "dossier_codes": _f(TEXT, 550, True),
    },
    "indicator_answer": {
        "rating_id": _f(UUID),
        "indicator": _f(TEXT, 16),
        "level": _f(TEXT, 32),
        "points": _f(INT),
    },
    "comment": {
        "rating_id": _f(UUID, 0, True),
        "counter_number": _f(INT, 0, True),
        "text": _f(TEXT, 10_000),
        "contact": _f(TEXT, 64, True),
    },
    "clerk_action": {
        "action": _f(TEXT, 16),
        "counter_number": _f(INT, 0, True),
        "clerk_id": _f(UUID, 0, True),
        "ticket_id": _f(UUID, 0, True),
        "detail": _f(OBJECT, 0, True),
    },
}
_SPECS = {
    kind: [(name, *spec) for name, spec in {**COMMON_FIELDS, **fields}.items()]
    for kind, fields in RECORD_FIELDS.items()
}
_ALLOWED_KEYS = {kind: frozenset(["type", *(name for name, *_ in spec)]) for kind, spec in _SPECS.items()}
_uuid_match = UUID_RE.match
_bad_char = BAD_CHAR.search


def record_key(record: Any) -> tuple[str, str]:
    """(type, id) of a raw record, or ProtocolError when it cannot even be named."""
    if not isinstance(record, dict):
        raise ProtocolError("Every record must be a JSON object.")
    kind, record_id = record.get("type"), record.get("id")
    if not isinstance(record_id, str) or not UUID_RE.match(record_id):
        raise ProtocolError(f"Record id {record_id!r} is not a lower-case UUID.")
    if not isinstance(kind, str):
        raise ProtocolError(f"Record {record_id} has no type.")
    return kind, record_id


def parse_record(record: dict, check_text: bool = True) -> dict[str, Any]:
    """The record's column values, typed; raises ValueError naming the first bad field.

    ``check_text=False`` skips the search for unstorable characters (the batch's text has none: see Batch).
    Each record type has its own checker made from its field list (:func:`_compile`): the same checks as
    :func:`parse_record_reference`, in the same order with the same messages, without the per-field dispatch.
    """
    parse = _PARSERS.get(record["type"])
    if parse is None:
        raise ValueError(f"unknown record type {record['type']!r}; use {', '.join(RECORD_FIELDS)}")
    return parse(record, check_text)


def parser(kind: str) -> Any:
    """The checker :func:`parse_record` uses for records of ``kind`` (a known type), for a caller checking many."""
    return _PARSERS[kind]


def parse_record_reference(record: dict, check_text: bool = True) -> dict[str, Any]:
    """:func:`parse_record` as one loop over the field list: the reference its compiled checkers must equal."""
    kind = record["type"]
    spec = _SPECS.get(kind)
    if spec is None:
        raise ValueError(f"unknown record type {kind!r}; use {', '.join(RECORD_FIELDS)}")
    if not _ALLOWED_KEYS[kind].issuperset(record):
        extra = sorted(set(record) - _ALLOWED_KEYS[kind])
        raise ValueError(f"unknown field(s) {', '.join(extra)} for a {kind}")
    values: dict[str, Any] = {}
    for name, code, limit, optional in spec:
        value = record.get(name)
        if value is None:
            ok = optional
        elif code == TEXT:
            ok = type(value) is str and len(value) <= limit
            if ok and check_text and _bad_char(value):
                raise ValueError(f"field {name} contains {describe_char(_bad_char(value).group())}")
        elif code == UUID:
            ok = type(value) is str and _uuid_match(value) is not None
        elif code == INT:
            ok = type(value) is int and -INT32 <= value <= INT32
        elif code == BOOL:
            ok = type(value) is bool
        elif code == DATETIME:
            value = _parse_datetime(value)
            ok = value is not None
            if ok and not EARLIEST <= value < LATEST:
                raise ValueError(f"field {name} is {value:%Y-%m-%d}, outside {EARLIEST.year}–{LATEST.year - 1}")
        elif code == SEQ:
            ok = type(value) is int and 0 < value <= INT64
        elif code == DATE:
            try:
                value, ok = date.fromisoformat(value), True
            except (TypeError, ValueError):
                ok = False
            if ok and not EARLIEST.date() <= value < LATEST.date():
                raise ValueError(f"field {name} is {value}, outside {EARLIEST.year}–{LATEST.year - 1}")
        else:
            ok = type(value) is dict
            problem = json_problem(value, MAX_OBJECT_DEPTH, name) if ok else None
            if problem:
                raise ValueError(f"field {problem[0]} holds {problem[1]}")
        if not ok:
            raise ValueError(f"field {name} must be {_WANTED[code].format(limit)}")
        values[name] = value
    return values


def _fail(name: str, code: int, limit: int) -> ValueError:
    return ValueError(f"field {name} must be {_WANTED[code].format(limit)}")


def _out_of_years(name: str, value: Any) -> ValueError:
    shown = f"{value:%Y-%m-%d}" if isinstance(value, datetime) else str(value)
    return ValueError(f"field {name} is {shown}, outside {EARLIEST.year}–{LATEST.year - 1}")


#: The names a generated checker reads times, days and objects with (also sync.typed_batch's row builders).
CHECK_NAMES: dict[str, Any] = {
    "fromisoformat": datetime.fromisoformat,
    "UTC": UTC,
    "date": date,
    "json_problem": json_problem,
    "EARLIEST": EARLIEST,
    "LATEST": LATEST,
    "EARLIEST_DAY": EARLIEST.date(),
    "LATEST_DAY": LATEST.date(),
    "MAX_OBJECT_DEPTH": MAX_OBJECT_DEPTH,
}


def _compile(kind: str) -> Any:
    """The checker of one record type, written out field by field (it runs for every record received)."""
    lines = [
        "def parse(record, check_text):",
        "    if not allowed.issuperset(record):",
        "        extra = sorted(set(record) - allowed)",
        f"        raise ValueError(f'unknown field(s) {{\", \".join(extra)}} for a {kind}')",
        "    get = record.get",
    ]
    for number, (name, code, limit, optional) in enumerate(_SPECS[kind]):
        fail = f"raise _fail({name!r}, {code}, {limit})"
        lines += [f"    value = get({name!r})", "    if value is None:", f"        {'pass' if optional else fail}"]
        if code == TEXT:
            lines += [
                f"    elif type(value) is not str or len(value) > {limit}:",
                f"        {fail}",
                "    elif check_text and _bad_char(value):",
                f"        raise ValueError('field {name} contains ' + describe_char(_bad_char(value).group()))",
            ]
        elif code == UUID:
            lines += ["    elif type(value) is not str or _uuid_match(value) is None:", f"        {fail}"]
        elif code == INT:
            lines += ["    elif type(value) is not int or not -INT32 <= value <= INT32:", f"        {fail}"]
        elif code == BOOL:
            lines += ["    elif type(value) is not bool:", f"        {fail}"]
        elif code == SEQ:
            lines += ["    elif type(value) is not int or not 0 < value <= INT64:", f"        {fail}"]
        elif code == DATETIME:
            lines += [
                "    elif type(value) is not str:",
                f"        {fail}",
                "    else:",
                "        try:",
                "            value = fromisoformat(value)",
                "        except ValueError:",
                f"            {fail}",
                "        if value.tzinfo is not None:",
                "            value = value.astimezone(UTC).replace(tzinfo=None)",
                "        if not EARLIEST <= value < LATEST:",
                f"            raise _out_of_years({name!r}, value)",
            ]
        elif code == DATE:
            lines += [
                "    else:",
                "        try:",
                "            value = date.fromisoformat(value)",
                "        except (TypeError, ValueError):",
                f"            {fail}",
                "        if not EARLIEST_DAY <= value < LATEST_DAY:",
                f"            raise _out_of_years({name!r}, value)",
            ]
        else:
            lines += [
                "    elif type(value) is not dict:",
                f"        {fail}",
                f"    elif problem := json_problem(value, MAX_OBJECT_DEPTH, {name!r}):",
                "        raise ValueError(f'field {problem[0]} holds {problem[1]}')",
            ]
        lines.append(f"    f{number} = value")
    lines.append("    return {" + ", ".join(f"{name!r}: f{n}" for n, (name, *_) in enumerate(_SPECS[kind])) + "}")
    scope = {
        **CHECK_NAMES,
        "allowed": _ALLOWED_KEYS[kind],
        "_fail": _fail,
        "_out_of_years": _out_of_years,
        "_bad_char": _bad_char,
        "_uuid_match": _uuid_match,
        "describe_char": describe_char,
        "INT32": INT32,
        "INT64": INT64,
    }
    exec(compile("\n".join(lines), f"<record checker: {kind}>", "exec"), scope)  # noqa: S102 - our own field list
    return scope["parse"]


_PARSERS = {kind: _compile(kind) for kind in RECORD_FIELDS}


def content_hash(record: Any) -> str:
    """SHA-256 of a record's canonical JSON (for keeping a refused record once in quarantine)."""
    text = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


#: Fields added after the first release: sent only when they hold a value (older servers refuse unknown fields).
LATER_FIELDS = frozenset({("rating", "dossier_codes")})


def to_wire(kind: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """A device row (column → value) as a batch record."""
    record: dict[str, Any] = {"type": kind}
    for name, temporal in _WIRE[kind]:
        value = values.get(name) if (kind, name) in LATER_FIELDS else values[name]
        if value is None and (kind, name) in LATER_FIELDS:
            continue
        record[name] = value.isoformat() if temporal and value is not None else value
    return record


_WIRE = {kind: [(name, code in (DATE, DATETIME)) for name, code, *_ in spec] for kind, spec in _SPECS.items()}
