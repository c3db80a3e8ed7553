"""The rating service and POST /api/ratings: storing, the abuse filter, details, and every bad input."""

from __future__ import annotations

import sqlite3
import unicodedata

import pytest
from sqlalchemy import func, select

from kiosk.models import Comment, IndicatorAnswer, Rating


def count(kiosk, model=Rating):
    with kiosk.sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def db_rows(app):
    path = app.extensions["kiosk"].settings.database_url.split("///", 1)[1]
    return (
        sqlite3.connect(path).execute("SELECT level, channel, counted, flag, seq FROM ratings ORDER BY seq").fetchall()
    )


def test_a_tap_is_stored_with_level_channel_and_device_stamps(client, kiosk, clock):
    r = client.post("/api/ratings", json={"level": "very_satisfied", "channel": "touch", "counter": 2})
    assert r.status_code == 201
    assert r.json["counted"] is True and r.json["id"]
    with kiosk.sessions() as s:
        rating = s.get(Rating, r.json["id"])
    assert (rating.level, rating.points, rating.channel, rating.counter_number) == ("very_satisfied", 2, "touch", 2)
    assert rating.seq == 1 and rating.clock_synced is True
    assert rating.device_time == clock.now().replace(tzinfo=None)


def test_sequence_numbers_increase_across_record_types(client, kiosk):
    first = client.post(
        "/api/ratings", json={"level": "satisfied", "criteria": {"time": "satisfied"}, "comment": "Tốt"}
    )
    second = client.post("/api/ratings", json={"level": "unsatisfied", "channel": "phone"})
    with kiosk.sessions() as s:
        seqs = sorted(
            [r.seq for r in s.scalars(select(Rating))]
            + [a.seq for a in s.scalars(select(IndicatorAnswer))]
            + [c.seq for c in s.scalars(select(Comment))]
        )
    assert first.status_code == second.status_code == 201
    assert seqs == [1, 2, 3, 4]


def test_unsynchronised_clock_is_recorded(client, kiosk, clock):
    clock.set_synced(False)
    r = client.post("/api/ratings", json={"level": "satisfied"})
    with kiosk.sessions() as s:
        assert s.get(Rating, r.json["id"]).clock_synced is False


def test_abuse_filter_flags_presses_within_the_response_interval(client, app, clock):
    answers = []
    for step in (0, 1, 3.9, 5.0, 4.99, 20):  # seconds since the previous press on the same panel
        clock.advance(step)
        answers.append(client.post("/api/ratings", json={"level": "satisfied", "counter": 1}).json["counted"])
    assert answers == [True, False, False, True, False, True]
    rows = db_rows(app)
    assert len(rows) == 6, "flagged presses are kept"
    assert [r[3] for r in rows] == [None, "response_interval", "response_interval", None, "response_interval", None]


def test_abuse_filter_is_per_screen_not_per_what_the_request_says(app, clock):
    """Two screens (each with its kiosk session) are two panels; a sender naming another counter or channel
    is still the same sender."""
    first, second = app.test_client(), app.test_client()
    first.get("/?counter=1")
    second.get("/?counter=2")
    a = first.post("/api/ratings", json={"level": "satisfied", "counter": 1})
    b = second.post("/api/ratings", json={"level": "satisfied", "counter": 2})
    c = first.post("/api/ratings", json={"level": "satisfied", "counter": 2, "channel": "phone"})
    d = second.post("/api/ratings", json={"level": "satisfied", "counter": 3, "channel": "button"})
    assert [x.json["counted"] for x in (a, b, c, d)] == [True, True, False, False]
    assert c.json["flag"] == d.json["flag"] == "response_interval"


