"""Helpers of the central-server tests: device records, a live server, what the server stored."""

from __future__ import annotations

import contextlib
import re
import threading
import uuid
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func, select, text

from central import catalog
from central.audit import Actor
from central.models import RECORD_MODELS, Quarantine, SyncLog
from common import settings as settings_mod
from kiosk.db import transaction
from kiosk.models import ClerkAction, Comment, IndicatorAnswer, Rating, Ticket
from kiosk.records import stamp
from sync import protocol

COMMUNE = "26734"
OTHER_COMMUNE = "26737"

# A throwaway credential the tests give the users they create; not a secret of any real server.
TEST_PASSWORD = "mật-khẩu-dài"


class LiveServer:
    """The central app (optionally wrapped by a WSGI fault injector) served by waitress on loopback."""

    def __init__(self, app, wrap: Callable | None = None) -> None:
        from waitress.server import create_server

        self.server = create_server(
            wrap(app) if wrap else app, host="127.0.0.1", port=0, threads=8, asyncore_loop_timeout=0.05
        )
        self.url = f"http://127.0.0.1:{self.server.effective_port}"
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        with contextlib.suppress(OSError):  # close() from another thread pulls the sockets from under select()
            self.server.run()

    def close(self) -> None:
        self.server.close()
        self.thread.join(5)


def import_catalog(session, commune: str, doc: dict, actor: str = "import-config test") -> list[str]:
    """`kiosk-central import-config` without the file: the sections of ``doc`` replace the commune's."""
    return catalog.import_catalog(session, commune, doc, Actor(actor), datetime(2026, 11, 20, 1, 0))


def device_settings(data_dir: Path, url: str, device: tuple[str, str], **extra) -> settings_mod.Settings:
    overrides = {
        "data_dir": str(data_dir),
        "central_url": url,
        "device_id": device[0],
        "device_secret": device[1],
        "commune_code": COMMUNE,
        "printer": "none",
        "gpio": "mock",
        **extra,
    }
    return settings_mod.load(overrides=overrides)


def add_records(kiosk, n: int, comment_every: int = 7) -> list[str]:
    """``n`` ratings (plus a ticket and clerk action per 10, indicator answers and comments now and then).

    Written with the same ``stamp()`` every device record gets; returns the ids of every record made.
    """
    ids = []
    clock = kiosk.clock
    with transaction(kiosk.sessions) as session:
        ticket = None
        for i in range(n):
            if i % 10 == 0:
                ticket = stamp(
                    session,
                    Ticket(
                        service_code="HT",
                        business_day=date(2026, 11, 20),
                        number=kiosk_next_number(session),
                        display_number="A000",
                        priority=False,
                        channel="touch",
                    ),
                    clock,
                )
                session.flush()
                ids.append(ticket.id)
                action = stamp(
                    session, ClerkAction(action="call", counter_number=1, ticket_id=ticket.id, detail={"n": i}), clock
                )
                ids.append(action.id)
            rating = stamp(
                session,
                Rating(
                    level="satisfied",
                    points=1,
                    channel="button",
                    panel="buttons",
                    counted=True,
                    counter_number=1,
                    ticket_id=ticket.id,
                    service_code="HT",
                ),
                clock,
            )
            session.flush()
            ids.append(rating.id)
            if i % comment_every == 0:
                ids.append(
                    stamp(
                        session,
                        IndicatorAnswer(rating_id=rating.id, indicator="time", level="satisfied", points=1),
                        clock,
                    ).id
                )
                ids.append(
                    stamp(
                        session,
                        Comment(
                            rating_id=rating.id, counter_number=1, text="Cán bộ nhiệt tình ✓", contact="0912345678"
                        ),
                        clock,
                    ).id
                )
            clock.advance(1)
    return ids


def kiosk_next_number(session) -> int:
    return (session.scalar(select(func.max(Ticket.number))) or 0) + 1


def server_ids(central) -> list[str]:
    """Every record id stored at the central server (with repeats, if there ever were any)."""
    ids: list[str] = []
    with central.engine.connect() as conn:
        for model in RECORD_MODELS.values():
            ids.extend(conn.execute(select(model.__table__.c.id)).scalars())
    return ids


