"""`none` — no printer at this kiosk: tickets are issued and shown on screen only."""

from __future__ import annotations

from hardware.printer.base import Job, Transport
from hardware.printer.errors import DISABLED, PrinterFault


class NoPrinter(Transport):
    def __init__(self, url: str = "none") -> None:
        super().__init__(url)
        self.last_status = DISABLED

    def send(self, job: Job) -> str:
        raise PrinterFault("No printer is configured at this kiosk (printer = none).", DISABLED, retry=False)

    def status(self) -> str:
        return DISABLED
