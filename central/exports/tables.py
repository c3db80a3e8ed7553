"""A report as titled tables (Vietnamese headers and names), shared by the CSV, XLSX and DOCX exports.

Cells hold the report's values (numbers stay numbers); each format writes them its own way, always the
Vietnamese way: 87,5 and 10.000 (:mod:`common.numbers`), dates dd/mm/yyyy, indicators by their TT 01 names.

:func:`guard` neutralises text that a spreadsheet would run as a formula: a cell beginning with
``= + - @`` (or a tab or carriage return, which some spreadsheets skip before reading ``=``) gets a
leading apostrophe. Names of clerks and communes, and the citizens' comments, are text typed by people.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from common import numbers
from common.counter_label import NO_COUNTER_VI, counter_label
from common.tt01 import INDICATORS

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CHANNEL_NAMES_VI = {"touch": "Màn hình cảm ứng", "button": "Bảng nút bấm", "phone": "Điện thoại (mã QR trên phiếu)"}
WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")


def guard(value: Any) -> Any:
    """Text that could start a spreadsheet formula, made inert; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def vn(value: Any, decimals: int = 1) -> str:
    """A number the Vietnamese way: 10.000 and 87,5 ("—" when there is no value)."""
    return numbers.decimal(value, "vi", decimals)


def vn_date(iso: str) -> str:
    """2026-01-05 → 05/01/2026 (a date as Vietnamese documents write it)."""
    return f"{date.fromisoformat(iso):%d/%m/%Y}"


@dataclass
class Table:
    key: str
    title: str
    headers: list[str]
    rows: list[list[Any]]
    #: Rows that carry no figures but a note ("Chưa lắp thiết bị"): row index → the column the note stands in
    #: (every column after it is empty).
    notes: dict[int, int] = field(default_factory=dict)

    def pick(self, key: str, title: str, headers: list[str]) -> Table:
        """The same rows with only these columns (a table narrow enough for an A4 portrait page); a row's note
        moves to the first kept column from its own on, so no table shows such a row as a line of "—"."""
        columns = [self.headers.index(h) for h in headers]
        rows, notes = [], {}
        for n, row in enumerate(self.rows):
            at = self.notes.get(n)
            if at is None:
                rows.append([row[i] for i in columns])
                continue
            kept = [row[i] if i < at else None for i in columns]
            later = [j for j, i in enumerate(columns) if i >= at]
            if later:
                kept[later[0]], notes[len(rows)] = row[at], later[0]
            rows.append(kept)
        return Table(key, title, headers, rows, notes)


def _tt01_cells(result: dict | None) -> list[Any]:
    """Scores of the four indicators, the total, the converted score and the band ("Chưa đủ số phiếu")."""
    scores = (result or {}).get("scores", {})
    cells: list[Any] = [scores.get(key) for key in INDICATORS]
    if result is None:
        return [*cells, None, None, None]
    return [*cells, result["total"], result["converted"], result["band_label"]]


def indicator_name(row: dict[str, Any]) -> str:
    known = INDICATORS.get(row["key"])
    return f"{known.number}. {known.title}" if known else row.get("title") or row["key"]


def _bucket(bucket: str, unit: str) -> str:
    day = date.fromisoformat(bucket)
    return f"{day:%d/%m/%Y}" if unit == "day" else f"{day:%m/%Y}"


