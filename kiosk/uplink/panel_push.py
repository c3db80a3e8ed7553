"""`kiosk serve`'s live panel at the central server: the kiosk's panel posted when it changes (issue 25).

Every event of the kiosk's bus (a ticket issued, a call, a pause, a clerk's log-in) wakes the thread, which posts
the panel (:func:`kiosk.panel.panel_state`, signed like every call: `POST /api/v1/panel`) at most once every
:data:`MIN_GAP` seconds — a burst of tickets is one post — and at least every ``panel_push_every`` seconds
with no event at all, so the central server can tell a quiet kiosk from one that is gone: it shows a kiosk
not heard from for ``central_panel_offline_seconds`` as "mất kết nối từ …". With the network down the post is
dropped (the next one carries the whole state again); nothing is queued.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from common.errors import SyncError
from kiosk.panel import panel_state
from kiosk.uplink.client import SyncClient
from sync import protocol

log = logging.getLogger(__name__)

#: Fewest seconds between two posts (the burst of events after a call is one post).
MIN_GAP = 2.0


def panel_document(kiosk: Any) -> dict[str, Any]:
    """What is posted: the kiosk's identity and its panel now."""
    s = kiosk.settings
    panel = panel_state(kiosk.queue, kiosk.clock, s["panel_wait_alert_minutes"], s["panel_pause_alert_minutes"])
    return {"v": protocol.PROTOCOL_VERSION, "device": s["device_id"], "commune": s["commune_code"], "panel": panel}


class PanelPush(threading.Thread):
    """Posts the kiosk's panel to the central server on change (at most every MIN_GAP s) and as a heartbeat."""

    def __init__(self, kiosk: Any, every: float | None = None, min_gap: float = MIN_GAP) -> None:
        super().__init__(name="panel-push", daemon=True)
        self.kiosk = kiosk
        self.every = float(kiosk.settings["panel_push_every"] if every is None else every)
        self.min_gap = min_gap
        self.changed = threading.Event()
        self.stopping = threading.Event()
        self.client = SyncClient(kiosk, max_attempts=1, timeout=(5.0, 10.0), sleep=self.stopping.wait)
        #: Posts the server took (for tests and the log).
        self.sent = 0
        kiosk.events.on(lambda _event: self.changed.set())

    def run(self) -> None:
        while not self.stopping.is_set():
            self.changed.clear()
            try:
                self.client.post(protocol.PANEL_PATH, panel_document(self.kiosk))
                self.sent += 1
            except SyncError as exc:
                log.info("live panel not sent: %s", exc.message)
            except Exception:  # never let the panel stop the kiosk's own work
                log.exception("live panel not sent")
            if self.stopping.wait(self.min_gap):
                break
            self.changed.wait(max(0.0, self.every - self.min_gap))

    def stop(self) -> None:
        self.stopping.set()
        self.changed.set()
