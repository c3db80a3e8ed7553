"""The kiosks' side of the central server: `POST /api/v1/sync` (records), `POST /api/v1/catalog` (the
catalogue both ways), `GET /api/v1/catalog`, for kiosks of the first release `GET /api/v1/config`, and
`GET /api/v1/config/changes` (a kiosk waiting for a newer catalogue, :mod:`central.catalog_watch`).

Every call needs a signed request (``sync.protocol``); every answer is signed with the device's secret over
the request's counter, so a kiosk trusts only answers to the request it sent.
"""

from __future__ import annotations

import logging
import threading

from flask import Blueprint, Response, current_app, request
from sqlalchemy import update

from central import ingest, remote_store
from central.auth import SignedDevice, authenticate
from central.catalog import build_catalog
from central.catalog_upload import check_upload, receive
from central.catalog_watch import WAIT_MAX, CatalogWatch
from central.clerk_ownership import ClerksNotTheirs, log_refusal
from central.context import current_central
from central.models import DeviceStatus
from central.signed_api import decode, log_call, names_itself, signed_answer, signed_request
from common.db import transaction
from common.errors import ValidationError
from sync import protocol

log = logging.getLogger(__name__)

bp = Blueprint("central_api", __name__)


@bp.post(protocol.SYNC_PATH)
def sync_batch() -> Response:
    """Store a device's batch in one transaction; answer which records were stored, already had or refused."""
    central = current_central()
    raw = request.get_data(cache=False)  # over central_max_body → 413 before anything is read further
    limit = central.settings["central_max_records"]
    with central.engine.begin() as conn:  # one connection: who signed, then the batch, in one transaction
        device = authenticate(conn, central.master_key, request.method, request.path, request.headers, raw)
        try:
            text = protocol.inflate(raw, request.headers.get("Content-Encoding"))
        except protocol.ProtocolError as exc:
            raise ValidationError(str(exc)) from None
        except OverflowError as exc:  # only the size: "send smaller batches" to the kiosk
            raise ingest.TooLarge(str(exc), {"limit": "bytes"}) from None
        try:
            prepared = ingest.prepare_body(text, device.id, device.commune_code, limit)
        except protocol.ProtocolError as exc:
            raise ValidationError(str(exc), {"field": exc.field} if exc.field else None) from None
        except OverflowError as exc:  # a value out of any range is bad input, never "too large"
            raise ValidationError(f"A value in the batch is out of range: {exc}.") from None
        now = central.clock.now()
        result = ingest.store(
            conn,
            prepared,
            device.commune_code,
            device.id,
            device.counter,
            now,
            request.remote_addr,
            device.site_code,
            central.local_time,
        )
    log.info(
        "device %s: %d accepted, %d already had, %d rejected (%s)",
        device.id,
        len(result.accepted),
        len(result.already_had),
        len(result.rejected),
        "read typed" if result.typed else "read the reference way",
    )
    return signed_answer(device, result.as_json())