def report_tables(report: dict[str, Any]) -> list[Table]:
    s, q = report["summary"], report["queue"]
    prev = report.get("previous_year")
    summary = [
        ["Kỳ báo cáo", report["period"]["label"]],
        ["Từ ngày", vn_date(report["period"]["from"])],
        ["Đến ngày", vn_date(report["period"]["to"])],
        ["Số lượt đánh giá", s["ratings"]],
        ["Số lượt hài lòng trở lên", s["satisfied_plus"]],
        ["Tỷ lệ hài lòng trở lên (%)", s["satisfied_plus_pct"]],
        ["Chỉ số hài lòng (0–100)", s["index"]],
        ["Lượt bấm bị lọc (không tính)", s["flagged"]],
    ]
    if prev:
        summary += [
            ["Cùng kỳ năm trước: số lượt đánh giá", prev["summary"]["ratings"]],
            ["Cùng kỳ năm trước: tỷ lệ hài lòng trở lên (%)", prev["summary"]["satisfied_plus_pct"]],
            ["Thay đổi tỷ lệ hài lòng trở lên (điểm %)", prev["change"]["satisfied_plus_pct"]],
        ]
    province = report.get("province")
    if province:
        summary += [
            ["Số xã trong phạm vi", province["communes"]],
            ["Số xã đã lắp thiết bị đánh giá", province["installed"]],
            ["Số xã chưa lắp thiết bị", province["not_installed"]],
            [
                "Ngày làm việc gần nhất",
                vn_date(province["last_working_day"]) if province["last_working_day"] else None,
            ],
            ["Số xã đã gửi đủ số liệu ngày làm việc gần nhất", province["reported"]],
            ["Tỷ lệ xã đã gửi đủ số liệu (%)", province["reported_pct"]],
        ]
    summary += [
        ["Số thứ tự đã cấp", q["issued"]],
        ["Số lượt đã phục vụ", q["served"]],
        ["Số lượt vắng mặt khi được gọi", q["no_show"]],
        [LEFT_WAITING + " (chưa được gọi đến hết ngày)", q.get("left_waiting")],
        ["Thời gian chờ trung bình (phút)", q["mean_wait_min"]],
        ["90% công dân được gọi trong vòng (phút)", q["p90_wait_min"]],
        ["Thời gian phục vụ tại quầy trung bình (phút)", q["mean_service_min"]],
        *_booked_rows(q.get("booked")),
        *_visit_rows(q),
        *_suggestion_rows(report.get("suggestions")),
        ["Số phiếu tối thiểu để xếp loại theo TT 01", report.get("grade_min_answers")],
    ]
    tt01_headers = [ind.short for ind in INDICATORS.values()] + ["Tổng điểm"]
    queue_by_service = {row["code"]: row for row in q["services"]}
    queue_by_clerk = {row["id"]: row for row in q["clerks"]}
    tables = [
        Table("summary", "Tổng hợp", ["Chỉ tiêu", "Giá trị"], summary),
        Table(
            "levels",
            "Mức độ hài lòng",
            ["Mức", "Số lượt", "Tỷ lệ (%)"],
            [[lv["label"], lv["n"], lv["pct"]] for lv in report["levels"]],
        ),
        Table(
            "services",
            "Theo lĩnh vực",
            ["Mã", "Lĩnh vực", "Số lượt đánh giá", "Tỷ lệ hài lòng trở lên (%)", "Chỉ số (0–100)", "Bị lọc"]
            + QUEUE_HEADERS
            + [SERVICES],
            [
                [
                    row["code"] or "—",
                    row["name"] or NO_TICKET,
                    row["ratings"],
                    row["satisfied_plus_pct"],
                    row["index"],
                    row["flagged"],
                    *_queue_cells(queue_by_service.get(row["code"])),
                    (queue_by_service.get(row["code"]) or {}).get("services_served"),
                ]
                for row in report["services"]
            ],
        ),
        Table(
            "clerks",
            "Theo công chức",
            ["Hạng", "Công chức", "Xã", "Số lượt", "Tỷ lệ hài lòng trở lên (%)", "Chỉ số (0–100)", "Chỉ số xếp hạng"]
            + tt01_headers
            + ["Quy đổi (/10)", "Xếp loại (TT 01)", "Đã phục vụ", "Phục vụ tại quầy trung bình (phút)"],
            [
                [
                    row.get("rank"),
                    row["name"],
                    row.get("commune_name") or row["commune"],
                    row["ratings"],
                    row["satisfied_plus_pct"],
                    row["index"],
                    row.get("bayes"),
                    *_tt01_cells(row["tt01"]),
                    (queue_by_clerk.get(row["id"]) or {}).get("served"),
                    (queue_by_clerk.get(row["id"]) or {}).get("mean_service_min"),
                ]
                for row in report["clerks"]
            ],
        ),
        Table(
            "communes",
            "Theo xã",
            ["Hạng", "Mã", "Xã", "Thiết bị", "Số lượt", "Tỷ lệ hài lòng trở lên (%)", "Chỉ số (0–100)"]
            + ["Chỉ số xếp hạng", "Bị lọc"]
            + tt01_headers
            + ["Quy đổi (/18)", "Xếp loại (TT 01)", "Số thứ tự", "Chờ trung bình (phút)"],
            [_commune_cells(row, tt01_headers) for row in _ranked(report["communes"])],
            {i: 3 for i, row in enumerate(_ranked(report["communes"])) if row.get("installed") is False},
        ),
        _sites_table(report.get("sites", []), tt01_headers),
        _counters_table(report.get("counters", [])),
        Table(
            "districts",
            "Theo huyện cũ",
            ["Huyện cũ", "Số xã", "Số lượt", "Tỷ lệ hài lòng trở lên (%)", "Chỉ số (0–100)", "Số thứ tự"],
            [
                [row["code"], row["communes"], row["ratings"], row["satisfied_plus_pct"], row["index"], row["issued"]]
                for row in report.get("districts", [])
            ],
        ),
        Table(
            "indicators",
            "Chỉ số TT 01",
            ["Chỉ số", "Số phiếu", "Điểm", "Tỷ lệ 2 điểm (%)", "Tỷ lệ 1 điểm (%)", "Tỷ lệ 0 điểm (%)"],
            [
                [
                    indicator_name(row),
                    row["answers"],
                    row["score"],
                    row["distribution"]["2"],
                    row["distribution"]["1"],
                    row["distribution"]["0"],
                ]
                for row in report["indicators"]
            ],
        ),
        Table(
            "trend",
            "Diễn biến theo " + ("ngày" if report["trend"]["unit"] == "day" else "tháng"),
            ["Ngày" if report["trend"]["unit"] == "day" else "Tháng", "Số lượt", "Tỷ lệ hài lòng trở lên (%)"]
            + ["Chỉ số (0–100)", "Bị lọc"],
            [
                [_bucket(p["bucket"], report["trend"]["unit"]), p["ratings"], p["satisfied_plus_pct"], p["index"]]
                + [p["flagged"]]
                for p in report["trend"]["points"]
            ],
        ),
        Table(
            "queue_days",
            "Xếp hàng theo " + ("ngày" if report["trend"]["unit"] == "day" else "tháng"),
            ["Ngày" if report["trend"]["unit"] == "day" else "Tháng", "Số thứ tự", "Đã phục vụ", "Vắng mặt"]
            + [LEFT_WAITING],
            [
                [_bucket(d["bucket"], report["trend"]["unit"]), d["issued"], d["served"], d["no_show"]]
                + [d["left_waiting"]]
                for d in q.get("days", [])
            ],
        ),
        Table(
            "heat",
            "Theo thứ và giờ",
            ["Thứ", "Giờ", "Số lượt đánh giá", "Tỷ lệ hài lòng trở lên (%)", "Số thứ tự đã cấp"],
            [
                [WEEKDAYS_VI[row["weekday"] - 1], c["hour"], c["ratings"], c["satisfied_plus_pct"], c["tickets"]]
                for row in report["heat"]["rows"]
                for c in row["cells"]
                if c["ratings"] or c["tickets"]
            ],
        ),
        Table(
            "channels",
            "Theo kênh đánh giá",
            ["Kênh", "Số lượt đánh giá", "Tỷ lệ hài lòng trở lên (%)", "Chỉ số (0–100)", "Bị lọc"],
            [
                [
                    CHANNEL_NAMES_VI.get(row["channel"], row["channel"]),
                    row["ratings"],
                    row["satisfied_plus_pct"],
                    row["index"],
                    row["flagged"],
                ]  # fmt: skip
                for row in report.get("channels", [])
            ],
        ),
        _services_table(q),
    ]
    return tables


