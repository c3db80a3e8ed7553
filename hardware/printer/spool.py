"""`spool:DIR` — the demo printer: each job's raw ESC/POS bytes as ``NAME.bin`` and a ``NAME.png`` preview.

The ``.bin`` can be sent to a real printer later (``cat NAME.bin > /dev/usb/lp0``); the ``.png`` shows
what would have come out.
"""

from __future__ import annotations

import os
from pathlib import Path

from hardware.printer.base import NEXT_STEP, Job, Transport
from hardware.printer.errors import ERROR, OFFLINE, OK, PrinterConfigError, PrinterFault


class SpoolTransport(Transport):
    def __init__(self, url: str, directory: str) -> None:
        super().__init__(url)
        self.directory = Path(directory).expanduser().resolve()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PrinterConfigError(
                f"Setting printer (KIOSK_PRINTER) = {url!r}: cannot create the spool folder {self.directory} ({exc}). "
                "Choose a folder the kiosk can write to."
            ) from exc

    def _write(self, path: Path, write) -> None:
        partial = path.with_name(path.name + ".part")
        write(partial)
        os.replace(partial, path)

    def send(self, job: Job) -> str:
        bin_path = self.directory / f"{job.name}.bin"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._write(self.directory / f"{job.name}.png", lambda p: job.image.save(p, format="PNG"))
            self._write(bin_path, lambda p: p.write_bytes(job.data))
        except OSError as exc:
            self.last_status = ERROR
            raise PrinterFault(f"The spool folder {self.directory} cannot be written ({exc}); {NEXT_STEP}.") from exc
        self.last_status = OK
        return f"spool file {bin_path}"

    def status(self) -> str:
        self.last_status = OK if os.access(self.directory, os.W_OK) else OFFLINE
        return self.last_status
