"""The phone page's rules, on the app itself: who may open it, when a ticket may be rated from it ("rate
later" for the rest of the business day, once per ticket, channel phone), floods from one address, and
where the ticket's QR code leads."""

from __future__ import annotations

import pytest

from kiosk import phone_link
from tests.queue_helpers import issue, login, make_app, rows

pytestmark = pytest.mark.staffed(
    rating_url="http://192.168.1.10:8080/rate"
)  # the commune of tests/queue_helpers.py: clerks at counters 1–3

WIFI = {"REMOTE_ADDR": "192.168.1.57"}  # a phone on the office Wi-Fi


@pytest.fixture
def db(tmp_path):
    return tmp_path / "var" / "kiosk.db"


def token_of(db, ticket_id: str) -> str:
    return rows(db, "SELECT token FROM ticket_state WHERE ticket_id = ?", (ticket_id,))[0][0]


def serve(client, counter: int = 1) -> None:
    login(client, counter)
    assert client.post(f"/api/counters/{counter}/next").status_code == 200
    assert client.post(f"/api/counters/{counter}/complete").status_code == 200


def test_each_ticket_has_its_own_unguessable_token_printed_in_its_qr_code(app, client, db):
    kiosk = app.extensions["kiosk"]
    first, second = issue(client), issue(client)
    tokens = {token_of(db, first["id"]), token_of(db, second["id"])}
    assert len(tokens) == 2 and all(len(t) == 22 for t in tokens)
    content = kiosk.printing.ticket_content(second["id"])
    assert content["qr_data"] == f"http://192.168.1.10:8080/t/{token_of(db, second['id'])}"
    assert "theo dõi" in content["qr_caption"]
    # The token never travels: not in the ticket's answer, not in the records the central server gets.
    assert token_of(db, first["id"]) not in str(first)
    assert rows(db, "SELECT COUNT(*) FROM pragma_table_info('tickets') WHERE name = 'token'") == [(0,)]


def test_without_a_wifi_address_the_qr_code_still_identifies_the_ticket(tmp_path, clock):
    app = make_app(tmp_path / "var", clock)
    try:
        kiosk = app.extensions["kiosk"]
        ticket = issue(app.test_client())
        assert kiosk.printing.ticket_content(ticket["id"])["qr_data"] == ticket["id"]
    finally:
        app.extensions["kiosk"].close()


def test_where_phones_reach_the_kiosk():
    assert phone_link.phone_base("http://192.168.1.10:8080/rate?counter=1") == "http://192.168.1.10:8080"
    assert phone_link.phone_base("", "0.0.0.0", 8080, wifi=lambda: "10.0.0.7") == "http://10.0.0.7:8080"
    assert phone_link.phone_base("", "0.0.0.0", 8080, wifi=lambda: None) is None  # no Wi-Fi: the ticket id
    assert phone_link.phone_base("", "127.0.0.1", 8080) is None  # phones cannot reach a loopback server
    assert phone_link.phone_base("", "192.168.5.2", 80) == "http://192.168.5.2:80"
    found = phone_link.wifi_address(interfaces=lambda: ["wlan0", "wlan1"], address={"wlan1": "10.1.1.1"}.get)
    assert found == "10.1.1.1"


def test_a_token_that_does_not_exist_is_a_plain_404(client):
    for token in ("AAAAAAAAAAAAAAAAAAAAAA", "short", "x" * 200, "../admin"):
        assert client.get(f"/t/{token}").status_code == 404
    answer = client.get("/t/AAAAAAAAAAAAAAAAAAAAAA/state")
    assert answer.status_code == 404 and answer.get_json()["error"]
    assert client.post("/t/AAAAAAAAAAAAAAAAAAAAAA/rating", json={"level": "satisfied"}).status_code == 404


