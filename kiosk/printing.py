"""Printing tickets in the background, so a printer fault never costs a citizen their place in the queue.

The queue service commits the ticket first; :meth:`PrintService.submit` then writes a ``print_jobs`` row
and hands it to one worker thread, which renders the ticket, sends it with a bounded retry and records
printed / failed, the attempts and the printer's own words. The web layer waits a moment for the
outcome (:meth:`wait`) so the citizen screen can show the number very large when nothing came out, and
a clerk can print any ticket again (:meth:`reprint`). The printer and the panel's lights are passed in by
``kiosk/app.py`` (they live in ``hardware/``); here they are the ports :class:`kiosk.ports.TicketPrinter` and
:class:`kiosk.ports.Lights`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from common.errors import NotFoundError, PrinterError
from kiosk import catalog_state, phone_link
from kiosk.clock import Clock, from_naive_utc, to_naive_utc
from kiosk.models import PrintJob, Service, Ticket, TicketState
from kiosk.ports import Lights, TicketPrinter
from kiosk.storage import transaction

log = logging.getLogger(__name__)

PENDING, PRINTED, FAILED = "pending", "printed", "failed"
#: States that light the rating panel's LEDs in a blink pattern a technician can read.
FAULT_STATES = ("paper_out", "offline")
RATING_CAPTION = "Quét mã để đánh giá sự hài lòng"
#: Under the QR code of the ticket's phone page (printed in Vietnamese, like the whole ticket).
PHONE_CAPTION = "Quét mã để theo dõi số và đánh giá (Wi-Fi của cơ quan)"


def point_line(site: dict[str, str] | None) -> str:
    """The ticket's line naming its reception point ("" while the central server has not named it)."""
    if not site:
        return ""
    name = site.get("name") or ""
    return f"Điểm tiếp nhận {site['code']}" + (f" – {name}" if name and name != site["code"] else "")


def rating_link(base: str, ticket_id: str) -> str:
    """The rating page on the office Wi-Fi with ``ticket=<id>`` added, so a phone's rating names the ticket."""
    parts = urlsplit(base)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "ticket"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("ticket", ticket_id)])))