def _services_table(q: dict[str, Any]) -> Table:
    """Visits served and services (fields completed) per field and per clerk, each with its mean service time."""
    rows = [
        ["Lĩnh vực", row["name"], row["served"], row.get("services_served"), row["mean_service_min"]]
        for row in q["services"]
    ]
    rows += [
        ["Công chức", row["name"], row["served"], row.get("services_served"), row["mean_service_min"]]
        for row in q["clerks"]
    ]
    headers = ["Theo", "Tên", "Lượt đến đã phục vụ", SERVICES, "Phục vụ tại quầy trung bình (phút)"]
    return Table("services_served", "Lượt đến và lượt phục vụ", headers, rows)


NOT_INSTALLED = "Chưa lắp thiết bị"
#: Ratings without a field: given without a ticket (a clerk on duty, no number called), so no field is known.
NO_TICKET = "(không gắn phiếu)"
#: Tickets never called: still waiting when the offices closed.
LEFT_WAITING = "Chưa được phục vụ"
#: Services: fields completed (a visit of two fields is two services; docs/reports.md, "Visits and services").
SERVICES = "Lượt phục vụ theo lĩnh vực"
QUEUE_HEADERS = ["Số thứ tự", "Đã phục vụ", "Vắng mặt", LEFT_WAITING, "Chờ trung bình (phút)"]
QUEUE_HEADERS += ["Phục vụ tại quầy trung bình (phút)"]
SITE_HEADERS = ["Mã xã", "Xã", "Mã", "Điểm tiếp nhận", "Số lượt", "Tỷ lệ hài lòng trở lên (%)", "Chỉ số (0–100)"]
SITE_HEADERS += ["Bị lọc"]