def test_a_ticket_is_rated_from_the_phone_only_once_served_and_counts_once(client, db):
    ticket = issue(client)
    token = token_of(db, ticket["id"])
    early = client.post(f"/t/{token}/rating", json={"level": "satisfied"}, environ_base=WIFI)
    assert early.status_code == 409 and early.get_json()["detail"]["reason"] == "not_served"
    assert client.get(f"/t/{token}/state").get_json()["can_rate"] is False
    serve(client)
    state = client.get(f"/t/{token}/state").get_json()
    assert (state["status"], state["can_rate"], state["counter"]) == ("done", True, 1)
    body = {
        "level": "unsatisfied",
        "criteria": {"attitude": "unsatisfied"},
        "comment": "Chờ lâu",
        "contact": "0912345678",
    }
    first = client.post(f"/t/{token}/rating", json=body, environ_base=WIFI)
    assert first.status_code == 201 and first.get_json()["counted"] is True
    assert first.get_json()["state"]["rated"] is True and first.get_json()["state"]["can_rate"] is False
    again = client.post(f"/t/{token}/rating", json={"level": "very_satisfied"}, environ_base=WIFI)
    assert again.status_code == 201 and again.get_json() | {"state": None} == {
        "id": again.get_json()["id"],
        "counted": False,
        "flag": "duplicate_ticket",
        "state": None,
    }
    stored = rows(db, "SELECT level, channel, counted, counter_number, ticket_id FROM ratings ORDER BY seq")
    assert stored == [("unsatisfied", "phone", 1, 1, ticket["id"]), ("very_satisfied", "phone", 0, 1, ticket["id"])]
    assert rows(db, "SELECT text, contact FROM comments") == [("Chờ lâu", "0912345678")]


def test_rate_later_until_the_end_of_the_business_day_then_no_more(client, db, clock):
    ticket = issue(client)
    token = token_of(db, ticket["id"])
    serve(client)
    clock.advance(8 * 3600)  # the citizen left; 16:00 the same day
    assert client.get(f"/t/{token}/state").get_json()["can_rate"] is True
    clock.advance(10 * 3600)  # the next morning
    client.get("/api/queue")  # the queue moves to the new day
    state = client.get(f"/t/{token}/state").get_json()
    assert (state["today"], state["can_rate"]) == (False, False)
    late = client.post(f"/t/{token}/rating", json={"level": "satisfied"})
    assert late.status_code == 409 and late.get_json()["detail"]["reason"] == "day_over"
    assert "không còn đánh giá được" in client.get(f"/t/{token}").get_data(as_text=True)


def test_the_pages_plain_form_rates_when_scripts_do_not_run(client, db):
    ticket = issue(client)
    token = token_of(db, ticket["id"])
    serve(client)
    form = {"level": "very_satisfied", "q_time": "satisfied", "q_contacts": "", "comment": "Nhanh gọn", "contact": ""}
    answer = client.post(f"/t/{token}/rating", data=form)
    assert answer.status_code == 303 and answer.headers["Location"].endswith(f"/t/{token}?rated=1")
    assert rows(db, "SELECT level, channel, counted FROM ratings") == [("very_satisfied", "phone", 1)]
    assert rows(db, "SELECT indicator, level FROM indicator_answers") == [("time", "satisfied")]
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Cảm ơn" in page