def _short(value, limit: int, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise ValidationError(f"'{field}' must be text of at most {limit} characters.", {"field": field})
    return value


@bp.post(protocol.CATALOG_PATH)
def catalog_exchange() -> Response:
    """The kiosk's catalogue in (when it sends one), the commune's catalogue out, in one signed exchange.

    The body says which version of the commune's catalogue the kiosk uses (or why it refused the last one),
    and carries the kiosk's own catalogue when it changed since the server last acknowledged it. The answer
    names the digest it received — only then does the kiosk count its catalogue as delivered — and holds the
    commune's catalogue document.
    """
    central = current_central()
    raw = request.get_data(cache=False)
    device = signed_request(raw)
    body = decode(raw)
    names_itself(body, device, "the catalogue")
    applied = _short(body.get("applied"), 64, "applied")
    refused = _short(body.get("refused"), 2000, "refused")
    digest = _short(body.get("digest"), 64, "digest")
    catalog, changed = body.get("catalog"), set()
    if catalog is not None:
        if not digest:
            raise ValidationError("A catalogue needs its 'digest'.", {"field": "digest"})
        catalog, changed = check_upload(catalog, body.get("changed", []))
    now = central.clock.now()
    state = {"last_config_at": now, "catalog_version": applied, "catalog_refused": (refused or None) and refused[:500]}
    try:
        document, outcome = _exchange(device, catalog, changed, digest, refused, state, now)
    except ClerksNotTheirs as exc:  # rolled back; the attempt is logged on its own (and the counter used up)
        with transaction(central.sessions) as session:
            ingest.claim_counter(session.connection(), device.commune_code, device.id, device.counter, state)
            log_refusal(session, device.commune_code, device.id, device.name, exc, now)
        log.warning("device %s: catalogue refused: %s", device.id, exc.message)
        raise
    answer = {"v": protocol.PROTOCOL_VERSION, "received": digest if catalog is not None else None}
    return signed_answer(device, {**answer, "outcome": outcome, "catalog": document})


def _exchange(device: SignedDevice, catalog, changed: set[str], digest, refused, state: dict, now) -> tuple[dict, str]:
    """The catalogue in (if any) and the commune's document out, in one transaction."""
    central = current_central()
    with transaction(central.sessions) as session:
        conn = session.connection()
        ingest.claim_counter(conn, device.commune_code, device.id, device.counter, {**state, "catalog_at": now})
        outcome = None
        if catalog is not None:
            status = session.get(DeviceStatus, (device.commune_code, device.id))
            if status.catalog_received == digest:
                outcome = "already_had"
            else:
                outcome = receive(session, device.commune_code, device.id, device.name, catalog, changed, now)
                status.catalog_received = digest
            session.flush()
            log.info("device %s: catalogue %s (%s)", device.id, digest[:12], outcome)
        if refused:
            log.warning("device %s refused the commune's catalogue: %s", device.id, refused)
        log_call(conn, device, "catalog", now)
        document = build_catalog(session, device.commune_code, device.id, device.name)
    return document, outcome


@bp.get(protocol.CATALOG_PATH)
@bp.get(protocol.CONFIG_PATH)
def device_catalog() -> Response:
    """The commune's catalogue document, signed for the device that asked (`/api/v1/config`: first release)."""
    central = current_central()
    device = signed_request(request.get_data(cache=False))
    now = central.clock.now()
    with transaction(central.sessions) as session:
        conn = session.connection()
        ingest.claim_counter(conn, device.commune_code, device.id, device.counter, {"last_config_at": now})
        log_call(conn, device, "config", now)
        document = build_catalog(session, device.commune_code, device.id, device.name)
    return signed_answer(device, document)


def _remote_news(device: SignedDevice, held: str | None) -> bool:
    """Whether a kiosk holding remote settings version ``held`` (``?remote=``, sent by kiosks that know remote
    settings) has a newer version or a diagnostics request waiting: then it is answered at once."""
    if held is None:
        return False
    if not held.isdigit() or len(held) > 9:
        raise ValidationError("'remote' must be a version number.", {"field": "remote"})
    with current_central().sessions() as session:
        mark = remote_store.mark(session, device.commune_code, device.id)
    return mark["diagnostics"] or mark["version"] > int(held)


_watch_lock = threading.Lock()


def catalog_watch() -> CatalogWatch:
    """This app's waiting kiosks (made at the first watch)."""
    with _watch_lock:
        watch = current_app.extensions.get("catalog_watch")
        if watch is None:
            central = current_central()
            watch = CatalogWatch(central.sessions, central.settings["central_watch_slots"])
            current_app.extensions["catalog_watch"] = watch
        return watch


@bp.get(protocol.CHANGES_PATH)
def catalog_changes() -> Response:
    """`?since=VERSION&wait=SECONDS`: answers when the commune's catalogue differs from VERSION, or after the wait.

    ``{"changed", "version"}`` (with ``"remote"`` once anything was set or asked for this kiosk: its newest remote
    settings version and whether a diagnostics bundle is asked, :mod:`central.remote_api`; and ``"retry"`` seconds when the server had no slot for a waiting request);
    the kiosk then takes the document by its usual exchange. Marks when the kiosk last listened (its
    ``last_config_at``): the catalogue page counts a kiosk that listened lately as one that takes a change
    within seconds.
    """
    central = current_central()
    device = signed_request(request.get_data(cache=False))
    since = _short(request.args.get("since", ""), 64, "since") or ""
    try:
        wait = min(max(float(request.args.get("wait", 25)), 0.0), WAIT_MAX)
    except ValueError:
        raise ValidationError("'wait' must be a number of seconds.", {"field": "wait"}) from None
    if _remote_news(device, request.args.get("remote")):
        wait = 0.0  # something new for this kiosk that it may have missed while it was not waiting
    table = DeviceStatus.__table__
    with central.engine.begin() as conn:
        conn.execute(
            update(table)
            .where(table.c.commune_code == device.commune_code, table.c.device_id == device.id)
            .values(last_config_at=central.clock.now())
        )
    watched = catalog_watch().wait(device.commune_code, since, wait)
    answer = {"v": protocol.PROTOCOL_VERSION, **watched.as_json()}
    with central.sessions() as session:  # the kiosk's remote settings version and a diagnostics request, if any
        remote = remote_store.mark(session, device.commune_code, device.id)
    if remote["version"] or remote["diagnostics"]:
        answer["remote"] = remote
    return signed_answer(device, answer)
