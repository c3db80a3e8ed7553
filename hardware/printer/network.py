"""`network:HOST[:PORT]` — an Ethernet or Wi-Fi printer on raw TCP (port 9100), through python-escpos."""

from __future__ import annotations

from escpos.printer import Network

from hardware.printer.base import EscposTransport

DEFAULT_PORT = 9100
#: Seconds to connect, send or wait for a status answer; short, so a dead printer fails a job quickly.
TIMEOUT = 3.0


class NetworkTransport(EscposTransport):
    def __init__(self, url: str, host: str, port: int = DEFAULT_PORT, timeout: float = TIMEOUT) -> None:
        self.host, self.port = host, port
        super().__init__(url, lambda: Network(host, port, timeout=timeout), f"network printer {host}:{port}")