def test_the_page_shows_place_people_ahead_and_wait_and_then_the_counter(client, db):
    issue(client), issue(client)
    mine = issue(client)
    token = token_of(db, mine["id"])
    page = client.get(f"/t/{token}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert mine["display_number"] in text and "Hộ tịch" in text and 'id="p-position">3<' in text
    state = client.get(f"/t/{token}/state").get_json()
    assert (state["position"], state["ahead"], state["wait_minutes"]) == (3, 2, 10)  # 2 × 5 min, one counter
    login(client, 1)
    for _ in range(3):
        client.post("/api/counters/1/next")
    state = client.get(f"/t/{token}/state").get_json()
    assert (state["status"], state["counter"], state["calls"], state["position"]) == ("called", 1, 1, None)
    client.post("/api/counters/1/recall")
    assert client.get(f"/t/{token}/state").get_json()["calls"] == 2  # a recall rings the phone again
    english = client.get(f"/t/{token}?lang=en").get_data(as_text=True)
    assert "It is your turn" in english


def test_floods_from_one_address_are_throttled_not_the_kiosks_own_screens(client, db):
    from web.phone import MISS_LIMIT, PAGE_LIMIT

    ticket = issue(client)
    token = token_of(db, ticket["id"])
    for i in range(MISS_LIMIT):
        assert client.get(f"/t/A{i:021d}", environ_base=WIFI).status_code == 404
    guessing = client.get(f"/t/{token}", environ_base=WIFI)
    assert guessing.status_code == 429  # an address that tried too many tokens is refused for a while
    other = {"REMOTE_ADDR": "192.168.1.58"}
    for _ in range(PAGE_LIMIT):
        assert client.get(f"/t/{token}/state", environ_base=other).status_code == 200
    flood = client.get(f"/t/{token}/state", environ_base=other)
    assert flood.status_code == 429 and flood.get_json()["detail"]["retry_after"] >= 1
    assert client.get(f"/t/{token}/state").status_code == 200  # loopback: the kiosk itself is never limited


def test_the_phone_stream_starts_with_the_tickets_state_and_says_nothing_about_others(app, client, db):
    mine = issue(client)
    token = token_of(db, mine["id"])
    response = client.get(f"/t/{token}/events", buffered=False)
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    stream = iter(response.response)
    first = next(stream).decode()
    assert first.startswith("retry:") and '"status": "waiting"' in first and mine["display_number"] in first
    issue(client, "CT")  # another field's ticket: nothing for this phone
    login(client, 1)
    client.post("/api/counters/1/next")
    chunks = [next(stream).decode()]
    while not chunks[-1].startswith("event: called"):  # counter 1 opening may first change its wait estimate
        assert len(chunks) < 4, chunks
        chunks.append(next(stream).decode())
    assert all(c.startswith("event: state") and '"status": "waiting"' in c for c in chunks[:-1]), chunks
    assert mine["id"] not in chunks[-1]
    after = next(stream).decode()
    assert after.startswith("event: state") and '"status": "called"' in after
    response.close()


def test_phone_ratings_are_reported_apart_and_in_the_totals_on_admin(app, client, db):
    from tests.kiosk.test_admin import login as admin_login
    from tests.kiosk.test_admin import set_password

    ticket = issue(client)
    serve(client)
    token = token_of(db, ticket["id"])
    assert client.post(f"/t/{token}/rating", json={"level": "satisfied"}, environ_base=WIFI).status_code == 201
    assert client.post("/api/ratings", json={"level": "unsatisfied", "channel": "touch"}).status_code == 201
    set_password(app.extensions["kiosk"])
    assert admin_login(client).status_code == 302
    page = client.get("/admin").get_data(as_text=True)
    phone_row = page.split('id="channel-phone"', 1)[1].split("</tr>", 1)[0]
    touch_row = page.split('id="channel-touch"', 1)[1].split("</tr>", 1)[0]
    assert "Điện thoại (mã QR trên phiếu)" in phone_row and ">1<" in phone_row and "100" in phone_row
    assert ">1<" in touch_row and "0,0" in touch_row
    assert 'id="ratings-counted">2<' in page  # both in the totals


def test_one_address_may_keep_only_a_few_live_pages_open(client, db):
    from kiosk.live import MAX_PER_ADDRESS

    token = token_of(db, issue(client)["id"])
    streams = [client.get(f"/t/{token}/events", buffered=False, environ_base=WIFI) for _ in range(MAX_PER_ADDRESS)]
    assert [s.status_code for s in streams] == [200] * MAX_PER_ADDRESS
    refused = client.get(f"/t/{token}/events", buffered=False, environ_base=WIFI)
    assert refused.status_code == 503 and refused.get_json()["detail"]["reason"] == "per_address"
    streams.pop().close()
    again = client.get(f"/t/{token}/events", buffered=False, environ_base=WIFI)
    assert again.status_code == 200
    for stream in [*streams, again]:
        stream.close()
