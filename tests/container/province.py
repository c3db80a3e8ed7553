"""A province's signed apt repository for the package tests: a gpg key of its own and a repository made with
systemd/province-repo.sh (reprepro), served over HTTP from this machine as nginx would serve it beside the central
server (the containers share this machine's network).

Used by tests/deploy/test_package_real.py (x86-64), tests/deploy/test_package_arm64.py (arm64, qemu-user) and
tests/deploy/test_province_rings.py (the rollout rings' suites).
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
#: Where a kiosk keeps the province's sources entry and key (docs/deploy.md §11).
SOURCES = "/etc/apt/sources.list.d/kiosk-province.list"
KEYRING = "/etc/apt/keyrings/kiosk-province.gpg"


class Province:
    """A province key (gpg, in its own keyring) and its repository made with systemd/province-repo.sh."""

    def __init__(self, folder: Path, name: str, suites: tuple[str, ...] = ()) -> None:
        # gpg-agent's sockets live in the keyring's folder, and a socket's path has at most 107 bytes: a short one.
        self.home = Path(tempfile.mkdtemp(prefix=f"gpg-{name[:8]}-"))
        self.dir = folder / f"repo-{name}"
        self.env = {**os.environ, "GNUPGHOME": str(self.home)}
        self.gpg("--quick-generate-key", f"Province {name} <{name}@example.vn>", "ed25519", "sign", "never")
        colons = self.gpg("--with-colons", "--list-secret-keys").stdout
        self.fingerprint = next(line.split(":")[9] for line in colons.splitlines() if line.startswith("fpr:"))
        self.tool("init", str(self.dir), self.fingerprint, *suites)

    def gpg(self, *args: str) -> subprocess.CompletedProcess:
        command = ["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "", *args]
        return subprocess.run(command, env=self.env, capture_output=True, text=True, check=True)

    def tool(self, *args: str) -> str:
        command = [str(REPO / "systemd/province-repo.sh"), *args]
        return subprocess.run(command, env=self.env, capture_output=True, text=True, check=True).stdout

    def publish(self, deb: Path) -> None:
        self.tool("publish", str(self.dir), str(deb))

    @property
    def public(self) -> Path:
        return self.dir / "public"

    def trust(self, box, url: str) -> None:
        """What the operator of a new kiosk does (docs/deploy.md §11), in the container ``box``: this province's
        key in apt's keyrings, and its repository at ``url`` signed by that key only."""
        key = box.path(KEYRING)
        key.parent.mkdir(parents=True, exist_ok=True)
        key.write_bytes((self.public / "province.gpg").read_bytes())
        box.path(SOURCES).write_text(f"deb [signed-by={KEYRING}] {url} bookworm main\n")

    def close(self) -> None:
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=self.env, check=False)
        shutil.rmtree(self.home, ignore_errors=True)


class StaticServer:
    """A plain static web server for a repository's public folder (what nginx does on the central's machine)."""

    def __init__(self) -> None:
        self.root: Path | None = None
        handler = functools.partial(_QuietHandler, directory_of=lambda: self.root)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args, directory_of, **kwargs) -> None:
        super().__init__(*args, directory=str(directory_of()), **kwargs)

    def log_message(self, *args) -> None:
        pass
