"""The one error tree of hardware/: every error a device module raises on purpose is a :class:`DeviceError`.

hardware/ imports nothing of the kiosk, so these are plain exceptions; kiosk/app.py converts them once, at
the edge (:func:`kiosk.app.device_errors`): a :class:`DeviceConfigError` becomes the kiosk's ConfigError
(a setting that cannot work: `kiosk serve` says so in one line and exits with status 2, and systemd does not
restart it), a :class:`DeviceFault` becomes its HardwareError (a device that failed: try again, or fix it).
"""

from __future__ import annotations


class DeviceError(Exception):
    """Base of the errors the hardware modules raise on purpose."""


class DeviceConfigError(DeviceError, ValueError):
    """A setting names a device that cannot be used (bad printer URL, no lgpio with gpio = real, …)."""


class DeviceFault(DeviceError, OSError):
    """A device that was set up right failed (printer offline, no speech synthesiser, …)."""
