"""Issue 22 as a merged commune lives it: one commune, its centre TT and a second reception point CN, a kiosk at
each, a whole day from set-up to the report — real processes (`kiosk-central serve` on PostgreSQL, two
`kiosk serve`), the real HTTP API, forms with their CSRF tokens.

- Counters belong to a point: TT's counter 1 serves Hộ tịch and Chứng thực, CN has its own counter 1; each kiosk
  lists only its own point's counters.
- At TT's counter 1 the issue's order of calls (A001★, B001, A002, A003, B002, A004, A005): every waiting phone's
  "people ahead" is checked after each call against the tickets really called before it.
- A field added centrally is on both ticket screens within seconds (the kiosks' catalogue watch; their sync
  interval is an hour); both points print G001 the same day, each ticket naming its point.
- Closing the only TT counter of a field is refused naming the field and the point; closing another is live on
  TT's kiosk within seconds and leaves CN's counter 1 alone.
- After the sync, the report tells "TT · Quầy 1" from "CN · Quầy 1" (filter, counter table, point table).
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime

import pytest
import requests

from central.reports.localtime import DEFAULT_LOCAL_TIME
from tests.central_server import CentralServer
from tests.kiosk.test_phone_page import token_of
from tests.server import KioskServer

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
COMMUNE, NAME = "42400", "Xã Cẩm Xuyên"
ADMIN, PASSWORD = "quantri.tinh", "mat-khau-quan-tri"
SERVICES = [
    {"code": "HT", "name": "Hộ tịch", "prefix": "A"},
    {"code": "CT", "name": "Chứng thực", "prefix": "B"},
    {"code": "DD", "name": "Đất đai", "prefix": "C"},
]
EDUCATION = {"code": "GD", "name": "Giáo dục", "prefix": "G"}
COUNTERS = [
    {"number": 1, "site": "TT", "name": "Quầy 1", "services": ["HT", "CT"]},
    {"number": 2, "site": "TT", "name": "Quầy 2", "services": ["DD"]},
    {"number": 3, "site": "TT", "name": "Quầy 3", "services": ["DD"]},
    {"number": 1, "site": "CN", "name": "Quầy 1", "services": ["HT", "CT", "DD"]},
]
CLERKS = [
    {"code": "HUONG", "name": "Nguyễn Thị Hường", "pin": "1111", "counter": 1},
    {"code": "MINH", "name": "Trần Văn Minh", "pin": "2222", "counter": 2},
    {"code": "DUC", "name": "Lê Minh Đức", "pin": "3333", "counter": 1},
]
#: TT counter 1's morning, in the order it calls them: (field, priority) and the number it gets.
MORNING = [("HT", True), ("CT", False), ("HT", False), ("HT", False), ("CT", False), ("HT", False), ("HT", False)]
CALLED = ["A001", "B001", "A002", "A003", "B002", "A004", "A005"]
TT_LEVELS = ["very_satisfied", "very_satisfied", "satisfied", "satisfied", "unsatisfied", "very_satisfied", "satisfied"]
CN_LEVELS = ["very_satisfied", "unsatisfied", "satisfied"]


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(base: str) -> requests.Session:
    web = requests.Session()
    page = web.get(f"{base}/login", timeout=10).text
    answer = web.post(
        f"{base}/login",
        data={"username": ADMIN, "password": PASSWORD, "csrf_token": csrf(page)},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text
    return web


def import_config(central: CentralServer, path, services: list[dict]) -> None:
    doc = {"services": services, "counters": COUNTERS, "clerks": CLERKS}
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    central.cli("import-config", str(path), "--commune", COMMUNE)


def device(central: CentralServer, name: str, site: str) -> dict[str, str]:
    out = central.cli("add-device", name, "--commune", COMMUNE, "--commune-name", NAME, "--site", site)
    return dict(re.findall(r"^(KIOSK_[A-Z_]+)=(\S+)$", out, re.M))


def counters(kiosk: KioskServer) -> list[int]:
    return [c["number"] for c in requests.get(f"{kiosk.base}/api/queue", timeout=10).json()["counters"]]


def eventually(check, what: str, within: float = 15.0) -> float:
    """Seconds until ``check()`` holds; fails naming ``what`` after ``within``."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < within, what
        time.sleep(0.1)
    return time.monotonic() - started


