"""Reports out of the central server: CSV, XLSX, DOCX (Vietnamese), and the "Thư cảm ơn" letter."""

from __future__ import annotations

from typing import Any

FORMATS = ("csv", "xlsx", "docx")
MIME = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def render(report: dict[str, Any], fmt: str, scope_label: str) -> bytes:
    """The report in ``fmt`` (one of FORMATS)."""
    if fmt == "csv":
        from central.exports.spreadsheets import report_csv

        return report_csv(report)
    if fmt == "xlsx":
        from central.exports.spreadsheets import report_xlsx

        return report_xlsx(report)
    if fmt == "docx":
        from central.exports.docx_report import report_docx

        return report_docx(report, scope_label)
    raise ValueError(f"unknown format {fmt!r}; use {', '.join(FORMATS)}")


def scope_label(communes: list[dict[str, Any]], all_communes: bool) -> str:
    """How the report names its scope: one commune by name, else how many communes."""
    if len(communes) == 1:
        return communes[0]["name"]
    if all_communes:
        return "các xã toàn tỉnh"
    return f"{len(communes)} xã"
