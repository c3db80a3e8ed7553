"""The suggestion box's sentence of the DOCX report: how many suggestions came in the period and how many were
answered (``central.reports.suggestions``), counted apart from the ratings, as `/reports` shows them."""

from __future__ import annotations

from typing import Any

from central.exports.tables import vn


def suggestion_sentences(report: dict[str, Any]) -> list[str]:
    """One sentence, or none for a report made without the count."""
    found = report.get("suggestions")
    if not found:
        return []
    if not found["received"]:
        return ["Hòm thư góp ý không nhận được góp ý nào của công dân, tổ chức trong kỳ."]
    return [
        f"Hòm thư góp ý đã nhận {vn(found['received'])} góp ý của công dân, tổ chức (ngoài các lượt đánh giá), "
        f"đã trả lời {vn(found['answered'])} góp ý."
    ]
