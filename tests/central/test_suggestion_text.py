"""The suggestion box's sentence of the DOCX report (the counts come from central.reports.suggestions; the whole
report is read back in tests/e2e/test_procedures_sync.py)."""

from __future__ import annotations

from central.exports.suggestion_text import suggestion_sentences


def test_the_sentence_says_how_many_came_and_were_answered_or_that_none_came():
    assert suggestion_sentences({"suggestions": {"received": 1200, "answered": 35}}) == [
        "Hòm thư góp ý đã nhận 1.200 góp ý của công dân, tổ chức (ngoài các lượt đánh giá), đã trả lời 35 góp ý."
    ]
    assert suggestion_sentences({"suggestions": {"received": 0, "answered": 0}}) == [
        "Hòm thư góp ý không nhận được góp ý nào của công dân, tổ chức trong kỳ."
    ]
    assert suggestion_sentences({}) == []  # a report made without the count says nothing of it
