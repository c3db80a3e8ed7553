"""An in-process event bus: services publish after they commit; the SSE stream and hardware listen."""

from __future__ import annotations

import itertools
import json
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Event:
    id: int
    kind: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_sse(self) -> str:
        payload = json.dumps(self.data, ensure_ascii=False, default=str)
        return f"id: {self.id}\nevent: {self.kind}\ndata: {payload}\n\n"


class EventBus:
    """Fan-out to subscriber queues and callbacks. Slow subscribers lose old events, never block publishers."""

    def __init__(self, backlog: int = 256) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._queues: set[queue.Queue] = set()
        self._callbacks: list[Callable[[Event], None]] = []
        self._backlog = backlog

    def publish(self, kind: str, data: dict[str, Any] | None = None) -> Event:
        with self._lock:
            event = Event(next(self._ids), kind, dict(data or {}))
            queues, callbacks = list(self._queues), list(self._callbacks)
        for q in queues:
            try:
                q.put_nowait(event)
            except queue.Full:
                try:
                    q.get_nowait()
                    q.put_nowait(event)
                except (queue.Empty, queue.Full):
                    pass
        for callback in callbacks:
            try:
                callback(event)
            except Exception:  # a listener's failure must never undo a committed action
                import logging

                logging.getLogger(__name__).exception("event listener failed on %s", kind)
        return event

    def on(self, callback: Callable[[Event], None]) -> None:
        with self._lock:
            self._callbacks.append(callback)

    def subscribe(self) -> queue.Queue:
        q: queue.Queue = queue.Queue(maxsize=self._backlog)
        with self._lock:
            self._queues.add(q)
        return q

    def unsubscribe(self, q: queue.Queue) -> None:
        with self._lock:
            self._queues.discard(q)
