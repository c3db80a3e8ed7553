"""What the central server's views and commands share (:class:`Central`), and :func:`current_central` to reach it
during a request (``app.extensions["central"]``, set by ``central.app.create_central_app``).

Imports no view, so every view and the app itself may import it without a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from central.reports.localtime import LocalTime
from common import settings as settings_mod

#: Where the app keeps its Central.
EXTENSION = "central"


@dataclass
class Central:
    """Everything the central server's views and commands share."""

    settings: settings_mod.Settings
    engine: Engine
    sessions: sessionmaker[Session]
    master_key: bytes
    clock: Any  # an object with now() → naive UTC (central.app.ServerClock; tests pass their own)
    local_time: LocalTime  # the reports' calendar, of the setting ``timezone``

    def close(self) -> None:
        self.engine.dispose()


def current_central() -> Central:
    """The Central of the app handling this request."""
    return current_app.extensions[EXTENSION]
