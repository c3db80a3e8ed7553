"""A visit of several fields rated at two counters counts once (issue 25, extending issue 21's ``visit_rated``), and
the wait estimate learns the service time of every field served, not only a visit's last one."""

from __future__ import annotations

import pytest

from tests.kiosk.test_several_fields import take
from tests.queue_helpers import issue, login, make_app, rows

#: Hộ tịch at counter 1, Đất đai at counter 2: a visit of both fields is served at two counters.
LAYOUT = [{"number": 1, "services": ["HT"]}, {"number": 2, "services": ["DD"]}]
SERVICES = [{"code": "HT", "name": "Hộ tịch", "prefix": "A"}, {"code": "DD", "name": "Đất đai", "prefix": "C"}]


@pytest.fixture
def app(tmp_path, clock):
    app = make_app(tmp_path / "var", clock, services=SERVICES, counters=LAYOUT)
    yield app
    app.extensions["kiosk"].close()


def press(client, counter: int, level: str = "satisfied") -> dict:
    answer = client.post("/api/ratings", json={"level": level, "channel": "button", "counter": counter})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def ratings(tmp_path) -> list[tuple]:
    return rows(
        tmp_path / "var" / "kiosk.db",
        "SELECT counter_number, ticket_id, counted, flag, services FROM ratings ORDER BY seq",
    )


def serve_first_field(app, clock):
    citizen, first = app.test_client(), app.test_client()
    login(first, 1)
    visit = take(citizen, ["HT", "DD"])
    assert first.post("/api/counters/1/next").get_json()["ticket"]["id"] == visit["id"]
    clock.advance(120)
    moved = first.post("/api/counters/1/complete").get_json()["ticket"]
    assert moved["status"] == "waiting" and moved["service"] == "DD"  # on to counter 2's line
    return citizen, visit


def serve_second_field(app, clock, visit):
    second = app.test_client()
    login(second, 2)
    assert second.post("/api/counters/2/next").get_json()["ticket"]["id"] == visit["id"]
    clock.advance(30)
    assert second.post("/api/counters/2/complete").get_json()["ticket"]["status"] == "done"


def test_a_press_between_two_fields_is_the_visits_rating_and_the_second_is_visit_rated(app, clock, tmp_path):
    citizen, visit = serve_first_field(app, clock)
    clock.advance(5)
    first = press(citizen, 1)  # at counter 1, while the ticket waits for counter 2
    assert first["counted"]
    clock.advance(20)
    serve_second_field(app, clock, visit)
    clock.advance(10)
    second = press(citizen, 2, "very_satisfied")
    assert not second["counted"]
    assert ratings(tmp_path) == [(1, visit["id"], 1, None, "HT"), (2, visit["id"], 0, "visit_rated", "HT DD")]


def test_a_press_at_the_last_counter_then_at_the_first_counts_once(app, clock, tmp_path):
    citizen, visit = serve_first_field(app, clock)
    clock.advance(10)
    serve_second_field(app, clock, visit)
    clock.advance(5)
    assert press(citizen, 2)["counted"]
    clock.advance(10)  # still within counter 1's link window (90 s) of the field it completed
    assert not press(citizen, 1, "unsatisfied")["counted"]
    assert ratings(tmp_path) == [(2, visit["id"], 1, None, "HT DD"), (1, visit["id"], 0, "visit_rated", "HT DD")]


def test_the_wait_estimate_learns_from_a_visits_first_field(app, clock):
    citizen, _ = serve_first_field(app, clock)  # Hộ tịch took 2 minutes, as the first of two fields
    clock.advance(60)  # past the averages' cache
    issue(citizen, "HT")
    behind = issue(citizen, "HT")
    # one Hộ tịch citizen ahead at the one counter of Hộ tịch, 2 minutes each (not the 5-minute default)
    assert behind["wait_minutes"] == 2


def test_the_admin_day_counts_each_field_as_a_service_with_its_own_time(app, clock):
    from kiosk.db import transaction
    from kiosk.today import today_figures

    _, visit = serve_first_field(app, clock)  # Hộ tịch: 120 s at counter 1
    serve_second_field(app, clock, visit)  # Đất đai: 30 s at counter 2
    with transaction(app.extensions["kiosk"].sessions) as session:
        day = today_figures(session, clock)
    assert day.served == 1 and sorted(day.services) == [30.0, 120.0]  # one visit, two services
    assert {r.counter: r.services for r in day.rows if r.services} == {1: [120.0], 2: [30.0]}
