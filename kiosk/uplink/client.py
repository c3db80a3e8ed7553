"""The device's sync client: send the outbox in batches, then exchange the catalogue with the commune, then the
kiosk's remote settings and a diagnostics bundle if one is asked (:mod:`kiosk.uplink.remote_apply`).

Every request gets a fresh counter (from a block reserved and committed before use) and is signed; every
answer must carry the server's signature over that counter before anything is marked sent or applied.
Network faults and 5xx answers are retried with exponential backoff (sending again is safe: the server
is idempotent); a stale counter (a second client with the same identity, or a restored database) is
answered by the server with its last counter, and the client continues above it. `kiosk sync` and the
loop in `kiosk serve` both use :class:`SyncClient`.
"""

from __future__ import annotations

import gzip
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests

from common.errors import ConfigError, KioskError, SyncError
from kiosk import catalog_state as state
from kiosk import device_state, upgrade_outcome
from kiosk.clock import to_naive_utc
from kiosk.device_state import CATALOG_DIRTY, CATALOG_SENT, LAST_SYNC
from kiosk.health import records_made, unsynced_count
from kiosk.storage import transaction
from kiosk.uplink import remote_apply, upload_refusal
from kiosk.uplink.bookings import take_bookings
from kiosk.uplink.device_catalog import CatalogRefused, apply_catalog, refused
from kiosk.uplink.outbox import MAX_COUNTER, mark_synced, pending, reserve_counters
from kiosk.uplink.posted import take_posted
from kiosk.uplink.procedures import take_procedures
from sync import catalog_document, protocol

log = logging.getLogger(__name__)

#: Request counters reserved per SQLite commit (unused ones are skipped; only increase matters).
COUNTER_BLOCK = 32
RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}
#: One catalogue exchange at a time in a process (the sync loop's and the catalogue watch's clients).
_EXCHANGE = threading.Lock()


class _Smaller(Exception):
    """The server asked for a smaller batch (413)."""


@dataclass
class SyncReport:
    total: int = 0
    accepted: int = 0
    already_had: int = 0
    rejected: list[dict] = field(default_factory=list)
    unanswered: int = 0
    batches: int = 0
    #: True when the commune's catalogue changed the kiosk's, False when it was already in use.
    catalog_applied: bool | None = None
    #: True when this kiosk's own catalogue was delivered (the server's signed answer named it).
    catalog_sent: bool = False
    catalog_error: str | None = None
    #: Why the central server refused this kiosk's catalogue: in this sync (``new``) or earlier (still standing).
    upload_refused: str | None = None
    upload_refused_new: bool = False
    clock_offset: float | None = None
    error: str | None = None

    @property
    def sent(self) -> int:
        return self.accepted + self.already_had

    @property
    def quarantined(self) -> list[dict]:
        """Refused records the server keeps in quarantine (for audit): settled, never sent again."""
        return [r for r in self.rejected if r.get("settled") is True]

    @property
    def ok(self) -> bool:
        return (
            self.error is None
            and self.catalog_error is None
            and len(self.quarantined) == len(self.rejected)
            and not self.unanswered
        )

    def message(self) -> str:
        """The summary of the records and the commune's catalogue, then this kiosk's refused catalogue if any."""
        return " ".join(filter(None, (self._records_message(), self.upload_refused)))

    def _records_message(self) -> str:
        if self.error:
            return self.error
        if self.catalog_error:
            return (
                f"{self.catalog_error} The kiosk keeps its catalogue; {self.sent} record(s) are stored at the "
                "central server. Correct the catalogue on the central pages."
            )
        reasons = "; ".join(f"{r.get('type')} {r.get('id')}: {r.get('reason')}" for r in self.rejected[:3])
        if len(self.quarantined) < len(self.rejected):
            return (
                f"The central server refused {len(self.rejected)} record(s) ({reasons}). They stay on the kiosk; "
                "tell the commune's administrator."
            )
        if self.unanswered:
            return f"The central server did not answer for {self.unanswered} record(s); they will be sent again."
        if self.rejected:
            return (
                f"Sync finished: {self.sent} record(s) stored at the central server; {len(self.rejected)} it could "
                f"not store are kept there in quarantine for the administrator ({reasons})."
            )
        return f"Sync finished: {self.sent} record(s) stored at the central server."


