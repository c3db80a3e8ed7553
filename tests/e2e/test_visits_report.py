"""A commune day from the counters to the commune's report (issue 25): visits of two fields served at two counters,
single-field visits, one rating of a two-field visit, a booking checked in and one that never came, a ticket picked
out of turn — after real signed syncs to the central server, read on its report page and in its CSV, XLSX and DOCX.
Every expected figure is worked out below from the day's events, not read from the output. SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime

import docx
from openpyxl import load_workbook

from central.bookings import check_rows, store
from central.registry import add_user
from central.reports import figures, periods
from central.reports.query import Scope
from kiosk.bookings import check_in
from kiosk.clock import FakeClock
from kiosk.uplink.client import SyncClient
from tests.central.helpers import COMMUNE, TEST_PASSWORD, sign_in
from tests.kiosk.test_several_fields import take
from tests.queue_helpers import NAMES, issue, login, make_app

DAY = "period=custom&from=2026-11-20&to=2026-11-20"  # the kiosk's FakeClock: 20 November 2026, 08:00 local
SERVICES = [{"code": "HT", "name": "Hộ tịch", "prefix": "A"}, {"code": "CT", "name": "Chứng thực", "prefix": "B"}]
#: Hộ tịch at counter 1 (Nguyễn Thị Lan), Chứng thực at counter 2 (Trần Văn Minh).
LAYOUT = [{"number": 1, "services": ["HT"]}, {"number": 2, "services": ["CT"]}]
LAN, MINH = NAMES[0], NAMES[1]

# --- the day, in seconds from 08:00 (worked out by hand) ------------------------------------------------------
# 08:00:00 V (Hộ tịch + Chứng thực), 08:00:01 W1 (HT), 08:00:02 W2 (CT), 08:00:03 W3 (CT); 08:01:00 booking HT-0001
# (booked for 08:05) checks in: B. Bookings HT-0002 (10:00) never checks in.
# counter 1: V's Hộ tịch 08:01–08:05 (240 s), B 08:05–08:07 (120 s), W1 08:07–08:09 (120 s)
# counter 2: W3 picked before W2 (out of turn) 08:01–08:03 (120 s), V's Chứng thực 08:05–08:08 (180 s),
#            W2 08:08–08:10 (120 s)
# ratings: V very satisfied at counter 2 after its last field; W1 satisfied at counter 1; W2 unsatisfied at counter 2
HT_SECONDS, CT_SECONDS = [240, 120, 120], [120, 180, 120]
VISITS, SERVICES_SERVED = 5, len(HT_SECONDS) + len(CT_SECONDS)  # V is one visit and two services


def minutes1(seconds: list[int]) -> float:
    """Mean minutes, one decimal half up (as the report writes them)."""
    mean = sum(seconds) / len(seconds) / 60
    return int(mean * 10 + 0.5) / 10


def sync(kiosk_app) -> None:
    report = SyncClient(kiosk_app.extensions["kiosk"], backoff=0.01, max_backoff=0.05).run()
    assert report.ok, report.message()


def card(page: str, card_id: str) -> str:
    found = re.search(rf'id="{card_id}"><div class="value">([^<]*)<', page)
    assert found, f"no card {card_id} on the report"
    return found.group(1)


def play_the_day(kiosk_app, clock: FakeClock) -> dict[str, str]:
    citizen, one, two = kiosk_app.test_client(), kiosk_app.test_client(), kiosk_app.test_client()
    login(one, 1), login(two, 2)
    visit = take(citizen, ["HT", "CT"])
    clock.advance(1)
    w1 = issue(citizen, "HT")
    clock.advance(1)
    w2 = issue(citizen, "CT")
    clock.advance(1)
    w3 = issue(citizen, "CT")
    clock.advance(57)  # 08:01
    booked = check_in(kiosk_app.extensions["kiosk"], "HT-0001")
    assert booked["booking"]["late"] is False
    assert one.post("/api/counters/1/next").get_json()["ticket"]["id"] == visit["id"]
    picked = two.post("/api/counters/2/call", json={"ticket_id": w3["id"]}).get_json()["ticket"]  # W2 was first
    assert picked["id"] == w3["id"]
    clock.advance(120)  # 08:03
    assert two.post("/api/counters/2/complete").status_code == 200
    clock.advance(120)  # 08:05
    moved = one.post("/api/counters/1/complete").get_json()["ticket"]
    assert moved["status"] == "waiting" and moved["service"] == "CT"  # on to counter 2's line, at its place
    assert two.post("/api/counters/2/next").get_json()["ticket"]["id"] == visit["id"]
    assert one.post("/api/counters/1/next").get_json()["ticket"]["id"] == booked["id"]  # due at 08:05
    clock.advance(120)  # 08:07
    assert one.post("/api/counters/1/complete").status_code == 200
    assert one.post("/api/counters/1/next").get_json()["ticket"]["id"] == w1["id"]
    clock.advance(60)  # 08:08
    assert two.post("/api/counters/2/complete").get_json()["ticket"]["status"] == "done"
    clock.advance(10)
    rated = citizen.post("/api/ratings", json={"level": "very_satisfied", "channel": "button", "counter": 2})
    assert rated.get_json()["counted"]
    assert two.post("/api/counters/2/next").get_json()["ticket"]["id"] == w2["id"]
    clock.advance(50)  # 08:09
    assert one.post("/api/counters/1/complete").status_code == 200
    clock.advance(10)
    assert citizen.post("/api/ratings", json={"level": "satisfied", "channel": "button", "counter": 1}).get_json()[
        "counted"
    ]
    clock.advance(50)  # 08:10
    assert two.post("/api/counters/2/complete").status_code == 200
    clock.advance(10)
    assert citizen.post("/api/ratings", json={"level": "unsatisfied", "channel": "button", "counter": 2}).get_json()[
        "counted"
    ]
    return {"visit": visit["id"], "booked": booked["id"]}


def test_a_commune_day_of_visits_and_services_reaches_every_report(
    central_app, central, device, serve, server_clock, tmp_path
):
    server = serve(central_app)
    with central.sessions.begin() as session:
        rows = [
            {"code": "HT-0001", "service": "HT", "at": "2026-11-20T08:05", "name": "Nguyễn Văn An"},
            {"code": "HT-0002", "service": "HT", "at": "2026-11-20T10:00", "name": "Lê Văn Bình"},
        ]
        store(session, COMMUNE, check_rows(session, COMMUNE, rows), "import", central.clock.now())
    clock = FakeClock()
    kiosk_app = make_app(tmp_path / "kiosk", clock, central_url=server.url, device_id=device[0],
                         device_secret=device[1], commune_code=COMMUNE, services=SERVICES, counters=LAYOUT)  # fmt: skip
    try:
        sync(kiosk_app)  # the day's bookings come down
        play_the_day(kiosk_app, clock)
        sync(kiosk_app)
        add_user(central, "quantri", TEST_PASSWORD, "admin")
        office = sign_in(central_app, "quantri")
        page = office.get(f"/reports?{DAY}").get_data(as_text=True)
        # the day is not over: HT-0002 is not a no-show yet
        assert 'data-bookings="no_show">0<' in page and 'data-bookings="open">1<' in page
        server_clock._now = datetime(2026, 11, 20, 17, 30)  # 00:30 the next day, local: the kiosk reports again
        clock.jump(server_clock._now.replace(tzinfo=UTC))
        sync(kiosk_app)
    finally:
        kiosk_app.extensions["kiosk"].close()

    page = office.get(f"/reports?{DAY}").get_data(as_text=True)
    assert card(page, "visits-served") == str(VISITS)
    assert card(page, "services-served") == str(SERVICES_SERVED)
    assert card(page, "out-of-order") == "1"
    assert 'data-bookings="checked_in">1<' in page and 'data-bookings="no_show">1<' in page
    assert 'id="visit-rating-note"' in page
    ht, ct = minutes1(HT_SECONDS), minutes1(CT_SECONDS)
    for code, n, mean in (("HT", len(HT_SECONDS), ht), ("CT", len(CT_SECONDS), ct)):
        row = re.search(rf'data-queue-field="{code}">(.*?)</tr>', page).group(1)
        assert f'<td class="num" data-services>{n}</td>' in row
        assert f'<td class="num">{mean:.1f}'.replace(".", ",") in row  # its own service time, Vietnamese comma

    # ratings: V counts once overall (3 ratings, 2 satisfied or above), once for each of its fields and clerks
    overall_pct, ht_pct, ct_pct = 66.7, 100.0, 50.0
    csv_text = office.get(f"/reports/export.csv?{DAY}").data.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(csv_text)))
    summary = {row[0]: row[1] for row in lines if len(row) == 2}
    assert summary["Số lượt đánh giá"] == "3"
    assert summary["Tỷ lệ hài lòng trở lên (%)"] == f"{overall_pct}".replace(".", ",")
    assert summary["Số lượt công dân đến (mỗi số thứ tự một lượt)"] == str(VISITS)
    assert summary["Lượt phục vụ theo lĩnh vực (một lượt đến nhiều lĩnh vực tính mỗi lĩnh vực một lượt)"] == "6"
    assert summary["Số lượt gọi ngoài thứ tự"] == "1"
    assert summary["Lịch hẹn đã đến (nhận số bằng mã)"] == "1"
    assert summary["Lịch hẹn không đến (hết ngày chưa nhận số)"] == "1"
    fields = {row[0]: row for row in lines[lines.index(["Theo lĩnh vực"]) + 2 :] if row and row[0] in ("HT", "CT")}
    assert fields["HT"][2:4] == ["2", "100,0"] and fields["CT"][2:4] == ["2", "50,0"]
    assert fields["HT"][-1] == "3" and fields["CT"][-1] == "3"  # services per field

    book = load_workbook(io.BytesIO(office.get(f"/reports/export.xlsx?{DAY}").data))
    clerks = {row[1].value: [c.value for c in row] for row in book["Theo công chức"].iter_rows(min_row=3)}
    assert clerks[LAN][3:5] == [2, 100.0] and clerks[MINH][3:5] == [2, ct_pct]  # V's rating for both its clerks
    by_field = {row[1].value: [c.value for c in row] for row in book["Theo lĩnh vực"].iter_rows(min_row=3)}
    assert by_field["Hộ tịch"][3] == ht_pct and by_field["Chứng thực"][3] == ct_pct
    served = {
        (r[0].value, r[1].value): [c.value for c in r] for r in book["Lượt đến và lượt phục vụ"].iter_rows(min_row=3)
    }
    assert served[("Lĩnh vực", "Hộ tịch")][3:] == [3, ht] and served[("Lĩnh vực", "Chứng thực")][3:] == [3, ct]
    assert served[("Công chức", LAN)][3] == 3 and served[("Công chức", MINH)][3] == 3
    summary_sheet = {r[0].value: r[1].value for r in book["Tổng hợp"].iter_rows(min_row=2)}
    assert summary_sheet["Lịch hẹn không đến (hết ngày chưa nhận số)"] == 1
    assert summary_sheet["Số lượt gọi ngoài thứ tự"] == 1
    assert summary_sheet["Thời gian phục vụ tại quầy trung bình (phút)"] == minutes1(HT_SECONDS + CT_SECONDS)

    # filtered: a field's row has every rating of a visit it was served in; a counter's, the ratings given there
    with central.engine.connect() as conn:
        day = periods.from_range(date(2026, 11, 20), date(2026, 11, 20))

        def per_field(**scope) -> list[tuple[str, int]]:
            report = figures.build(conn, day, Scope(communes=(COMMUNE,), **scope), compare=False)
            return [(row["code"], row["ratings"]) for row in report["services"]]

        assert per_field(service="HT") == [("HT", 2)]  # W1, and V (rated in Chứng thực)
        assert per_field(counter=2) == [("CT", 2), ("HT", 1)]  # V and W2 were rated at counter 2; V served HT too
        assert per_field(counter=1) == [("HT", 1)]  # W1 only: V's rating was given at counter 2

    document = docx.Document(io.BytesIO(office.get(f"/reports/export.docx?{DAY}").data))
    text = "\n".join(p.text for p in document.paragraphs)
    assert f"Số lượt công dân đến là {VISITS}" in text and "số lượt phục vụ theo lĩnh vực là 6" in text
    assert "1 lượt gọi ngoài thứ tự" in text
    assert "Có 2 lịch hẹn trong kỳ: 1 lịch hẹn đã đến, 1 lịch hẹn không đến." in text
    assert "được tính cho mỗi lĩnh vực đã phục vụ" in text
