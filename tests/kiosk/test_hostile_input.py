"""Every case of issue 12, point 9 (and the kiosk side of point 1), as it was reported: each once answered
500 or was stored as sent; each now answers a 4xx with a JSON error naming the field, and writes nothing.
(The central server's cases — year-9999 and year-1 times, far offsets, a business day of 9999-12-31 — are in
tests/central/test_poison_records.py; `/comments?page=…` in tests/central/test_fuzz_central.py.)
"""

from __future__ import annotations

import sqlite3

import pytest

from tests.queue_helpers import issue, login

pytestmark = pytest.mark.staffed()  # the commune of tests/queue_helpers.py: clerks at counters 1–3

DEEP = ("[" * 30000 + "]" * 30000).encode()
JSON_ENDPOINTS = [
    "/api/ratings",
    "/api/ratings/x/details",
    "/api/tickets",
    "/api/clerk/login",
    "/api/counters/1/next",
    "/api/counters/1/recall",
    "/api/counters/1/no-show",
    "/api/counters/1/complete",
    "/api/counters/1/transfer",
    "/api/counters/1/pause",
    "/api/counters/1/resume",
]


def records(app) -> tuple[int, ...]:
    db = sqlite3.connect(app.extensions["kiosk"].settings.database_url.split("///", 1)[1])
    try:
        return tuple(db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("ratings", "tickets", "comments"))
    finally:
        db.close()


def refused(answer, status: int, field: str) -> dict:
    assert answer.status_code == status, answer.get_data()[:300]
    assert answer.is_json and answer.json["error"], answer.get_data()[:300]
    assert answer.json["detail"]["field"] == field, answer.json
    return answer.json


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
def test_json_nested_30000_deep_is_a_400_on_every_json_endpoint_clerk_actions_included(app, path):
    clerk = app.test_client()
    issue(clerk)
    login(clerk, 1)  # the clerk's actions are reached with a real session
    before = records(app)
    answer = clerk.post(path, data=DEEP, content_type="application/json")
    body = refused(answer, 400, "(the body)")
    assert body["detail"]["reason"] == "too_deep"
    assert records(app) == before


@pytest.mark.parametrize(
    ("raw", "field", "reason"),
    [
        (b'{"level": "satisfied", "comment": "bad\\u0000service"}', "comment", "bad_character"),  # case 1
        (b'{"level": "satisfied", "comment": "x\\ud800y"}', "comment", "bad_character"),  # a lone surrogate
        (b'{"level": "satisfied", "contact": "\\udc00"}', "contact", "bad_character"),
        (b'{"level": "satisfied", "counter": ' + b"9" * 5000 + b"}", "counter", "bad_number"),
        (b'{"level": "satisfied", "counter": NaN}', "counter", "bad_number"),
        (b'{"level": "satisfied", "criteria": {"time": Infinity}}', "criteria.time", "bad_number"),
        (b'{"level": "satisfied", "criteria": {"time": 1e999}}', "criteria.time", "bad_number"),
        (b'{"level": "satisfied", "comment": "\\u001b[2J"}', "comment", "bad_character"),
    ],
)
def test_values_no_database_could_keep_are_refused_naming_the_field(app, raw, field, reason):
    before = records(app)
    body = refused(app.test_client().post("/api/ratings", data=raw, content_type="application/json"), 400, field)
    assert body["detail"]["reason"] == reason
    assert records(app) == before


def test_criteria_of_the_wrong_shape_are_a_400(app):
    client = app.test_client()
    refused(client.post("/api/ratings", json={"level": "satisfied", "criteria": ["time", "attitude"]}), 400, "criteria")
    refused(
        client.post("/api/ratings", json={"level": "satisfied", "criteria": {"time": ["satisfied"]}}),
        400,
        "criteria.time",
    )
    refused(client.post("/api/ratings", json={"level": ["satisfied"]}), 400, "level")
    assert records(app) == (0, 0, 0)


def test_a_huge_counter_number_at_clerk_login_is_a_4xx(app):
    client = app.test_client()
    refused(client.post("/api/clerk/login", json={"counter": 10**30, "pin": "1111"}), 400, "counter")
    refused(client.post("/api/clerk/login", json={"counter": 2**63, "pin": "1111"}), 400, "counter")
    refused(client.post("/api/clerk/login", json={"counter": 10**14, "pin": "1111"}), 404, "counter")
    assert client.post("/api/counters/99999999999999999999999/next").status_code == 404
    assert app.test_client().get("/api/rating-context?counter=99999999999999999999").status_code == 400
