"""A panel of physical buttons, each with an LED, and an optional buzzer (gpiozero).

The panel knows nothing of ratings or tickets: each button has a key, and a press calls
``on_press(key)``. The LED of that button lights, and the buzzer beeps, only if ``on_press`` returns
without raising, which the caller does only after its record is committed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

log = logging.getLogger(__name__)


class ButtonPanel:
    def __init__(
        self,
        keys: Sequence[str],
        button_pins: Sequence[int | str],
        led_pins: Sequence[int | str] = (),
        buzzer_pin: int | str | None = None,
        on_press: Callable[[str], Any] | None = None,
        pin_factory: Any = None,
        led_seconds: float = 2.0,
        bounce_time: float | None = 0.05,
        name: str = "panel",
    ) -> None:
        from gpiozero import LED, Button, Buzzer

        if len(button_pins) != len(keys):
            raise ValueError(f"{name}: {len(keys)} buttons need {len(keys)} pins, got {len(button_pins)}.")
        if led_pins and len(led_pins) != len(keys):
            raise ValueError(f"{name}: {len(keys)} buttons need {len(keys)} LED pins, got {len(led_pins)}.")
        self.name = name
        self.keys = list(keys)
        self.on_press = on_press
        self.led_seconds = led_seconds
        self._lock = threading.Lock()
        self.buttons = {}
        self.leds = {}
        for index, key in enumerate(self.keys):
            button = Button(button_pins[index], pin_factory=pin_factory, bounce_time=bounce_time)
            button.when_pressed = lambda _device=None, key=key: self.press(key)
            self.buttons[key] = button
            if led_pins:
                self.leds[key] = LED(led_pins[index], pin_factory=pin_factory)
        self.buzzer = Buzzer(buzzer_pin, pin_factory=pin_factory) if buzzer_pin not in (None, "") else None

    def press(self, key: str) -> bool:
        """Handle one press; returns True when the press was accepted and acknowledged."""
        if self.on_press is None:
            return False
        try:
            self.on_press(key)
        except Exception:
            log.exception("%s: press of %s was not stored; no acknowledgement given", self.name, key)
            return False
        self.acknowledge(key)
        return True

    def acknowledge(self, key: str) -> None:
        led = self.leds.get(key)
        if led is not None:
            led.blink(on_time=self.led_seconds, off_time=0.01, n=1, background=True)
        if self.buzzer is not None:
            self.buzzer.beep(on_time=0.12, off_time=0.01, n=1, background=True)

    def fault(self, pattern: str) -> None:
        """Blink every LED in a pattern a technician can read: ``paper_out`` fast, ``offline`` slow."""
        on, off = (0.15, 0.15) if pattern == "paper_out" else (0.6, 0.6)
        for led in self.leds.values():
            led.blink(on_time=on, off_time=off, n=None, background=True)

    def clear_fault(self) -> None:
        for led in self.leds.values():
            led.off()

    def close(self) -> None:
        for output in [*self.leds.values(), *([self.buzzer] if self.buzzer else [])]:
            output.off()  # stops and joins a blink/beep thread before its pin is released
        for device in [*self.buttons.values(), *self.leds.values(), *([self.buzzer] if self.buzzer else [])]:
            device.close()
