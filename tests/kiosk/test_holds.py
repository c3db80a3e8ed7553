"""Hold and return, pick from the line (kiosk.holds): the API contract, the place kept, expiry as a no-show."""

from __future__ import annotations

import pytest

from tests.queue_helpers import issue, login, make_app, rows

pytestmark = pytest.mark.staffed(hold_minutes=10)  # the commune of tests/queue_helpers.py: counters 1–3

VI = {"Accept-Language": "vi"}


def _call(client, counter, ticket_id, **headers):
    return client.post(f"/api/counters/{counter}/call", json={"ticket_id": ticket_id}, headers=headers)


@pytest.mark.parametrize(("action", "body"), [("hold", {"reason": "photocopy"}), ("call", {"ticket_id": "x"})])
def test_hold_and_call_need_a_clerk_session(client, action, body):
    issue(client)
    response = client.post(f"/api/counters/1/{action}", json=body)
    assert response.status_code == 401


def test_a_held_ticket_keeps_its_place_at_its_counter_and_comes_back_with_one_press(client, kiosk):
    first, second = issue(client), issue(client)
    login(client, 1)
    client.post("/api/counters/1/next")
    response = client.post("/api/counters/1/hold", json={"reason": "photocopy"})
    assert response.status_code == 200
    held = response.get_json()["ticket"]
    assert held["status"] == "held" and held["hold"]["reason"] == "photocopy"

    view = client.get("/api/counters/1/queue").get_json()
    assert view["counter"]["serving"] is None
    assert [h["display_number"] for h in view["held"]] == [first["display_number"]]
    assert [t["display_number"] for t in view["line"]] == [second["display_number"]]  # held apart from the line
    assert kiosk.queue.ahead(second["id"]) == 0  # a held ticket is ahead of nobody

    assert client.post("/api/counters/1/next").get_json()["ticket"]["id"] == second["id"]  # next skips it
    back = _call(client, 1, first["id"])
    assert back.status_code == 200
    assert back.get_json()["ticket"]["status"] == "called"
    view = client.get("/api/counters/1/queue").get_json()
    assert view["held"] == [] and view["counter"]["serving"]["id"] == first["id"]
    assert client.post("/api/counters/1/complete").status_code == 200
    actions = rows(kiosk.settings.data_path / "kiosk.db",
                   "SELECT action, json_extract(detail, '$.held') FROM clerk_actions WHERE ticket_id = ? ORDER BY seq",
                   (first["id"],))  # fmt: skip
    assert actions == [("call", None), ("hold", None), ("call", 1), ("complete", None)]


def test_another_counter_cannot_take_a_held_ticket(client, app):
    ticket = issue(client)
    login(client, 1)
    client.post("/api/counters/1/next")
    client.post("/api/counters/1/hold", json={"reason": "missing_paper"})
    other = app.test_client()
    login(other, 2)
    response = _call(other, 2, ticket["id"], **VI)
    assert response.status_code == 409
    body = response.get_json()
    assert body["detail"]["reason"] == "held_elsewhere"
    assert "quầy 1" in body["error"].lower()  # Vietnamese first


def test_calling_a_ticket_that_is_neither_waiting_nor_held_is_a_clear_409(client):
    ticket = issue(client)
    login(client, 1)
    client.post("/api/counters/1/next")
    client.post("/api/counters/1/complete")
    response = _call(client, 1, ticket["id"], **VI)
    assert response.status_code == 409
    body = response.get_json()
    assert body["detail"]["reason"] == "not_waiting" and body["detail"]["status"] == "done"
    assert ticket["display_number"] in body["error"] and "không" in body["error"]


def test_an_unknown_ticket_is_404_and_a_bad_body_400(client):
    login(client, 1)
    response = _call(client, 1, "no-such-ticket", **VI)
    assert response.status_code == 404
    assert "không có phiếu" in response.get_json()["error"].lower()
    assert client.post("/api/counters/1/call", json={}).status_code == 400
    assert client.post("/api/counters/1/hold", json={"reason": "lunch"}).status_code == 400
    assert client.post("/api/counters/1/hold", json={"reason": "photocopy", "x": 1}).status_code == 400


