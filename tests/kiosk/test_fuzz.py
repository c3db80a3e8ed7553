"""Fuzz every endpoint of the kiosk with hostile bodies (issue 12): never a 500, nothing half-written.

Several hundred bodies — deep nesting, huge numbers, NaN, wrong types, bad Unicode, NUL — go to every JSON
endpoint (the clerk's actions with a clerk's session), every page's query string and every admin form. A
refused request (4xx) must leave every record table as it was; an API refusal is JSON naming the problem.
"""

from __future__ import annotations

import random
import re
import sqlite3
from urllib.parse import quote

import pytest

from kiosk import admin as admin_auth
from kiosk.db import transaction
from tests import hostile
from tests.queue_helpers import issue, login

pytestmark = pytest.mark.staffed(response_interval=0)  # the commune of tests/queue_helpers.py: clerks at counters 1–3

TABLES = ("tickets", "ticket_state", "ratings", "indicator_answers", "comments", "clerk_actions", "print_jobs")
PER_ENDPOINT = 40


class Ledger:
    """Row counts of every record table, to prove a refused request wrote nothing."""

    def __init__(self, app) -> None:
        self.db = sqlite3.connect(app.extensions["kiosk"].settings.database_url.split("///", 1)[1])

    def counts(self) -> tuple[int, ...]:
        return tuple(self.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES)


def check(answer, before: tuple, ledger: Ledger, what: str) -> None:
    assert answer.status_code < 500, f"{what}: {answer.status_code} {answer.get_data()[:300]!r}"
    if 400 <= answer.status_code < 500:
        assert ledger.counts() == before, f"{what}: a refused request ({answer.status_code}) wrote something"
        if answer.is_json:
            assert isinstance(answer.json.get("error"), str) and answer.json["error"]


def test_every_json_endpoint_refuses_hostile_bodies_plainly(app):
    rng = random.Random(12)
    ledger = Ledger(app)
    kiosk = app.extensions["kiosk"]
    clerk = app.test_client()
    ticket = issue(clerk)
    login(clerk, 1)
    assert clerk.post("/api/counters/1/next").status_code == 200
    assert clerk.post("/api/counters/1/complete").status_code == 200  # served: its phone page may rate it
    token = kiosk.engine.raw_connection().execute("SELECT token FROM ticket_state").fetchone()[0]
    rating = app.test_client().post("/api/ratings", json={"level": "satisfied"}).json
    endpoints = [
        (f"/t/{token}/rating", ["level", "criteria", "comment", "contact"], None),
        ("/api/ratings", ["level", "channel", "counter", "ticket_id", "criteria", "comment", "contact"], None),
        (f"/api/ratings/{rating['id']}/details", ["secret", "criteria", "comment", "contact"], None),
        (f"/api/ratings/{rating['id']}/claim", [], None),
        ("/api/tickets", ["service", "priority", "channel"], None),
        ("/api/clerk/login", ["counter", "pin", "clerk"], None),
        ("/api/clerk/logout", [], None),
        ("/api/counters/1/next", ["service", "ticket_id"], clerk),
        ("/api/counters/1/recall", [], clerk),
        ("/api/counters/1/no-show", [], clerk),
        ("/api/counters/1/complete", [], clerk),
        ("/api/counters/1/transfer", ["service"], clerk),
        ("/api/counters/1/pause", [], clerk),
        ("/api/counters/1/resume", [], clerk),
        (f"/api/tickets/{ticket['id']}/reprint", [], clerk),
    ]
    sent = 0
    for path, fields, client in endpoints:
        for raw in hostile.bodies(rng, fields, PER_ENDPOINT):
            before = ledger.counts()
            answer = (client or app.test_client()).post(path, data=raw, content_type="application/json")
            check(answer, before, ledger, f"POST {path} {raw[:120]!r}")
            sent += 1
    assert sent >= len(endpoints) * PER_ENDPOINT
    # The secret is what it always was: hostile detail bodies added nothing to the rating.
    assert kiosk.ratings.details_secret(rating["id"]) == rating["secret"]


def phone_token(app) -> str:
    """The phone page's token of a ticket (one is issued the first time)."""
    kiosk = app.extensions["kiosk"]
    found = kiosk.engine.raw_connection().execute("SELECT token FROM ticket_state LIMIT 1").fetchone()
    if found is None:
        issue(app.test_client())
        return phone_token(app)
    return found[0]


