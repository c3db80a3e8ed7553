"""Render, encode and send: the one object the kiosk's print service talks to."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from hardware.checklist_image import render_checklist
from hardware.printer.base import Job, Transport
from hardware.printer.encode import encode_job
from hardware.ticket_image import TicketContent, TicketFonts, render_test_page, render_ticket


def safe_name(name: str) -> str:
    """A job name usable as a file name on any file system."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "job"


class TicketPrinter:
    """Tickets on one printer: ``print_ticket`` raises :class:`PrinterFault` when the ticket is not printed."""

    def __init__(self, transport: Transport, width: int, fonts: TicketFonts) -> None:
        self.transport = transport
        self.width = width
        self.fonts = fonts

    @property
    def url(self) -> str:
        return self.transport.url

    @property
    def last_status(self) -> str:
        return self.transport.last_status

    def render(self, content: TicketContent | Mapping[str, Any]) -> Any:
        if not isinstance(content, TicketContent):
            content = TicketContent(**content)
        return render_ticket(content, self.width, self.fonts)

    def send_image(self, image: Any, name: str) -> str:
        job = Job(safe_name(name), encode_job(image, self.width), image)
        return self.transport.send(job)

    def print_ticket(self, content: TicketContent | Mapping[str, Any], name: str) -> str:
        """Print one ticket; returns where it went (a spool file, a network printer, …)."""
        return self.send_image(self.render(content), name)

    def print_checklist(self, content: Mapping[str, Any], name: str) -> str:
        """Print a procedure's checklist of papers (:func:`hardware.checklist_image.render_checklist`)."""
        return self.send_image(render_checklist(content, self.width, self.fonts), name)

    def print_test_page(self, commune: str, when: datetime) -> str:
        page = render_test_page(commune, self.url, self.width, self.fonts, when)
        return self.send_image(page, f"printer-test-{when:%Y%m%d-%H%M%S}")

    def status(self) -> str:
        return self.transport.status()

    def close(self) -> None:
        self.transport.close()
