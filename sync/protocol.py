"""The wire format between a kiosk and `kiosk-central`, used by both ends.

A batch is a gzip-compressed JSON object (``Content-Encoding: gzip``)::

    {"v": 1, "device": ID, "commune": CODE, "sent_at": ISO, "clock_synced": bool,
     "status": {"unsynced": n, "printer": "...", "version": "...", "upgrade": {...} | null},
     "records": [{"type": "rating", "id": UUID, "seq": n, "device_time": ISO, "clock_synced": bool, ...}]}

``status.version`` is the kiosk's installed version (its Debian package's when it is one); ``status.upgrade``
(added later; a server that does not know it ignores it) is the last package upgrade's outcome
``{"outcome": "upgraded"|"rolled_back"|"rollback_failed"|"refused"|"failed"|"interrupted", "from", "to", "at",
"detail"}`` (``interrupted``: a power cut or restart stopped it, and the kiosk put itself back on ``from``; a
server that does not know an outcome ignores the whole ``status.upgrade``).

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

A record's fields and the rules their values keep are declared in :mod:`sync.record_schema`; the server checks
them with :mod:`sync.record_checks` (or, for a clean batch, :mod:`sync.typed_batch`).
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
from datetime import date, datetime
from typing import Any

from common.safe_text import parse_int
from sync.record_schema import DATE, DATETIME, EARLIEST, FIELDS, LATEST, UUID_RE, parse_datetime

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
#: A kiosk waits here for a catalogue newer than its own (`?since=VERSION&wait=SECONDS`; GET, signed).
CHANGES_PATH = "/api/v1/config/changes"
#: A kiosk posts its live panel here (signed, gzip JSON `{"v", "device", "commune", "panel"}`; issue 25).
PANEL_PATH = "/api/v1/panel"

#: ``status.upgrade``'s outcomes (systemd/kiosk-upgrade.sh writes them), and the longest text of each of its
#: fields the server keeps (its ``device_status.upgrade_*`` columns): the kiosk cuts them so, the server again.
UPGRADE_OUTCOMES = ("upgraded", "rolled_back", "rollback_failed", "refused", "failed", "interrupted")
UPGRADE_LIMITS = {"outcome": 20, "from": 32, "to": 32, "at": 32, "detail": 500}

#: Hard cap on a batch once decompressed (a small gzip body must not inflate without bound).
MAX_DECOMPRESSED = 32 * 1024 * 1024


class ProtocolError(ValueError):
    """A body or record that does not follow the protocol; the message says what is wrong, ``field`` which
    field of the batch's envelope it is about (when one is)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


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
    return Batch(data, suspicious=may_hold_unstorable(raw))


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


def may_hold_unstorable(raw: bytes) -> bool:
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
        raise ProtocolError(f"Protocol version {data.get('v')!r} is not understood; this server speaks v1.", "v")
    for key in ("device", "commune"):
        if not isinstance(data.get(key), str):
            raise ProtocolError(f"The batch needs a {key!r} text field.", key)
    sent_at = parse_datetime(data.get("sent_at"))
    if sent_at is None:
        raise ProtocolError("The batch needs 'sent_at', the device's wall-clock time in ISO 8601.", "sent_at")
    if not EARLIEST <= sent_at < LATEST:
        raise ProtocolError(
            f"The kiosk's clock says {sent_at:%Y-%m-%d %H:%M}, outside {EARLIEST.year}–{LATEST.year - 1}: "
            "set the kiosk's clock (NTP), then sync again; nothing is lost meanwhile.",
            "sent_at",
        )
    if not isinstance(data.get("clock_synced"), bool):
        raise ProtocolError("The batch needs 'clock_synced' (true or false).", "clock_synced")
    records = data.get("records")
    if not isinstance(records, list):
        raise ProtocolError("The batch needs a 'records' list.", "records")
    if data.get("status") is not None and not isinstance(data["status"], dict):
        raise ProtocolError("'status' must be an object.", "status")
    return sent_at, data["clock_synced"], records


# --- records ---------------------------------------------------------------------------------------


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


def content_hash(record: Any) -> str:
    """SHA-256 of a record's canonical JSON (for keeping a refused record once in quarantine)."""
    text = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def to_wire(kind: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """A device row (column → value) as a batch record (sync.record_schema: a field added later is left out
    while it holds no value)."""
    record: dict[str, Any] = {"type": kind}
    for name, temporal, later in _WIRE[kind]:
        value = values.get(name) if later else values[name]
        if value is None and later:
            continue
        record[name] = value.isoformat() if temporal and value is not None else value
    return record


_WIRE = {kind: [(f.name, f.code in (DATE, DATETIME), f.later) for f in fields] for kind, fields in FIELDS.items()}
