"""Issue 21, point 3: a kiosk's catalogue upload meets the same rules as the central pages and `import-config`.

Against the real `kiosk-central serve` on SQLite and PostgreSQL, signed as a kiosk's client signs: every hostile
upload gets a 4xx JSON naming the entry and the reason, nothing of it is stored, and the document the commune's
other kiosk takes down is unchanged. None of them is a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.catalog_uploads import Kiosk, base_catalogue, changed_copy, clerk, everything, start_central


def _every(part: str, **values: Any) -> Callable[[dict], None]:
    def change(doc: dict) -> None:
        for item in doc[part]:
            item.update(values)

    return change


def _set(part: str, index: int, **values: Any) -> Callable[[dict], None]:
    def change(doc: dict) -> None:
        doc[part][index].update(values)

    return change


def _append(part: str, make: Callable[[int], dict], count: int) -> Callable[[dict], None]:
    def change(doc: dict) -> None:
        doc[part].extend(make(i) for i in range(count))

    return change


def _service(i: int) -> dict:
    return {"code": f"S{i}", "name": f"Dịch vụ {i}", "prefix": "", "daily_max": None, "active": False}


def _counter(i: int) -> dict:
    return {"number": 100 + i, "name": "", "active": False, "services": []}


def _clerk(i: int) -> dict:
    return {**OFF_DUTY, "id": f"00000000-0000-4000-8000-{i:012d}", "code": f"X{i}", "name": f"Người {i}"}


def _question(**values: Any) -> dict:
    answers = ["Ngắn hơn quy định", "Đúng quy định", "Dài hơn quy định"]
    return {"key": "time", "question": "Thời gian giải quyết", "answers": answers, "active": True, **values}


OFF_DUTY = clerk("Người", "X", "98765", None, active=False)  # one PIN hash for many (each takes 0.1 s)

#: (what the upload does, how, what the refusal must say)
HOSTILE = [
    ("every service inactive", _every("services", active=False), "No service would be in use"),
    ("every counter inactive", _every("counters", active=False), "No open counter would handle"),
    ("every clerk inactive", _every("clerks", active=False), "No clerk could sign in"),
    ("counters serving nothing", _every("counters", services=[]), "must handle at least one service"),
    ("ESC in a service name", _set("services", 0, name="Hộ\x1b[2Jtịch"), "U+001B"),
    ("BEL in a counter name", _set("counters", 1, name="Quầy\x07"), "U+0007"),
    ("NUL in a clerk name", _set("clerks", 0, name="Bad\x00Name"), "U+0000"),
    ("a lone surrogate in a clerk name", _set("clerks", 1, name="Minh\ud800"), "U+D800"),
    ("a 1 MB level label", _set("scale", 0, label="x" * 1_000_000), "longer than"),
    ("a duplicate service code", _set("services", 1, code="HT", prefix="C"), "Service HT appears twice"),
    ("a duplicate counter number", _set("counters", 1, number=1), "Counter TT · 1 appears twice"),
    ("10,000 services", _append("services", _service, 10_000), "more than 100 entries"),
    ("101 services", _append("services", _service, 99), "more than 100 entries"),
    ("1,000 counters", _append("counters", _counter, 998), "more than 999 entries"),
    ("1,001 clerks", _append("clerks", _clerk, 998), "more than 1000 entries"),
    ("a 201-character service name", _set("services", 0, name="d" * 201), "longer than 200"),
    ("a 101-character counter name", _set("counters", 0, name="q" * 101), "longer than 100"),
    ("a 201-character clerk name", _set("clerks", 0, name="n" * 201), "longer than 200"),
    ("a 17-character clerk code", _set("clerks", 0, code="C" * 17), "clerks[0]"),
    ("a 17-character service code", _set("services", 0, code="H" * 17), "services[0]"),
    ("a 5-letter ticket prefix", _set("services", 0, prefix="ABCDE"), "prefix"),
    ("a 201-character PIN hash", _set("clerks", 0, pin_hash="p" * 201), "needs a PIN"),
    ("a 33-character level key", _set("scale", 0, key="k" * 33), "scale[0]"),
    ("a 1 MB question", _append("questions", lambda i: _question(question="x" * 1_000_000), 1), "longer than 200"),
    ("a 101-character answer", _append("questions", lambda i: _question(answers=["a" * 101, "b", "c"]), 1), "100"),
    ("NUL in an answer", _append("questions", lambda i: _question(answers=["a\x00", "b", "c"]), 1), "U+0000"),
    ("11 questions", _append("questions", lambda i: _question(key=f"q{i}"), 11), "more than 10 entries"),
    ("11 rating levels", _append("scale", lambda i: {"key": f"l{i}", "label": "L", "points": 0}, 8), "more than 10"),
    ("a daily maximum of 10,000", _set("services", 0, daily_max=10_000), "9999"),
    ("a counter number of 1,000", _set("counters", 0, number=1000), "999"),
]


@pytest.fixture
def commune(tmp_path, central_db):
    """The real central process with a commune whose catalogue kiosk A's first upload made; kiosks A and B."""
    server = start_central(tmp_path / "central", central_db)
    a, b = Kiosk(server, "Điểm TT"), Kiosk(server, "Điểm CN")
    base = base_catalogue()
    first = a.upload(base)
    assert first.status_code == 200 and first.json()["outcome"] == "adopted", first.text
    yield server, a, b, base
    server.stop()


def test_hostile_uploads_are_refused_whole_and_never_reach_the_other_kiosk(commune):
    server, a, b, base = commune
    before = b.document()
    failures = []
    for what, change, reason in HOSTILE:
        doc = changed_copy(base)
        change(doc)
        answer = a.upload(doc, everything(base))
        body = answer.json() if answer.headers.get("Content-Type", "").startswith("application/json") else {}
        if not (400 <= answer.status_code < 500 and {"error", "detail"} <= set(body) and reason in body["error"]):
            failures.append(f"{what}: {answer.status_code} {answer.text[:300]}")
        if b.document() != before:
            failures.append(f"{what}: the other kiosk takes down a changed catalogue")
            before = b.document()
    assert not failures, "\n".join(failures)
    assert "Traceback" not in server.log.read_text()


def test_a_first_catalogue_with_counters_serving_nothing_is_not_adopted(tmp_path, central_db):
    server = start_central(tmp_path / "central", central_db)
    try:
        a, b = Kiosk(server, "Điểm TT"), Kiosk(server, "Điểm CN")
        seeded = b.document()
        doc = base_catalogue()
        _every("counters", services=[])(doc)
        answer = a.upload(doc)
        assert answer.status_code == 400 and "must handle at least one service" in answer.json()["error"], answer.text
        assert b.document() == seeded  # still the seeded default: nothing adopted
        good = a.upload(base_catalogue())  # the kiosk's corrected catalogue is then adopted
        assert good.status_code == 200 and good.json()["outcome"] == "adopted", good.text
    finally:
        server.stop()
