"""`usb:VID:PID` — a USB printer by vendor and product id (hex, as ``lsusb`` shows), through python-escpos.

Needs pyusb (``pip install pyusb``, Debian ``python3-usb``) and permission on the device (a udev rule).
"""

from __future__ import annotations

from escpos.printer import Usb
from escpos.printer import usb as escpos_usb

from hardware.printer.base import EscposTransport
from hardware.printer.errors import PrinterConfigError

#: Milliseconds for one USB write or status read.
TIMEOUT_MS = 5000


class UsbTransport(EscposTransport):
    def __init__(self, url: str, vendor: int, product: int) -> None:
        if not escpos_usb.is_usable():
            raise PrinterConfigError(
                f"Setting printer (KIOSK_PRINTER) = {url!r} needs the pyusb package, which is not installed: "
                "run `pip install pyusb` (or `apt install python3-usb`), or choose another printer."
            )
        self.vendor, self.product = vendor, product
        super().__init__(
            url, lambda: Usb(vendor, product, timeout=TIMEOUT_MS), f"USB printer {vendor:04x}:{product:04x}"
        )
