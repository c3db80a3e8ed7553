"""A faulty (or hostile) kiosk, another commune's admin and a stranger against the real `kiosk-central serve`: the
parts added for staged upgrades (``status.version``/``status.upgrade``), bookings (tickets' ``booking_code``),
visits of several fields (ratings' ``services``) and the posted documents (their pages and signed files).

Each hostile batch is signed as a kiosk's client signs it. It is answered 200 with its bad parts dropped or its
records quarantined, or a 4xx — never a 500 — and after it the fleet page, the fleet JSON and the reports still
answer, and the other commune's figures are as they were.
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import re
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from kiosk.posted_demo import form_pdf
from sync import protocol
from sync.posted_document import file_path
from tests.central.helpers import TEST_PASSWORD
from tests.central_server import CentralServer, sign_in
from tests.hostile import announce_huge_body

A, B = "XTA", "XTB"
PASSWORD = TEST_PASSWORD
TODAY = datetime.now(UTC).replace(tzinfo=None)
NUMBERS = itertools.count(1)  # each ticket its own number and each record its own sequence number


class Kiosk:
    """A registered kiosk's signed requests, with its own counter."""

    def __init__(self, central: CentralServer, settings: dict[str, str], commune: str) -> None:
        self.central, self.commune = central, commune
        self.id, self.secret, self.counter = settings["KIOSK_DEVICE_ID"], settings["KIOSK_DEVICE_SECRET"], 0

    def _headers(self, method: str, path: str, body: bytes) -> dict[str, str]:
        self.counter += 1
        return protocol.request_headers(self.secret, method, path, self.id, self.counter, body)

    def sync(self, records: list[dict], status: dict[str, Any] | None = None) -> requests.Response:
        envelope = {
            "v": 1,
            "device": self.id,
            "commune": self.commune,
            "sent_at": datetime.now(UTC).isoformat(),
            "clock_synced": True,
            "status": {"unsynced": 0, "printer": "ok", "version": "1.0", **(status or {})},
            "records": records,
        }
        body = gzip.compress(json.dumps(envelope).encode(), mtime=0)
        headers = self._headers("POST", protocol.SYNC_PATH, body)
        headers.update({"Content-Encoding": "gzip", "Content-Type": "application/json"})
        return requests.post(self.central.base + protocol.SYNC_PATH, data=body, headers=headers, timeout=60)

    def get(self, path: str) -> requests.Response:
        return requests.get(self.central.base + path, headers=self._headers("GET", path, b""), timeout=30)


def record(kind: str, **fields: Any) -> dict[str, Any]:
    """A valid wire record of ``kind`` (a ticket or a rating) with ``fields`` over it, hostile ones too."""
    n = next(NUMBERS)
    base = {"type": kind, "id": str(uuid.uuid4()), "seq": n, "device_time": TODAY.isoformat() + "+00:00",
            "clock_synced": True}  # fmt: skip
    if kind == "ticket":
        base.update(service_code="HT", business_day=TODAY.date().isoformat(), number=n, display_number=f"A{n:03d}",
                    priority=False, channel="touch")  # fmt: skip
    else:
        base.update(level="satisfied", points=1, channel="touch", panel="touch", counted=True, flag=None,
                    counter_number=1, ticket_id=None, clerk_id=None, service_code="HT")  # fmt: skip
    return {**base, **fields}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    central = CentralServer(tmp_path_factory.mktemp("attack") / "central")
    central.cli("init")
    central.cli("add-province", "79", "Thành phố Hồ Chí Minh")
    for code in (A, B):
        central.cli("add-commune", code, f"UBND xã {code}", "--province", "79")
    central.cli("add-user", "admin", "--role", "admin", "--password", PASSWORD)
    central.cli("add-user", "qt-a", "--role", "commune_admin", "--commune", A, "--password", PASSWORD)
    bookings = central.data_dir / "lich-hen.json"
    at = (TODAY + timedelta(hours=7)).strftime("%Y-%m-%dT%H:%M")
    bookings.parent.mkdir(parents=True, exist_ok=True)
    bookings.write_text(json.dumps([{"code": "B-0001", "service": "HT", "at": at}]))
    central.cli("import-bookings", str(bookings), "--commune", B)
    with central:
        kiosk_a = Kiosk(central, central.add_device("Kiosk A", A, f"UBND xã {A}"), A)
        kiosk_b = Kiosk(central, central.add_device("Kiosk B", B, f"UBND xã {B}"), B)
        admin = sign_in(central.base, "admin", PASSWORD)
        # commune B posts a form; its PDF is B's alone
        page = admin.get(f"{central.base}/admin/posted/{B}", timeout=10).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        pdf = form_pdf()
        saved = admin.post(
            f"{central.base}/admin/posted/{B}",
            data={"csrf_token": token, "kind": "form", "title": "Tờ khai của xã B"},
            files={"file": ("to-khai.pdf", pdf, "application/pdf")},
            timeout=30,
        )
        assert saved.status_code == 200 and "Tờ khai của xã B" in saved.text, saved.text[:500]
        assert kiosk_a.sync([]).status_code == 200 and kiosk_b.sync([]).status_code == 200
        yield central, kiosk_a, kiosk_b, admin, pdf


