"""Fuzz the central server (issue 12): hostile signed sync batches and hostile page parameters, on SQLite and
PostgreSQL. Never a 500; a refused request stores nothing; a batch is stored except the records it could not
be, which are quarantined with their reason — every record of every batch is accounted for.
"""

from __future__ import annotations

import gzip
import random
from datetime import datetime, timedelta

from central.registry import add_user
from tests import hostile
from tests.central.helpers import TEST_PASSWORD, Signer, envelope, stored_counts, token, wire_record

T0 = datetime(2026, 11, 20, 1, 0, 0)
KINDS = ("ticket", "rating", "indicator_answer", "comment", "clerk_action")
BATCHES = 120


def hostile_record(rng: random.Random, seq: int) -> dict:
    record = wire_record(rng.choice(KINDS), seq, T0 + timedelta(seconds=seq))
    for name in rng.sample(sorted(record), k=rng.randint(0, 3)):
        if name not in ("id", "type") or rng.random() < 0.1:
            record[name] = hostile.value(rng)
    if rng.random() < 0.1:
        record[rng.choice(["x", "\x00", "@SURROGATE@"])] = hostile.value(rng)
    return record


def test_hostile_sync_batches_never_fail_and_every_record_is_accounted_for(central_app, central, device):
    rng = random.Random(2026)
    client = Signer(central_app.test_client(), device)
    stored = 0
    statuses: dict[int, int] = {}
    seq = 0
    for n in range(BATCHES):
        records = []
        for _ in range(rng.randint(1, 12)):
            seq += 1
            records.append(hostile_record(rng, seq) if rng.random() < 0.6 else wire_record("rating", seq, T0))
        doc = envelope(device[0], records, T0 + timedelta(minutes=n))
        if rng.random() < 0.15:  # a hostile envelope field now and then
            doc[rng.choice(["v", "sent_at", "clock_synced", "status", "device", "records"])] = hostile.value(rng)
        body = gzip.compress(hostile.encode(doc))
        before = stored_counts(central)
        answer = client.post(body)
        statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
        assert answer.status_code < 500, f"batch {n}: {answer.status_code} {answer.get_data()[:300]!r}"
        after = stored_counts(central)
        if answer.status_code != 200:
            assert after == before, f"batch {n}: a refused batch stored something"
            continue
        named = answer.json["accepted"] + answer.json["already_had"] + [r["id"] for r in answer.json["rejected"]]
        sent_ids = [r["id"] for r in records if isinstance(r, dict)]
        assert sorted(named) == sorted(sent_ids), f"batch {n}: a record is not accounted for"
        stored += len(answer.json["accepted"])
        records_after = sum(after[t] for t in ("ratings", "tickets", "comments", "clerk_actions", "indicator_answers"))
        assert records_after == stored
        assert after["quarantine"] - before["quarantine"] <= len(answer.json["rejected"])
    assert statuses.get(200, 0) > BATCHES // 2 and statuses.get(400, 0) > 0, statuses


def test_hostile_page_parameters_and_forms_never_fail(central_app, central, device):
    rng = random.Random(1212)
    add_user(central, "quan-tri", TEST_PASSWORD, "admin")
    client = central_app.test_client()
    csrf = token(client)
    for username, password in [("\x00", "x"), ("a" * 5000, "b"), ("quan-tri\x1b", TEST_PASSWORD), ("%ED%A0%80", "x")]:
        answer = client.post("/login", data={"username": username, "password": password, "csrf_token": csrf})
        assert answer.status_code < 500
    assert (
        client.post("/login", data={"username": "quan-tri", "password": TEST_PASSWORD, "csrf_token": csrf}).status_code
        == 302
    )
    pages = {
        "/reports": [
            "period",
            "year",
            "month",
            "quarter",
            "half",
            "from",
            "to",
            "commune",
            "service",
            "counter",
            "clerk",
        ],
        "/reports/data.json": ["period", "year", "month", "from", "to", "counter", "clerk", "commune"],
        "/reports/export.csv": ["period", "year", "from", "to", "counter"],
        "/comments": ["page", "status", "commune"],
        "/comments/export.csv": ["status", "commune"],
        "/fleet": ["lang"],
        "/fleet.json": ["x"],
    }
    for path, params in pages.items():
        for _ in range(20):
            chosen = rng.sample(params, k=rng.randint(1, min(3, len(params))))
            query = "&".join(
                f"{name}={v}" for name, v in zip(chosen, hostile.query_values(rng, len(chosen)), strict=True)
            )
            answer = client.get(f"{path}?{query}")
            assert answer.status_code < 500, f"GET {path}?{query[:200]}: {answer.status_code}"
    page = client.get("/comments?page=99999999999999999999999")
    assert page.status_code == 400 and "Số trang phải là số nguyên" in page.get_data(as_text=True)
    csrf = token(client, "/fleet")
    for path in (
        "/comments/26734/%00/x/read",
        "/comments/%ED%A0%80/a/b/answer",
        f"/comments/26734/{device[0]}/{'0' * 36}/answer",
    ):
        for note in ("\x00", "x" * 10000, "ok"):
            answer = client.post(path, data={"note": note, "assignee": "\x00", "csrf_token": csrf})
            assert answer.status_code < 500, f"POST {path}: {answer.status_code}"