def test_detailed_form_adds_indicators_and_a_confidential_comment(client, kiosk):
    r = client.post("/api/ratings", json={"level": "satisfied", "counter": 1})
    d = client.post(
        f"/api/ratings/{r.json['id']}/details",
        json={
            "secret": r.json["secret"],
            "criteria": {
                "time": "very_satisfied",
                "contacts": "satisfied",
                "agencies": "satisfied",
                "attitude": "unsatisfied",
            },
            "comment": "Chờ hơi lâu",
            "contact": "0912 345 678",
        },
    )
    assert d.status_code == 201
    with kiosk.sessions() as s:
        answers = {a.indicator: a.points for a in s.scalars(select(IndicatorAnswer))}
        comment = s.scalars(select(Comment)).one()
    assert answers == {"time": 2, "contacts": 1, "agencies": 1, "attitude": 0}
    assert (comment.text, comment.contact, comment.rating_id) == ("Chờ hơi lâu", "0912 345 678", r.json["id"])
    again = client.post(
        f"/api/ratings/{r.json['id']}/details", json={"secret": r.json["secret"], "criteria": {"time": "satisfied"}}
    )
    assert again.status_code == 409
    assert count(kiosk, IndicatorAnswer) == 4


def test_details_for_an_unknown_or_old_rating(client, kiosk, clock):
    unknown = client.post(
        "/api/ratings/nope/details", json={"secret": kiosk.ratings.details_secret("nope"), "comment": "x"}
    )
    assert unknown.status_code == 404
    r = client.post("/api/ratings", json={"level": "satisfied"})
    clock.advance(3600)
    late = client.post(f"/api/ratings/{r.json['id']}/details", json={"secret": r.json["secret"], "comment": "x"})
    assert late.status_code == 409 and "too old" in late.json["error"]


BAD = [
    ({"level": "happy"}, 400, "Unknown rating level"),
    ({"level": 2}, 400, "Unknown rating level"),
    ({}, 400, "Unknown rating level"),
    ({"level": "satisfied", "channel": "fax"}, 400, "Unknown channel"),
    ({"level": "satisfied", "counter": 99}, 404, "Counter 99 does not exist"),
    ({"level": "satisfied", "counter": "1"}, 400, "counter must be a whole number"),
    ({"level": "satisfied", "counter": True}, 400, "counter must be a whole number"),
    ({"level": "satisfied", "counter": 1.5}, 400, "counter must be a whole number"),
    ({"level": "satisfied", "comment": "x" * 2001}, 400, "limit is 2000"),
    ({"level": "satisfied", "comment": 12}, 400, "comment must be text"),
    ({"level": "satisfied", "criteria": ["time"]}, 400, "criteria must be an object"),
    ({"level": "satisfied", "criteria": {"speed": "satisfied"}}, 400, "Unknown indicator"),
    ({"level": "satisfied", "criteria": {"time": "great"}}, 400, "Indicator time has level"),
    ({"level": "satisfied", "contact": "call me"}, 400, "phone number"),
    ({"level": "satisfied", "ticket_id": "no-such-ticket"}, 404, "Ticket no-such-ticket does not exist"),
    ({"level": "satisfied", "ticket_id": 5}, 400, "ticket_id must be text"),
    ({"level": "satisfied", "colour": "red"}, 400, "Unknown field"),
]


@pytest.mark.parametrize("body,status,message", BAD)
def test_bad_input_is_a_clear_4xx_and_writes_nothing(client, kiosk, body, status, message):
    r = client.post("/api/ratings", json=body)
    assert r.status_code == status
    assert message in r.json["error"]
    assert "detail" in r.json
    assert count(kiosk) == 0 and count(kiosk, Comment) == 0 and count(kiosk, IndicatorAnswer) == 0


def test_a_bad_indicator_after_a_good_one_leaves_no_half_written_rating(client, kiosk):
    body = {"level": "satisfied", "criteria": {"time": "satisfied", "attitude": "bad"}, "comment": "ok"}
    assert client.post("/api/ratings", json=body).status_code == 400
    assert count(kiosk) == 0 and count(kiosk, IndicatorAnswer) == 0 and count(kiosk, Comment) == 0


