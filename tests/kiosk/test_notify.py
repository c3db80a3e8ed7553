"""systemd notifications from `kiosk serve`: READY, WATCHDOG pings only while the kiosk works, STOPPING.

Everything here runs against real AF_UNIX datagram sockets (what systemd listens on), a real waitress
server, real SQLite files and, in the last test, a real `kiosk serve` process.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
from sqlalchemy import text
from waitress.server import create_server

from kiosk.db import BUSY_TIMEOUT_MS, make_engine
from kiosk.notify import Notifier, database_check, loop_check, send, watchdog_interval
from tests.server import KioskServer


class NotifySocket:
    """What systemd does: bind a datagram socket and read the messages the service sends to it."""

    def __init__(self, address: str | bytes) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address)

    def receive(self, seconds: float) -> list[str]:
        """Every message that arrives within ``seconds``."""
        messages, deadline = [], time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                messages.append(self.sock.recv(4096).decode())
            except TimeoutError:
                break
        return messages

    def next(self, seconds: float = 5) -> str:
        self.sock.settimeout(seconds)
        return self.sock.recv(4096).decode()

    def wait_for(self, field: str, seconds: float) -> list[str]:
        """Messages up to and including the first one holding ``field`` (fails after ``seconds``)."""
        messages, deadline = [], time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                messages.append(self.sock.recv(4096).decode())
            except TimeoutError:
                break
            if field in messages[-1].split("\n"):
                return messages
        raise AssertionError(f"no {field} within {seconds} s; got {messages}")

    def close(self) -> None:
        self.sock.close()


def pings(messages: list[str]) -> int:
    return sum("WATCHDOG=1" in m.split("\n") for m in messages)


def test_messages_reach_a_socket_named_by_path(tmp_path):
    listener = NotifySocket(str(tmp_path / "notify"))
    try:
        assert send(str(tmp_path / "notify"), "READY=1\nSTATUS=Serving")
        assert listener.next() == "READY=1\nSTATUS=Serving"
    finally:
        listener.close()


def test_messages_reach_an_abstract_socket():
    name = f"kiosk-test-{uuid.uuid4().hex}"
    listener = NotifySocket(b"\0" + name.encode())
    try:
        assert send(f"@{name}", "WATCHDOG=1")
        assert listener.next() == "WATCHDOG=1"
    finally:
        listener.close()


def test_without_systemd_nothing_is_sent_and_nothing_fails(tmp_path):
    assert send(None, "READY=1") is False
    assert send(str(tmp_path / "nobody-listens"), "READY=1") is False  # logged, never raised
    notifier = Notifier.from_environ({})
    assert not notifier.enabled
    notifier.ready("Serving")
    notifier.stopping()


def test_watchdog_interval_is_half_of_watchdog_usec_and_only_for_its_process():
    assert watchdog_interval({"WATCHDOG_USEC": "30000000"}) == 15.0
    assert watchdog_interval({"WATCHDOG_USEC": "1000000", "WATCHDOG_PID": str(os.getpid())}) == 0.5
    assert watchdog_interval({"WATCHDOG_USEC": "1000000", "WATCHDOG_PID": str(os.getpid() + 1)}) is None
    assert watchdog_interval({}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "soon"}) is None


def test_the_variables_are_taken_out_of_the_environment_for_child_processes(tmp_path):
    environ = {"NOTIFY_SOCKET": str(tmp_path / "n"), "WATCHDOG_USEC": "2000000", "PATH": "/bin"}
    notifier = Notifier.from_environ(environ)
    assert notifier.socket_name == str(tmp_path / "n") and notifier.interval == 1.0
    assert environ == {"PATH": "/bin"}


def test_database_check_fails_on_a_locked_database_and_leaves_the_normal_busy_timeout(tmp_path):
    db = tmp_path / "kiosk.db"
    engine = make_engine(f"sqlite:///{db}")
    check = database_check(engine, timeout=0.2)
    assert check() is None

    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        reason = check()
        assert reason is not None and "database" in reason and "locked" in reason
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert check() is None
    with engine.connect() as conn:  # the pooled connection the check used is patient again for real writes
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == BUSY_TIMEOUT_MS
    engine.dispose()


def test_loop_check_passes_only_while_waitress_runs_its_loop():
    server = create_server(lambda environ, start: [], host="127.0.0.1", port=0)  # goes round every 1 s idle
    check = loop_check(server, timeout=0.2)
    time.sleep(1.5)
    assert "event loop has not run" in check()  # created, but nobody runs the loop

    loop = threading.Thread(target=server.run, daemon=True)
    loop.start()
    try:
        time.sleep(0.2)
        assert check() is None
        time.sleep(1.5)  # idle, yet still going round
        assert check() is None
    finally:
        server.close()  # the loop ends once its sockets are closed
        loop.join(5)
    assert not loop.is_alive()
    time.sleep(1.5)
    assert check() is not None


def test_kiosk_serve_says_ready_pings_only_while_the_database_answers_and_says_stopping(tmp_path):
    """The real `kiosk serve` with systemd's variables set: the whole protocol, end to end."""
    listener = NotifySocket(str(tmp_path / "notify.sock"))
    server = KioskServer(
        tmp_path / "var", env={"NOTIFY_SOCKET": str(tmp_path / "notify.sock"), "WATCHDOG_USEC": "1000000"}
    )
    server.data_dir.mkdir(parents=True)
    with open(server.log, "ab") as log:
        server.proc = subprocess.Popen(
            [sys.executable, "-m", "kiosk.cli", "serve", "--port", str(server.port)],
            env=server.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        before_ready = listener.wait_for("READY=1", 60)
        assert pings(before_ready) == 0
        # READY means ready: the web server answers at once, with the database and hardware up.
        health = requests.get(server.base + "/healthz", timeout=5)
        assert health.status_code == 200 and health.json()["db"] == "ok"
        assert any(line.startswith("STATUS=Serving") for line in before_ready[-1].split("\n"))

        assert pings(listener.receive(2.5)) >= 3  # every 0.5 s while healthy

        # Another process holds the database's write lock: no rating could be stored, so no pings.
        holder = sqlite3.connect(server.data_dir / "kiosk.db", isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            listener.receive(1.2)  # a round that had already passed its check may still ping
            locked = listener.receive(2.5)
            assert pings(locked) == 0, locked
            assert any("database does not answer" in m for m in locked)
        finally:
            holder.execute("ROLLBACK")
            holder.close()

        assert pings(listener.receive(2.5)) >= 2  # back to work: systemd need not restart it

        server.proc.send_signal(signal.SIGTERM)
        assert "STOPPING=1" in listener.wait_for("STOPPING=1", 10)[-1]
        assert server.proc.wait(15) == 0
    finally:
        server.stop()
        listener.close()
    assert "Traceback" not in Path(server.log).read_text()


@pytest.mark.parametrize("usec", ["", "0"])
def test_no_watchdog_thread_without_watchdog_usec(tmp_path, usec):
    notifier = Notifier.from_environ({"NOTIFY_SOCKET": str(tmp_path / "n"), "WATCHDOG_USEC": usec})
    assert notifier.enabled and notifier.interval is None
