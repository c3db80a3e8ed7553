"""Reprinting a ticket from the clerk console, and the printer's state and recent jobs for it."""

from __future__ import annotations

from flask import Blueprint, jsonify

from common.errors import PrinterError
from kiosk.app import current_kiosk
from kiosk.printing import PrintService
from web.clerk_auth import require_clerk

bp = Blueprint("printing", __name__)

#: Seconds the clerk's reprint waits for the outcome before answering "still printing".
REPRINT_WAIT = 3.0


def _printing() -> PrintService:
    service = current_kiosk().printing
    if service is None:
        raise PrinterError("This kiosk runs without its hardware, so it has no printer to print on.")
    return service


@bp.post("/api/tickets/<ticket_id>/reprint")
@require_clerk
def reprint(ticket_id: str):
    """Print a ticket again; 200 when it printed or failed (with the reason), 202 while still printing."""
    printing = _printing()
    printing.reprint(ticket_id)  # NotFoundError (404) for an unknown ticket
    printed, error = printing.wait(ticket_id, timeout=REPRINT_WAIT)
    answer = {"ticket_id": ticket_id, "printed": printed, "print_error": error, "printer": printing.status()}
    return jsonify(answer), 202 if printed is None else 200


@bp.get("/api/printer")
@require_clerk
def printer_state():
    """The printer's state and the latest print jobs, newest first (the console offers a reprint on failed ones)."""
    printing = _printing()
    return jsonify({"status": printing.status(), "jobs": printing.recent_jobs(limit=20)})
