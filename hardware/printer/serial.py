"""`serial:DEV[:BAUD]` — a printer on a serial line (``/dev/ttyUSB0``, ``/dev/serial0``), through python-escpos.

Needs pyserial (``pip install pyserial``, Debian ``python3-serial``).
"""

from __future__ import annotations

from escpos.printer import Serial
from escpos.printer import serial as escpos_serial

from hardware.printer.base import EscposTransport
from hardware.printer.errors import PrinterConfigError

DEFAULT_BAUD = 9600
#: Seconds to wait for a status answer on the line.
TIMEOUT = 2.0


class SerialTransport(EscposTransport):
    def __init__(self, url: str, device: str, baud: int = DEFAULT_BAUD) -> None:
        if not escpos_serial.is_usable():
            raise PrinterConfigError(
                f"Setting printer (KIOSK_PRINTER) = {url!r} needs the pyserial package, which is not installed: "
                "run `pip install pyserial` (or `apt install python3-serial`), or choose another printer."
            )
        self.device, self.baud = device, baud
        super().__init__(
            url, lambda: Serial(device, baudrate=baud, timeout=TIMEOUT), f"serial printer {device} at {baud} baud"
        )
