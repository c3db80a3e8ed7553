"""A small province whose every report figure was computed by hand (the numbers are in the tests).

Three communes: A and B in district D1, C in district D2. Records reach the server through the real
ingest, as `POST /api/v1/sync` reads them (``central.ingest.prepare_body`` + ``store``; ``WAY =
"reference"`` takes the reference reading, ``ingest.prepare``, instead), in several batches: one sent while the kiosk's clock
was 40 days behind (its corrected time moves it to 10 February), and one that brings a ticket's clerk
actions weeks after the ticket (a late record). All times below are Asia/Ho_Chi_Minh local times.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from central import ingest
from central.models import Clerk
from central.registry import add_commune, add_device
from kiosk.db import transaction
from sync import protocol
from tests.central.helpers import import_catalog

LEVELS = {"very_satisfied": 2, "satisfied": 1, "unsatisfied": 0}
BY_POINTS = {2: "very_satisfied", 1: "satisfied", 0: "unsatisfied"}
SERVER_NOW = datetime(2026, 4, 5, 3, 0)  # naive UTC: Sunday 5 April 2026, 10:00 local
#: The hand-made province has a handful of indicator answers per clerk, so its reports grade from one answer
#: (setting grade_min_answers); the threshold itself is tested in tests/e2e/test_tt01_shared.py.
MIN_ANSWERS = 1
#: How batches are read: "server" as `POST /api/v1/sync` does (typed when clean), or "reference".
WAY = "server"
#: The way each batch of the last load was stored ("typed" or "reference").
WAYS: list[str] = []


def utc(local: str) -> datetime:
    return datetime.fromisoformat(local) - timedelta(hours=7)


@dataclass
class Feed:
    """One kiosk's records, numbered as the kiosk numbers them, sent through the real ingest."""

    central: Any
    commune: str
    device: str
    seq: int = 0
    counter: int = 0
    pending: list[dict] = field(default_factory=list)

    def _record(self, kind: str, when: datetime, clock_synced: bool = True, **fields: Any) -> dict:
        self.seq += 1
        record = {
            "type": kind,
            "id": str(uuid.uuid4()),
            "seq": self.seq,
            "device_time": when.isoformat(),
            "clock_synced": clock_synced,
            **fields,
        }
        self.pending.append(record)
        return record

    def rating(self, local: str, level: str, service=None, counter=None, clerk=None, counted=True, **kw) -> dict:
        when = kw.pop("device_time", None) or utc(local)
        return self._record(
            "rating",
            when,
            kw.pop("clock_synced", True),
            level=level,
            points=LEVELS[level],
            channel=(channel := kw.pop("channel", "button")),
            panel=f"{channel}:{counter or '-'}",
            counted=counted,
            flag=None if counted else "response_interval",
            counter_number=counter,
            ticket_id=None,
            clerk_id=clerk,
            service_code=service,
        )

    def answers(self, rating: dict, **points: int) -> None:
        when = datetime.fromisoformat(rating["device_time"]) + timedelta(seconds=20)
        for indicator, value in points.items():
            self._record(
                "indicator_answer",
                when,
                rating["clock_synced"],
                rating_id=rating["id"],
                indicator=indicator,
                level=BY_POINTS[value],
                points=value,
            )

    def ticket(self, local: str, service: str, number: int) -> dict:
        return self._record(
            "ticket",
            utc(local),
            service_code=service,
            business_day=local[:10],
            number=number,
            display_number=f"{number:03d}",
            priority=False,
            channel="touch",
        )

    def action(self, local: str, action: str, ticket: dict | None, counter: int, clerk: str, detail=None) -> dict:
        return self._record(
            "clerk_action",
            utc(local),
            action=action,
            counter_number=counter,
            clerk_id=clerk,
            ticket_id=ticket["id"] if ticket else None,
            detail=detail,
        )

    def comment(
        self, local: str, text: str, contact: str | None = None, counter: int | None = None, rating: dict | None = None
    ) -> dict:
        """A comment, left alone or with the rating it was given with (``rating``)."""
        rating_id = rating["id"] if rating else None
        return self._record(
            "comment", utc(local), rating_id=rating_id, counter_number=counter, text=text, contact=contact
        )

    @staticmethod
    def device_of(central, commune: str) -> str:
        from central.models import Device

        with central.sessions() as s:
            return s.scalar(select(Device.id).where(Device.commune_code == commune))

    def send(self, now: datetime = SERVER_NOW, clock_synced: bool = True, sent_at: datetime | None = None):
        """Send the pending records as one batch."""
        records, self.pending = self.pending, []
        self.counter += 1
        envelope = {
            "v": 1,
            "device": self.device,
            "commune": self.commune,
            "sent_at": (sent_at or now).isoformat(),
            "clock_synced": clock_synced,
            "status": {"unsynced": 0, "printer": "ok", "version": "1.0.0"},
            "records": records,
        }
        text = json.dumps(envelope, ensure_ascii=False).encode()
        if WAY == "reference":
            prepared = ingest.prepare(protocol.parse_batch(text), self.device, self.commune, 5000)
        else:
            prepared = ingest.prepare_body(text, self.device, self.commune, 5000)
        with self.central.engine.begin() as conn:
            result = ingest.store(conn, prepared, self.commune, self.device, self.counter, now)
        assert not result.rejected, result.rejected
        WAYS.append("typed" if result.typed else "reference")
        return result


