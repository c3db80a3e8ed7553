"""Time on a device with no hardware clock.

Records carry the wall-clock time (UTC), and whether the kernel says the clock is NTP-synchronised.
Intervals (the abuse filter, timeouts) use the monotonic clock, which never jumps. Tests inject a
:class:`FakeClock`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

_STA_UNSYNC = 0x0040
_TIME_ERROR = 5


class _Timex(ctypes.Structure):
    # struct timex from <sys/timex.h>; only the first fields are read, the rest is padding.
    _fields_ = [
        ("modes", ctypes.c_uint),
        ("_pad0", ctypes.c_long * 4),
        ("status", ctypes.c_int),
        ("_pad", ctypes.c_long * 40),
    ]


def kernel_clock_synced() -> bool:
    """Ask the kernel (adjtimex) whether an NTP daemon has synchronised the clock."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        tx = _Timex()
        state = libc.adjtimex(ctypes.byref(tx))
    except (OSError, AttributeError):
        return False
    if state < 0 or state == _TIME_ERROR:
        return False
    return not (tx.status & _STA_UNSYNC)


class Clock:
    """The real clock."""

    def __init__(self, tz: str = "Asia/Ho_Chi_Minh", sync_mode: str = "auto") -> None:
        self.tz = ZoneInfo(tz)
        self.sync_mode = sync_mode
        self._sync_cache: tuple[float, bool] | None = None
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Aware UTC wall-clock time."""
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def synced(self) -> bool:
        if self.sync_mode == "yes":
            return True
        if self.sync_mode == "no":
            return False
        with self._lock:
            mono = self.monotonic()
            if self._sync_cache is None or mono - self._sync_cache[0] > 30:
                self._sync_cache = (mono, kernel_clock_synced())
            return self._sync_cache[1]

    def local(self, moment: datetime | None = None) -> datetime:
        moment = moment or self.now()
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(self.tz)

    def business_day(self, moment: datetime | None = None) -> date:
        """The day in the commune's time zone (numbering restarts at local midnight)."""
        return self.local(moment).date()


class FakeClock(Clock):
    """A clock tests move by hand."""

    def __init__(self, start: datetime | None = None, tz: str = "Asia/Ho_Chi_Minh", synced: bool = True) -> None:
        super().__init__(tz, "yes" if synced else "no")
        self._now = start or datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
        self._mono = 1000.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
        self._mono += seconds

    def set_synced(self, synced: bool) -> None:
        self.sync_mode = "yes" if synced else "no"

    def jump(self, to: datetime) -> None:
        """Set the wall clock as NTP or a technician would: the monotonic clock does not move."""
        self._now = to


def to_naive_utc(moment: datetime) -> datetime:
    """How times are stored: naive UTC (SQLite keeps no zone)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def from_naive_utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.replace(tzinfo=UTC)
