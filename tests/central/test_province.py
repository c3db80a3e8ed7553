"""A province and its communes: the province viewer sees every commune of its province and nothing of another
— in pages, JSON, every export, the dossier CSV, the comments and the fleet —, the communes are ranked fairly, a
commune without a kiosk is shown as "chưa lắp thiết bị" (not as zero), and the share of communes whose kiosks
reported on the last working day is said. Runs on SQLite and PostgreSQL.

The hand-computed province of ``report_fixture`` (communes A, B, C of province P1) gets here a commune N of P1
without any kiosk, and a commune Z of another province P2 with its kiosk, clerk, ratings, comment and dossier.
"""

from __future__ import annotations

import pytest

from central.registry import add_commune, add_device, add_province, add_user
from common import tt01
from kiosk.db import transaction
from tests.central import report_fixture
from tests.central.helpers import TEST_PASSWORD, import_catalog, sign_in
from tests.central.test_reports_access import docx_text, xlsx_text

loaded = report_fixture.loaded
QUARTER = "period=quarter&year=2026&quarter=1"
Z_WORDS = ("Xã Zê Ra", "Phạm Văn Zét", "Tỉnh Khác xa", "Kiosk Z", "Z-HS-0001", "0977000111")


@pytest.fixture(scope="module")
def province(loaded):
    app, fixture = loaded
    central = app.extensions["central"]
    add_province(central, "P1", "Tỉnh Một")
    add_province(central, "P2", "Tỉnh Khác xa")
    add_commune(central, "N", "Xã Núi Cao", None, "P1")  # no kiosk yet
    add_commune(central, "Z", "Xã Zê Ra", None, "P2")
    zdevice = add_device(central, "Kiosk Z", "Z")[0]
    with transaction(central.sessions) as s:
        import_catalog(s, "Z", {"clerks": [{"code": "Z1", "name": "Phạm Văn Zét", "pin": "9999", "counter": 1}]})
    z1 = report_fixture.clerk_ids(central, "Z")["Z1"]
    feed = report_fixture.Feed(central, "Z", zdevice)
    rating = feed.rating("2026-02-02T09:00:00", "unsatisfied", "HT", 1, z1)
    rating["dossier_codes"] = "Z-HS-0001"
    feed.comment("2026-02-02T09:01:00", "Chờ lâu ở xã Zê.", "0977000111", 1, rating)
    feed.send()
    a = fixture.feeds["A"]  # a rating of A with the dossier codes its clerk attached
    coded = a.rating("2026-03-03T09:00:00", "very_satisfied", "HT", 1, fixture.clerks["A1"])
    coded["dossier_codes"] = "000.00.12.H56-260303-0001 000.00.12.H56-260303-0002"
    a.send()
    add_user(central, "quantri", TEST_PASSWORD, "admin")
    add_user(central, "tinh-p1", TEST_PASSWORD, "province_viewer", None, "P1")
    add_user(central, "tinh-p2", TEST_PASSWORD, "province_viewer", None, "P2")
    return app, fixture


