"""`file:PATH` — a printer that is a device file (``/dev/usb/lp0``, a parallel port), through python-escpos.

Such a device only takes bytes; it cannot be asked for paper, so the status is whether the file can be
opened for writing.
"""

from __future__ import annotations

import os
from pathlib import Path

from escpos.printer import File

from hardware.printer.base import EscposTransport
from hardware.printer.errors import OFFLINE, OK


class FileTransport(EscposTransport):
    supports_status = False

    def __init__(self, url: str, path: str) -> None:
        self.path = Path(path)
        super().__init__(url, lambda: File(str(self.path)), f"printer file {self.path}")

    def query(self, device) -> None:
        return None

    def status(self) -> str:
        target = self.path if self.path.exists() else self.path.parent
        self.last_status = OK if os.access(target, os.W_OK) else OFFLINE
        return self.last_status