def pages_answer(central: CentralServer, admin: requests.Session) -> dict:
    """The fleet page, its JSON and the report of commune B answer (no 500); B's report (its JSON)."""
    assert admin.get(f"{central.base}/fleet", timeout=30).status_code == 200
    assert admin.get(f"{central.base}/fleet.json", timeout=30).status_code == 200
    month = f"period=month&year={TODAY.year}&month={TODAY.month}"
    report = admin.get(f"{central.base}/reports/data.json?{month}&commune={B}", timeout=60)
    assert report.status_code == 200, report.text[:300]
    assert admin.get(f"{central.base}/reports?{month}&commune={A}", timeout=60).status_code == 200
    return report.json()


UPGRADES = {
    "nested objects": {"outcome": "upgraded", "from": {"a": {"b": [1, 2]}}, "to": [["x"]], "detail": {"x": 1}},
    "a 1 MB detail": {"outcome": "failed", "detail": "x" * 1_000_000},
    "a 10 kB 'to'": {"outcome": "rolled_back", "from": "1.0", "to": "9" * 10_000},
    "wrong types": {"outcome": 7, "from": 1.5, "to": True, "at": 12},
    "an unknown outcome": {"outcome": "exploded\x1b[2J"},
    "ESC and NUL": {"outcome": "failed", "from": "1\x1b[31m", "to": "2\x00", "detail": "a\x00b\x1b"},
    "a list": ["upgraded"],
    "a time past any local date": {"outcome": "upgraded", "from": "1.0", "to": "1.1", "at": "9999-12-31T23:59:59"},
    "a time before any date": {"outcome": "upgraded", "at": "0001-01-01T00:00:00+14:00"},
    "a version of 10 kB": "v" * 10_000,
}


@pytest.mark.parametrize("name", list(UPGRADES))
def test_a_hostile_upgrade_status_neither_crashes_nor_poisons_the_fleet_page(world, name):
    central, kiosk_a, _b, admin, _pdf = world
    before = pages_answer(central, admin)
    status = {"version": UPGRADES[name]} if name == "a version of 10 kB" else {"upgrade": UPGRADES[name]}
    answer = kiosk_a.sync([], status)
    assert answer.status_code == 200 or 400 <= answer.status_code < 500, answer.text[:300]
    assert pages_answer(central, admin) == before
    fleet = admin.get(f"{central.base}/fleet.json", timeout=30).json()["devices"]
    shown = json.dumps(fleet)
    assert "\\u001b" not in shown and "\\u0000" not in shown and "9" * 100 not in shown and "x" * 1000 not in shown


def stored(central: CentralServer, sql: str, params: tuple = ()) -> list[tuple]:
    conn = sqlite3.connect(central.data_dir / "central.db")
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize(
    "code",
    # the last: another commune's booking, well formed
    [["B-0001"], "B" * 10_000, {"code": "B-0001"}, 42, "B-\x00001", "B-0001\x1b[2J", "B-0001"],
)
def test_a_booking_code_from_a_faulty_kiosk_is_refused_and_another_communes_booking_untouched(world, code):
    central, kiosk_a, _b, admin, _pdf = world
    before = pages_answer(central, admin)
    ticket = record("ticket", booked=True, booking_code=code)
    answer = kiosk_a.sync([ticket])
    assert answer.status_code == 200 or 400 <= answer.status_code < 500, answer.text[:300]
    after = pages_answer(central, admin)
    assert after == before, "commune B's report changed"
    assert after["queue"]["bookings"]["bookings"] == 1 and after["queue"]["bookings"]["checked_in"] == 0
    kept = stored(central, "SELECT booking_code FROM tickets WHERE id = ?", (uuid.UUID(ticket["id"]).hex,))
    if isinstance(code, str) and code == "B-0001":
        assert kept == [("B-0001",)]  # stored as commune A's ticket; B's booking is not checked in by it
    else:
        assert kept in ([], [(None,)]), f"a hostile booking code was stored: {kept[0][0]!r:.80}"
    assert not stored(central, "SELECT 1 FROM tickets WHERE commune_code = ? AND booking_code IS NOT NULL", (B,))