def test_a_province_viewer_sees_every_commune_of_its_province_and_nothing_of_another(province):
    app, fixture = province
    client = sign_in(app, "tinh-p1")
    data = client.get(f"/reports/data.json?{QUARTER}").json
    assert [c["code"] for c in data["communes"]] == ["A", "B", "C", "N"]
    assert data["summary"]["ratings"] == 12 + 1  # the hand-computed quarter of A, B, C, and A's coded rating
    z_clerk = report_fixture.clerk_ids(app.extensions["central"], "Z")["Z1"]
    for path in (
        f"/reports?{QUARTER}&commune=Z",
        f"/reports/data.json?{QUARTER}&commune=Z",
        f"/reports/data.json?{QUARTER}&clerk={z_clerk}",
        f"/reports/export.csv?{QUARTER}&commune=Z",
        f"/reports/export.xlsx?{QUARTER}&commune=Z",
        f"/reports/export.docx?{QUARTER}&commune=Z",
        f"/reports/dossiers.csv?{QUARTER}&commune=Z",
        "/comments?commune=Z",
        "/comments/export.csv?commune=Z",
    ):
        answer = client.get(path)
        assert answer.status_code == 403, path
        assert not any(word in answer.text for word in Z_WORDS), path
    texts = [
        client.get(f"/reports?{QUARTER}").text,
        str(data),
        client.get(f"/reports/export.csv?{QUARTER}").data.decode("utf-8-sig"),
        xlsx_text(client.get(f"/reports/export.xlsx?{QUARTER}").data),
        docx_text(client.get(f"/reports/export.docx?{QUARTER}").data),
        client.get(f"/reports/dossiers.csv?{QUARTER}").data.decode("utf-8-sig"),
        client.get("/comments").text,
        client.get("/comments/export.csv").data.decode("utf-8-sig"),
        client.get("/fleet").text,
        str(client.get("/fleet.json").json),
    ]
    for text in texts:
        assert not any(word in text for word in Z_WORDS), text[:300]
    assert "Xã Núi Cao" in texts[0] and "Lê Văn Cường" in texts[3]  # a commune of P1 without a kiosk, B's clerk
    assert {d["commune"] for d in client.get("/fleet.json").json["devices"]} == {"A", "B", "C"}
    # the other province's viewer sees Z, and only Z
    other = sign_in(app, "tinh-p2").get(f"/reports/data.json?{QUARTER}").json
    assert [c["code"] for c in other["communes"]] == ["Z"] and other["summary"]["ratings"] == 1
    assert sign_in(app, "tinh-p2").get(f"/reports/data.json?{QUARTER}&commune=A").status_code == 403
    everything = sign_in(app, "quantri").get(f"/reports/data.json?{QUARTER}").json
    assert [c["code"] for c in everything["communes"]] == ["A", "B", "C", "N", "Z"]


def test_communes_ranked_fairly_and_a_commune_without_a_kiosk_is_not_a_zero(province):
    app, _ = province
    client = sign_in(app, "tinh-p1")
    data = client.get(f"/reports/data.json?{QUARTER}").json
    rows = {c["code"]: c for c in data["communes"]}
    # Bayesian, as for clerks: (20·M + 100·points/2) / (20 + n), M the index of the whole report
    s = data["summary"]
    mean = 100 * s["points"] / (2 * s["ratings"])
    expected = {code: (20 * mean + 100 * rows[code]["points"] / 2) / (20 + rows[code]["ratings"]) for code in "ABC"}
    order = sorted(expected, key=lambda c: -expected[c])
    assert [(rows[c]["rank"], rows[c]["bayes"]) for c in order] == [
        (i + 1, tt01.round1(expected[c])) for i, c in enumerate(order)
    ]
    assert order[-1] == "B"  # three ratings, two of them "Không hài lòng"
    assert rows["N"]["installed"] is False and rows["N"]["rank"] is None and rows["N"]["kiosks"] == 0
    page = client.get(f"/reports?{QUARTER}&lang=vi").text
    assert "Chưa lắp thiết bị đánh giá" in page
    n_row = page[page.index('data-commune="N"') :].split("</tr>")[0]
    assert "Chưa lắp thiết bị đánh giá" in n_row and ">0<" not in n_row  # no row of zeros
    csv_text = client.get(f"/reports/export.csv?{QUARTER}").data.decode("utf-8-sig")
    n_line = next(line for line in csv_text.splitlines() if ",N,Xã Núi Cao," in line)
    assert "Chưa lắp thiết bị" in n_line and ",0," not in n_line
    assert docx_text(client.get(f"/reports/export.docx?{QUARTER}").data).count("Chưa lắp thiết bị") >= 1


