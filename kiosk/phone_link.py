"""Where a phone on the office Wi-Fi reaches this kiosk: the address printed in each ticket's QR code.

In order:

1. the scheme, host and port of ``rating_url`` when it is set (the commune wrote down the kiosk's address
   on the Wi-Fi, e.g. ``http://192.168.1.10:8080/``; docs/deploy.md);
2. else, when `kiosk serve` listens on the network (``--host 0.0.0.0`` or the Wi-Fi address itself), the
   IPv4 address of the kiosk's wireless interface (``wlan0`` on a Pi) and the port it serves;
3. else nothing: the kiosk is not on any Wi-Fi phones could use, and the QR code holds the ticket's id,
   which still identifies the ticket at the counter.
"""

from __future__ import annotations

import fcntl
import ipaddress
import socket
import struct
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

SYS_NET = Path("/sys/class/net")
_SIOCGIFADDR = 0x8915
ANY_HOST = ("0.0.0.0", "::", "")


def base_of(url: str) -> str | None:
    """``scheme://host[:port]`` of a URL, or None when it has no host."""
    parts = urlsplit((url or "").strip())
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def wireless_interfaces(sys_net: Path = SYS_NET) -> list[str]:
    """Names of the wireless network interfaces (those the kernel gives a ``wireless`` or ``phy80211`` entry)."""
    if not sys_net.is_dir():
        return []
    return sorted(p.name for p in sys_net.iterdir() if (p / "wireless").exists() or (p / "phy80211").exists())


def interface_ipv4(name: str) -> str | None:
    """The IPv4 address of an interface (SIOCGIFADDR), or None when it has none (not connected)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            packed = fcntl.ioctl(s.fileno(), _SIOCGIFADDR, struct.pack("256s", name[:15].encode()))
        except OSError:
            return None
    return socket.inet_ntoa(packed[20:24])


def wifi_address(
    interfaces: Callable[[], list[str]] = wireless_interfaces, address: Callable[[str], str | None] = interface_ipv4
) -> str | None:
    """The first IPv4 address of a wireless interface of this machine, or None."""
    for name in interfaces():
        found = address(name)
        if found:
            return found
    return None


def phone_base(rating_url: str, host: str | None = None, port: int | None = None,
               wifi: Callable[[], str | None] = wifi_address) -> str | None:  # fmt: skip
    """The base URL of the phone pages (``<base>/t/<token>``), or None when phones cannot reach the kiosk."""
    base = base_of(rating_url)
    if base or host is None or port is None:
        return base
    if host in ANY_HOST:
        found = wifi()
        return f"http://{found}:{port}" if found else None
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return f"http://{host}:{port}"  # a name the commune gave the kiosk on its network
    if ip.is_loopback or ip.is_unspecified:
        return None
    return f"http://{host}:{port}" if ip.version == 4 else f"http://[{host}]:{port}"


def ticket_page(base: str, token: str) -> str:
    return f"{base.rstrip('/')}/t/{token}"