def clerk_at(kiosk: KioskServer, counter: int, pin: str) -> requests.Session:
    clerk = requests.Session()
    answer = clerk.post(f"{kiosk.base}/api/clerk/login", json={"counter": counter, "pin": pin}, timeout=10)
    assert answer.status_code == 200, answer.text
    return clerk


def serve_next(kiosk: KioskServer, clerk: requests.Session, counter: int, level: str) -> str:
    """Call the next ticket, finish it, and the citizen rates at the kiosk's own screen: the number called."""
    called = clerk.post(f"{kiosk.base}/api/counters/{counter}/next", timeout=10)
    assert called.status_code == 200, called.text
    assert clerk.post(f"{kiosk.base}/api/counters/{counter}/complete", timeout=10).status_code == 200
    rated = requests.post(f"{kiosk.base}/api/ratings", json={"level": level, "counter": counter}, timeout=10)
    assert rated.status_code == 201 and rated.json()["counted"] is True, rated.text
    return called.json()["ticket"]["display_number"]


def take(kiosk: KioskServer, service: str, priority: bool = False) -> dict:
    answer = requests.post(f"{kiosk.base}/api/tickets", json={"service": service, "priority": priority}, timeout=10)
    assert answer.status_code == 201, answer.text
    return answer.json()


@pytest.fixture
def central(tmp_path, pg_cluster):
    server = CentralServer(tmp_path / "central", env={"KIOSK_CENTRAL_DATABASE_URL": pg_cluster.create_database("d")})
    server.cli("init")
    server.cli("add-user", ADMIN, "--role", "admin", "--password", PASSWORD)
    with server:
        yield server


def kiosk_at(central: CentralServer, tmp_path, site: str) -> KioskServer:
    kiosk = KioskServer(
        tmp_path / site.lower(),
        env={
            "KIOSK_COMMUNE_CODE": COMMUNE,
            "KIOSK_COMMUNE_NAME": f"UBND {NAME}",
            "KIOSK_CENTRAL_URL": central.base,
            "KIOSK_SYNC_INTERVAL": "3600",  # whatever arrives during the day came by the catalogue watch
            "KIOSK_CATALOG_WATCH_WAIT": "20",
            "KIOSK_RESPONSE_INTERVAL": "0",
            **device(central, f"Kiosk {site}", site),
        },
    )
    kiosk.cli("init")
    return kiosk


