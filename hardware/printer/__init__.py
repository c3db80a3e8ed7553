"""The ticket printer, chosen by the ``printer`` setting (a URL) and the paper width.

``spool:DIR`` · ``usb:VID:PID`` · ``serial:DEV[:BAUD]`` · ``network:HOST[:PORT]`` · ``file:PATH`` ·
``cups:NAME`` · ``none``. A URL that is unknown or malformed, or a transport whose Python package is
missing, is a :class:`PrinterConfigError` at start-up naming the setting, never a silent fallback.
"""

from __future__ import annotations

from pathlib import Path

from hardware.printer.base import Job, Transport
from hardware.printer.errors import PrinterConfigError, PrinterFault
from hardware.printer.ticket_printer import TicketPrinter
from hardware.ticket_image import PAPER_DOTS, TicketFonts

__all__ = [
    "Job",
    "PrinterConfigError",
    "PrinterFault",
    "TicketPrinter",
    "Transport",
    "open_printer",
    "open_transport",
    "paper_dots",
]

FORMS = "spool:DIR, usb:VID:PID, serial:DEV[:BAUD], network:HOST[:PORT], file:PATH, cups:NAME or none"


def _bad(url: str, why: str) -> PrinterConfigError:
    return PrinterConfigError(
        f"Setting printer (KIOSK_PRINTER) = {url!r} is not a usable printer URL: {why}. Use one of: {FORMS}."
    )


def _number(url: str, text: str, what: str, low: int, high: int, base: int = 10) -> int:
    try:
        value = int(text, base)
    except ValueError:
        raise _bad(url, f"{what} {text!r} is not a number") from None
    if not low <= value <= high:
        raise _bad(url, f"{what} {value} is out of range")
    return value


def open_transport(url: str) -> Transport:
    """The transport for a ``printer`` URL; raises :class:`PrinterConfigError` naming the setting."""
    url = (url or "").strip()
    scheme, _, rest = url.partition(":")
    scheme = scheme.lower()
    if scheme == "none" and not rest:
        from hardware.printer.none import NoPrinter

        return NoPrinter(url)
    if not rest:
        raise _bad(url, "nothing after the kind of printer" if scheme else "it is empty")
    if scheme == "spool":
        from hardware.printer.spool import SpoolTransport

        return SpoolTransport(url, rest)
    if scheme == "file":
        from hardware.printer.file import FileTransport

        return FileTransport(url, rest)
    if scheme == "cups":
        from hardware.printer.cups import CupsTransport

        return CupsTransport(url, rest)
    if scheme == "network":
        from hardware.printer.network import DEFAULT_PORT, NetworkTransport

        host, _, port = rest.partition(":")
        if not host:
            raise _bad(url, "no host name")
        return NetworkTransport(url, host, _number(url, port, "port", 1, 65535) if port else DEFAULT_PORT)
    if scheme == "serial":
        from hardware.printer.serial import DEFAULT_BAUD, SerialTransport

        device, _, baud = rest.partition(":")
        if not device:
            raise _bad(url, "no serial device")
        return SerialTransport(url, device, _number(url, baud, "baud rate", 300, 4_000_000) if baud else DEFAULT_BAUD)
    if scheme == "usb":
        from hardware.printer.usb import UsbTransport

        parts = rest.split(":")
        if len(parts) != 2 or not all(parts):
            raise _bad(url, "write the vendor and product id in hex, e.g. usb:0416:5011")
        vendor, product = (_number(url, p.removeprefix("0x"), "USB id", 0, 0xFFFF, base=16) for p in parts)
        return UsbTransport(url, vendor, product)
    raise _bad(url, f"unknown kind of printer {scheme!r}")


def paper_dots(value: str | int) -> int:
    """Dots across the paper for the ``printer_width`` setting: 58mm, 80mm, or a number of dots."""
    text = str(value).strip().lower().replace(" ", "")
    if text in PAPER_DOTS or f"{text}mm" in PAPER_DOTS:
        return PAPER_DOTS[text if text in PAPER_DOTS else f"{text}mm"]
    if text.isdigit() and 128 <= int(text) <= 1024 and int(text) % 8 == 0:
        return int(text)
    raise PrinterConfigError(
        f"Setting printer_width (KIOSK_PRINTER_WIDTH) = {value!r} is not a paper width: use 58mm (384 dots), "
        "80mm (576 dots) or a number of dots that is a multiple of 8."
    )


def open_printer(url: str, width: str | int = "58mm", fonts_dir: str | Path | None = None) -> TicketPrinter:
    """The ticket printer for the settings; ``fonts_dir`` holds DejaVuSans.ttf and DejaVuSans-Bold.ttf."""
    dots = paper_dots(width)
    if fonts_dir is None:
        raise PrinterConfigError("The ticket printer needs the folder of the bundled fonts (DejaVuSans*.ttf).")
    fonts = TicketFonts(Path(fonts_dir) / "DejaVuSans.ttf", Path(fonts_dir) / "DejaVuSans-Bold.ttf")
    for font in (fonts.regular, fonts.bold):
        if not font.is_file():
            raise PrinterConfigError(f"The ticket font {font} is missing; reinstall the kiosk.")
    return TicketPrinter(open_transport(url), dots, fonts)
