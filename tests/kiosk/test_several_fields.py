"""Several fields in one visit (issue 25): one ticket for two fields, served in one call, each field completed
apart with its own service time and dossier codes; the ticket moves to the next field's line keeping its place."""

from __future__ import annotations

import pytest

from tests.queue_helpers import issue, login, make_app, rows

#: Counter 1 handles Hộ tịch and Chứng thực; counter 2 Đất đai; counter 3 Bảo trợ xã hội.
LAYOUT = [{"number": 1, "services": ["HT", "CT"]}, {"number": 2, "services": ["DD"]}, {"number": 3, "services": ["BT"]}]
SERVICES = [
    {"code": "HT", "name": "Hộ tịch", "prefix": "A"},
    {"code": "CT", "name": "Chứng thực", "prefix": "B"},
    {"code": "DD", "name": "Đất đai", "prefix": "C"},
    {"code": "BT", "name": "Bảo trợ xã hội", "prefix": "D"},
]


@pytest.fixture
def app(tmp_path, clock):
    app = make_app(tmp_path / "var", clock, services=SERVICES, counters=LAYOUT)
    yield app
    app.extensions["kiosk"].close()


def take(client, services, status=201):
    answer = client.post("/api/tickets", json={"services": services, "priority": False})
    assert answer.status_code == status, answer.get_json()
    return answer.get_json()


def test_one_ticket_for_two_fields_lists_them(app):
    ticket = take(app.test_client(), ["HT", "CT"])
    assert ticket["display_number"] == "A001"  # numbered in its first field's line
    assert ticket["service"] == "HT"
    assert ticket["services"] == [{"code": "HT", "name": "Hộ tịch"}, {"code": "CT", "name": "Chứng thực"}]
    assert "site" in ticket


def test_the_single_service_form_is_unchanged(app):
    ticket = issue(app.test_client(), "CT")
    assert ticket["service"] == "CT" and ticket["services"] == [{"code": "CT", "name": "Chứng thực"}]


@pytest.mark.parametrize(
    ("services", "status", "reason"),
    [
        (["HT", "XX"], 404, None),
        (["HT", "HT"], 400, "repeated"),
        (["HT", "CT", "DD", "BT"], 400, "too_many"),
        ([], 400, None),
        ("HT", 400, None),
    ],
)
def test_bad_lists_of_fields_are_refused_and_write_nothing(app, tmp_path, services, status, reason):
    answer = take(app.test_client(), services, status)
    assert answer["error"] and answer["detail"] is not None
    if reason:
        assert answer["detail"]["reason"] == reason
    assert rows(tmp_path / "var" / "kiosk.db", "SELECT COUNT(*) FROM tickets") == [(0,)]


def test_a_field_no_open_counter_handles_is_refused(app, tmp_path):
    db = tmp_path / "var" / "kiosk.db"
    import sqlite3

    with sqlite3.connect(db) as raw:  # counter 3 closed (as a catalogue from the central server can leave it)
        raw.execute("UPDATE counters SET active = 0 WHERE number = 3")
    app.extensions["kiosk"].queue.reload()
    answer = take(app.test_client(), ["HT", "BT"], 409)
    assert answer["detail"]["reason"] == "no_counter"
    assert rows(db, "SELECT COUNT(*) FROM tickets") == [(0,)]


def test_service_and_services_together_are_refused(app):
    answer = app.test_client().post("/api/tickets", json={"service": "HT", "services": ["HT", "CT"]})
    assert answer.status_code == 400


def test_the_clerk_serves_both_fields_in_one_call_each_completed_apart(app, clock, tmp_path):
    citizen, clerk = app.test_client(), app.test_client()
    login(clerk, 1)
    ticket = take(citizen, ["HT", "CT"])
    called = clerk.post("/api/counters/1/next").get_json()["ticket"]
    assert called["id"] == ticket["id"] and called["service"] == "HT"
    clerk.post("/api/counters/1/dossier", json={"code": "HT-0001"})
    clock.advance(240)
    after_first = clerk.post("/api/counters/1/complete").get_json()["ticket"]
    # the same call goes on with Chứng thực: still at counter 1, no dossier code carried over
    assert after_first["status"] == "called" and after_first["service"] == "CT" and after_first["counter"] == 1
    assert after_first["dossier_codes"] == []
    assert [(f["code"], f["status"], f["dossier_codes"]) for f in after_first["fields"]] == [
        ("HT", "done", ["HT-0001"]),
        ("CT", "waiting", []),
    ]
    clerk.post("/api/counters/1/dossier", json={"code": "CT-0002"})
    clock.advance(60)
    done = clerk.post("/api/counters/1/complete").get_json()["ticket"]
    assert done["status"] == "done"
    assert [(f["code"], f["status"], f["dossier_codes"]) for f in done["fields"]] == [
        ("HT", "done", ["HT-0001"]),
        ("CT", "done", ["CT-0002"]),
    ]
    db = tmp_path / "var" / "kiosk.db"
    completes = rows(
        db, "SELECT json_extract(detail, '$.service') FROM clerk_actions WHERE action = 'complete' ORDER BY seq"
    )
    assert completes == [("HT",), ("CT",)]  # each field a service of its own
    times = rows(
        db,
        "SELECT service_code, CAST(ROUND((julianday(finished_at) - julianday(called_at)) * 86400) AS INTEGER) "
        "FROM ticket_fields ORDER BY position",
    )
    assert times == [("HT", 240), ("CT", 60)]  # each field its own service time