def test_the_share_of_communes_whose_kiosks_reported_on_the_last_working_day(province):
    app, _ = province
    data = sign_in(app, "tinh-p1").get(f"/reports/data.json?{QUARTER}").json
    # now: Sunday 5 April 2026; the last working day (Mon–Fri 7:00–17:00) is Friday 3 April. A and C synced on
    # Sunday; B last synced on Tuesday 31 March: it has not reported.
    assert data["province"] == {
        "communes": 4,
        "installed": 3,
        "not_installed": 1,
        "reported": 2,
        "partly": 0,
        "reported_pct": 66.7,
        "last_working_day": "2026-04-03",
    }
    rows = {c["code"]: c for c in data["communes"]}
    assert (rows["A"]["reported"], rows["B"]["reported"], rows["N"]["reported"]) == ("all", "none", None)
    page = sign_in(app, "tinh-p1").get(f"/reports?{QUARTER}&lang=vi").text
    assert "66,7%" in page and "03/04/2026" in page


def test_the_dossier_export_lists_each_code_of_the_province(province):
    from central.exports.dossiers import read_csv

    app, _ = province
    rows = read_csv(sign_in(app, "tinh-p1").get(f"/reports/dossiers.csv?{QUARTER}").data)
    assert [r["dossier"] for r in rows] == ["000.00.12.H56-260303-0001", "000.00.12.H56-260303-0002"]
    first = rows[0]
    assert (first["level"], first["points"], first["clerk"], first["unit"], first["unit_code"]) == (
        "Rất hài lòng",
        2,
        "Nguyễn Văn An",
        "Xã An Bình",
        "A",
    )
    assert first["time"].isoformat() == "2026-03-03T09:00:00+07:00" and first["field"] == "Hộ tịch"
    assert first["rating_id"] == rows[1]["rating_id"]  # one rating, two dossiers: two rows
    assert (
        read_csv(sign_in(app, "quantri").get(f"/reports/dossiers.csv?{QUARTER}&commune=Z").data)[0]["dossier"]
        == "Z-HS-0001"
    )
    assert sign_in(app, "tinh-p1").get("/reports/dossiers.csv?period=month&month=13").status_code == 400


def test_users_page_and_command_name_each_role_and_scope(province, tmp_path):
    app, _ = province
    assert sign_in(app, "tinh-p1").get("/admin/users").status_code == 403
    page = sign_in(app, "quantri").get("/admin/users?lang=vi").text
    row = page[page.index('data-user="tinh-p1"') :].split("</tr>")[0]
    assert "Xem báo cáo tỉnh" in row and "Tỉnh Một" in row and "4 xã" in row


def test_a_viewer_needs_its_province_and_the_province_must_exist(province):
    from common.errors import NotFoundError, ValidationError

    app, _ = province
    central = app.extensions["central"]
    with pytest.raises(ValidationError, match="--province"):
        add_user(central, "tinh-x", TEST_PASSWORD, "province_viewer")
    with pytest.raises(NotFoundError, match="Province P9"):
        add_user(central, "tinh-9", TEST_PASSWORD, "province_viewer", None, "P9")
    with pytest.raises(ValidationError, match="one commune"):
        add_user(central, "xuly-ab", TEST_PASSWORD, "handler", "A", None, ["B"])
    with pytest.raises(ValidationError, match="not tied to a commune"):
        add_user(central, "tinh-a", TEST_PASSWORD, "province_viewer", "A", "P1")


def test_only_the_admin_may_read_everything_and_role_checks_are_in_one_table():
    from central import roles

    assert set(roles.ROLES) == {"admin", "province_viewer", "commune_admin", "commune_viewer", "handler"}
    assert [r for r, role in roles.ROLES.items() if role.scope == "all"] == ["admin"]
    assert roles.can("province_viewer", "reports") and not roles.can("province_viewer", "contact")
    assert not roles.can("province_viewer", "catalog") and not roles.can("commune_viewer", "users")
