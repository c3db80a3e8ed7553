"""What every printer transport does: send one job's ESC/POS bytes, and say how the printer is.

A job is encoded once (see :mod:`hardware.printer.encode`) and the same bytes go to the spool, a file, a
socket, USB, a serial line or CUPS. Transports that can ask the printer for its status (python-escpos's
``query_status`` / ``paper_status`` over USB, serial and network) do so before each job, so a ticket is
never sent into a printer that has no paper.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from escpos.constants import RT_MASK_ONLINE, RT_STATUS_ONLINE
from escpos.exceptions import DeviceNotFoundError
from PIL import Image

from hardware.printer.errors import ERROR, OFFLINE, OK, PAPER_LOW, PAPER_OUT, PrinterFault

log = logging.getLogger(__name__)

NEXT_STEP = "then print again (the clerk console reprints any ticket)"


@dataclass(frozen=True)
class Job:
    """One print job: a file-safe name, the ESC/POS bytes and the image they were made from."""

    name: str
    data: bytes
    image: Image.Image


class Transport(ABC):
    """Base of the transports; ``last_status`` is what the printer said the last time it was asked."""

    supports_status = False

    def __init__(self, url: str) -> None:
        self.url = url
        self.last_status = OK

    @abstractmethod
    def send(self, job: Job) -> str:
        """Deliver the job; returns where it went. Raises :class:`PrinterFault` when it did not."""

    def status(self) -> str:
        return self.last_status

    def close(self) -> None:  # noqa: B027 - an optional hook; most transports hold nothing open
        """Nothing is held open between jobs."""


def _is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, TimeoutError) or "timeout" in type(exc).__name__.lower()


class EscposTransport(Transport):
    """A python-escpos printer class, opened for each job and each status query, closed after."""

    supports_status = True

    def __init__(self, url: str, make_device: Callable[[], Any], where: str) -> None:
        super().__init__(url)
        self._make_device = make_device
        self.where = where
        self._answers_status = True  # False once the printer stays silent (many serial cables are TX only)
        self._lock = threading.Lock()

    def fault(self, exc: BaseException, doing: str) -> PrinterFault:
        """A plain-words fault for an exception from python-escpos or the operating system."""
        if isinstance(exc, PrinterFault):
            return exc
        if isinstance(exc, DeviceNotFoundError):
            cause = exc.__cause__ or exc.__context__ or exc  # the OS's words, not the wrapper's
            reason = str(cause).replace("\n", " ").strip()
            return PrinterFault(
                f"The {self.where} is offline ({reason}): check its power and cable, {NEXT_STEP}.", OFFLINE
            )
        if _is_timeout(exc):
            return PrinterFault(f"The {self.where} did not answer while {doing}: check it is on, {NEXT_STEP}.", OFFLINE)
        if isinstance(exc, OSError):
            return PrinterFault(
                f"The {self.where} failed while {doing} ({exc}): check its cable, {NEXT_STEP}.", OFFLINE
            )
        return PrinterFault(f"The {self.where} failed while {doing}: {exc!r}; {NEXT_STEP}.", ERROR)

    def _open(self) -> Any:
        device = self._make_device()
        try:
            device.open()
        except Exception as exc:
            raise self.fault(exc, "connecting") from exc
        return device

    @staticmethod
    def _close_quietly(device: Any) -> None:
        try:
            device.close()
        except Exception:
            log.debug("closing %r failed", device, exc_info=True)

    def query(self, device: Any) -> str | None:
        """The printer's own answer (DLE EOT), or None when it does not answer status queries."""
        if not self._answers_status:
            return None
        try:
            answer = device.query_status(RT_STATUS_ONLINE)
        except Exception as exc:
            if not _is_timeout(exc):
                raise self.fault(exc, "asking for its status") from exc
            answer = b""
        if not answer:
            log.info("%s does not answer status queries; printing without them", self.where)
            self._answers_status = False
            return None
        paper = device.paper_status()  # 2 plenty, 1 near the end, 0 none
        if paper == 0:
            return PAPER_OUT
        if answer[0] & RT_MASK_ONLINE:
            return OFFLINE
        return PAPER_LOW if paper == 1 else OK

    def send(self, job: Job) -> str:
        with self._lock:
            device = self._open()
            try:
                state = self.query(device) or OK
                self.last_status = state
                if state == PAPER_OUT:
                    raise PrinterFault(f"The {self.where} is out of paper: load a new roll, {NEXT_STEP}.", PAPER_OUT)
                if state == OFFLINE:
                    raise PrinterFault(
                        f"The {self.where} reports it is offline (cover open or paper jam?): fix it, {NEXT_STEP}.",
                        OFFLINE,
                    )
                device._raw(job.data)
                device.close()  # flushes; CUPS sends the job here
            except Exception as exc:
                fault = self.fault(exc, "printing")
                self.last_status = fault.state
                raise fault from exc
            finally:
                self._close_quietly(device)
        return self.where

    def status(self) -> str:
        with self._lock:
            try:
                device = self._open()
            except PrinterFault as fault:
                self.last_status = fault.state
                return fault.state
            try:
                self.last_status = self.query(device) or OK
            except PrinterFault as fault:
                self.last_status = fault.state
            finally:
                self._close_quietly(device)
            return self.last_status