def test_a_field_the_counter_does_not_handle_goes_to_its_line_keeping_its_place(app, clock):
    citizen, first, second = app.test_client(), app.test_client(), app.test_client()
    login(first, 1), login(second, 2)
    visit = take(citizen, ["HT", "DD"])
    clock.advance(30)
    later = issue(citizen, "DD")
    assert first.post("/api/counters/1/next").get_json()["ticket"]["id"] == visit["id"]
    moved = first.post("/api/counters/1/complete").get_json()["ticket"]
    assert moved["status"] == "waiting" and moved["service"] == "DD"
    # issued before the Đất đai ticket, it is called first at counter 2
    assert second.post("/api/counters/2/next").get_json()["ticket"]["id"] == visit["id"]
    assert second.post("/api/counters/2/next").get_json()["ticket"]["id"] == later["id"]


def test_the_clerk_adds_a_field_to_the_ticket_being_served(app):
    citizen, clerk = app.test_client(), app.test_client()
    login(clerk, 1)
    issue(citizen, "HT")
    clerk.post("/api/counters/1/next")
    added = clerk.post("/api/counters/1/fields", json={"service": "CT"}).get_json()["ticket"]
    assert [f["code"] for f in added["fields"]] == ["HT", "CT"]
    assert clerk.post("/api/counters/1/fields", json={"service": "CT"}).status_code == 400
    assert clerk.post("/api/counters/1/fields", json={"service": "ZZ"}).status_code == 404
    assert clerk.post("/api/counters/1/complete").get_json()["ticket"]["service"] == "CT"


def test_a_no_show_ends_the_whole_visit(app, tmp_path):
    citizen, clerk = app.test_client(), app.test_client()
    login(clerk, 1)
    take(citizen, ["HT", "CT"])
    clerk.post("/api/counters/1/next")
    clerk.post("/api/counters/1/no-show")
    assert rows(tmp_path / "var" / "kiosk.db", "SELECT status FROM ticket_fields ORDER BY position") == [
        ("no_show",),
        ("no_show",),
    ]


def test_one_rating_of_the_visit_counts_for_each_field_served(app, tmp_path):
    citizen, clerk = app.test_client(), app.test_client()
    login(clerk, 1)
    ticket = take(citizen, ["HT", "CT"])
    clerk.post("/api/counters/1/next")
    clerk.post("/api/counters/1/dossier", json={"code": "HT-0001"})
    clerk.post("/api/counters/1/complete")
    clerk.post("/api/counters/1/dossier", json={"code": "CT-0002"})
    clerk.post("/api/counters/1/complete")
    rated = citizen.post("/api/ratings", json={"level": "satisfied", "channel": "touch", "counter": 1})
    assert rated.status_code == 201 and rated.get_json()["counted"]
    again = citizen.post("/api/ratings", json={"level": "unsatisfied", "channel": "touch", "counter": 1})
    assert again.status_code == 201 and not again.get_json()["counted"]  # one visit counts once
    assert rows(
        tmp_path / "var" / "kiosk.db",
        "SELECT ticket_id, service_code, services, dossier_codes FROM ratings WHERE counted",
    ) == [(ticket["id"], "CT", "HT CT", "HT-0001 CT-0002")]


def test_the_printed_ticket_and_the_phone_page_list_the_fields(tmp_path, clock):
    app = make_app(tmp_path / "var", clock, services=SERVICES, counters=LAYOUT, printer=f"spool:{tmp_path / 'spool'}")
    try:
        citizen = app.test_client()
        ticket = take(citizen, ["HT", "CT"])
        single = issue(citizen, "DD")
        printing = app.extensions["kiosk"].printing
        assert printing.ticket_content(ticket["id"])["service"] == "Hộ tịch + Chứng thực"
        assert printing.ticket_content(single["id"])["service"] == "Đất đai"
        db = tmp_path / "var" / "kiosk.db"
        token = rows(db, "SELECT token FROM ticket_state WHERE ticket_id = ?", (ticket["id"],))[0][0]
        page = citizen.get(f"/t/{token}")
        assert "Hộ tịch + Chứng thực" in page.get_data(as_text=True)
        assert citizen.get(f"/t/{token}/state").get_json()["fields"] == "Hộ tịch + Chứng thực"
    finally:
        app.extensions["kiosk"].close()