@pytest.mark.parametrize(
    "services",
    [" ".join(f"S{i}" for i in range(1000)), "HT ZZ QQ", ["HT", "CT"], "HT\x00CT", "HT " * 20_000, 5],
)
def test_a_ratings_services_from_a_faulty_kiosk_do_not_crash_the_reports(world, services):
    central, kiosk_a, _b, admin, _pdf = world
    before = pages_answer(central, admin)
    ticket = record("ticket")
    rating = record("rating", ticket_id=ticket["id"], services=services)
    answer = kiosk_a.sync([ticket, rating])
    assert answer.status_code == 200 or 400 <= answer.status_code < 500, answer.text[:300]
    assert pages_answer(central, admin) == before


@pytest.mark.parametrize(
    "tail",
    ["OTHER", "../../central.db", "..%2f..%2fcentral.db", "A" * 64, "0" * 63, "0" * 65, "%00" + "0" * 61],
)
def test_a_kiosk_gets_no_pdf_of_another_commune_nor_by_a_forged_name(world, tail):
    central, kiosk_a, kiosk_b, _admin, pdf = world
    import hashlib

    sha = hashlib.sha256(pdf).hexdigest()
    own = kiosk_b.get(file_path(sha))
    assert own.status_code == 200 and own.content == pdf  # commune B's kiosk gets it
    other = kiosk_a.get(file_path(sha))
    assert other.status_code == 404 and other.content != pdf
    forged = kiosk_a.get(file_path(sha if tail == "OTHER" else tail))
    assert forged.status_code in (400, 401, 404) and b"SQLite" not in forged.content
    stranger = requests.get(central.base + file_path(sha), timeout=10)
    assert stranger.status_code in (401, 403) and stranger.content != pdf


def test_a_signed_pdf_request_seen_on_the_network_cannot_be_replayed(world):
    """A stranger who saw one of the kiosk's signed requests for a form (central_url over plain HTTP) sends it again:
    refused, as every other signed call, instead of the server reading, signing and sending 3 MB each time."""
    central, _a, kiosk_b, _admin, pdf = world
    path = file_path(hashlib.sha256(pdf).hexdigest())
    seen = kiosk_b._headers("GET", path, b"")
    first = requests.get(central.base + path, headers=seen, timeout=30)
    assert first.status_code == 200 and first.content == pdf
    replays = [requests.get(central.base + path, headers=seen, timeout=30) for _ in range(3)]
    assert [r.status_code for r in replays] == [409] * 3 and all(r.content != pdf for r in replays)
    assert kiosk_b.get(path).content == pdf  # the kiosk's next request, with its next counter, is served


def test_a_commune_admin_posts_to_no_other_commune_and_no_form_passes_without_its_token(world):
    central, _a, kiosk_b, admin, _pdf = world
    other = sign_in(central.base, "qt-a", PASSWORD)
    token = re.search(r'name="csrf_token" value="([^"]+)"', other.get(f"{central.base}/admin/posted/{A}").text)[1]
    doc = {"csrf_token": token, "kind": "notice", "title": "Giả mạo", "body": "Thông báo giả"}
    for path in (f"/admin/posted/{B}", "/admin/posted/province/79", f"/admin/procedures/{B}/1.000001/hide"):
        answer = other.post(central.base + path, data=doc, allow_redirects=False, timeout=10)
        assert answer.status_code in (403, 404), (path, answer.status_code)
    for path in (f"/admin/posted/{B}", "/admin/posted/province/79"):  # the admin's own session, without the token
        answer = admin.post(central.base + path, data={**doc, "csrf_token": ""}, allow_redirects=False, timeout=10)
        assert answer.status_code == 400, (path, answer.status_code)
    stranger = requests.post(f"{central.base}/admin/posted/{B}", data=doc, allow_redirects=False, timeout=10)
    assert stranger.status_code in (302, 400, 401, 403)
    assert "Giả mạo".encode() not in kiosk_b.get("/api/v1/posted").content
    listed = admin.get(f"{central.base}/admin/posted/{B}", timeout=10).text
    assert "Giả mạo" not in listed