class PrintService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        printer: TicketPrinter,
        *,
        commune_name: str,
        rating_url: str = "",
        lights: Lights | None = None,
        retries: int = 3,
        backoff: float = 0.5,
        poll_seconds: float = 30.0,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.printer = printer
        self.commune_name = commune_name
        self.rating_url = rating_url.strip()
        #: Where phones reach the kiosk (kiosk.phone_link): the QR code then opens the ticket's own page.
        #: `kiosk serve` may set it once it knows the address it listens on.
        self.phone_base: str | None = phone_link.base_of(self.rating_url)
        self.lights = lights  # the rating panel's LEDs: a printer fault blinks them
        #: People who will be called before a ticket (kiosk.queue_service.QueueService.ahead), set by the app.
        self.ahead: Callable[[str], int] | None = None
        self.retries = max(1, retries)
        self.backoff = backoff
        self.poll_seconds = poll_seconds
        self._jobs: queue.Queue[int | None] = queue.Queue()
        self._done = threading.Condition()
        self._printer_lock = threading.Lock()
        self._stop = threading.Event()
        self._state: str | None = None
        self._fail_interrupted()
        self._thread = threading.Thread(target=self._run, name="ticket-printer", daemon=True)
        self._thread.start()

    # --- the contract -----------------------------------------------------------------------------

    def submit(self, ticket_id: str) -> None:
        """Queue a committed ticket for printing; printer faults are recorded, never raised."""
        self._enqueue(ticket_id, reuse_pending=False)

    def reprint(self, ticket_id: str) -> None:
        """Print a ticket again (NotFoundError if there is no such ticket); a job already waiting is reused."""
        self._enqueue(ticket_id, reuse_pending=True)

    def wait(self, ticket_id: str, timeout: float) -> tuple[bool | None, str | None]:
        """(printed, error) of the ticket's latest job; printed is None while it is still pending at the timeout."""
        deadline = time.monotonic() + timeout
        with self._done:
            while True:
                job = self.last_job(ticket_id)
                if job is None:
                    with self.sessions() as session:
                        if session.get(Ticket, ticket_id) is None:
                            raise NotFoundError(f"Ticket {ticket_id} does not exist.")
                    return False, "This ticket has not been sent to the printer; reprint it from the clerk console."
                if job["status"] != PENDING:
                    return job["status"] == PRINTED, job["error"]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None, None
                self._done.wait(remaining)

    def status(self) -> str:
        """ "ok" | "paper_low" | "paper_out" | "offline" | "error" | "disabled", as last seen by the worker."""
        if self._state is None:
            self._refresh_status()
        return self._state or "error"

    def print_checklist(self, content: dict[str, Any]) -> str:
        """Print a procedure's checklist now (between tickets, never during one); PrinterError when it did not."""
        name = f"checklist-{content['printed_at']:%Y%m%d-%H%M%S}-{content['code']}"
        try:
            with self._printer_lock:
                where = self.printer.print_checklist({**content, "commune": self.commune_name}, name)
        except Exception as exc:
            self._set_state(getattr(exc, "state", "error"))
            log.warning("checklist %s not printed: %s", content["code"], exc)
            raise PrinterError(f"The checklist was not printed: {exc}", {"printer": self.status()}) from exc
        self._set_state(getattr(self.printer, "last_status", "ok"))
        return where

    # --- for the clerk console and admin ----------------------------------------------------------

    def last_job(self, ticket_id: str) -> dict[str, Any] | None:
        with self.sessions() as session:
            job = session.scalars(
                select(PrintJob).where(PrintJob.ticket_id == ticket_id).order_by(PrintJob.id.desc()).limit(1)
            ).first()
            return None if job is None else self._as_json(job, None)

    def recent_jobs(self, limit: int = 20, failed_only: bool = False) -> list[dict[str, Any]]:
        """The latest print jobs, newest first, with the ticket's display number (for a reprint button)."""
        query = select(PrintJob, Ticket.display_number).join(Ticket, Ticket.id == PrintJob.ticket_id)
        if failed_only:
            query = query.where(PrintJob.status == FAILED)
        with self.sessions() as session:
            rows = session.execute(query.order_by(PrintJob.id.desc()).limit(limit)).all()
            return [self._as_json(job, number) for job, number in rows]

    def close(self) -> None:
        self._stop.set()
        self._jobs.put(None)
        self._thread.join(timeout=15)
        try:
            self.printer.close()
        except Exception:
            log.exception("closing the printer failed")

    # --- the worker -------------------------------------------------------------------------------

    def _enqueue(self, ticket_id: str, reuse_pending: bool) -> None:
        with transaction(self.sessions) as session:
            if session.get(Ticket, ticket_id) is None:
                raise NotFoundError(f"Ticket {ticket_id} does not exist; check the number and try again.")
            if reuse_pending:
                pending = session.scalar(
                    select(PrintJob.id).where(PrintJob.ticket_id == ticket_id, PrintJob.status == PENDING)
                )
                if pending is not None:
                    return
            now = to_naive_utc(self.clock.now())
            job = PrintJob(ticket_id=ticket_id, status=PENDING, attempts=0, created_at=now, updated_at=now)
            session.add(job)
            session.flush()
            job_id = job.id
        self._jobs.put(job_id)

    def _run(self) -> None:
        self._refresh_status()
        while not self._stop.is_set():
            try:
                job_id = self._jobs.get(timeout=self.poll_seconds)
            except queue.Empty:
                self._refresh_status()
                continue
            if job_id is None:
                break
            try:
                self._print(job_id)
            except Exception as exc:  # the database, not the printer: keep the worker alive
                log.exception("print job %s could not be processed", job_id)
                self._finish(job_id, FAILED, f"The kiosk could not process this print job ({exc!r}).")

    def _print(self, job_id: int) -> None:
        with self.sessions() as session:
            ticket_id = session.get(PrintJob, job_id).ticket_id
        content = self.ticket_content(ticket_id)
        name = f"{content['issued_at']:%Y%m%d-%H%M%S}-{content['display_number']}-{job_id}"
        error = "not printed"
        for attempt in range(1, self.retries + 1):
            self._update(job_id, attempts=attempt)
            try:
                with self._printer_lock:
                    where = self.printer.print_ticket(content, name)
            except Exception as exc:
                error = str(exc) or repr(exc)
                self._set_state(getattr(exc, "state", "error"))
                if isinstance(exc, OSError):
                    log.warning("ticket %s, attempt %d: %s", content["display_number"], attempt, error)
                else:
                    log.exception("ticket %s, attempt %d failed", content["display_number"], attempt)
                if not getattr(exc, "retry", True) or attempt == self.retries:
                    break
                if self._stop.wait(self.backoff * 2 ** (attempt - 1)):  # closing: leave it failed for a reprint
                    break
                continue
            self._set_state(getattr(self.printer, "last_status", "ok"))
            log.info("ticket %s printed to %s", content["display_number"], where)
            self._finish(job_id, PRINTED, None)
            return
        self._finish(job_id, FAILED, error)

    def ticket_content(self, ticket_id: str) -> dict[str, Any]:
        """What the ticket shows, read fresh (a reprint shows today's queue and the current field)."""
        with self.sessions() as session:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None:
                raise NotFoundError(f"Ticket {ticket_id} does not exist.")
            state = session.get(TicketState, ticket.id)
            service_code = state.service_code if state else ticket.service_code
            service = session.get(Service, service_code)
            point = catalog_state.site(session)
        issued = self.clock.local(from_naive_utc(ticket.device_time))
        token = state.token if state is not None else None
        if self.phone_base and token:
            qr, caption = phone_link.ticket_page(self.phone_base, token), PHONE_CAPTION
        elif self.rating_url:  # a ticket issued before its kiosk had phone pages
            qr, caption = rating_link(self.rating_url, ticket.id), RATING_CAPTION
        else:
            qr, caption = ticket.id, f"Mã phiếu: {ticket.id[:8]}"
        return {
            "commune": self.commune_name,
            "display_number": ticket.display_number,
            "service": service.name if service else service_code,
            "issued_at": issued.replace(tzinfo=None),
            "waiting": self.ahead(ticket.id) if self.ahead is not None else 0,
            "qr_data": qr,
            "qr_caption": caption,
            "priority": ticket.priority,
            "site": point_line(point),
        }

    # --- bookkeeping ------------------------------------------------------------------------------

    def _update(self, job_id: int, **values: Any) -> None:
        values["updated_at"] = to_naive_utc(self.clock.now())
        with transaction(self.sessions) as session:
            session.execute(update(PrintJob).where(PrintJob.id == job_id).values(**values))

    def _finish(self, job_id: int, status: str, error: str | None) -> None:
        self._update(job_id, status=status, error=error)
        with self._done:
            self._done.notify_all()

    def _fail_interrupted(self) -> None:
        """Jobs left pending by a restart or power cut: flagged for the clerk, not printed hours later."""
        with transaction(self.sessions) as session:
            session.execute(
                update(PrintJob)
                .where(PrintJob.status == PENDING)
                .values(
                    status=FAILED,
                    error="The kiosk restarted before this ticket was printed; reprint it from the clerk console.",
                    updated_at=to_naive_utc(self.clock.now()),
                )
            )

    def _refresh_status(self) -> None:
        try:
            with self._printer_lock:
                state = self.printer.status()
        except Exception:
            log.exception("asking the printer for its status failed")
            state = "error"
        self._set_state(state)

    def _set_state(self, state: str) -> None:
        previous, self._state = self._state, state
        if state == previous:
            return
        log.log(logging.WARNING if state in FAULT_STATES else logging.INFO, "printer state: %s", state)
        self._show(state, previous)

    def _show(self, state: str, previous: str | None) -> None:
        lights = self.lights
        if lights is None:
            return
        action: Callable[[], None] | None = None
        if state in FAULT_STATES:
            action = partial(lights.fault, state)
        elif previous in FAULT_STATES:
            action = lights.clear_fault
        if action is not None:
            try:
                action()
            except Exception:
                log.exception("showing printer state %s on the panel failed", state)

    @staticmethod
    def _as_json(job: PrintJob, display_number: str | None) -> dict[str, Any]:
        answer = {
            "job": job.id,
            "ticket_id": job.ticket_id,
            "status": job.status,
            "attempts": job.attempts,
            "error": job.error,
            "updated_at": from_naive_utc(job.updated_at).isoformat(),
        }
        if display_number is not None:
            answer["display_number"] = display_number
        return answer
