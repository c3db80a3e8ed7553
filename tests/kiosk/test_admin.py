"""`/admin` on the device: the admin password, its lock, CSRF, today's figures and editing the catalogue."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from werkzeug.security import check_password_hash

from common.catalog_rules import pin_matches
from kiosk import admin as admin_auth
from kiosk.catalog import add_clerk
from kiosk.cli import main
from kiosk.clock import FakeClock, to_naive_utc
from kiosk.db import transaction
from kiosk.models import Clerk, Counter, DeviceState, Service, Ticket, TicketState
from kiosk.records import stamp
from kiosk.today import today_figures

PASSWORD = "mat-khau-quan-tri"
#: 23:00 local time (Asia/Ho_Chi_Minh, UTC+7) on 19 November 2026.
START = datetime(2026, 11, 19, 16, 0, tzinfo=UTC)
TODAY = date(2026, 11, 20)


@pytest.fixture
def clock():
    return FakeClock(start=START)


def set_password(kiosk, password: str = PASSWORD) -> None:
    with transaction(kiosk.sessions) as s:
        admin_auth.set_password(s, password)


def token(client, path: str = "/admin/login") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def login(client, password: str = PASSWORD, **extra):
    return client.post("/admin/login", data={"password": password, "csrf_token": token(client), **extra})


@pytest.fixture
def admin(client, kiosk):
    """A client signed in as administrator."""
    set_password(kiosk)
    assert login(client).status_code == 302
    return client


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


# --- password, sign-in, lock, CSRF -------------------------------------------------------------------


def test_pages_need_the_admin_password(client, kiosk):
    set_password(kiosk)
    for path in ("/admin", "/admin/services", "/admin/counters", "/admin/clerks"):
        answer = client.get(path)
        assert answer.status_code == 302 and answer.headers["Location"].startswith("/admin/login")
    answer = client.post("/admin/services/HT", data={"name": "X", "csrf_token": token(client)})
    assert answer.status_code == 401
    assert "Hãy đăng nhập quản trị trước." in text_of(answer)
    with kiosk.sessions() as s:
        assert s.get(Service, "HT").name == "Hộ tịch"


def test_without_a_password_the_page_says_how_to_set_one(client):
    page = text_of(client.get("/admin/login"))
    assert "Thiết bị này chưa được đặt mật khẩu quản trị." in page
    assert "kiosk admin-password" in page
    assert 'type="password"' not in page  # no sign-in form, and no default password that would work
    with client.session_transaction() as cookie:  # there is no form to take a token from: plant one
        cookie["_csrf_token"] = "planted"
    for guess in ("", "admin", "demo", "1234"):
        answer = client.post("/admin/login", data={"password": guess, "csrf_token": "planted"})
        assert answer.status_code == 401
    assert client.get("/admin").status_code == 302


def test_sign_in_and_out(client, kiosk):
    set_password(kiosk)
    answer = login(client, next="/admin/clerks")
    assert answer.status_code == 302 and answer.headers["Location"] == "/admin/clerks"
    page = text_of(client.get("/admin"))
    assert "Hôm nay, 19/11/2026" in page and "Đăng xuất" in page
    answer = client.post("/admin/logout", data={"csrf_token": token(client, "/admin")})
    assert answer.status_code == 302
    assert client.get("/admin").status_code == 302


def test_sign_in_only_redirects_inside_admin(client, kiosk):
    set_password(kiosk)
    assert login(client, next="//evil.example/").headers["Location"] == "/admin"


def test_wrong_password_then_lock_then_unlock(client, kiosk, clock):
    set_password(kiosk)
    first = login(client, "sai-mat-khau")
    assert first.status_code == 401
    assert "Sai mật khẩu. Còn 4 lần thử" in text_of(first)
    for _ in range(3):
        assert login(client, "sai-mat-khau").status_code == 401
    locked = login(client, "sai-mat-khau")
    assert locked.status_code == 429
    assert "đăng nhập đang bị khóa" in text_of(locked)
    assert login(client).status_code == 429  # even the right password, while locked
    clock.advance(admin_auth.LOCK_SECONDS + 1)
    assert login(client).status_code == 302


def test_a_clock_change_neither_lifts_the_lock_nor_lengthens_it(client, kiosk, clock):
    set_password(kiosk)
    for _ in range(admin_auth.MAX_FAILURES):
        login(client, "sai-mat-khau")
    start = clock.now()
    clock.jump(start - timedelta(hours=3))  # the Pi's clock is corrected backwards
    assert login(client).status_code == 429
    clock.jump(start + timedelta(days=2))  # … or forwards
    assert login(client).status_code == 429
    clock.advance(admin_auth.LOCK_SECONDS + 1)  # five minutes really pass
    assert login(client).status_code == 302


def test_csrf_token_is_required_on_every_form(admin, kiosk):
    for data in ({"name": "Đổi tên"}, {"name": "Đổi tên", "csrf_token": "not-the-token"}):
        answer = admin.post("/admin/services/HT", data={**data, "prefix": "A", "active": "1"})
        assert answer.status_code == 400
        assert "Biểu mẫu đã cũ" in text_of(answer)
    assert admin.post("/admin/logout").status_code == 400
    with kiosk.sessions() as s:
        assert s.get(Service, "HT").name == "Hộ tịch"


def test_login_form_needs_the_csrf_token_too(client, kiosk):
    set_password(kiosk)
    assert client.post("/admin/login", data={"password": PASSWORD}).status_code == 400


def test_a_new_password_ends_admin_sessions(admin, kiosk):
    assert admin.get("/admin").status_code == 200
    set_password(kiosk, "mat-khau-moi-hon")
    assert admin.get("/admin").status_code == 302


def test_admin_session_lapses_when_idle(admin, clock):
    clock.advance(20 * 60)
    assert admin.get("/admin").status_code == 200
    clock.advance(31 * 60)
    assert admin.get("/admin").status_code == 302


def test_cli_sets_the_password_with_hidden_prompts(kiosk, monkeypatch, client):
    monkeypatch.setenv("KIOSK_DATA_DIR", kiosk.settings["data_dir"])
    result = CliRunner().invoke(main, ["admin-password"], input="mot-mat-khau\nmot-mat-khau\n", obj={})
    assert result.exit_code == 0, result.output
    assert "mot-mat-khau" not in result.output  # hidden input is not echoed
    with kiosk.sessions() as s:
        stored = s.get(DeviceState, admin_auth.PASSWORD_KEY).value
    assert "mot-mat-khau" not in stored and check_password_hash(stored, "mot-mat-khau")
    assert login(client, "mot-mat-khau").status_code == 302


def test_cli_password_from_stdin_and_too_short(kiosk, monkeypatch):
    monkeypatch.setenv("KIOSK_DATA_DIR", kiosk.settings["data_dir"])
    short = CliRunner().invoke(main, ["admin-password", "--password-stdin"], input="ngan\n", obj={})
    assert short.exit_code == 2 and "at least 8 characters" in short.output
    with kiosk.sessions() as s:
        assert admin_auth.password_hash(s) is None
    ok = CliRunner().invoke(main, ["admin-password", "--password-stdin"], input="du-dai-roi\n", obj={})
    assert ok.exit_code == 0, ok.output
    with kiosk.sessions() as s:
        assert check_password_hash(admin_auth.password_hash(s), "du-dai-roi")


def test_demo_sets_the_demo_password_only_when_none_is_set(kiosk):
    from kiosk.serve import seed_demo

    seed_demo(kiosk)
    assert admin_auth.demo_password_active(kiosk.sessions)
    set_password(kiosk)
    seed_demo(kiosk)
    assert not admin_auth.demo_password_active(kiosk.sessions)


# --- today's figures ---------------------------------------------------------------------------------


def local(hour: int, minute: int = 0) -> datetime:
    """A naive-UTC stored time for HH:MM local time on TODAY."""
    return to_naive_utc(datetime(2026, 11, 20, hour, minute, tzinfo=FakeClock().tz))


def ticket(s, clock, service, number, day, queued, status, counter=None, clerk=None, called=None, finished=None):
    prefix = s.get(Service, service).prefix
    t = stamp(
        s,
        Ticket(service_code=service, business_day=day, number=number, display_number=f"{prefix}{number:03d}"),
        clock,
    )
    s.flush()
    s.add(
        TicketState(
            ticket_id=t.id,
            status=status,
            service_code=service,
            queued_at=queued,
            queue_day=day,
            counter_number=counter,
            clerk_id=clerk,
            called_at=called,
            finished_at=finished,
        )
    )
    return t.id


@pytest.fixture
def day_of_work(kiosk, clock):
    """A hand-made day: see the expected figures in the tests below."""
    with transaction(kiosk.sessions) as s:
        lan = add_clerk(s, "Nguyễn Thị Lan", "1111", 1).id
        minh = add_clerk(s, "Trần Văn Minh", "2222", 2).id
        a1 = ticket(s, clock, "HT", 1, TODAY, local(8), "done", 1, lan, local(8, 10), local(8, 25))
        a2 = ticket(s, clock, "HT", 2, TODAY, local(8, 5), "done", 1, lan, local(8, 25), local(8, 30))
        ticket(s, clock, "DD", 1, TODAY, local(8, 10), "no_show", 2, minh, local(8, 20))
        c2 = ticket(s, clock, "DD", 2, TODAY, local(8, 15), "called", 2, minh, local(8, 30))
        ticket(s, clock, "CT", 1, TODAY, local(8, 20), "waiting")
        a9 = ticket(s, clock, "HT", 9, TODAY - timedelta(days=1), local(8) - timedelta(days=1), "done", 1, lan)
    # 23:30 local yesterday: not today.
    clock.advance(30 * 60)
    kiosk.ratings.record("very_satisfied", counter=1, ticket_id=a9, criteria={"time": "very_satisfied"})
    # 00:10 local today onwards.
    clock.advance(40 * 60)
    r = kiosk.ratings.record
    r("very_satisfied", counter=1, ticket_id=a1, criteria={"time": "very_satisfied", "attitude": "satisfied"})
    flagged = r("satisfied", counter=1, ticket_id=a1, criteria={"time": "unsatisfied", "contacts": "unsatisfied"})
    assert not flagged.counted  # the same panel again within the response interval
    clock.advance(10)
    r("unsatisfied", counter=1, ticket_id=a2, criteria={"time": "unsatisfied"})
    r("satisfied", counter=2, ticket_id=c2, criteria={"attitude": "very_satisfied"})
    r("very_satisfied")
    return {"lan": lan, "minh": minh}


def test_today_figures_against_the_hand_made_day(kiosk, clock, day_of_work):
    with kiosk.sessions() as s:
        f = today_figures(s, clock)
    assert f.day == TODAY
    assert (f.total, f.counted, f.flagged) == (5, 4, 1)
    assert [(lv.key, lv.label, lv.count) for lv in f.levels] == [
        ("very_satisfied", "Rất hài lòng", 2),
        ("satisfied", "Hài lòng", 1),
        ("unsatisfied", "Không hài lòng", 1),
    ]
    assert f.satisfied_share == 0.75
    # The flagged press's answers (time 0, contacts 0) are not counted; contacts has no data: left out.
    assert [(i.key, i.answers, i.average) for i in f.indicators] == [("time", 2, 1.0), ("attitude", 2, 1.5)]
    assert (f.issued, f.served, f.no_show, f.waiting, f.in_service) == (5, 2, 1, 1, 1)
    assert f.mean_wait == (600 + 1200 + 900) / 3  # the no-show's wait is not a citizen's wait
    assert f.mean_service == (900 + 300) / 2

    rows = {(row.counter, row.clerk_name): row for row in f.rows}
    assert list(rows) == [(1, "Nguyễn Thị Lan"), (2, "Trần Văn Minh"), (None, None)]
    lan, minh, office = rows.values()
    assert (lan.counted, lan.flagged, lan.satisfied_share, lan.served, lan.no_show) == (2, 1, 0.5, 2, 0)
    assert (lan.mean_wait, lan.mean_service) == (900, 600)
    assert [(i.key, i.average) for i in lan.indicators] == [("time", 1.0), ("attitude", 1.0)]
    assert (minh.counted, minh.satisfied_share, minh.served, minh.no_show, minh.mean_wait) == (1, 1.0, 0, 1, 900)
    assert minh.mean_service is None and [(i.key, i.average) for i in minh.indicators] == [("attitude", 2.0)]
    assert (office.counted, office.satisfied_share, office.served) == (1, 1.0, 0)


def test_yesterday_still_has_its_own_figures(kiosk, clock, day_of_work):
    with kiosk.sessions() as s:
        f = today_figures(s, clock, TODAY - timedelta(days=1))
    assert (f.total, f.counted, f.issued, f.served) == (1, 1, 1, 1)


def test_neutral_is_not_satisfied_or_above(tmp_path):
    from kiosk.app import create_app

    clock = FakeClock()
    app = create_app(
        {
            "data_dir": str(tmp_path / "four"),
            "rating_levels": ["very_satisfied", "satisfied", "neutral", "unsatisfied"],
            "hardware": False,
        },
        clock=clock,
    )
    kiosk = app.extensions["kiosk"]
    try:
        for level in ("very_satisfied", "neutral", "neutral", "satisfied"):
            kiosk.ratings.record(level)
            clock.advance(10)
        with kiosk.sessions() as s:
            f = today_figures(s, clock)
        assert f.satisfied_share == 0.5
        assert [(lv.label, lv.count) for lv in f.levels][2] == ("Bình thường", 2)
    finally:
        kiosk.close()


def test_the_page_shows_the_figures_in_vietnamese(admin, day_of_work):
    login(admin)  # the day's records took the clock past the idle limit
    page = text_of(admin.get("/admin"))
    assert "Hôm nay, 20/11/2026" in page
    assert re.search(r'id="ratings-total">5<', page) and re.search(r'id="ratings-flagged">1<', page)
    assert 'id="satisfied-share">75,0%<' in page  # one decimal, with the decimal comma, as the reports
    assert "Rất hài lòng" in page and "Thái độ của công chức" in page
    assert "Số lần phải liên hệ" not in page  # no data: left out, not shown as zero
    assert 'id="mean-wait">15 phút 0 giây<' in page and 'id="mean-service">10 phút 0 giây<' in page
    assert "Nguyễn Thị Lan" in page and "Chung cả bộ phận" in page
    assert "Tắt: chưa cấu hình máy chủ trung tâm" in page
    assert re.search(r'id="printer-state"><dt>Máy in số thứ tự</dt><dd>\w', page)


# --- editing -----------------------------------------------------------------------------------------


def post(client, path: str, **data):
    return client.post(path, data={"csrf_token": token(client, "/admin/services"), **data})


def test_edit_a_service(admin, kiosk):
    answer = post(admin, "/admin/services/HT", name="Hộ tịch – khai sinh", prefix="h", daily_max="80", active="1")
    assert answer.status_code == 302
    assert "Đã lưu lĩnh vực HT." in text_of(admin.get(answer.headers["Location"]))
    with kiosk.sessions() as s:
        ht = s.get(Service, "HT")
        assert (ht.name, ht.prefix, ht.daily_max, ht.active) == ("Hộ tịch – khai sinh", "H", 80, True)
    assert kiosk.queue.tickets.services()["HT"].name == "Hộ tịch – khai sinh"  # the queue's cache was refreshed
    post(admin, "/admin/services/HT", name="Hộ tịch", prefix="A", daily_max="")  # unchecked box: switched off
    assert "HT" not in kiosk.queue.tickets.services()


def test_add_a_service(admin, kiosk):
    form = admin.get("/admin/services").get_data(as_text=True)
    assert 'name="counters" value="1"' in form  # a new service asks which counter(s) handle it
    answer = post(admin, "/admin/services", code="ld", name="Lao động", prefix="G", daily_max="", counters="1")
    assert answer.status_code == 302
    with kiosk.sessions() as s:
        ld = s.get(Service, "LD")
        assert (ld.name, ld.prefix, ld.daily_max, ld.active) == ("Lao động", "G", None, True)
        assert [c.number for c in ld.counters] == [1]


def test_a_service_no_open_counter_handles_is_refused(admin, kiosk):
    """No ticket nobody can call: a new service needs a counter, and the last open counter of one cannot close."""
    answer = post(admin, "/admin/services", code="GD", name="Giáo dục", prefix="G", daily_max="")
    assert answer.status_code == 400
    assert "Lĩnh vực Giáo dục không có quầy nào đang mở ở điểm TT" in answer.get_data(as_text=True)
    closed = post(admin, "/admin/counters/3", name="Quầy 3", services=["BT", "NCC"])  # unticked "Đang mở"
    page = closed.get_data(as_text=True)
    assert closed.status_code == 400 and "Lĩnh vực Bảo trợ xã hội không có quầy nào đang mở ở điểm TT" in page
    assert "mở một quầy phục vụ lĩnh vực này hoặc tạm ngưng lĩnh vực" in page
    with kiosk.sessions() as s:
        assert s.get(Service, "GD") is None and s.get(Counter, 3).active


@pytest.mark.parametrize(
    ("path", "data", "message"),
    [
        ("/admin/services/HT", {"name": "Mới", "prefix": "B", "active": "1"}, "CT đã dùng tiền tố “B”"),
        ("/admin/services/HT", {"name": "Mới", "prefix": "A", "daily_max": "nhiều"}, "Hãy nhập số nguyên từ 1"),
        ("/admin/services/HT", {"name": "  ", "prefix": "A"}, "Hãy nhập tên lĩnh vực."),
        ("/admin/services", {"code": "HT", "name": "Trùng", "prefix": "Z"}, "Đã có lĩnh vực mang mã HT."),
        ("/admin/services", {"code": "Hộ", "name": "Sai mã", "prefix": "Z"}, "Mã lĩnh vực phải gồm"),
        ("/admin/counters/1", {"name": "Quầy một", "active": "1"}, "phải phụ trách ít nhất một lĩnh vực"),
        ("/admin/counters", {"number": "1", "services": "HT"}, "Đã có quầy số 1."),
        ("/admin/counters", {"number": "5", "services": ["HT", "XX"]}, "Không có lĩnh vực: XX."),
        ("/admin/clerks", {"name": "Lê Văn Nam", "pin": "12"}, "Mã PIN phải gồm 4 đến 8 chữ số."),
        ("/admin/clerks", {"name": "Lê Văn Nam", "pin": "1234", "counter": "9"}, "Không có quầy số 9."),
    ],
)
def test_invalid_edits_change_nothing(admin, kiosk, path, data, message):
    def snapshot():
        with kiosk.sessions() as s:
            services = [(x.code, x.name, x.prefix, x.daily_max, x.active) for x in s.scalars(select(Service))]
            counters = [
                (c.number, c.name, c.active, sorted(x.code for x in c.services)) for c in s.scalars(select(Counter))
            ]
            clerks = [(c.id, c.name, c.counter_number, c.active) for c in s.scalars(select(Clerk))]
        return services, counters, clerks

    before = snapshot()
    answer = post(admin, path, **data)
    assert answer.status_code == 400
    page = text_of(answer)
    assert message in page and 'role="alert"' in page
    assert snapshot() == before


def test_the_refused_field_is_marked_and_keeps_what_was_typed(admin):
    page = text_of(post(admin, "/admin/services/HT", name="Hộ tịch mới", prefix="B", active="1"))
    assert re.search(r'id="prefix-HT" name="prefix" type="text" value="B"[^>]*aria-invalid="true"', page)
    assert 'value="Hộ tịch mới"' in page


def test_edit_and_add_counters(admin, kiosk):
    assert post(admin, "/admin/counters", number="5", services=["TP", "NCC"]).status_code == 302  # TP, NCC elsewhere
    assert post(admin, "/admin/counters/2", name="Quầy đất đai", services=["DD"], active="1").status_code == 302
    assert post(admin, "/admin/counters", number="4", services=["HT", "BT"]).status_code == 302
    assert post(admin, "/admin/counters/3", name="Quầy 3", services=[]).status_code == 302  # closed: none needed
    with kiosk.sessions() as s:
        two, three, four = s.get(Counter, 2), s.get(Counter, 3), s.get(Counter, 4)
        assert (two.name, [x.code for x in two.services], two.active) == ("Quầy đất đai", ["DD"], True)
        assert (three.active, three.services) == (False, [])
        assert (four.name, sorted(x.code for x in four.services), four.active) == ("Quầy 4", ["BT", "HT"], True)
    assert kiosk.ratings.record("satisfied", counter=4).counter == 4


def test_add_a_clerk_and_reset_a_pin(admin, kiosk):
    assert post(admin, "/admin/clerks", name="Nguyễn Thị Lan", pin="1111", counter="1").status_code == 302
    assert post(admin, "/admin/clerks", name="Lê Văn Nam", pin="4321", counter="2").status_code == 302
    with kiosk.sessions() as s:
        nam = s.scalar(select(Clerk).where(Clerk.name == "Lê Văn Nam"))
        assert nam.counter_number == 2 and nam.active and pin_matches(nam, "4321") and nam.pin_hash != "4321"
    answer = post(admin, f"/admin/clerks/{nam.id}", name="Lê Văn Nam", counter="", pin="98765")
    assert answer.status_code == 302
    with kiosk.sessions() as s:
        nam = s.get(Clerk, nam.id)
        assert nam.counter_number is None and not nam.active
        assert pin_matches(nam, "98765") and not pin_matches(nam, "4321")
    post(admin, f"/admin/clerks/{nam.id}", name="Lê Văn Nam", counter="1", active="1")  # no PIN: kept
    with kiosk.sessions() as s:
        assert pin_matches(s.get(Clerk, nam.id), "98765")


def test_read_only_when_a_central_server_manages_the_kiosk(tmp_path, clock):
    from kiosk import catalog_state
    from kiosk.app import create_app

    app = create_app(
        {"data_dir": str(tmp_path / "c"), "central_url": "http://huyen.example", "hardware": False}, clock=clock
    )
    kiosk = app.extensions["kiosk"]
    try:
        set_password(kiosk)
        client = app.test_client()
        login(client)
        assert "<input" in text_of(client.get("/admin/services")).split("</header>")[1]  # the kiosk's, until…
        with transaction(kiosk.sessions) as s:  # …the central server's catalogue says it manages the commune
            catalog_state.put(s, catalog_state.OWNER_KEY, "central")
        for path in ("/admin/services", "/admin/counters", "/admin/clerks"):
            page = text_of(client.get(path))
            assert "Máy chủ trung tâm quản lý lĩnh vực, quầy và công chức" in page
            assert "http://huyen.example/admin/communes/00000" in page
            assert "<input" not in page.split("</header>")[1]
        answer = post(client, "/admin/services/HT", name="Đổi", prefix="A", active="1")
        assert answer.status_code == 409
        with kiosk.sessions() as s:
            assert s.get(Service, "HT").name == "Hộ tịch"
        assert "Lần gửi gần nhất: chưa lần nào" in text_of(client.get("/admin"))
    finally:
        kiosk.close()


def test_every_admin_string_has_a_vietnamese_translation():
    from pathlib import Path

    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parents[2]
    with open(root / "common/web/translations/vi/LC_MESSAGES/messages.po", "rb") as fh:
        translated = {m.id for m in read_po(fh) if m.id and m.string}
    used = set()
    for template in (root / "web/templates").glob("admin*.html"):
        used |= set(re.findall(r'_\(\s*"((?:[^"\\]|\\.)*)"', template.read_text()))
    for module in ("web/admin.py", "web/admin_catalog.py"):
        used |= set(re.findall(r'gettext\(\s*"((?:[^"\\]|\\.)*)"', (root / module).read_text()))
    source = (root / "kiosk/catalog_edit.py").read_text()
    used |= set(re.findall(r'(?:invalid|_missing)\(\s*"?\w*"?,?\s*"([^"]+)"', source))
    used |= set(re.findall(r'_text\(\w+, "\w+", "([^"]+)"\)', source))
    assert used and sorted(used - translated) == []
