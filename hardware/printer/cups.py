"""`cups:NAME` — a printer queue of the local CUPS server (raw), through python-escpos.

The server is the one ``CUPS_SERVER`` names (a host or a socket path, as for `lp`), else localhost:631.
Needs pycups (``pip install pycups``, Debian ``python3-cups``). CUPS cannot pass the printer's paper
sensor through, so the status is the queue's: stopped or missing = offline.
"""

from __future__ import annotations

import os

from escpos.printer import CupsPrinter
from escpos.printer import cups as escpos_cups

from hardware.printer.base import EscposTransport
from hardware.printer.errors import OFFLINE, OK, PrinterConfigError

#: IPP printer-state values: 3 idle, 4 processing, 5 stopped.
STOPPED = 5


class CupsTransport(EscposTransport):
    def __init__(self, url: str, name: str) -> None:
        if not escpos_cups.is_usable():
            raise PrinterConfigError(
                f"Setting printer (KIOSK_PRINTER) = {url!r} needs the pycups package, which is not installed: "
                "run `pip install pycups` (or `apt install python3-cups`), or choose another printer."
            )
        self.name = name
        host = os.environ.get("CUPS_SERVER") or escpos_cups.DEFAULT_HOST
        super().__init__(
            url, lambda: CupsPrinter(name, host=host, port=escpos_cups.DEFAULT_PORT), f"CUPS printer {name}"
        )

    def query(self, device) -> str:
        state = device.printers.get(self.name, {}).get("printer-state")
        return OFFLINE if state in (None, STOPPED) else OK
