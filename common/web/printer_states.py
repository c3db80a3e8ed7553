"""The ticket printer's states in the reader's language, for the kiosk's `/admin` and the central `/fleet`.

The states are those of ``kiosk.printing.PrintService.status()`` (and ``hardware.printer.errors``); each has
a label and a tone (good / warn / bad) for the page.
"""

from __future__ import annotations

from flask_babel import lazy_gettext

PRINTER_STATES = {
    "ok": (lazy_gettext("Ready"), "good"),
    "paper_low": (lazy_gettext("Paper running low"), "warn"),
    "paper_out": (lazy_gettext("Out of paper"), "bad"),
    "offline": (lazy_gettext("Not connected"), "bad"),
    "error": (lazy_gettext("Printer error"), "bad"),
    "disabled": (lazy_gettext("Switched off in the settings"), "warn"),
    "none": (lazy_gettext("No printer configured"), "warn"),
}
NOT_REPORTED = lazy_gettext("Not reported yet")


def printer_state(state: str | None) -> tuple[str, str]:
    """(label, tone) of a printer state as a kiosk reported it; an unknown state is shown as reported."""
    if not state:
        return str(NOT_REPORTED), "warn"
    label, tone = PRINTER_STATES.get(state, (lazy_gettext("Unknown state: %(state)s", state=state), "bad"))
    return str(label), tone
