"""Time you can trust for the queue (issue 12, case 4): a Pi without a hardware clock, NTP jumping, restarts.

A Pi that booted with yesterday's time once issued A001–A003; NTP then jumped to today, those three were never
called, and numbering restarted, so two citizens held A001 the same morning. Now, while the clock is known to be
unsynchronised, new tickets follow the last trusted day; when the clock jumps, the tickets waiting keep their
place and their numbers, and no number is given to two waiting citizens. Through HTTP, as the screens use it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from kiosk.clock import FakeClock
from tests.queue_helpers import issue, login, make_app, rows

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in November 2026, Hà Nội time."""
    return datetime(2026, 11, day, hour, minute, tzinfo=HANOI).astimezone(UTC)


def call(client, counter: int = 1) -> str | None:
    answer = client.post(f"/api/counters/{counter}/next")
    return answer.json["ticket"]["display_number"] if answer.status_code == 200 else None


def waiting_numbers(db) -> list[str]:
    return [r[0] for r in rows(db, "SELECT t.display_number FROM ticket_state s JOIN tickets t ON t.id = s.ticket_id "
                                   "WHERE s.status = 'waiting' ORDER BY t.seq")]  # fmt: skip


def test_a_boot_with_yesterdays_time_then_an_ntp_jump_keeps_every_waiting_ticket(tmp_path):
    data, db = tmp_path / "var", tmp_path / "var" / "kiosk.db"
    # Thursday: a normal day with a synchronised clock. A002 is still waiting when the office closes.
    thursday = FakeClock(at(19, 16, 30))
    app = make_app(data, thursday)
    clerk = app.test_client()
    assert issue(clerk)["display_number"] == "A001"
    assert issue(clerk)["display_number"] == "A002"
    login(clerk, 1)
    assert call(clerk) == "A001"
    clerk.post("/api/counters/1/complete")
    app.extensions["kiosk"].close()

    # Friday 07:55: the Pi boots with Thursday evening's time (fake-hwclock) and no NTP yet.
    pi = FakeClock(at(19, 17, 40), synced=False)
    app = make_app(data, pi)
    screen, clerk = app.test_client(), app.test_client()
    health = screen.get("/healthz").json
    assert health["clock_synced"] is False and "clock not synchronised" in health["warnings"]
    early = [issue(screen) for _ in range(3)]
    # The last trusted day goes on: Thursday's numbering continues, nobody gets a number twice.
    assert [t["display_number"] for t in early] == ["A003", "A004", "A005"]
    assert rows(db, "SELECT DISTINCT business_day FROM tickets WHERE number >= 3") == [("2026-11-19",)]

    # 08:00: NTP steps the clock to Friday morning.
    pi.jump(at(20, 8, 0))
    pi.set_synced(True)
    board = screen.get("/api/queue").json  # the display board looks first: the three are in Friday's queue
    assert (board["day"], board["waiting"]["HT"], board["day_provisional"]) == ("2026-11-20", 3, False)
    later = issue(screen)
    assert later["display_number"] == "A006", "numbering goes on above the numbers still waiting"
    assert later["ahead"] == 3
    assert screen.get("/api/queue").json["waiting"]["HT"] == 4
    assert "clock not synchronised" not in screen.get("/healthz").json["warnings"]
    waiting = waiting_numbers(db)
    assert len(waiting) == len(set(waiting)), "two waiting citizens hold the same number"

    login(clerk, 1)
    called = [call(clerk) for _ in range(5)]
    # The three from before the jump keep their place; Thursday's leftover A002 is not called on Friday.
    assert called == ["A003", "A004", "A005", "A006", None]
    assert waiting_numbers(db) == ["A002"]
    app.extensions["kiosk"].close()


def test_a_clock_jump_while_running_keeps_the_tickets_issued_before_it(tmp_path):
    """A clock believed synchronised but wrong by a day, corrected while the kiosk runs."""
    data = tmp_path / "var"
    clock = FakeClock(at(19, 9, 0))
    app = make_app(data, clock)
    try:
        screen, clerk = app.test_client(), app.test_client()
        assert [issue(screen)["display_number"] for _ in range(2)] == ["A001", "A002"]
        clock.advance(60)
        clock.jump(at(20, 9, 1))
        assert issue(screen)["display_number"] == "A003"
        login(clerk, 1)
        assert [call(clerk) for _ in range(4)] == ["A001", "A002", "A003", None]
    finally:
        app.extensions["kiosk"].close()


def test_a_day_that_simply_ends_leaves_its_leftovers_and_numbering_restarts(tmp_path):
    data = tmp_path / "var"
    clock = FakeClock(at(19, 16, 0))
    app = make_app(data, clock)
    try:
        screen, clerk = app.test_client(), app.test_client()
        assert issue(screen)["display_number"] == "A001"
        clock.advance(16 * 3600)  # the kiosk runs through the night: no jump, a new day
        assert issue(screen)["display_number"] == "A001"
        login(clerk, 1)
        assert [call(clerk) for _ in range(2)] == ["A001", None]
        assert screen.get("/api/queue").json["day"] == "2026-11-20"
    finally:
        app.extensions["kiosk"].close()


