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
or applies a configuration, on the word of anyone but the server.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import re
import zlib
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

PROTOCOL_VERSION = 1
SCHEME = "KIOSK-HMAC-SHA256-v1"

DEVICE_HEADER = "X-Kiosk-Device"
COUNTER_HEADER = "X-Kiosk-Counter"
SIGNATURE_HEADER = "X-Kiosk-Signature"

SYNC_PATH = "/api/v1/sync"
CONFIG_PATH = "/api/v1/config"

#: Hard cap on a batch once decompressed (a small gzip body must not inflate without bound).
MAX_DECOMPRESSED = 32 * 1024 * 1024

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


def encode_batch(envelope: Mapping[str, Any]) -> bytes:
    """The gzip-compressed JSON body of a batch."""
    text = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), default=_json_default)
    return gzip.compress(text.encode(), compresslevel=5, mtime=0)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__}")


def decode_batch(raw: bytes, content_encoding: str | None, limit: int = MAX_DECOMPRESSED) -> dict:
    """Decompress and parse a batch body. Raises ProtocolError (400) or OverflowError (413)."""
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
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"The batch is not valid JSON: {exc}.") from exc
    if not isinstance(data, dict):
        raise ProtocolError("The batch must be a JSON object.")
    return data


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
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _text(limit: int) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if isinstance(value, str) and len(value) <= limit:
            return value
        raise ValueError(f"text of at most {limit} characters")

    return check


def _int(value: Any) -> int:
    if type(value) is int and -INT32 <= value <= INT32:
        return value
    raise ValueError("a whole number")


def _bool(value: Any) -> bool:
    if type(value) is bool:
        return value
    raise ValueError("true or false")


def _uuid(value: Any) -> str:
    if isinstance(value, str) and UUID_RE.match(value):
        return value
    raise ValueError("a lower-case UUID")


def _date(value: Any) -> date:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError("a date YYYY-MM-DD")


def _datetime(value: Any) -> datetime:
    moment = _parse_datetime(value)
    if moment is None:
        raise ValueError("an ISO 8601 time")
    return moment


def _json(value: Any) -> Any:
    if isinstance(value, dict):
        return value
    raise ValueError("an object")


def _optional(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def optional(value: Any) -> Any:
        return None if value is None else check(value)

    return optional


def _seq(value: Any) -> int:
    if type(value) is int and 0 < value <= INT64:
        return value
    raise ValueError("a positive whole number")


#: Columns every record carries (besides ``type``), then the columns of each record type. They match
#: the device tables in ``kiosk.models`` (a test keeps them in step).
COMMON_FIELDS: dict[str, Callable[[Any], Any]] = {
    "id": _uuid,
    "seq": _seq,
    "device_time": _datetime,
    "clock_synced": _bool,
}
RECORD_FIELDS: dict[str, dict[str, Callable[[Any], Any]]] = {
    "ticket": {
        "service_code": _text(16),
        "business_day": _date,
        "number": _int,
        "display_number": _text(16),
        "priority": _bool,
        "channel": _text(16),
    },
    "rating": {
        "level": _text(32),
        "points": _int,
        "channel": _text(16),
        "panel": _text(64),
        "counted": _bool,
        "flag": _optional(_text(64)),
        "counter_number": _optional(_int),
        "ticket_id": _optional(_uuid),
        "clerk_id": _optional(_uuid),
        "service_code": _optional(_text(16)),
    },
    "indicator_answer": {
        "rating_id": _uuid,
        "indicator": _text(16),
        "level": _text(32),
        "points": _int,
    },
    "comment": {
        "rating_id": _optional(_uuid),
        "counter_number": _optional(_int),
        "text": _text(10_000),
        "contact": _optional(_text(64)),
    },
    "clerk_action": {
        "action": _text(16),
        "counter_number": _optional(_int),
        "clerk_id": _optional(_uuid),
        "ticket_id": _optional(_uuid),
        "detail": _optional(_json),
    },
}
_CHECKS = {kind: {**COMMON_FIELDS, **fields} for kind, fields in RECORD_FIELDS.items()}
_ALLOWED_KEYS = {kind: {"type", *checks} for kind, checks in _CHECKS.items()}


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


def parse_record(record: dict) -> dict[str, Any]:
    """The record's column values, typed; raises ValueError naming the first bad field."""
    checks = _CHECKS.get(record["type"])
    if checks is None:
        raise ValueError(f"unknown record type {record['type']!r}; use {', '.join(RECORD_FIELDS)}")
    extra = record.keys() - _ALLOWED_KEYS[record["type"]]
    if extra:
        raise ValueError(f"unknown field(s) {', '.join(sorted(extra))} for a {record['type']}")
    values = {}
    for name, check in checks.items():
        try:
            values[name] = check(record.get(name))
        except ValueError as exc:
            raise ValueError(f"field {name} must be {exc}") from None
    return values


def content_hash(record: Any) -> str:
    """SHA-256 of a record's canonical JSON (for keeping a refused record once in quarantine)."""
    text = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def to_wire(kind: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """A device row (column → value) as a batch record."""
    record: dict[str, Any] = {"type": kind}
    for name in _CHECKS[kind]:
        value = values[name]
        record[name] = value.isoformat() if isinstance(value, datetime | date) else value
    return record