def test_an_upload_past_the_cap_is_refused_before_it_is_sent(world):
    central, *_ = world
    answer = announce_huge_body("127.0.0.1", central.port, f"/admin/posted/{B}", "multipart/form-data; boundary=xyz")
    assert answer.startswith(b"HTTP/1.1 413"), f"the server waits for 900 MB (answer so far: {answer[:80]!r})"


def post_to(web: requests.Session, base: str, path: str, data: dict, pdf: bytes | None = None) -> requests.Response:
    page = web.get(base + path.rsplit("/", 1)[0] if path.endswith(("/hide", "/show")) else base + path, timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]
    files = {"file": ("mau.pdf", pdf, "application/pdf")} if pdf else None
    return web.post(base + path, data={**data, "csrf_token": token}, files=files, allow_redirects=False, timeout=60)


def test_the_central_takes_no_more_documents_than_a_kiosk_takes(world):
    """The province's notices and the commune's own, together past the kiosk's 60: the one past it is refused at the
    page (400, nothing saved), and what the commune's kiosk takes down passes the kiosk's own check."""
    from common.posted_rules import MAX_DOCUMENTS
    from kiosk.posted import check_document

    central, _a, kiosk_b, admin, _pdf = world
    shown = len(kiosk_b.get("/api/v1/posted").json()["documents"])
    answers = []
    for n in range(MAX_DOCUMENTS - shown + 1):
        owner = "/admin/posted/province/79" if n % 2 else f"/admin/posted/{B}"
        doc = {"kind": "notice", "title": f"Thông báo {n}", "body": "Nội dung thông báo."}
        answers.append(post_to(admin, central.base, owner, doc))
    codes = [a.status_code for a in answers]
    assert codes[:-1] == [302] * (MAX_DOCUMENTS - shown) and codes[-1] == 400, codes
    assert f"hiển thị tối đa {MAX_DOCUMENTS} văn bản niêm yết" in answers[-1].text  # why, on the page
    taken = kiosk_b.get("/api/v1/posted").json()
    assert len(check_document(taken)) == MAX_DOCUMENTS  # the kiosk takes the list whole
    listed = admin.get(f"{central.base}/admin/posted/{B}", timeout=10).text
    assert f"Thông báo {MAX_DOCUMENTS - shown}" not in listed


def test_hidden_forms_do_not_fill_the_central_database(world):
    """A commune admin uploads a new 3 MB form and hides it, again and again: the PDFs the commune keeps here,
    hidden ones too, stay bounded (413 past it, nothing saved), and the kiosks' lists are untouched."""
    from common.posted_rules import MAX_PDF_BYTES

    central, _a, _b, _admin, _pdf = world
    web = sign_in(central.base, "qt-a", PASSWORD)
    statuses = []
    for n in range(30):
        pdf = b"%PDF-1.4\n" + bytes([n]) * (MAX_PDF_BYTES - 200) + b"\n%%EOF\n"
        saved = post_to(web, central.base, f"/admin/posted/{A}", {"kind": "form", "title": f"Mẫu {n}"}, pdf)
        statuses.append(saved.status_code)
        if saved.status_code != 302:
            assert "kể cả biểu mẫu đã ẩn" in saved.text  # why, on the page
            break
        ident = stored(central, "SELECT id FROM posted_documents WHERE title = ?", (f"Mẫu {n}",))[0][0]
        assert post_to(web, central.base, f"/admin/posted/{A}/{ident}/hide", {}).status_code == 302
    assert statuses[-1] == 413, statuses
    kept = stored(central, "SELECT SUM(LENGTH(content)) FROM posted_files")[0][0]
    print(f"{len(statuses) - 1} hidden 3 MB forms kept, {kept / 2**20:.0f} MB of PDFs in the database")
    assert kept <= 100 * 2**20
