"""The commune's live panel at the central server (issue 25): what a kiosk posts, aged by the server's clock,
marked past the commune's thresholds, shown as lost once the kiosk stops posting; bad posts refused whole."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta

from central.registry import add_commune, add_device, add_province, add_user
from sync import protocol
from tests.central.helpers import COMMUNE, OTHER_COMMUNE, TEST_PASSWORD, sign_in, token


def panel(paused: int = 19 * 60, longest: int = 29 * 60, state: str = "paused") -> dict:
    return {
        "now": "2026-11-20T08:00:00+07:00",
        "counters": [
            {"number": 1, "state": "open", "clerk": "Nguyễn Thị Lan",
             "serving": {"display_number": "A001", "service": "HT", "seconds": 300}, "paused_seconds": None},
            {"number": 2, "state": state, "clerk": "Trần Văn Minh", "serving": None, "paused_seconds": paused},
        ],
        "fields": [{"code": "HT", "name": "Hộ tịch", "waiting": 2, "longest_seconds": longest, "longest_number": "A002"}],
        "held": [],
    }  # fmt: skip


def post(client, device, counter: int, doc: dict, commune: str = COMMUNE):
    body = gzip.compress(json.dumps({"v": 1, "device": device[0], "commune": commune, "panel": doc}).encode())
    headers = protocol.request_headers(device[1], "POST", protocol.PANEL_PATH, device[0], counter, body)
    headers.update({"Content-Encoding": "gzip", "Content-Type": "application/json"})
    return client.post(protocol.PANEL_PATH, data=body, headers=headers)


def test_the_panel_ages_marks_and_loses_a_silent_kiosk(central_app, central, device, server_clock):
    add_user(central, "xem", TEST_PASSWORD, "commune_viewer", COMMUNE)
    add_device(central, "Quầy khác", OTHER_COMMUNE, "Xã khác")
    add_user(central, "ben", TEST_PASSWORD, "commune_viewer", OTHER_COMMUNE)
    client = central_app.test_client()
    answer = post(client, device, 1, panel())
    assert answer.status_code == 200, answer.text
    assert protocol.response_ok(device[1], answer.headers[protocol.SIGNATURE_HEADER], device[0], 1, answer.data)

    viewer = sign_in(central_app, "xem")
    seen = viewer.get(f"/panel/{COMMUNE}.json").get_json()
    kiosk = seen["kiosks"][0]
    assert not kiosk["offline"] and seen["alerts"] == 0
    assert kiosk["counters"][0]["serving"]["seconds"] == 300 and kiosk["counters"][0]["label"] == "Quầy 1"

    server_clock._now += timedelta(seconds=70)  # nothing new posted: the durations go on from the post
    seen = viewer.get(f"/panel/{COMMUNE}.json").get_json()
    kiosk = seen["kiosks"][0]
    assert kiosk["counters"][0]["serving"]["seconds"] == 370
    assert kiosk["counters"][1]["alert"] and kiosk["counters"][1]["paused_seconds"] == 19 * 60 + 70
    assert kiosk["fields"][0]["alert"] and seen["alerts"] == 2
    page = viewer.get(f"/panel/{COMMUNE}/part").text
    assert "Tạm dừng 20\u00a0phút 10\u00a0giây" in page and page.count("vượt ngưỡng") == 2

    assert sign_in(central_app, "ben").get(f"/panel/{COMMUNE}.json").status_code == 403

    server_clock._now += timedelta(seconds=30)  # past central_panel_offline_seconds (90) since the post
    seen = viewer.get(f"/panel/{COMMUNE}.json").get_json()
    assert seen["kiosks"][0]["offline"] and seen["kiosks"][0]["counters"] == [] and seen["alerts"] == 0
    assert "Mất kết nối từ 08:00 20/11/2026" in viewer.get(f"/panel/{COMMUNE}/part").text


def test_bad_posts_are_refused_whole(central_app, central, device):
    client = central_app.test_client()
    answer = post(client, device, 1, panel(state="dancing"))
    assert answer.status_code == 400 and answer.get_json()["error"]
    too_long = panel()
    too_long["counters"][0]["clerk"] = "x" * 500
    assert post(client, device, 2, too_long).status_code == 400
    assert post(client, device, 3, panel(), commune=OTHER_COMMUNE).status_code == 403
    add_user(central, "xem", TEST_PASSWORD, "commune_viewer", COMMUNE)
    seen = sign_in(central_app, "xem").get(f"/panel/{COMMUNE}.json").get_json()
    assert seen["kiosks"][0]["offline"] and seen["kiosks"][0]["last_at"] is None  # nothing stored
    assert post(client, device, 4, panel()).status_code == 200
    assert post(client, device, 4, panel()).status_code == 409  # a replayed post


def test_who_sees_the_panel_and_who_sets_its_thresholds(central_app, central, server_clock):
    add_province(central, "P1", "Tỉnh Một")
    add_province(central, "P2", "Tỉnh Hai")
    add_commune(central, "C1", "Xã Một", None, "P1")
    add_commune(central, "C2", "Xã Hai", None, "P2")
    device = add_device(central, "Kiosk Một", "C1")
    assert post(central_app.test_client(), device, 1, panel(), commune="C1").status_code == 200
    add_user(central, "tinh1", TEST_PASSWORD, "province_viewer", None, "P1")
    add_user(central, "tinh2", TEST_PASSWORD, "province_viewer", None, "P2")
    add_user(central, "thuky", TEST_PASSWORD, "handler", "C1")
    add_user(central, "truong", TEST_PASSWORD, "commune_admin", "C1")

    province = sign_in(central_app, "tinh1")
    assert province.get("/panel/C1.json").get_json()["kiosks"][0]["name"] == "Kiosk Một"
    assert 'href="/panel/C1"' in province.get("/panel").text  # its province's communes to choose from
    assert sign_in(central_app, "tinh2").get("/panel/C1.json").status_code == 403
    assert sign_in(central_app, "thuky").get("/panel/C1.json").status_code == 403  # comments only

    form = province.get("/panel/C1").text
    assert "thresholds-form" not in form
    csrf = token(province, "/panel/C1")
    refused = province.post(
        "/panel/C1/thresholds", data={"wait_minutes": "5", "pause_minutes": "5", "csrf_token": csrf}
    )
    assert refused.status_code == 403

    admin = sign_in(central_app, "truong")
    assert admin.get("/panel").status_code == 302  # one commune: straight to it
    csrf = token(admin, "/panel/C1")
    saved = admin.post("/panel/C1/thresholds", data={"wait_minutes": "10", "pause_minutes": "15", "csrf_token": csrf})
    assert saved.status_code == 302
    seen = province.get("/panel/C1.json").get_json()
    assert seen["thresholds"] == {"wait_minutes": 10.0, "pause_minutes": 15.0}
    assert seen["kiosks"][0]["fields"][0]["alert"]  # 29 min waited: over the commune's 10 now
    assert seen["kiosks"][0]["counters"][1]["alert"]  # 19 min paused: over the commune's 15
