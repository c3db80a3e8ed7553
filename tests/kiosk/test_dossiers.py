"""Dossier codes at the counter: the clerk attaches the codes of the ticket served (typed or scanned), each as
a `dossier` clerk action; the citizen's rating of that ticket carries them; nothing already stored changes."""

from __future__ import annotations

import json

import pytest

from tests.queue_helpers import issue, login, rows

pytestmark = pytest.mark.staffed()  # the commune of tests/queue_helpers.py: clerks at counters 1–3

CODE = "000.00.12.H56-250701-0001"
OTHER = "H56.22.17-250715-0003"


@pytest.fixture
def db(app, tmp_path):
    return tmp_path / "var" / "kiosk.db"


def serve_one(client) -> dict:
    issue(client, "HT")
    login(client, 1)
    answer = client.post("/api/counters/1/next")
    assert answer.status_code == 200
    return answer.get_json()["ticket"]


def attach(client, code, remove=None, counter: int = 1):
    body = {"code": code} if remove is None else {"code": code, "remove": remove}
    return client.post(f"/api/counters/{counter}/dossier", json=body)


def test_codes_attach_to_the_ticket_served_and_show_on_the_console(client, db):
    ticket = serve_one(client)
    first = attach(client, f"  {CODE.lower()}\u00a0")  # a typed code: spaces around, lower case
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["ticket"]["dossier_codes"] == [CODE]
    assert attach(client, CODE).get_json()["ticket"]["dossier_codes"] == [CODE]  # scanned twice: once
    assert attach(client, OTHER).get_json()["ticket"]["dossier_codes"] == [CODE, OTHER]
    view = client.get("/api/counters/1/queue").get_json()
    assert view["counter"]["serving"]["dossier_codes"] == [CODE, OTHER]
    assert "dossier_codes" not in json.dumps(client.get("/api/queue").get_json())  # not on the public board
    removed = attach(client, CODE, True)
    assert removed.get_json()["ticket"]["dossier_codes"] == [OTHER]
    actions = rows(db, "SELECT action, ticket_id, detail FROM clerk_actions WHERE action = 'dossier' ORDER BY seq")
    assert [(a, t, json.loads(d)) for a, t, d in actions] == [
        ("dossier", ticket["id"], {"code": CODE}),
        ("dossier", ticket["id"], {"code": OTHER}),
        ("dossier", ticket["id"], {"code": CODE, "removed": True}),
    ]


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("ÂB.12-3", "not_ascii"),  # Unikey left on: "AA" typed by the scanner became "Â"
        ("H56 22", "characters"),
        ("H56;DROP", "characters"),
        ("X" * 51, "long"),
    ],
)
def test_a_code_that_cannot_be_one_is_refused_with_its_reason(client, db, code, reason):
    serve_one(client)
    answer = attach(client, code)
    assert answer.status_code == 400
    assert answer.get_json()["detail"]["reason"] == reason and answer.get_json()["error"]
    assert rows(db, "SELECT count(*) FROM clerk_actions WHERE action = 'dossier'") == [(0,)]


def test_nothing_to_attach_to_without_a_ticket_served_and_at_most_ten(client):
    issue(client, "HT")
    login(client, 1)
    assert attach(client, CODE).status_code == 409
    assert attach(client, CODE).get_json()["detail"]["reason"] == "not_serving"
    client.post("/api/counters/1/next")
    for n in range(10):
        assert attach(client, f"HS-{n}").status_code == 200
    eleventh = attach(client, "HS-10")
    assert eleventh.status_code == 409 and eleventh.get_json()["detail"]["reason"] == "too_many"
    assert attach(client, "HS-99", True).status_code == 404
    assert attach(client, CODE, "yes").status_code == 400
    assert client.post("/api/counters/1/dossier", json={"code": CODE, "ticket": "x"}).status_code == 400


def test_the_rating_of_the_ticket_carries_its_codes(client, db, clock):
    ticket = serve_one(client)
    attach(client, CODE)
    attach(client, OTHER)
    assert client.post("/api/counters/1/complete").status_code == 200
    attach(client, "LATE-1")  # the ticket is no longer served: nothing changes
    clock.advance(5)
    rating = client.post("/api/ratings", json={"level": "very_satisfied", "channel": "touch", "counter": 1})
    assert rating.status_code == 201
    stored = rows(db, "SELECT ticket_id, dossier_codes FROM ratings WHERE id = ?", (rating.get_json()["id"],))
    assert stored == [(ticket["id"], f"{CODE} {OTHER}")]
    # the next citizen at the counter has no code until the clerk attaches one
    issue(client, "HT")
    client.post("/api/counters/1/next")
    clock.advance(100)
    second = client.post("/api/ratings", json={"level": "satisfied", "channel": "touch", "counter": 1})
    assert rows(db, "SELECT dossier_codes FROM ratings WHERE id = ?", (second.get_json()["id"],)) == [(None,)]