def test_a_day_at_a_merged_commune_with_two_reception_points(central, tmp_path):
    # --- set-up: the commune, its second point, a kiosk at each, the catalogue from a file -----------------
    tt = kiosk_at(central, tmp_path, "TT")  # registering the first kiosk makes the commune
    central.cli("add-site", COMMUNE, "CN", "Điểm Cẩm Nhượng")
    cn = kiosk_at(central, tmp_path, "CN")
    import_config(central, tmp_path / "catalogue.json", SERVICES)
    for kiosk in (tt, cn):
        kiosk.cli("sync", "--once")
    with tt, cn:
        assert counters(tt) == [1, 2, 3] and counters(cn) == [1]  # "CN · Quầy 1" is not "TT · Quầy 1"

        # --- TT's counter 1 serves two fields in one order; every phone is told the truth -------------------
        huong = clerk_at(tt, 1, "1111")
        morning = [take(tt, service, priority) for service, priority in MORNING]
        assert [t["display_number"] for t in morning] == ["A001", "B001", "A002", "A003", "B002", "A004", "A005"]
        assert morning[-1]["ahead"] == 6 and morning[-1]["site"]["code"] == "TT"
        phones = {
            t["display_number"]: f"{tt.base}/t/{token_of(tt.data_dir / 'kiosk.db', t['id'])}/state" for t in morning
        }
        for n, (number, level) in enumerate(zip(CALLED, TT_LEVELS, strict=True)):
            for later, waiting in enumerate(CALLED[n:]):  # before this call: who is still ahead of each
                told = requests.get(phones[waiting], timeout=10).json()
                assert told["ahead"] == later, f"{waiting} was told {told['ahead']} ahead before {number} was called"
            assert serve_next(tt, huong, 1, level) == number

        # --- CN's counter 1, the same number at the other point -------------------------------------------
        duc = clerk_at(cn, 1, "3333")
        cn_tickets = [take(cn, service) for service in ("HT", "CT", "DD")]
        assert [t["display_number"] for t in cn_tickets] == ["A001", "B001", "C001"]  # CN numbers its own day
        assert {t["site"]["code"] for t in cn_tickets} == {"CN"}
        for level in CN_LEVELS:
            serve_next(cn, duc, 1, level)

        # --- a field added centrally: on both ticket screens within seconds -----------------------------------
        education = [
            {**c, "services": [*c["services"], "GD"]} if (c["site"], c["number"]) in {("TT", 2), ("CN", 1)} else c
            for c in COUNTERS
        ]
        doc = {"services": [*SERVICES, EDUCATION], "counters": education, "clerks": CLERKS}
        (tmp_path / "with-education.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        central.cli("import-config", str(tmp_path / "with-education.json"), "--commune", COMMUNE)
        for kiosk in (tt, cn):
            eventually(
                lambda k=kiosk: "Giáo dục" in requests.get(f"{k.base}/ticket", timeout=10).text,
                f"Giáo dục is not on {kiosk.base}/ticket",
            )
        g_tt, g_cn = take(tt, "GD"), take(cn, "GD")
        assert g_tt["display_number"] == g_cn["display_number"] == "G001"  # each point's own day of numbers
        assert (g_tt["site"]["code"], g_cn["site"]["code"]) == ("TT", "CN")

        # --- closing counters centrally ----------------------------------------------------------------
        web = sign_in(central.base)
        page = web.get(f"{central.base}/admin/communes/{COMMUNE}/counters", timeout=10).text
        form = {"csrf_token": csrf(page), "name": "Quầy 2", "services": ["DD", "GD"]}  # no "active": closed
        stranded = web.post(f"{central.base}/admin/communes/{COMMUNE}/counters/TT/2?lang=vi", data=form, timeout=10)
        assert stranded.status_code == 400
        assert "Lĩnh vực Giáo dục không có quầy nào đang mở ở điểm TT" in stranded.text
        closed = web.post(
            f"{central.base}/admin/communes/{COMMUNE}/counters/TT/3",
            data={"csrf_token": csrf(page), "name": "Quầy 3", "services": ["DD"]},
            timeout=10,
        )
        assert closed.ok, closed.text
        eventually(lambda: counters(tt) == [1, 2], "TT's counter 3 is still open on its kiosk")
        assert counters(cn) == [1]  # closing "TT · Quầy 3" closed nothing at CN

        for kiosk in (tt, cn):
            kiosk.cli("sync", "--once")  # the day's records up (exit status 0, or the helper fails)

    # --- the report, by point and counter ------------------------------------------------------------------
    day = DEFAULT_LOCAL_TIME.day(datetime.now(UTC).replace(tzinfo=None)).isoformat()
    period = {"period": "custom", "from": day, "to": day, "commune": COMMUNE}

    def report(**more) -> dict:
        answer = web.get(f"{central.base}/reports/data.json", params={**period, **more}, timeout=30)
        assert answer.status_code == 200, answer.text
        return answer.json()

    whole = report()
    assert whole["summary"]["ratings"] == len(TT_LEVELS) + len(CN_LEVELS)
    rows = {c["label"]: c["ratings"] for c in whole["counters"]}
    # the two G001 still waiting were called at no counter: their row counts no rating
    assert rows == {"CN · Quầy 1": 3, "TT · Quầy 1": 7, "(không gắn quầy)": 0}
    assert report(counter="TT:1")["summary"]["ratings"] == 7
    assert report(counter="CN:1")["summary"]["ratings"] == 3
    sites = {s["code"]: s for s in whole["sites"]}
    assert (sites["TT"]["ratings"], sites["CN"]["ratings"]) == (7, 3)
    page = web.get(f"{central.base}/reports", params={**period, "lang": "vi"}, timeout=30).text
    assert ">TT · Quầy 1<" in page and ">CN · Quầy 1<" in page  # the filter offers each point's counter apart