def _sites_table(sites: list[dict[str, Any]], tt01_headers: list[str]) -> Table:
    """By reception point; a commune without a kiosk is one line, "Chưa lắp thiết bị" (not a "Trung tâm … 0")."""
    headers = SITE_HEADERS + tt01_headers + ["Quy đổi (/18)", "Xếp loại (TT 01)", "Số thứ tự", "Chờ trung bình (phút)"]
    rows: list[list[Any]] = []
    notes: dict[int, int] = {}
    for row in sites:
        if row.get("installed") is False:
            if rows and len(rows) - 1 in notes and rows[-1][0] == row["commune"]:
                continue  # one line per commune
            notes[len(rows)] = 3
            rows.append([row["commune"], row["commune_name"], None, NOT_INSTALLED] + [None] * (len(headers) - 4))
            continue
        rows.append(
            [row["commune"], row["commune_name"], row["code"], row["name"], row["ratings"], row["satisfied_plus_pct"]]
            + [row["index"], row["flagged"], *_tt01_cells(row["tt01"])]
            + [(row["queue"] or {}).get("issued"), (row["queue"] or {}).get("mean_wait_min")]
        )
    return Table("sites", "Theo điểm tiếp nhận", headers, rows, notes)


def _counters_table(counters: list[dict[str, Any]]) -> Table:
    """By counter: "TT · Quầy 1" and "CN · Quầy 1" are two rows (common.counter_label)."""
    headers = ["Mã xã", "Xã", "Điểm tiếp nhận", "Quầy", "Số lượt", "Tỷ lệ hài lòng trở lên (%)", "Chỉ số (0–100)"]
    headers += ["Bị lọc", *QUEUE_HEADERS]
    rows = [
        [row["commune"], row["commune_name"], row["site_name"], _counter_name(row), row["ratings"]]
        + [row["satisfied_plus_pct"], row["index"], row["flagged"], *_queue_cells(row["queue"])]
        for row in counters
    ]
    return Table("counters", "Theo quầy", headers, rows)


