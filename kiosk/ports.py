"""The device's ports: what the kiosk asks of its hardware and of its long-running helpers.

As gpiozero puts every board behind its Factory and Pin, the kiosk's core talks to these shapes only. Each
is a :class:`typing.Protocol`, satisfied by whatever has the methods: the ``hardware/`` classes and their
fakes (spool printer, mock pins, ``wav:`` announcer) satisfy them without importing anything of ours, and
the kiosk's own services (:class:`kiosk.live.LiveHub`, :class:`kiosk.uplink.client.SyncLoop`) do likewise.
``kiosk/app.py`` (the composition root) chooses the implementations and hands them to the services.
Each port is runtime-checkable, so a test can ask ``isinstance(device, ports.Lights)`` of what it built.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

from kiosk.events import Event


@runtime_checkable
class TicketPrinter(Protocol):
    """A ticket printer (``hardware.printer.TicketPrinter``); faults leave as exceptions with a ``state``."""

    width: int  # dots across the paper

    @property
    def last_status(self) -> str:
        """The state seen at the last job: "ok", "paper_low", "paper_out", "offline", "error", "disabled"."""
        ...

    def print_ticket(self, content: Mapping[str, Any], name: str) -> str:
        """Print one ticket; returns where it went (a spool file, a network printer, …)."""
        ...

    def print_checklist(self, content: Mapping[str, Any], name: str) -> str:
        """Print a procedure's checklist of papers, drawn like the ticket."""
        ...

    def print_test_page(self, commune: str, when: datetime) -> str: ...

    def status(self) -> str:
        """Ask the printer for its state now (same words as :attr:`last_status`)."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class Lights(Protocol):
    """The rating panel's LEDs as a signal: a blink pattern a technician can read while the printer has a fault."""

    def fault(self, pattern: str) -> None:
        """Blink for ``pattern`` ("paper_out" fast, "offline" slow) until :meth:`clear_fault`."""
        ...

    def clear_fault(self) -> None: ...


@runtime_checkable
class Announcer(Protocol):
    """Speaks a call ("Mời số A 12 đến quầy 1"); :meth:`announce` only queues, it never waits for the sound."""

    def announce(self, display_number: str, counter: int) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class Voice(Protocol):
    """The citizen screens' spoken prompts: a commune's recording, else a clip generated once."""

    def clip(self, key: str, text: str, lang: str, voice: str | None = None) -> Path:
        """The WAV file saying ``text`` for the prompt ``key`` in ``lang``."""
        ...

    def number(self, intro: Path, display_number: str, lang: str) -> bytes:
        """The WAV of ``intro`` followed by the queue number."""
        ...


@runtime_checkable
class LiveStream(Protocol):
    """One open event stream, as the view that opened it sees it."""

    def mark_sent(self, state: dict[str, Any]) -> None:
        """The phone state the stream's first answer carried (the hub sends it again only once it changes)."""
        ...


StreamT = TypeVar("StreamT", bound=LiveStream)


@runtime_checkable
class LiveHub(Protocol[StreamT]):
    """Every server-sent event stream (boards, consoles, phones), fed from the event bus without blocking it."""

    def open(self, kind: str, *, ticket_id: str | None = None, heartbeat: float = ..., address: str = "",
             local: bool = True, threaded: bool = False) -> StreamT:  # fmt: skip
        """Register a stream of ``kind`` ("all" or "phone"); refused with a 503 KioskError past the limits."""
        ...

    def adopt(self, stream: StreamT, sock: socket.socket, pending: bytes, chunked: bool) -> None:
        """Take over the stream's socket from the web server, with the bytes of its answer not yet sent."""
        ...

    def iterate(self, stream: StreamT, first: bytes) -> Iterable[bytes]:
        """The body of a stream served from its request's own thread."""
        ...

    def release(self, stream: StreamT) -> None: ...

    def publish(self, event: Event) -> None:
        """An event bus listener: returns at once."""
        ...

    def close(self, timeout: float = ...) -> None: ...


@runtime_checkable
class SyncLoop(Protocol):
    """The background sync with the central server (`kiosk serve` with `central_url` set)."""

    def start(self) -> None: ...

    def stop(self) -> None:
        """Stop within seconds, between requests."""
        ...