def test_hold_with_nobody_served_is_409_and_writes_nothing(client, kiosk):
    login(client, 1)
    response = client.post("/api/counters/1/hold", json={"reason": "photocopy"})
    assert response.status_code == 409
    assert rows(kiosk.settings.data_path / "kiosk.db", "SELECT COUNT(*) FROM clerk_actions WHERE action = 'hold'") == [
        (0,)
    ]


def test_an_expired_hold_ends_as_a_no_show(client, kiosk, clock):
    ticket = issue(client)
    login(client, 1)
    client.post("/api/counters/1/next")
    client.post("/api/counters/1/hold", json={"reason": "photocopy"})
    clock.advance(9 * 60)
    assert [h["id"] for h in client.get("/api/counters/1/queue").get_json()["held"]] == [ticket["id"]]
    clock.advance(61)
    assert client.get("/api/counters/1/queue").get_json()["held"] == []
    found = rows(kiosk.settings.data_path / "kiosk.db",
                 "SELECT ts.status, json_extract(ca.detail, '$.expired_hold') FROM ticket_state ts "
                 "JOIN clerk_actions ca ON ca.ticket_id = ts.ticket_id AND ca.action = 'no_show' "
                 "WHERE ts.ticket_id = ?", (ticket["id"],))  # fmt: skip
    assert found == [("no_show", 1)]
    assert _call(client, 1, ticket["id"]).status_code == 409  # too late to call it back


def test_picking_a_waiting_ticket_is_marked_out_of_order_unless_it_was_next(client, kiosk):
    a, b, c = issue(client), issue(client, "CT"), issue(client)
    login(client, 1)
    picked = _call(client, 1, c["id"])
    assert picked.status_code == 200 and picked.get_json()["ticket"]["id"] == c["id"]
    assert kiosk.queue.ahead(b["id"]) == 1  # a, then b: the pick took c out of the line
    assert _call(client, 1, a["id"]).status_code == 200  # the one next would call anyway
    marks = rows(kiosk.settings.data_path / "kiosk.db",
                 "SELECT ticket_id, json_extract(detail, '$.out_of_order') FROM clerk_actions "
                 "WHERE action = 'call' ORDER BY seq")  # fmt: skip
    assert marks == [(c["id"], 1), (a["id"], 0)]


def test_a_pick_of_a_field_the_counter_does_not_handle_is_409(client):
    ticket = issue(client, "DD")
    login(client, 1)
    response = _call(client, 1, ticket["id"])
    assert response.status_code == 409 and response.get_json()["detail"]["reason"] == "not_handled"


def test_the_setting_sets_the_hold_time(tmp_path, clock):
    app = make_app(tmp_path / "var", clock, hold_minutes=3)
    client = app.test_client()
    issue(client)
    login(client, 1)
    client.post("/api/counters/1/next")
    held = client.post("/api/counters/1/hold", json={"reason": "payment"}).get_json()["ticket"]
    assert [h["id"] for h in client.get("/api/queue").get_json()["held"]] == [held["id"]]
    clock.advance(3 * 60 + 1)
    assert client.get("/api/queue").get_json()["held"] == []


def test_the_phone_page_says_giu_cho_with_the_reason_then_no_show_when_the_time_runs_out(client, kiosk, clock):
    ticket = issue(client)
    token = rows(kiosk.settings.data_path / "kiosk.db", "SELECT token FROM ticket_state WHERE ticket_id = ?",
                 (ticket["id"],))[0][0]  # fmt: skip
    login(client, 1)
    client.post("/api/counters/1/next")
    client.post("/api/counters/1/hold", json={"reason": "missing_paper"})
    state = client.get(f"/t/{token}/state").get_json()
    assert (state["status"], state["counter"], state["hold"]["reason"]) == ("held", 1, "missing_paper")
    assert state["hold"]["until_hm"] == "08:10"  # the FakeClock's 08:00 plus hold_minutes
    page = client.get(f"/t/{token}", headers=VI).get_data(as_text=True)
    assert "Giữ chỗ: số của bạn vẫn được giữ" in page and "Thiếu giấy tờ: công dân đi lấy giấy tờ" in page
    clock.advance(10 * 60 + 1)
    client.get("/api/queue")  # a board or console reads the queue
    assert client.get(f"/t/{token}/state").get_json()["status"] == "no_show"
