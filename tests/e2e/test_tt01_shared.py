"""The same TT 01 table (tests/tt01_cases.py) on the kiosk's `/admin` and in the central server's reports.

A commune's day, as its people live it: each case is one clerk at one counter, serving citizens who take a
ticket, are called, served, and rate with the detailed form. The kiosk shows the day on `/admin`; `kiosk sync`
sends it up; the commune's report (page, JSON, CSV, DOCX) must say exactly what `/admin` said — 1.25 is "1,3" on
both in Vietnamese and "1.3" in English, and four answers are "Chưa đủ số phiếu" on both. On SQLite and
PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import re

import docx
import pytest
from lxml import html

from central.registry import add_user
from kiosk import admin as admin_auth
from kiosk.app import create_app
from kiosk.clock import FakeClock
from kiosk.db import transaction
from kiosk.uplink.client import SyncClient
from tests.central.helpers import COMMUNE, import_catalog, sign_in
from tests.tt01_cases import CASES, grade_vi

LEVEL_OF = {2: "very_satisfied", 1: "satisfied", 0: "unsatisfied"}
PASSWORD = "mat-khau-quan-tri"
DAY = "2026-11-20"  # the kiosk's FakeClock starts at 08:00 local on that day


def clerk_code(i: int) -> str:
    return f"CB{i + 1:02d}"


@pytest.fixture
def day(central_app, central, device, serve, tmp_path):
    """The central server with one clerk per case, and a kiosk where each clerk served and was rated."""
    setup = {
        "services": [{"code": "HT", "name": "Hộ tịch", "prefix": "A"}],
        "counters": [{"number": i + 1, "services": ["HT"]} for i in range(len(CASES))],
        "clerks": [
            {"code": clerk_code(i), "name": f"Công chức {i + 1}", "pin": f"{4000 + i}", "counter": i + 1}
            for i in range(len(CASES))
        ],
    }
    with transaction(central.sessions) as s:
        import_catalog(s, COMMUNE, setup)
    add_user(central, "chutich", PASSWORD, "admin")
    server = serve(central_app)
    clock = FakeClock()
    app = create_app(
        {
            "data_dir": str(tmp_path / "kiosk"),
            "central_url": server.url,
            "device_id": device[0],
            "device_secret": device[1],
            "commune_code": COMMUNE,
            "printer": "none",
            "gpio": "mock",
            "TESTING": True,
        },
        clock=clock,
    )
    kiosk = app.extensions["kiosk"]
    try:
        assert SyncClient(kiosk, backoff=0.01).run().ok  # the clerks, counters and field come from the server
        for i, case in enumerate(CASES):
            counter = i + 1
            clerk = app.test_client()
            assert clerk.post("/api/clerk/login", json={"counter": counter, "pin": f"{4000 + i}"}).status_code == 200
            citizen = app.test_client()
            for j in range(case.ratings):
                ticket = citizen.post("/api/tickets", json={"service": "HT"}).get_json()
                assert clerk.post(f"/api/counters/{counter}/next").get_json()["ticket"]["id"] == ticket["id"]
                assert clerk.post(f"/api/counters/{counter}/complete").status_code == 200
                criteria = {key: LEVEL_OF[points[j]] for key, points in case.answers.items() if j < len(points)}
                rating = {"level": "satisfied", "channel": "touch", "counter": counter, "ticket_id": ticket["id"]}
                answer = citizen.post("/api/ratings", json={**rating, "criteria": criteria})
                assert answer.status_code == 201 and answer.get_json()["counted"], answer.get_json()
                clock.advance(30)
        with transaction(kiosk.sessions) as s:
            admin_auth.set_password(s, PASSWORD)
        office = app.test_client()
        page = office.get("/admin/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        assert office.post("/admin/login", data={"password": PASSWORD, "csrf_token": token}).status_code == 302
        admin = {lang: office.get(f"/admin?lang={lang}").get_data(as_text=True) for lang in ("vi", "en")}
        report = SyncClient(kiosk, backoff=0.01).run()
        assert report.ok and report.sent > 0
        yield {"app": app, "admin": admin, "central_app": central_app, "central": central}
    finally:
        kiosk.close()


def clerk_ids(central) -> dict[str, str]:
    from sqlalchemy import select

    from central.models import Clerk

    with central.sessions() as s:
        return {code: cid for code, cid in s.execute(select(Clerk.code, Clerk.id).where(Clerk.commune_code == COMMUNE))}


def admin_row(page: str, clerk_id: str):
    rows = html.fromstring(page).xpath(f'//table[@id="by-counter"]//tr[@data-clerk="{clerk_id}"]')
    assert len(rows) == 1, f"no row of clerk {clerk_id} on /admin"
    row = rows[0]
    scores = {span.get("data-indicator"): span.text_content().split(":")[-1].strip() for span in row.xpath(".//span")}
    return scores, " ".join(row.xpath('.//td[@class="grade"]')[0].text_content().split())


def central_row(page: str, clerk_id: str):
    row = html.fromstring(page).xpath(f'//tr[@data-clerk="{clerk_id}"]')[0]
    scores = {td.get("data-indicator"): td.text_content().strip() for td in row.xpath("./td[@data-indicator]")}
    return scores, " ".join(row.xpath('./td[@class="grade"]')[0].text_content().split())


def signed_in(central_app):
    return sign_in(central_app, "chutich", PASSWORD)


def test_kiosk_and_server_show_the_same_tt01_figures(day):
    ids = clerk_ids(day["central"])
    office = signed_in(day["central_app"])
    query = f"period=custom&from={DAY}&to={DAY}"
    pages = {lang: office.get(f"/reports?{query}&lang={lang}").text for lang in ("vi", "en")}
    data = office.get(f"/reports/data.json?{query}").json
    clerks = {c["id"]: c for c in data["clerks"]}
    csv_text = office.get(f"/reports/export.csv?{query}").data.decode("utf-8-sig")
    csv_rows = {row[1]: row for row in csv.reader(io.StringIO(csv_text)) if len(row) > 12}
    document = docx.Document(io.BytesIO(office.get(f"/reports/export.docx?{query}").data))
    tt01_table = next(t for t in document.tables if t.rows[0].cells[0].text == "Công chức")
    docx_rows = {row.cells[0].text: [c.text for c in row.cells] for row in tt01_table.rows[1:]}

    problems = []
    for i, case in enumerate(CASES):
        clerk_id, name = ids[clerk_code(i)], f"Công chức {i + 1}"
        kiosk_vi, kiosk_grade_vi = admin_row(day["admin"]["vi"], clerk_id)
        kiosk_en, _ = admin_row(day["admin"]["en"], clerk_id)
        server_vi, server_grade_vi = central_row(pages["vi"], clerk_id)
        server_en, _ = central_row(pages["en"], clerk_id)
        server_vi = {k: v for k, v in server_vi.items() if v != "—"}
        server_en = {k: v for k, v in server_en.items() if v != "—"}
        tt01 = clerks[clerk_id]["tt01"]
        seen = {
            "kiosk vi": (kiosk_vi, kiosk_grade_vi),
            "server vi": (server_vi, server_grade_vi),
            "kiosk en": (kiosk_en, None),
            "server en": (server_en, None),
            "json": (tt01["scores"], (tt01["converted"], tt01["band"])),
            "csv": (csv_rows[name][7:11], csv_rows[name][12:14]),
            "docx": (docx_rows[name][1:5], docx_rows[name][6:8]),
        }
        order = ["time", "contacts", "agencies", "attitude"]
        converted_vi = "" if case.converted is None else f"{case.converted:.1f}".replace(".", ",")
        expected = {
            "kiosk vi": (case.vi, grade_vi(case)),
            "server vi": (case.vi, grade_vi(case)),
            "kiosk en": (case.en, None),
            "server en": (case.en, None),
            "json": (case.scores, (case.converted, case.band)),
            "csv": ([case.vi.get(k, "") for k in order], [converted_vi, case.band_vi]),
            "docx": ([case.vi.get(k, "—") for k in order], [converted_vi or "—", case.band_vi]),
        }
        for where, value in seen.items():
            if value != expected[where]:
                problems.append(f"{case.name} — {where}: {value!r}, expected {expected[where]!r}")
    assert not problems, "\n".join(problems)