def test_every_page_and_query_string_survives_hostile_parameters(app):
    rng = random.Random(1212)
    ledger = Ledger(app)
    clerk = app.test_client()
    login(clerk, 1)
    pages = [
        ("/", ["counter", "lang"]),
        ("/rate", ["counter", "lang"]),
        ("/ticket", ["lang"]),
        (f"/t/{phone_token(app)}", ["lang", "rated"]),
        (f"/t/{phone_token(app)}/state", ["lang"]),
        ("/clerk", ["counter", "lang"]),
        ("/display", ["lang"]),
        ("/api/queue", ["day"]),
        ("/api/rating-context", ["counter"]),
        ("/api/counters/1/queue", ["service"]),
        ("/api/printer", []),
        ("/api/clerk/me", []),
        ("/healthz", ["x"]),
        ("/admin/login", ["next", "lang"]),
    ]
    for path, params in pages:
        for values in zip(*(hostile.query_values(rng, 12) for _ in params or [None]), strict=True):
            query = "&".join(f"{name}={v}" for name, v in zip(params, values, strict=False))
            before = ledger.counts()
            answer = clerk.get(f"{path}?{query}" if query else path)
            check(answer, before, ledger, f"GET {path}?{query[:200]}")
    for heartbeat in ("nan", "inf", "-1", "1e999", "%00", "9" * 400):
        stream = app.test_client().get(f"/api/events?heartbeat={heartbeat}", buffered=False)
        assert stream.status_code in (200, 400), heartbeat  # 400: a NUL in the query string
        if stream.status_code == 200:  # the stream starts, with a sane heartbeat
            first = next(iter(stream.response))
            assert first.startswith(b"retry")
        stream.close()
    for path in (
        "/api/counters/99999999999999999999999/next",
        "/api/tickets/%00/reprint",
        "/api/ratings/%ED%A0%80/claim",
    ):
        before = ledger.counts()
        check(clerk.post(path), before, ledger, f"POST {path}")


def test_admin_forms_refuse_hostile_fields(app):
    rng = random.Random(121212)
    ledger = Ledger(app)
    kiosk = app.extensions["kiosk"]
    with transaction(kiosk.sessions) as s:
        admin_auth.set_password(s, "mật-khẩu-quản-trị")
    admin = app.test_client()
    page = admin.get("/admin/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert admin.post("/admin/login", data={"password": "mật-khẩu-quản-trị", "csrf_token": token}).status_code == 302
    token = re.search(r'name="csrf_token" value="([^"]+)"', admin.get("/admin/services").text).group(1)
    clerk_id = re.search(r'action="/admin/clerks/([0-9a-f-]{36})"', admin.get("/admin/clerks").text).group(1)
    forms = [
        ("/admin/services", ["code", "name", "prefix", "daily_max", "position", "active"]),
        ("/admin/services/HT", ["name", "prefix", "daily_max", "position", "active"]),
        ("/admin/counters", ["number", "name", "services", "active"]),
        ("/admin/counters/1", ["name", "services", "active"]),
        ("/admin/clerks", ["name", "pin", "counter", "code"]),
        (f"/admin/clerks/{clerk_id}", ["name", "pin", "counter", "active"]),
    ]
    texts = ["\x00", "a\x00b", "\x1b", "9" * 5000, "-1", "99999999999999999999", "x" * 5000, "", "Hộ tịch", "NaN"]
    for path, fields in forms:
        for _ in range(PER_ENDPOINT):
            data = {name: rng.choice(texts) for name in rng.sample(fields, k=rng.randint(1, len(fields)))}
            data["csrf_token"] = token
            before = ledger.counts()
            answer = admin.post(path, data=data)
            assert answer.status_code < 500, f"POST {path} {data}: {answer.status_code}"
            assert ledger.counts() == before  # forms edit the catalogue, never a record
    with kiosk.sessions() as s:
        names = [row[0] for row in s.execute(__import__("sqlalchemy").text("SELECT name FROM services"))]
    assert all("\x00" not in name and "\x1b" not in name for name in names), "no control character was stored"
    assert admin.get("/admin").status_code == 200
    encoded = quote("\x00", safe="")
    assert admin.post(f"/admin/services/{encoded}", data={"csrf_token": token, "name": "x"}).status_code < 500