@pytest.mark.parametrize(
    "contact,reason",
    [("09123", "too_short"), ("0912 34", "too_short"), ("+84 912 345 678 901 23", "too_long"), ("09-abc", "format")],
)
def test_a_wrong_phone_number_says_what_is_wrong_with_it(client, kiosk, contact, reason):
    rated = client.post("/api/ratings", json={"level": "satisfied"})
    body = {"comment": "x", "contact": contact, "secret": rated.json["secret"]}
    r = client.post(f"/api/ratings/{rated.json['id']}/details", json=body)
    assert r.status_code == 400 and r.json["detail"]["field"] == "contact" and r.json["detail"]["reason"] == reason
    assert count(kiosk, Comment) == 0


@pytest.mark.parametrize("contact", ["1800 1234", "0912345678", "024 3825 1234", "+84 912 345 678"])
def test_hotline_mobile_landline_and_international_numbers_are_accepted(client, contact):
    assert client.post("/api/ratings", json={"level": "satisfied", "contact": contact}).status_code == 201


def test_a_comment_is_stored_in_nfc_whatever_keyboard_typed_it(client, kiosk):
    decomposed = unicodedata.normalize("NFD", "Nhân viên rất nhiệt tình")
    rated = client.post("/api/ratings", json={"level": "satisfied"})
    client.post(
        f"/api/ratings/{rated.json['id']}/details", json={"comment": decomposed, "secret": rated.json["secret"]}
    )
    with kiosk.sessions() as session:
        assert session.query(Comment.text).scalar() == "Nhân viên rất nhiệt tình"


def test_a_comment_of_exactly_2000_characters_is_accepted(client):
    assert client.post("/api/ratings", json={"level": "satisfied", "comment": "ý" * 2000}).status_code == 201


@pytest.mark.parametrize(
    "data,content_type,message",
    [
        (b"\xff\xfe{}", "application/json", "not valid UTF-8"),
        (b'{"level": "satisfied"', "application/json", "not valid JSON"),
        (b'["satisfied"]', "application/json", "must be a JSON object"),
        (b"", "application/json", "no body"),
        (b'{"level": "satisfied"}', "text/plain", None),
    ],
)
def test_malformed_bodies(client, kiosk, data, content_type, message):
    r = client.post("/api/ratings", data=data, content_type=content_type)
    if message is None:  # a JSON object is accepted whatever the declared type (simple kiosks send text/plain)
        assert r.status_code == 201
        return
    assert r.status_code == 400 and message in r.json["error"]
    assert count(kiosk) == 0


def test_a_body_over_64_kib_is_413(client, kiosk):
    body = b'{"level": "satisfied", "comment": "' + b"a" * (65 * 1024) + b'"}'
    r = client.post("/api/ratings", data=body, content_type="application/json")
    assert r.status_code == 413 and "64 KiB" in r.json["error"]
    assert count(kiosk) == 0


def test_wrong_method_and_unknown_api_path_answer_json(client):
    assert client.get("/api/ratings").status_code == 405
    assert client.get("/api/ratings").json["error"]
    assert client.get("/api/nothing").status_code == 404


def test_four_button_scale_with_provincial_wording(tmp_path, clock):
    from kiosk.app import create_app

    app = create_app(
        {
            "data_dir": str(tmp_path),
            "rating_levels": ["very_satisfied", "satisfied", "neutral", "unsatisfied"],
            "rating_labels": {"unsatisfied": "Chưa hài lòng"},
            "button_pins": [17, 27, 22, 23],
            "led_pins": [5, 6, 13, 26],
        },
        clock=clock,
    )
    try:
        client = app.test_client()
        page = client.get("/").get_data(as_text=True)
        assert "Chưa hài lòng" in page and "Bình thường" in page and "Không hài lòng" not in page
        r = client.post("/api/ratings", json={"level": "neutral"})
        assert r.status_code == 201 and r.json["label"] == "Bình thường"
        assert len(app.extensions["kiosk"].hardware["rating_panel"].buttons) == 4
    finally:
        app.extensions["kiosk"].close()