class SyncClient:
    """One kiosk's connection to the central server. Not thread-safe; one sync at a time per instance."""

    def __init__(
        self,
        kiosk: Any,
        http: requests.Session | None = None,
        batch_size: int | None = None,
        max_attempts: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 60.0,
        timeout: tuple[float, float] = (10.0, 120.0),
        progress: Callable[[int, int], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        s = kiosk.settings
        missing = [name for name in ("central_url", "device_id", "device_secret") if not s[name]]
        if missing:
            raise ConfigError(
                f"Sync needs the setting(s) {', '.join(missing)}: register the kiosk with "
                "`kiosk-central add-device NAME --commune CODE` and copy the values it prints."
            )
        self.kiosk = kiosk
        self.base = s["central_url"].rstrip("/")
        self.device_id, self.secret, self.commune = s["device_id"], s["device_secret"], s["commune_code"]
        self.http = http or requests.Session()
        self.batch_size = max(1, int(batch_size or s["sync_batch_size"]))
        self.max_attempts, self.backoff, self.max_backoff = max_attempts, backoff, max_backoff
        self.timeout = timeout
        self.progress = progress
        self.sleep = sleep
        self._counters: Iterator[int] = iter(())
        self._floor = 0
        self._report = SyncReport()
        self._made_at_start = 0

    # --- one full sync -----------------------------------------------------------------------------

    def run(self) -> SyncReport:
        """Send everything pending, then exchange the catalogue; records the result (for /healthz)."""
        report = self._report = SyncReport()
        engine = self.kiosk.engine
        with self.kiosk.sessions() as session:
            report.total = unsynced_count(session)
            self._made_at_start = records_made(session)
        try:
            self._upload(report)
            self._exchange_catalog(report)
            take_procedures(self)
            take_bookings(self)
            self._exchange_remote()
            take_posted(self)  # last: a PDF that cannot be fetched leaves the rest of the sync done
        except SyncError as exc:
            report.error = exc.message
        except Exception as exc:  # noqa: BLE001 - recorded for /healthz, then raised to the caller
            report.error = f"{type(exc).__name__}: {exc}"
            self._record(engine, report)
            raise
        self._record(engine, report)
        return report

    def _upload(self, report: SyncReport) -> None:
        """Batches in seq order; the next one is read and encoded while the server stores the current one.

        With nothing to send, one empty batch still goes: it carries the kiosk's state (0 unsynced, the printer)
        and tells the server the kiosk is alive, so an idle kiosk is never shown silent or out of date.
        """
        with ThreadPoolExecutor(1, thread_name_prefix="sync-read") as reader:
            cursor = 0
            ahead = reader.submit(self._read, cursor, self.batch_size)
            first = True
            while True:
                items, records_json = ahead.result()
                if not items and not first:
                    return
                first = False
                if items:
                    ahead = reader.submit(self._read, items[-1][1]["seq"], self.batch_size)
                try:
                    answer = self._request(
                        "POST", protocol.SYNC_PATH, lambda r=records_json, n=len(items): self._body(r, n)
                    )
                except _Smaller:
                    if self.batch_size == 1:
                        raise SyncError(
                            f"The central server refuses record {items[0][1]['id']} as too large."
                        ) from None
                    self.batch_size = max(1, self.batch_size // 2)
                    ahead.result()  # read too far ahead with the old size: read again from here
                    ahead = reader.submit(self._read, cursor, self.batch_size)
                    continue
                self._settle(items, answer, report)
                if not items:
                    return
                cursor = items[-1][1]["seq"]
                if self.progress:
                    self.progress(report.sent, report.total)

    def exchange_catalog(self) -> SyncReport:
        """The catalogue exchange alone (no records): what the catalogue watch does when the commune's changed."""
        report = self._report = SyncReport()
        try:
            self._exchange_catalog(report)
        except SyncError as exc:
            report.error = exc.message
        return report

    def watch(self, since: str, wait: float, remote: int | None = None) -> dict:
        """Wait (at most ``wait`` s) at the server for a catalogue other than version ``since``; its signed answer
        ``{"changed", "version", "retry"?, "remote"?}`` (see central/catalog_watch.py). ``remote``: the remote
        settings version the kiosk holds (answered at once when there is news for it). SyncError when it cannot
        be asked."""
        params = {"since": since, "wait": f"{wait:g}"}
        if remote is not None:
            params["remote"] = str(remote)
        return self._request("GET", protocol.CHANGES_PATH, lambda: b"", params)

    def post(self, path: str, document: dict) -> dict:
        """One signed POST of ``document`` (gzip JSON) and its verified answer; SyncError when refused or unreachable."""
        body = gzip.compress(json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode())
        return self._request("POST", path, lambda: body)

    def _exchange_remote(self) -> None:
        """Remote settings and diagnostics (:mod:`kiosk.uplink.remote_apply`); their failure never fails a sync."""
        try:
            remote_apply.exchange(self)
        except SyncError as exc:
            log.warning("remote settings: %s", exc.message)

    def _exchange_catalog(self, report: SyncReport) -> None:
        with _EXCHANGE:  # the sync loop and the catalogue watch never exchange at the same time
            self._exchange_catalog_once(report)

    def _exchange_catalog_once(self, report: SyncReport) -> None:
        """Send this kiosk's catalogue if the server lacks it, and apply the commune's (see sync/protocol.py).

        After the document was applied or refused, one more exchange tells the server which version the
        kiosk now uses (its pages show which kiosks run the newest), unless that is what it already said.
        """
        told = None
        for _ in range(3):
            with self.kiosk.sessions() as session:
                catalog = state.snapshot(session)
                dirty, sent = state.dirty_items(session), state.get(session, state.SENT_KEY)
                owner, applied = state.owner(session), state.get(session, state.VERSION_KEY)
                held = upload_refusal.held(session)
            digest = catalog_document.digest(catalog)
            send = sent is None or (owner == "kiosk" and (digest != sent or bool(dirty)))
            send = send and not (held and held.get("digest") == digest)  # refused as it is: not sent again
            note = refused(self.kiosk.sessions)
            reason = note.get("reason") if note else None
            if told is not None and told == (applied, reason) and not send:
                return
            body = {
                "v": protocol.PROTOCOL_VERSION,
                "device": self.device_id,
                "commune": self.commune,
                "applied": applied,
                "refused": reason,
                "catalog": catalog if send else None,
                "digest": digest if send else None,
                "changed": dirty if send else [],
            }
            try:
                answer = self._request("POST", protocol.CATALOG_PATH, lambda b=body: protocol.encode_batch(b))
            except SyncError as exc:
                status = exc.detail.get("status") if isinstance(exc.detail, dict) else None
                if send and status in upload_refusal.REFUSING:
                    self._upload_refused(report, digest, exc.detail)
                    continue  # the exchange again without this catalogue: the commune's still comes down
                if status != 404:
                    raise
                # A server of the first release: it only sends its catalogue (and takes none).
                log.warning("the central server has no %s: taking its catalogue only", protocol.CATALOG_PATH)
                send, told = False, None
                answer = {"catalog": self._request("GET", protocol.CONFIG_PATH, lambda: b"")}
            else:
                told = (applied, reason)
            if send and answer.get("received") == digest:
                self._delivered(digest, dirty, keep_refusal=report.upload_refused_new)
                report.catalog_sent = True
            elif held and not report.upload_refused:
                report.upload_refused = upload_refusal.message(held, new=False)
            try:
                pages = f"{self.base}/admin/communes/{self.commune}" if told is not None else None
                changed = apply_catalog(self.kiosk, answer.get("catalog"), pages)
            except CatalogRefused as exc:
                report.catalog_error = exc.message
                changed = False
            report.catalog_applied = bool(report.catalog_applied) or changed
            if told is None:  # that server cannot be told which version the kiosk uses
                return

    def _upload_refused(self, report: SyncReport, digest: str, detail: dict) -> None:
        """The server refused this catalogue (not a fault of the network): kept, said, and not sent again as it is."""
        at = self.kiosk.clock.now().isoformat(timespec="seconds")
        status, error, why = detail["status"], detail.get("error"), detail.get("detail")
        note = upload_refusal.remember(self.kiosk.sessions, digest, status, error, why, at)
        log.error("the central server refused this kiosk's catalogue: %s", note["reason"])
        report.upload_refused, report.upload_refused_new = upload_refusal.message(note, new=True), True

    def _delivered(self, digest: str, dirty: list[str], keep_refusal: bool = False) -> None:
        """The server named this catalogue as received: it is not sent again until something changes.

        A refusal of an earlier catalogue is forgotten then, unless it came in this same sync (it is shown once
        on `/admin` and `/healthz` before the next sync clears it)."""
        with transaction(self.kiosk.sessions) as session:
            if not keep_refusal:
                upload_refusal.forget(session)
            left = sorted(set(state.dirty_items(session)) - set(dirty))  # edits made meanwhile stay to send
            device_state.put(session, CATALOG_DIRTY, left or None)
            device_state.put(session, CATALOG_SENT, digest)

    def _read(self, cursor: int, limit: int) -> tuple[list[tuple[str, dict]], str]:
        items = pending(self.kiosk.engine, cursor, limit)
        wire = [protocol.to_wire(kind, values) for kind, values in items]
        return items, protocol.encode_records(wire)

    def _settle(self, items: list[tuple[str, dict]], answer: dict, report: SyncReport) -> None:
        """Mark what the server named as stored or kept in quarantine; count what it refused or left out."""
        report.batches += 1
        report.clock_offset = answer.get("clock_offset")
        sent = {values["id"]: (kind, values["seq"]) for kind, values in items}
        accepted = set(answer.get("accepted") or []) & sent.keys()
        had = set(answer.get("already_had") or []) & sent.keys()
        rejected = [r for r in answer.get("rejected") or [] if isinstance(r, dict) and r.get("id") in sent]
        kept = {r["id"] for r in rejected if r.get("settled") is True}  # kept in quarantine there: never resent
        settled = accepted | had | kept
        mark_synced(self.kiosk.engine, [(i, *sent[i]) for i in settled], to_naive_utc(self.kiosk.clock.now()))
        report.accepted += len(accepted)
        report.already_had += len(had)
        report.rejected.extend(rejected)
        report.unanswered += len(sent.keys() - accepted - had - {r["id"] for r in rejected})

    def _body(self, records_json: str, count: int) -> bytes:
        """The batch as sent: a fresh device time and status around the ``count`` records read earlier.

        ``unsynced`` is what will be left on the kiosk once the server stores this batch — not what was left
        before it — so the fleet page shows 0 after a successful sync, and the true backlog otherwise.
        ``version`` is the installed one (the Debian package's) and ``upgrade`` the last upgrade's outcome
        (``upgrade.json``), for the fleet page's versions and its "rolled back" mark.
        """
        clock = self.kiosk.clock
        printer = self.kiosk.hardware.get("printer")
        with self.kiosk.sessions() as session:  # what was unsent at the start, plus what was made since,
            made_since = records_made(session) - self._made_at_start  # minus what this sync stored (one lookup)
        left = max(self._report.total + made_since - self._report.sent - count, 0)
        envelope = {
            "v": protocol.PROTOCOL_VERSION,
            "device": self.device_id,
            "commune": self.commune,
            "sent_at": to_naive_utc(clock.now()).isoformat(),
            "clock_synced": clock.synced(),
            "status": {
                "unsynced": left,
                "printer": printer.status() if printer is not None and hasattr(printer, "status") else None,
                "version": upgrade_outcome.installed_version(),
                "upgrade": upgrade_outcome.for_sync(self.kiosk.settings.data_path),
            },
        }
        return protocol.encode_batch(envelope, records_json)

    # --- one signed request, with retries ----------------------------------------------------------

    def _request(
        self, method: str, path: str, make_body: Callable[[], bytes], params: dict[str, str] | None = None
    ) -> dict:
        """The verified JSON answer; SyncError when the server refuses or cannot be reached."""
        failures, stale = 0, 0
        while True:
            counter = self._counter()
            body = make_body()
            headers = protocol.request_headers(self.secret, method, path, self.device_id, counter, body)
            if body:
                headers.update({"Content-Type": "application/json", "Content-Encoding": "gzip"})
            try:
                response = self.http.request(
                    method, self.base + path, params=params, data=body or None, headers=headers, timeout=self.timeout
                )
                problem = self._check(response, counter)
            except requests.RequestException as exc:
                problem = f"cannot reach {self.base}: {type(exc).__name__}"
                response = None
            if response is not None and problem is None:
                answer = _json(response)
                if not answer:
                    raise SyncError(f"The central server's answer to {method} {path} is not a JSON object.")
                return answer
            if response is not None and response.status_code == 409:
                last = _json(response).get("detail", {}) or {}
                if isinstance(last, dict) and isinstance(last.get("last_counter"), int) and stale < 50:
                    self._counters = iter(())  # the block is used up elsewhere: reserve one above the server's
                    self._floor, stale = min(last["last_counter"], MAX_COUNTER), stale + 1
                    self.sleep(random.uniform(0, 0.05))
                    continue
            if response is not None and response.status_code == 413:
                raise _Smaller()
            if response is not None and response.status_code not in RETRY_STATUS and problem != "unsigned":
                refusal = _json(response)
                error = refusal.get("error") or response.reason
                raise SyncError(
                    f"The central server refused the request ({response.status_code}): {error}",
                    {"status": response.status_code, "error": error, "detail": refusal.get("detail")},
                )
            failures += 1
            if failures >= self.max_attempts:
                raise SyncError(
                    f"Sync could not finish after {failures} tries ({problem or response.status_code}). "
                    "Nothing is lost: the records stay on the kiosk and are sent at the next sync."
                )
            delay = min(self.max_backoff, self.backoff * 2 ** (failures - 1)) * random.uniform(0.5, 1.0)
            log.warning("sync %s %s failed (%s); retrying in %.1f s", method, path, problem, delay)
            self.sleep(delay)

    def _counter(self) -> int:
        """The next request counter, from a block reserved (and committed) before any of it is used."""
        counter = next(self._counters, None)
        if counter is None:
            self._counters = iter(reserve_counters(self.kiosk.engine, COUNTER_BLOCK, self._floor))
            counter = next(self._counters)
        return counter

    def _check(self, response: requests.Response, counter: int) -> str | None:
        """None when the answer is a 200 signed by the server for this counter."""
        if response.status_code != 200:
            return f"HTTP {response.status_code}"
        signature = response.headers.get(protocol.SIGNATURE_HEADER, "")
        if not protocol.response_ok(self.secret, signature, self.device_id, counter, response.content):
            log.error("answer from %s is not signed by the central server; ignoring it", self.base)
            return "unsigned"
        return None

    def _record(self, engine: Any, report: SyncReport) -> None:
        with self.kiosk.sessions() as session:
            left = unsynced_count(session)
        now = self.kiosk.clock.now().isoformat(timespec="seconds")
        before = device_state.read(engine, LAST_SYNC)
        summary = {
            "at": now,
            "ok": report.ok,
            "last_ok_at": now if report.ok else (before.get("last_ok_at") if isinstance(before, dict) else None),
            "sent": report.sent,
            "rejected": len(report.rejected),
            "quarantined": len(report.quarantined),
            "pending": left,
            "clock_offset": report.clock_offset,
            "error": None if report.ok else report.message(),
        }
        device_state.write(engine, LAST_SYNC, summary)


def _json(response: requests.Response) -> dict:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class SyncLoop(threading.Thread):
    """`kiosk serve`'s background sync: every ``sync_interval`` seconds, and once shortly after start."""

    def __init__(self, kiosk: Any, first_delay: float = 10.0) -> None:
        super().__init__(name="sync", daemon=True)
        self.kiosk = kiosk
        self.interval = float(kiosk.settings["sync_interval"])
        self.first_delay = min(first_delay, self.interval)
        self.stopping = threading.Event()

    def run(self) -> None:
        delay = self.first_delay
        while not self.stopping.wait(delay):
            delay = self.interval * random.uniform(0.9, 1.1)
            try:
                report = SyncClient(self.kiosk, max_attempts=3, sleep=self.stopping.wait).run()
            except KioskError as exc:
                log.error("sync: %s", exc.message)
                continue
            except Exception:  # noqa: BLE001 - the loop must outlive any one failed sync
                log.exception("sync failed")
                continue
            (log.info if report.ok else log.warning)("sync: %s", report.message())

    def stop(self) -> None:
        """Stop between requests; a request in flight is abandoned after a second (sending again is safe), so
        `kiosk serve` still stops within seconds of SIGTERM while the central server is slow to answer."""
        self.stopping.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout=1)
