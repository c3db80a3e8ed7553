"""Real printer plumbing for tests: a private CUPS server whose raw queues go through CUPS's own socket
backend (AppSocket, as for a printer on port 9100) to a listening test printer, and a serial printer on the far
end of a pseudo-terminal pair (socat) that answers ESC/POS status queries.

USB printing is not exercised anywhere here: it needs a real printer on a real USB port.
"""

from __future__ import annotations

import os
import select
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

from tests.escpos_server import DLE_EOT, ONLINE, PAPER_OK


class CupsServer:
    """`cupsd -f` with its own configuration, spool and socket in ``folder``; one raw queue per :meth:`add_queue`."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.socket = self.folder / "cups.sock"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 20) -> CupsServer:
        f = self.folder
        for sub in ("spool", "spool/tmp", "cache", "state", "state/certs", "log", "out"):
            (f / sub).mkdir(parents=True, exist_ok=True)
        for sub in ("spool", "spool/tmp", "out"):
            (f / sub).chmod(0o1777)  # the backend runs as user lp
        (f / "cupsd.conf").write_text(
            f"Listen {self.socket}\nLogLevel info\nBrowsing Off\nDefaultAuthType None\nWebInterface No\n"
            "<Location />\n  Order allow,deny\n  Allow all\n</Location>\n"
            "<Policy default>\n  <Limit All>\n    Order deny,allow\n  </Limit>\n</Policy>\n"
        )
        (f / "cups-files.conf").write_text(
            f"FileDevice Yes\nServerRoot {f}\nRequestRoot {f / 'spool'}\nTempDir {f / 'spool/tmp'}\n"
            f"CacheDir {f / 'cache'}\nStateDir {f / 'state'}\nErrorLog {f / 'log/error_log'}\n"
            f"AccessLog {f / 'log/access_log'}\nPageLog {f / 'log/page_log'}\nSystemGroup root\n"
        )
        cupsd = shutil.which("cupsd") or "/usr/sbin/cupsd"
        self.proc = subprocess.Popen(
            [cupsd, "-f", "-c", str(f / "cupsd.conf"), "-s", str(f / "cups-files.conf")],
            stdout=subprocess.DEVNULL,
            stderr=open(f / "log/cupsd.out", "wb"),  # noqa: SIM115 - closed with the process
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"cupsd exited with {self.proc.returncode}: {self.log()}")
            if self.socket.exists():
                with socket.socket(socket.AF_UNIX) as probe:
                    if probe.connect_ex(str(self.socket)) == 0:
                        return self
            time.sleep(0.05)
        raise RuntimeError(f"cupsd did not start: {self.log()}")

    def log(self) -> str:
        parts = [p.read_text(errors="replace")[-2000:] for p in self.folder.glob("log/*") if p.is_file()]
        return "\n".join(parts)

    def admin(self, *args: str) -> None:
        done = subprocess.run(
            [*args[:1], "-h", str(self.socket), *args[1:]], capture_output=True, text=True, timeout=30
        )
        assert done.returncode == 0, f"{args}: {done.stdout}{done.stderr}\n{self.log()}"

    def add_queue(self, name: str, device_uri: str) -> None:
        """A raw queue (no filter: the bytes go to the device as sent), enabled and accepting jobs."""
        self.admin("lpadmin", "-p", name, "-E", "-v", device_uri, "-m", "raw")

    def env(self) -> dict[str, str]:
        return {"CUPS_SERVER": str(self.socket)}

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:  # a busy cupsd (a stopped queue's job, a loaded machine): no wait
                self.proc.kill()
                self.proc.wait(10)


class SerialPrinter:
    """A thermal printer at the far end of a socat pty pair: ``device`` is the kiosk's end (/dev/pts/N).

    It answers DLE EOT 1 (online) and DLE EOT 4 (paper) like an ESC/POS printer and keeps every other byte.
    """

    def __init__(self, folder: Path, online: int = ONLINE, paper: int = PAPER_OK) -> None:
        self.online, self.paper = online, paper
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        kiosk_end, printer_end = self.folder / "kiosk-end", self.folder / "printer-end"
        self.socat = subprocess.Popen(
            [
                "socat",
                f"pty,raw,echo=0,link={kiosk_end}",
                f"pty,raw,echo=0,link={printer_end}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not (kiosk_end.exists() and printer_end.exists()):
            assert time.monotonic() < deadline and self.socat.poll() is None, "socat did not make the pty pair"
            time.sleep(0.02)
        self.device = os.path.realpath(kiosk_end)  # /dev/pts/N
        self.fd = os.open(os.path.realpath(printer_end), os.O_RDWR | os.O_NOCTTY)
        self.received = bytearray()
        self.queries: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        pending = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if not ready:
                continue
            try:
                pending += os.read(self.fd, 65536)
            except OSError:
                return
            while pending:
                at = pending.find(DLE_EOT)
                if at == -1:
                    keep = 1 if pending.endswith(DLE_EOT[:1]) else 0  # half a query may follow
                    self.received += pending[: len(pending) - keep]
                    pending = pending[len(pending) - keep :]
                    break
                if len(pending) < at + 3:
                    self.received += pending[:at]
                    pending = pending[at:]
                    break
                self.received += pending[:at]
                n = pending[at + 2]
                self.queries.append(n)
                os.write(self.fd, bytes([self.online if n == 1 else self.paper]))
                pending = pending[at + 3 :]

    def wait_for(self, length: int, timeout: float = 10) -> bytes:
        deadline = time.monotonic() + timeout
        while len(self.received) < length and time.monotonic() < deadline:
            time.sleep(0.02)
        return bytes(self.received)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        os.close(self.fd)
        self.socat.terminate()
        self.socat.wait(10)
