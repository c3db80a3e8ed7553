"""`kiosk serve`'s catalogue watch: one request kept open at the central server, so a change is live in seconds.

The thread asks `GET /api/v1/config/changes?since=<the version in use>&wait=<catalog_watch_wait>` (signed like
every call, :meth:`SyncClient.watch`). The server answers when the commune's catalogue differs, else after the
wait; on a change the thread runs the usual catalogue exchange (:meth:`SyncClient.exchange_catalog`): the
document is checked and applied by the same code as at a sync, the screens reload through the
``catalog_changed`` event, and the next exchange tells the server which version the kiosk now uses.

Each answer also names the kiosk's newest remote settings version and whether a diagnostics bundle is asked
(``remote``); when either is new to the kiosk the thread runs :func:`kiosk.uplink.remote_apply.exchange`.

A version the kiosk refused is not asked for again (the next question names it as seen). With the network
down the thread retries after 2, 4, … up to 60 seconds; its first answer after the network is back names the
newer catalogue, so a kiosk that was offline takes it as soon as it reconnects. A server of an older release
(404) is asked again every :data:`OLD_SERVER_PAUSE` seconds; the sync loop still brings its catalogue.
"""

from __future__ import annotations

import logging
import random
import threading
from typing import Any

from common.errors import KioskError, SyncError
from kiosk.uplink import remote_apply
from kiosk.uplink.client import SyncClient
from kiosk.uplink.device_catalog import current_version

log = logging.getLogger(__name__)

#: Longest pause (seconds) between two attempts while the server cannot be reached.
MAX_PAUSE = 60.0
#: Seconds between two attempts at a server that has no catalogue watch.
OLD_SERVER_PAUSE = 600.0


class CentralCatalogWatch(threading.Thread):
    """One kiosk's open question "is there a newer catalogue?", asked again as soon as it is answered."""

    def __init__(self, kiosk: Any, wait: float | None = None) -> None:
        super().__init__(name="catalog-watch", daemon=True)
        self.kiosk = kiosk
        self.wait = float(kiosk.settings["catalog_watch_wait"] if wait is None else wait)
        self.stopping = threading.Event()
        # One try per question (this loop pauses itself); the answer may take the whole wait to come.
        self.client = SyncClient(kiosk, max_attempts=1, timeout=(10.0, self.wait + 30.0), sleep=self.stopping.wait)
        #: The newest version the server named: not asked for again when the kiosk refused it.
        self.seen: str | None = None
        #: Catalogue exchanges this watch made (for tests and the log).
        self.exchanges = 0

    def run(self) -> None:
        failures = 0
        while not self.stopping.is_set():
            try:
                pause = self._round()
                failures = 0
            except SyncError as exc:
                if isinstance(exc.detail, dict) and exc.detail.get("status") == 404:
                    log.info("the central server has no catalogue watch; changes come with the syncs")
                    pause = OLD_SERVER_PAUSE
                else:
                    failures += 1
                    pause = min(MAX_PAUSE, 2.0**failures) * random.uniform(0.5, 1.0)
                    log.info("catalogue watch: %s; asking again in %.0f s", exc.message, pause)
            except KioskError as exc:
                log.error("catalogue watch: %s", exc.message)
                pause = MAX_PAUSE
            except Exception:  # noqa: BLE001 - the watch must outlive any one failure
                log.exception("catalogue watch failed")
                pause = MAX_PAUSE
            if pause:
                self.stopping.wait(pause)

    def _round(self) -> float:
        """One question, and the exchange when the answer names another catalogue; the pause before the next."""
        in_use = current_version(self.kiosk.sessions)
        since = self.seen if self.seen and self.seen != in_use else (in_use or "")
        answer = self.client.watch(since, self.wait, remote_apply.held(self.kiosk))
        version = answer.get("version") if isinstance(answer.get("version"), str) else None
        if answer.get("changed") and version:
            log.info("the commune's catalogue changed (version %s): taking it now", version[:12])
            report = self.client.exchange_catalog()
            self.exchanges += 1
            if report.error:
                raise SyncError(report.error)
            if report.catalog_error:
                log.warning("catalogue watch: %s", report.catalog_error)
            self.seen = version
        if remote_apply.wanted(self.kiosk, answer.get("remote")):  # new remote settings, or a bundle asked
            remote_apply.exchange(self.client)
        retry = answer.get("retry")
        return float(retry) if isinstance(retry, int | float) and 0 < retry <= MAX_PAUSE else 0.0

    def stop(self) -> None:
        """Stop between questions; one waiting at the server is abandoned (the thread is a daemon)."""
        self.stopping.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout=1)
