"""The printer's own exceptions (hardware/ imports nothing of the kiosk; kiosk/app.py converts them)."""

from __future__ import annotations

from hardware.errors import DeviceConfigError, DeviceFault

#: Printer states, as ``/healthz`` reports them.
OK, PAPER_LOW, PAPER_OUT, OFFLINE, ERROR, DISABLED = "ok", "paper_low", "paper_out", "offline", "error", "disabled"


class PrinterConfigError(DeviceConfigError):
    """The ``printer`` (or ``printer_width``) setting cannot be used; raised at start-up, never later."""


class PrinterFault(DeviceFault):
    """A print job did not reach paper. ``state`` says why in one word (paper_out, offline, error, disabled).

    ``retry`` is False when trying again cannot help (no printer configured).
    """

    def __init__(self, message: str, state: str = ERROR, retry: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.state = state
        self.retry = retry

    def __str__(self) -> str:
        return self.message
