"""Booked vs walk-in waits in the report after a sync: a booking taken in at the central server travels to the
kiosk, checks in, is called at its time ahead of the walk-in issued before it, and the report (page figures and
spreadsheet rows) counts the two waits apart. The kiosk is the real device code talking to the central app served
over loopback (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

from central.bookings import check_rows, store
from central.exports.docx_report import paragraphs as docx_paragraphs
from central.exports.tables import _booked_rows
from central.registry import add_device
from central.reports import figures, periods
from central.reports.query import Scope
from kiosk.app import build_hardware
from kiosk.bookings import check_in
from kiosk.queue_service import take_ticket
from kiosk.uplink.client import SyncClient
from tests.central.helpers import COMMUNE


def sync(kiosk) -> None:
    report = SyncClient(kiosk, backoff=0.01, max_backoff=0.05).run()
    assert report.ok, report.message()


def test_the_report_counts_booked_and_walk_in_waits_apart(central_app, central, serve, make_kiosk, clock):
    server = serve(central_app)
    kiosk = make_kiosk(server.url, add_device(central, "Kiosk TT", COMMUNE, "Xã Tân Hòa"), clock=clock)
    build_hardware(kiosk)  # mock pins and no paper: the printer service still says what a ticket prints
    with central.sessions.begin() as session:
        rows = [{"code": "HT-0001", "service": "HT", "at": "2026-11-20T08:05", "name": "Nguyễn Văn An"}]
        store(session, COMMUNE, check_rows(session, COMMUNE, rows), "import", central.clock.now())
    sync(kiosk)
    walk_in = take_ticket(kiosk.queue, None, "HT")  # 08:00
    booked = check_in(kiosk, "HT-0001")  # 08:00, five minutes early
    assert booked["booking"]["late"] is False
    assert kiosk.printing.ticket_content(booked["id"])["booked"] == "ĐÃ ĐẶT LỊCH HẸN 08:05"  # printed, marked
    assert kiosk.printing.ticket_content(walk_in["id"])["booked"] == ""
    clock.advance(6 * 60)  # 08:06: the booking's time has come
    first = kiosk.queue.desk.call_next(1, None)
    clock.advance(4 * 60)
    second = kiosk.queue.desk.call_next(1, None)
    assert (first["id"], second["id"]) == (booked["id"], walk_in["id"])
    sync(kiosk)

    with central.engine.connect() as conn:
        report = figures.build(
            conn, periods.from_range(date(2026, 11, 20), date(2026, 11, 20)), Scope(communes=(COMMUNE,))
        )
    waits = report["queue"]["booked"]
    assert waits["booked"] == {"issued": 1, "waited": 1, "mean_wait_min": 6.0}
    assert waits["walk_in"] == {"issued": 1, "waited": 1, "mean_wait_min": 10.0}
    assert ["Thời gian chờ trung bình – có lịch hẹn (phút)", 6.0] in _booked_rows(report["queue"].get("booked"))
    paragraphs = " ".join(docx_paragraphs(report, "Xã Tân Hòa"))
    assert "Trong đó 1 số thứ tự cấp cho công dân đã đặt lịch hẹn, thời gian chờ trung bình 6,0 phút" in paragraphs
