"""Two reception points of one merged commune (issue 22): each kiosk applies only its own point's counters, lists
only them on `/api/queue`, names its point on the ticket (JSON and print), and never issues a ticket nobody at its
point can call; the central pages refuse to strand a service at a point. The kiosks are the real device code
talking to the central app served over loopback (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime

import pytest

from central import catalog_edit
from central.audit import Actor
from central.registry import add_device, add_site
from common.errors import ValidationError
from common.web.error_pages import message_of
from kiosk.app import open_ticket_printer
from kiosk.db import transaction
from kiosk.printing import PrintService
from kiosk.queue_service import take_ticket
from kiosk.uplink.client import SyncClient
from tests.central.helpers import COMMUNE, import_catalog

NOW = datetime(2026, 11, 20, 2, 0)
CATALOGUE = {
    "services": [
        {"code": "HT", "name": "Hộ tịch", "prefix": "A"},
        {"code": "DD", "name": "Đất đai", "prefix": "C"},
        {"code": "GD", "name": "Giáo dục", "prefix": "G"},
    ],
    "counters": [
        {"number": 1, "site": "TT", "name": "Quầy Hộ tịch", "services": ["HT"]},
        {"number": 2, "site": "TT", "name": "Quầy Đất đai", "services": ["DD", "GD"]},
        {"number": 1, "site": "CN", "name": "Quầy 1 Cẩm Nhượng", "services": ["HT", "DD", "GD"]},
    ],
}


def sync(kiosk):
    report = SyncClient(kiosk, backoff=0.01, max_backoff=0.05).run()
    assert report.ok, report.message()
    return report


def queue_counters(kiosk) -> list[tuple[int, str]]:
    return [(c["number"], c["name"]) for c in kiosk.queue.snapshot()["counters"]]


def test_two_points_each_with_its_own_counters(central_app, central, serve, make_kiosk):
    server = serve(central_app)
    tt = make_kiosk(server.url, add_device(central, "Kiosk TT", COMMUNE, "Xã Tân Hòa"), "tt")
    add_site(central, COMMUNE, "CN", "Điểm Cẩm Nhượng")
    cn = make_kiosk(server.url, add_device(central, "Kiosk CN", COMMUNE, site_code="CN"), "cn")
    with transaction(central.sessions) as s:
        import_catalog(s, COMMUNE, CATALOGUE)
    sync(tt)
    sync(cn)

    assert queue_counters(tt) == [(1, "Quầy Hộ tịch"), (2, "Quầy Đất đai")]
    assert queue_counters(cn) == [(1, "Quầy 1 Cẩm Nhượng")]  # "CN · Quầy 1" is not "TT · Quầy 1"
    at_cn = take_ticket(cn.queue, None, "GD")
    assert at_cn["site"] == {"code": "CN", "name": "Điểm Cẩm Nhượng"}
    assert take_ticket(tt.queue, None, "HT")["site"]["code"] == "TT"
    printed = PrintService(cn.sessions, cn.clock, open_ticket_printer(cn.settings), commune_name="Xã Tân Hòa")
    assert printed.ticket_content(at_cn["id"])["site"] == "Điểm tiếp nhận CN – Điểm Cẩm Nhượng"  # the printed line

    # The central pages refuse to close CN's only counter while it serves fields there, naming field and point.
    with pytest.raises(ValidationError) as refused, transaction(central.sessions) as s:
        catalog_edit.save_counter(
            s, COMMUNE, 1, ["HT", "DD", "GD"], "", "Quầy 1", new=False, actor=Actor("qt"), now=NOW, site="CN"
        )
    with central_app.test_request_context("/?lang=vi"):
        assert message_of(refused.value).startswith("Lĩnh vực Hộ tịch không có quầy nào đang mở ở điểm CN")
    # Closing TT's counter 1 is refused too (HT at TT), whereas CN's counter 1 of the same number is untouched.
    with pytest.raises(ValidationError, match="reception point TT"), transaction(central.sessions) as s:
        catalog_edit.save_counter(s, COMMUNE, 1, ["HT"], "", "Quầy Hộ tịch", new=False, actor=Actor("qt"), now=NOW)
    # A field moved off TT's counter 2 onto a new TT counter: only TT's kiosk sees the change.
    with transaction(central.sessions) as s:
        catalog_edit.save_counter(s, COMMUNE, 4, ["GD"], "", "Quầy Giáo dục", new=True, actor=Actor("qt"), now=NOW)
    sync(tt)
    sync(cn)
    assert queue_counters(tt) == [(1, "Quầy Hộ tịch"), (2, "Quầy Đất đai"), (4, "Quầy Giáo dục")]
    assert queue_counters(cn) == [(1, "Quầy 1 Cẩm Nhượng")]
