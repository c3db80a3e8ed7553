"""Choosing gpiozero's pin factory from configuration: ``mock`` or ``real``, never a silent fallback."""

from __future__ import annotations

from typing import Any

from hardware.errors import DeviceConfigError


class PinFactoryError(DeviceConfigError):
    """The configured pin factory cannot be used."""


def make_pin_factory(kind: str) -> Any:
    """``mock`` → gpiozero's MockFactory; ``real`` → lgpio on a Raspberry Pi (raises if unavailable)."""
    if kind == "mock":
        from gpiozero.pins.mock import MockFactory

        return MockFactory()
    if kind == "real":
        try:
            from gpiozero.pins.lgpio import LGPIOFactory

            return LGPIOFactory()
        except Exception as exc:  # ImportError, or lgpio failing to open /dev/gpiochip*
            raise PinFactoryError(
                f"GPIO is set to 'real' but the lgpio pin factory cannot start ({exc}). "
                "Install the Pi extra (pip install 'kiosk[pi]'), add the kiosk user to the gpio group, "
                "or set KIOSK_GPIO=mock to run without buttons."
            ) from exc
    raise PinFactoryError(f"Setting gpio is {kind!r}; use 'mock' or 'real'.")
