"""Repeated faults logged once a minute with a count, not once per request (a full disk fails every write)."""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger(__name__)

#: Seconds between two log lines about the same fault.
LOG_EVERY = 60.0


class FaultLog:
    """One log line per fault per minute: the first time, then a summary with how many were held back."""

    def __init__(self, logger: logging.Logger = log, every: float = LOG_EVERY) -> None:
        self.logger, self.every = logger, every
        self._seen: dict[str, tuple[float, int]] = {}  # key -> (monotonic time logged, held back since)
        self._lock = threading.Lock()

    def emit(self, key: str, message: str, *, exc_info: BaseException | None = None) -> bool:
        """Log ``message`` unless ``key`` was logged less than a minute ago; True when it was logged."""
        now = time.monotonic()
        with self._lock:
            last, held = self._seen.get(key, (None, 0))
            if last is not None and now - last < self.every:
                self._seen[key] = (last, held + 1)
                return False
            self._seen[key] = (now, 0)
            if len(self._seen) > 1000:
                self._seen = {k: v for k, v in self._seen.items() if now - v[0] < self.every}
        more = f" ({held} more like it in the last {round(now - last)} s)" if held and last is not None else ""
        self.logger.error("%s%s", message, more, exc_info=exc_info)
        return True
