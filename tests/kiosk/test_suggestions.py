"""The suggestion box on the kiosk: `POST /api/suggestions` → 201, stored as a comment whose source is "suggestion" (no
rating) that travels up with the records; empty or hostile input refused plainly; flooding from one address
refused like ratings."""

from __future__ import annotations

from sqlalchemy import select

from kiosk.models import Comment
from kiosk.uplink.outbox import pending
from sync import protocol


def test_a_suggestion_is_stored_and_goes_up_as_a_comment_from_the_box(kiosk, client):
    answer = client.post(
        "/api/suggestions", json={"text": "  Nên có thêm ghế chờ cho người già.  ", "contact": "0912 345 678"}
    )
    assert answer.status_code == 201, answer.get_json()
    made = answer.get_json()
    assert made["source"] == "suggestion"
    with kiosk.sessions() as session:
        stored = session.scalars(select(Comment)).one()
    assert (stored.id, stored.text, stored.contact, stored.rating_id) == (
        made["id"],
        "Nên có thêm ghế chờ cho người già.",
        "0912 345 678",
        None,
    )
    ((kind, values),) = pending(kiosk.engine, 0, 10)
    wire = protocol.to_wire(kind, values)
    assert wire["type"] == "comment" and wire["source"] == "suggestion" and wire["rating_id"] is None


def test_empty_or_unreadable_suggestions_are_refused_and_nothing_is_stored(kiosk, client):
    for body, field in [
        ({"text": "   "}, "text"),
        ({}, "text"),
        ({"text": "Góp ý", "contact": "gọi tôi"}, "contact"),
        ({"text": "x" * 2001}, "text"),
    ]:
        answer = client.post("/api/suggestions", json=body)
        assert answer.status_code == 400, body
        assert answer.get_json()["error"] and answer.get_json()["detail"]["field"] == field
    unknown = client.post("/api/suggestions", json={"text": "Góp ý", "name": "Nguyễn Văn A"})
    assert unknown.status_code == 400 and "name" in unknown.get_json()["error"]
    with kiosk.sessions() as session:
        assert session.scalars(select(Comment)).all() == []


def test_a_phone_on_the_office_wifi_is_flood_limited_the_kiosk_screen_is_not(kiosk, client):
    limit = int(kiosk.settings["rating_flood_limit"])
    phone = {"REMOTE_ADDR": "192.168.1.50"}
    for i in range(limit):
        assert client.post("/api/suggestions", json={"text": f"Góp ý {i}"}, environ_base=phone).status_code == 201
    refused = client.post("/api/suggestions", json={"text": "Thêm một góp ý"}, environ_base=phone)
    assert refused.status_code == 429 and refused.get_json()["detail"]["reason"] == "flood"
    assert client.post("/api/suggestions", json={"text": "Từ màn hình của máy"}).status_code == 201
    page = client.get("/gop-y", environ_base=phone).get_data(as_text=True)
    assert "Hòm thư góp ý" in page and 'id="vk"' not in page  # a phone types with its own keyboard
    assert 'id="vk"' in client.get("/gop-y?screen=kiosk").get_data(as_text=True)  # the kiosk's screen: on-screen


def test_the_qr_for_the_wall_opens_the_suggestion_page(client):
    from io import BytesIO

    from PIL import Image

    answer = client.get("/gop-y/qr.png")
    assert answer.status_code == 200 and answer.mimetype == "image/png"
    picture = Image.open(BytesIO(answer.data))
    assert picture.width == picture.height >= 300  # big enough to scan from a step away when printed