def stored_counts(central) -> dict[str, int]:
    """Rows in every table a sync request could write (records, quarantine, sync log)."""
    tables = [m.__tablename__ for m in RECORD_MODELS.values()] + [Quarantine.__tablename__, SyncLog.__tablename__]
    with central.engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in tables}


def assert_exactly_once(central, made: list[str]) -> None:
    stored = server_ids(central)
    assert len(stored) == len(set(stored)), "a record is stored twice"
    assert sorted(stored) == sorted(made), f"{len(set(made) - set(stored))} records missing at the server"


def wire_record(kind: str, seq: int, device_time: datetime, clock_synced: bool = True, **fields) -> dict:
    """A batch record as a kiosk would send it (defaults make a valid record of each kind)."""
    defaults = {
        "ticket": {
            "service_code": "HT",
            "business_day": device_time.date(),
            "number": seq,
            "display_number": f"A{seq:03d}",
            "priority": False,
            "channel": "touch",
        },
        "rating": {
            "level": "very_satisfied",
            "points": 2,
            "channel": "button",
            "panel": "buttons",
            "counted": True,
            "flag": None,
            "counter_number": 1,
            "ticket_id": None,
            "clerk_id": None,
            "service_code": "HT",
        },
        "indicator_answer": {"rating_id": str(uuid.uuid4()), "indicator": "time", "level": "satisfied", "points": 1},
        "comment": {"rating_id": None, "counter_number": 1, "text": "Rất tốt", "contact": None},
        "clerk_action": {"action": "call", "counter_number": 1, "clerk_id": None, "ticket_id": None, "detail": None},
    }[kind]
    values = {"id": str(uuid.uuid4()), "seq": seq, "device_time": device_time, "clock_synced": clock_synced}
    values.update(defaults)
    values.update(fields)
    return protocol.to_wire(kind, values)


def envelope(device_id: str, records: list[dict], sent_at: datetime, clock_synced: bool = True, **extra) -> dict:
    return {
        "v": 1,
        "device": device_id,
        "commune": COMMUNE,
        "sent_at": sent_at.isoformat(),
        "clock_synced": clock_synced,
        "status": {"unsynced": len(records), "printer": "ok", "version": "test"},
        "records": records,
        **extra,
    }


class Signer:
    """Signs requests as one kiosk, with its own strictly increasing counter (tests can override it)."""

    def __init__(self, client, device: tuple[str, str]) -> None:
        self.client, self.device_id, self.secret = client, device[0], device[1]
        self.counter = 0

    def post(self, body: bytes | dict, counter: int | None = None, secret: str | None = None, headers=None):
        if isinstance(body, dict):
            body = protocol.encode_batch(body)
        if counter is None:
            self.counter += 1
            counter = self.counter
        signed = protocol.request_headers(
            secret or self.secret, "POST", protocol.SYNC_PATH, self.device_id, counter, body
        )
        signed.update({"Content-Encoding": "gzip", "Content-Type": "application/json", **(headers or {})})
        return self.client.post(protocol.SYNC_PATH, data=body, headers=signed)

    def get_config(self, counter: int | None = None):
        if counter is None:
            self.counter += 1
            counter = self.counter
        signed = protocol.request_headers(self.secret, "GET", protocol.CONFIG_PATH, self.device_id, counter, b"")
        return self.client.get(protocol.CONFIG_PATH, headers=signed), counter

    def answer_signed(self, response, counter: int | None = None) -> bool:
        signature = response.headers.get(protocol.SIGNATURE_HEADER, "")
        counter = self.counter if counter is None else counter
        return protocol.response_ok(self.secret, signature, self.device_id, counter, response.get_data())


def last_counter(central, device_id: str) -> int:
    from central.models import DeviceStatus

    with central.sessions() as session:
        return session.scalar(select(DeviceStatus.last_counter).where(DeviceStatus.device_id == device_id))


def token(client, path: str = "/login") -> str:
    """The CSRF token of the session, as the page at ``path`` puts it in its forms."""
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


def sign_in(app, username: str, password: str = TEST_PASSWORD):
    """A test client of the central pages signed in as ``username`` through the real form."""
    client = app.test_client()
    answer = client.post("/login", data={"username": username, "password": password, "csrf_token": token(client)})
    assert answer.status_code == 302, answer.text
    return client