def _counter_name(row: dict[str, Any]) -> str:
    return counter_label(row["point"], row["number"]) if row["number"] else NO_COUNTER_VI


REPORTED = {"all": "Đã gửi đủ", "some": "Gửi một phần", "none": "Chưa gửi"}


def _ranked(communes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """By rank; communes without a place after, those without a kiosk last (by name)."""
    return sorted(
        communes, key=lambda c: (c.get("rank") is None, c.get("rank") or 0, not c.get("installed", True), c["name"])
    )


def _commune_cells(row: dict[str, Any], tt01_headers: list[str]) -> list[Any]:
    """A commune's line; one without a kiosk says so instead of a row of zeros."""
    head = [row.get("rank"), row["code"], row["name"]]
    if row.get("installed") is False:
        return [*head, NOT_INSTALLED, *[None] * (len(tt01_headers) + 9)]
    kiosks = None
    if "kiosks" in row:
        kiosks = f"{row['kiosks_reported']}/{row['kiosks']} {REPORTED[row['reported']].lower()}"
    return [
        *head,
        kiosks,
        row["ratings"],
        row["satisfied_plus_pct"],
        row["index"],
        row.get("bayes"),
        row["flagged"],
        *_tt01_cells(row["tt01"]),
        (row["queue"] or {}).get("issued"),
        (row["queue"] or {}).get("mean_wait_min"),
    ]


def _queue_cells(row: dict | None) -> list[Any]:
    if not row:
        return [None] * len(QUEUE_HEADERS)
    return [row["issued"], row["served"], row["no_show"], row["left_waiting"], row["mean_wait_min"]] + [
        row["mean_service_min"]
    ]


def _visit_rows(q: dict[str, Any]) -> list[list]:
    """Visits and services apart, calls out of turn, and the period's bookings (checked in, no-show)."""
    rows: list[list] = [
        ["Số lượt công dân đến (mỗi số thứ tự một lượt)", q["issued"]],
        [SERVICES + " (một lượt đến nhiều lĩnh vực tính mỗi lĩnh vực một lượt)", q.get("services_served")],
        ["Số lượt gọi ngoài thứ tự", q.get("out_of_order") or 0],
    ]
    bookings = q.get("bookings")
    if bookings and bookings["bookings"]:
        rows += [
            ["Số lịch hẹn trong kỳ", bookings["bookings"]],
            ["Lịch hẹn đã đến (nhận số bằng mã)", bookings["checked_in"]],
            ["Lịch hẹn không đến (hết ngày chưa nhận số)", bookings["no_show"]],
            ["Lịch hẹn chưa rõ (trong ngày, hoặc thiết bị chưa gửi số liệu)", bookings["open"]],
        ]
    return rows


def _suggestion_rows(found: dict | None) -> list[list]:
    """The suggestion box apart from the ratings (central.reports.suggestions), as the page and the DOCX give it."""
    if not found:
        return []
    return [["Góp ý nhận qua hòm thư góp ý", found["received"]], ["Góp ý đã trả lời", found["answered"]]]


def _booked_rows(booked: dict | None) -> list[list]:
    """Booked vs walk-in waits (central.reports.booked), when the report has them and a booking was served."""
    if not booked or not booked["booked"]["issued"]:
        return []
    return [
        ["Số thứ tự theo lịch hẹn đã cấp", booked["booked"]["issued"]],
        ["Thời gian chờ trung bình – có lịch hẹn (phút)", booked["booked"]["mean_wait_min"]],
        ["Thời gian chờ trung bình – đến trực tiếp (phút)", booked["walk_in"]["mean_wait_min"]],
    ]
