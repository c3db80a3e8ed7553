"""Records a test makes on a kiosk (tickets and ratings over its HTTP API), remembered by the id the kiosk
answered, and the same records counted by id in a central server's database: "synced exactly once".

While the kiosk is stopped (an upgrade, a rollback) a press gets no ticket and no rating; :class:`Records`
keeps what it was told then too, so that a test can show every refusal was a clear one (no answer at all, or
a JSON error) and that a refused press left nothing behind.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import requests

#: The records a press makes, by central table (both key them by the kiosk's own id).
TABLES = ("tickets", "ratings")
#: A table's record ids in the kiosk's SQLite database, as the central stores them, in order.
KIOSK_IDS = "SELECT lower(replace(id, '-', '')) FROM {} ORDER BY 1"


def same_id(value: str) -> str:
    """A record id as the central's SQLite stores it (32 hex digits) and as the kiosk answers it (with dashes)."""
    return value.replace("-", "").lower()


class Records:
    """Tickets and ratings made on the kiosk at ``base``: ``made[table]`` the ids answered 201, ``refused`` what
    the presses that made nothing were told."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.made: dict[str, list[str]] = {table: [] for table in TABLES}
        self.refused: list[str] = []

    def press(self, table: str) -> str | None:
        """One ticket (for "Hộ tịch") or one rating; its id, or None when the kiosk made nothing."""
        url, body = {
            "tickets": ("/api/tickets", {"service": "HT"}),
            "ratings": ("/api/ratings", {"level": "satisfied", "channel": "touch"}),
        }[table]
        try:
            answer = requests.post(self.base + url, json=body, timeout=10)
        except requests.ConnectionError as exc:  # the kiosk is stopped: nobody answers on its port
            self.refused.append(f"no answer ({type(exc).__name__})")
            return None
        if answer.status_code == 201:
            self.made[table].append(same_id(answer.json()["id"]))
            return answer.json()["id"]
        error = answer.json()  # anything else must be a clear JSON error, never a half answer
        assert answer.status_code >= 400 and {"error", "detail"} <= set(error), answer.text
        self.refused.append(f"{answer.status_code} {error['error']}")
        return None

    def some(self, tickets: int, ratings: int) -> None:
        """Presses the kiosk must take (it is up)."""
        for table, count in (("tickets", tickets), ("ratings", ratings)):
            for _ in range(count):
                assert self.press(table) is not None, self.refused[-1]

    def during(self, action, interval: float = 0.5):
        """``action()``'s result, with a ticket and a rating pressed every ``interval`` seconds while it runs;
        the number of presses made then."""
        result: list = []
        worker = threading.Thread(target=lambda: result.append(action()), daemon=True)
        worker.start()
        presses = 0
        while worker.is_alive():
            for table in TABLES:
                self.press(table)
                presses += 1
            time.sleep(interval)
        worker.join()
        return result[0], presses

    def count(self) -> int:
        return sum(len(ids) for ids in self.made.values())


def central_counts(database: Path) -> dict[str, Counter]:
    """How many times the central's SQLite database holds each record id, by table."""
    with sqlite3.connect(database) as db:
        return {table: Counter(same_id(row[0]) for row in db.execute(f"SELECT id FROM {table}")) for table in TABLES}


def check_exactly_once(records: Records, central_db: Path, kiosk_ids: Callable[[str], list[str]]) -> None:
    """Every record the kiosk answered for in ``records`` is in the central's database once, none is there twice,
    and the central holds exactly what the kiosk holds (``kiosk_ids(table)``: the ids :data:`KIOSK_IDS` finds in
    the kiosk's database, records made outside ``records`` too)."""
    held = central_counts(central_db)
    for table, ids in records.made.items():
        assert {i: n for i, n in held[table].items() if n != 1} == {}  # no record twice
        assert set(ids) <= set(held[table])  # every record the kiosk answered for
        assert sorted(held[table]) == kiosk_ids(table)  # and nothing else
