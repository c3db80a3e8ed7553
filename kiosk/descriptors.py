"""How many event streams this process can hold: its open-file limit, less what the rest of the kiosk needs.

Every open event stream is a socket, so one file descriptor. The process may hold ``RLIMIT_NOFILE`` of them
(1,024 by default under systemd, ``LimitNOFILE=`` in systemd/kiosk.service); past it ``accept()`` fails and
nobody reaches the kiosk, not even ``/healthz`` or a citizen taking a ticket. So at start-up `kiosk serve`
raises its soft limit to the hard one when allowed and gives the live hub a cap that leaves a reserve for
everything else: the descriptors already open, waitress's own connections (``connection_limit``), a few
database files per worker thread, the printer, the announcer, the sync client (:func:`budget`).

Descriptor numbers from 1,024 up cannot be watched by ``select()`` (its ``FD_SETSIZE``): waitress's loop
crashed on them. Waitress now polls, and :func:`move_high` puts each stream's socket at 1,024 or above when the
limit allows, so the low numbers stay free for the libraries that still call ``select()`` (pyserial, for a
serial printer opened while two thousand phones follow their tickets).
"""

from __future__ import annotations

import fcntl
import logging
import os
import resource
import socket
from dataclasses import dataclass

log = logging.getLogger(__name__)

#: select()'s limit: descriptors below this number are left to the rest of the process (see move_high).
FD_SETSIZE = 1024
#: Descriptors one database connection may hold (the file, its -wal, and the -shm shared by all of them).
PER_DB_CONNECTION = 3
#: Database connections besides one per worker thread: the live hub, the sync thread, the watchdog, a spare.
OTHER_DB_CONNECTIONS = 4
#: Kept for the rest: a printer (a serial one opens 5), the announcer's player, the sync client's connection,
#: log files, the live hub's own epoll and wake-up pipe, a socket being moved by move_high.
SPARE = 64
#: The highest soft limit asked for when the hard limit is unlimited (the kernel refuses RLIM_INFINITY).
UNLIMITED_SOFT = 65536


@dataclass(frozen=True)
class Budget:
    """The open-file limit at start-up and what it leaves for event streams."""

    soft: int
    hard: int
    in_use: int
    reserve: int
    streams: int

    def describe(self) -> str:
        return (
            f"{self.streams} event streams at most (open files: limit {self.soft}, hard limit {self.hard}, "
            f"{self.in_use} open at start-up, {self.reserve} kept for the rest of the kiosk)"
        )


def raise_soft_limit() -> tuple[int, int]:
    """Raise the soft RLIMIT_NOFILE to the hard one when allowed; the (soft, hard) limits now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = UNLIMITED_SOFT if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError) as exc:  # not allowed here (a container's nr_open): keep what we have
            log.info("open files: the limit stays %d (raising it to %d failed: %s)", soft, wanted, exc)
    return soft, hard


def open_count() -> int:
    """Descriptors this process has open now (Linux's /proc; elsewhere a guess of 64)."""
    try:
        return len(os.listdir("/proc/self/fd")) - 1  # less the one listdir itself opened
    except OSError:
        return 64


def budget(ceiling: int, connections: int, threads: int) -> Budget:
    """What the process can hold: at most ``ceiling`` streams, and no more than the open-file limit leaves once
    ``connections`` (waitress's connection_limit) and the database connections of ``threads`` workers are kept.

    Call it once everything long-lived is open (database, listening socket), so that those are counted.
    """
    soft, hard = raise_soft_limit()
    in_use = open_count()
    reserve = in_use + connections + PER_DB_CONNECTION * (threads + OTHER_DB_CONNECTIONS) + SPARE
    limit = soft if soft != resource.RLIM_INFINITY else UNLIMITED_SOFT
    return Budget(soft=limit, hard=hard, in_use=in_use, reserve=reserve, streams=max(0, min(ceiling, limit - reserve)))


def move_high(sock: socket.socket) -> socket.socket:
    """The same connection at a descriptor number of FD_SETSIZE or more, when the limit has one free; else
    ``sock`` itself. The low numbers stay for whatever still uses select()."""
    try:
        fd = fcntl.fcntl(sock.fileno(), fcntl.F_DUPFD_CLOEXEC, FD_SETSIZE)
    except (OSError, ValueError):  # EINVAL: the limit is at most FD_SETSIZE; EMFILE: all taken up there
        return sock
    moved = socket.socket(sock.family, sock.type, sock.proto, fileno=fd)
    sock.close()
    return moved