def test_an_unsynchronised_clock_crossing_midnight_keeps_the_trusted_day(tmp_path):
    data, db = tmp_path / "var", tmp_path / "var" / "kiosk.db"
    app = make_app(data, FakeClock(at(19, 15, 0)))
    issue(app.test_client())
    app.extensions["kiosk"].close()
    clock = FakeClock(at(20, 23, 50), synced=False)  # a restart; the clock says a day later, unconfirmed
    app = make_app(data, clock)
    try:
        screen = app.test_client()
        assert issue(screen)["display_number"] == "A002"
        clock.advance(20 * 60)
        assert issue(screen)["display_number"] == "A003"
        assert screen.get("/api/queue").json["day"] == "2026-11-19"
        assert screen.get("/api/queue").json["day_provisional"] is True
    finally:
        app.extensions["kiosk"].close()
    assert rows(db, "SELECT DISTINCT business_day FROM tickets") == [("2026-11-19",)]


def test_admin_and_healthz_warn_while_the_clock_is_not_synchronised(tmp_path):
    import re

    from kiosk import admin as admin_auth
    from kiosk.db import transaction

    clock = FakeClock(at(20, 9, 0), synced=False)
    app = make_app(tmp_path / "var", clock)
    try:
        kiosk = app.extensions["kiosk"]
        with transaction(kiosk.sessions) as s:
            admin_auth.set_password(s, "mật-khẩu-quản-trị")
        client = app.test_client()
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/admin/login").text).group(1)
        client.post("/admin/login", data={"password": "mật-khẩu-quản-trị", "csrf_token": token})
        page = client.get("/admin").text
        assert "health-warning" in page and "Đồng hồ chưa được đồng bộ: số thứ tự mới vẫn tính theo ngày" in page
        assert "clock not synchronised" in client.get("/healthz").json["warnings"]
        clock.set_synced(True)
        assert "health-warning" not in client.get("/admin").text
    finally:
        app.extensions["kiosk"].close()


def token_of(db, number: str, day: str) -> str:
    return rows(db, "SELECT s.token FROM ticket_state s JOIN tickets t ON t.id = s.ticket_id "
                    "WHERE t.display_number = ? AND t.business_day = ?", (number, day))[0][0]  # fmt: skip


def test_a_small_backward_step_across_midnight_never_hands_out_a_number_twice(tmp_path):
    """Issue 21, point 6: a synchronised clock stepped back 25 s (below the jump threshold) to 23:59:40."""
    data, db = tmp_path / "var", tmp_path / "var" / "kiosk.db"
    clock = FakeClock(at(19, 23, 58))
    app = make_app(data, clock)
    try:
        screen, clerk = app.test_client(), app.test_client()
        assert issue(screen)["display_number"] == "A001"  # Thursday's last ticket, never called
        clock.advance(125)  # 00:00:05 Friday
        assert [issue(screen)["display_number"] for _ in range(2)] == ["A001", "A002"]
        clock.jump(at(19, 23, 59) + timedelta(seconds=40))  # stepped back 25 s: Thursday again, by the clock
        stepped = [issue(screen) for _ in range(2)]
        assert [t["display_number"] for t in stepped] == ["A003", "A004"], "Friday's numbering goes on"
        assert screen.get("/api/queue").json["day"] == "2026-11-20", "the open day stays open"
        clock.advance(15)
        assert issue(screen)["display_number"] == "A005"
        clock.advance(10)  # midnight again, by the clock
        assert [issue(screen)["display_number"] for _ in range(2)] == ["A006", "A007"]
        friday = rows(db, "SELECT display_number FROM tickets WHERE business_day = '2026-11-20' ORDER BY seq")
        assert [r[0] for r in friday] == [f"A00{n}" for n in range(1, 8)]
        login(clerk, 1)
        called = [call(clerk) for _ in range(8)]
        assert called == [f"A00{n}" for n in range(1, 8)] + [None], "every Friday ticket is called, once"

        # Thursday's leftover is not called on Friday, and its phone page says so instead of "waiting".
        left = screen.get(f"/t/{token_of(db, 'A001', '2026-11-19')}/state").json
        assert (left["status"], left["position"]) == ("closed", None)
        page = screen.get(f"/t/{token_of(db, 'A001', '2026-11-19')}").text
        assert "Hàng chờ của ngày hôm đó đã đóng: số này sẽ không được gọi nữa" in page
    finally:
        app.extensions["kiosk"].close()


def test_a_large_backward_step_keeps_the_open_day_and_a_forward_step_opens_the_clocks_day(tmp_path):
    data, db = tmp_path / "var", tmp_path / "var" / "kiosk.db"
    clock = FakeClock(at(20, 9, 0))
    app = make_app(data, clock)
    try:
        screen = app.test_client()
        assert [issue(screen)["display_number"] for _ in range(2)] == ["A001", "A002"]
        clock.jump(at(13, 9, 0))  # a week back, still "synchronised"
        assert issue(screen)["display_number"] == "A003"
        clock.jump(at(20, 9, 30))
        assert issue(screen)["display_number"] == "A004"
        clock.jump(at(21, 9, 30))  # a day forward: the clock's day opens, tickets issued before it go along
        assert issue(screen)["display_number"] == "A005"
        clock.advance(3600)
        clock.jump(at(20, 10, 30))  # and back again: the open day stays
        assert issue(screen)["display_number"] == "A006"
        numbers = rows(db, "SELECT business_day, display_number FROM tickets")
        assert len(numbers) == len(set(numbers)) == 6
        waiting = rows(db, "SELECT s.queue_day, t.display_number FROM ticket_state s "
                           "JOIN tickets t ON t.id = s.ticket_id WHERE s.status = 'waiting'")  # fmt: skip
        assert len(waiting) == len(set(waiting)) == 6
        assert {day for day, _ in waiting} == {"2026-11-21"}
    finally:
        app.extensions["kiosk"].close()