@dataclass
class Province:
    central: Any
    clerks: dict[str, str]  # code → id
    feeds: dict[str, Feed]
    comments: dict[str, dict]
    ways: list[str] = field(default_factory=list)


def clerk_ids(central, commune: str) -> dict[str, str]:
    with central.sessions() as s:
        return {c.code: c.id for c in s.scalars(select(Clerk).where(Clerk.commune_code == commune))}


def load(central) -> Province:
    """Create communes, devices and clerks, and send every record of the hand-computed fixture."""
    WAYS.clear()
    add_commune(central, "A", "Xã An Bình", "D1", "P1")
    add_commune(central, "B", "Xã Bình Minh", "D1", "P1")
    add_commune(central, "C", "Xã Cẩm Hà", "D2", "P1")
    feeds = {code: Feed(central, code, add_device(central, f"Kiosk {code}", code)[0]) for code in "ABC"}
    with transaction(central.sessions) as s:
        import_catalog(
            s,
            "A",
            {
                "clerks": [
                    {"code": "A1", "name": "Nguyễn Văn An", "pin": "1111", "counter": 1},
                    {"code": "A2", "name": "Trần Thị Bình", "pin": "2222", "counter": 2},
                ]
            },
        )
        import_catalog(s, "B", {"clerks": [{"code": "B1", "name": "Lê Văn Cường", "pin": "3333", "counter": 1}]})
    ids = {**clerk_ids(central, "A"), **clerk_ids(central, "B")}
    a1, a2, b1 = ids["A1"], ids["A2"], ids["B1"]
    fa, fb, fc = feeds["A"], feeds["B"], feeds["C"]
    comments = {}

    # --- commune A, first quarter of 2026 ------------------------------------------------------------
    r1 = fa.rating("2026-01-05T08:10:00", "very_satisfied", "HT", 1, a1)
    fa.answers(r1, time=2, contacts=2, agencies=1, attitude=2)
    r9 = fa.rating("2026-01-05T08:10:03", "very_satisfied", "HT", 1, a1, counted=False)  # flagged
    fa.answers(r9, attitude=2)  # must never count
    r2 = fa.rating("2026-01-05T08:40:00", "satisfied", "HT", 1, a1)
    fa.answers(r2, time=1, attitude=1)
    r3 = fa.rating("2026-01-06T09:15:00", "very_satisfied", "CT", 2, a2)
    fa.answers(r3, attitude=2)
    fa.rating("2026-01-01T06:30:00", "satisfied")  # a panel press with no counter, field or clerk
    comments["A_plain"] = fa.comment("2026-01-05T08:12:00", "Cán bộ hướng dẫn rất nhiệt tình.", counter=1)
    # queue of 5 January
    t1 = fa.ticket("2026-01-05T07:30:00", "HT", 1)
    t2 = fa.ticket("2026-01-05T07:31:00", "HT", 2)
    t3 = fa.ticket("2026-01-05T07:32:00", "CT", 1)
    fa.action("2026-01-05T07:34:00", "call", t1, 1, a1)
    fa.action("2026-01-05T07:35:30", "call", t3, 2, a2)
    fa.action("2026-01-05T07:37:00", "transfer", t3, 2, a2, {"from": "CT", "to": "HT"})
    fa.action("2026-01-05T07:40:00", "complete", t1, 1, a1)
    fa.action("2026-01-05T07:40:00", "call", t2, 1, a1)
    fa.action("2026-01-05T07:42:00", "no_show", t2, 1, a1)
    fa.action("2026-01-05T07:45:00", "call", t3, 1, a1)
    fa.action("2026-01-05T07:50:00", "complete", t3, 1, a1)
    fa.send()

    # 10 February: the ticket arrives now, its clerk actions only in a later batch
    t4 = fa.ticket("2026-02-10T08:00:00", "CT", 1)
    fa.ticket("2026-02-10T08:05:00", "CT", 2)  # never called
    r4 = fa.rating("2026-02-10T09:20:00", "unsatisfied", "CT", 2, a2)
    fa.answers(r4, attitude=0, time=0)
    r5 = fa.rating("2026-02-10T09:50:00", "very_satisfied", "HT", 1, a1)
    fa.send()
    fa.answers(r5, time=2, contacts=1, attitude=2)  # answers in a later batch than their rating
    comments["A_injection"] = fa.comment("2026-02-10T10:05:00", '=HYPERLINK("http://x","bấm")', "0912345678", 2)
    fa.send()
    # the kiosk's clock is 40 days behind: it thinks 2026-02-10 10:00 is 2026-01-01 10:00
    behind = timedelta(days=40)
    fa.rating("", "satisfied", "CT", 2, a2, clock_synced=False, device_time=utc("2026-02-10T10:00:00") - behind)
    fa.send(clock_synced=False, sent_at=SERVER_NOW - behind)
    fa.action("2026-02-10T08:01:00", "call", t4, 2, a2)
    fa.action("2026-02-10T08:11:00", "complete", t4, 2, a2)
    r6 = fa.rating("2026-03-02T08:05:00", "satisfied", "HT", 1, a1)
    assert r6
    t6 = fa.ticket("2026-03-31T16:00:00", "HT", 1)
    fa.action("2026-03-31T16:20:00", "call", t6, 1, a1)
    fa.action("2026-03-31T16:30:00", "complete", t6, 1, a1)
    fa.rating("2026-04-01T00:30:00", "very_satisfied", "HT", 1, a1)  # 31 March in UTC, April locally
    fa.send()
    # the same quarter one year earlier
    fa.rating("2025-02-03T09:00:00", "satisfied", "HT", 1, a1)
    fa.rating("2025-02-04T09:00:00", "unsatisfied", "HT", 1, a1)
    t7 = fa.ticket("2025-02-03T08:00:00", "HT", 1)
    fa.action("2025-02-03T08:10:00", "call", t7, 1, a1)
    fa.action("2025-02-03T08:15:00", "complete", t7, 1, a1)
    fa.send()

    # --- commune B --------------------------------------------------------------------------------------
    r11 = fb.rating("2026-01-07T10:00:00", "unsatisfied", "HT", 1, b1)
    fb.answers(r11, attitude=1)
    fb.rating("2026-01-07T10:30:00", "unsatisfied", "HT", 1, b1)
    r13 = fb.rating("2026-02-03T14:00:00", "satisfied", "HT", 1, b1)
    fb.answers(r13, time=2, attitude=2)
    t8 = fb.ticket("2026-01-07T09:00:00", "HT", 1)
    fb.action("2026-01-07T09:02:00", "call", t8, 1, b1)
    fb.action("2026-01-07T09:06:00", "complete", t8, 1, b1)
    comments["B_contact"] = fb.comment("2026-01-07T10:31:00", "Phải chờ lâu quá.", "0987654321", 1)
    fb.send(now=SERVER_NOW - timedelta(days=5))

    # --- commune C (district D2) ---------------------------------------------------------------------
    fc.rating("2026-01-08T09:00:00", "very_satisfied", "HT", 1, None)
    fc.send()
    return Province(central, ids, feeds, comments, list(WAYS))


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def loaded(request, tmp_path_factory):
    """The central app with the province loaded, once per test module and database (read-only tests)."""
    from central.app import create_central_app

    tmp = tmp_path_factory.mktemp("reports")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'central.db'}"
    else:
        url = request.getfixturevalue("pg_cluster").create_database("reports")
    with pytest.MonkeyPatch.context() as env:  # as tests/conftest.py's _isolated_env, for this module's scope
        for name in [n for n in os.environ if n.startswith("KIOSK_")]:
            env.delenv(name)
        env.setenv("KIOSK_CONFIG", str(tmp / "no-such-kiosk.toml"))
        app = create_central_app(
            {
                "data_dir": str(tmp / "data"),
                "central_database_url": url,
                "grade_min_answers": MIN_ANSWERS,
                "TESTING": True,
            },
            clock=FixedClock(SERVER_NOW),
        )
        province = load(app.extensions["central"])
        yield app, province
        app.extensions["central"].close()
