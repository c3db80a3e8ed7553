"""The rollups stay exact: increments made at ingest equal a rebuild from the records, late records included.

Runs on SQLite and PostgreSQL (the ``central`` fixture is parametrised in conftest.py).
"""

from __future__ import annotations

import json

from sqlalchemy import select

from central import ingest
from central.reports import figures, periods, rollups
from central.reports.query import Scope
from central.reports.rebuild import rebuild
from tests.central import report_fixture as fx


def snapshot(central) -> dict[str, list]:
    """Every derived table whole: every row, every column (a rollup row whose sums are all zero is a row the
    rebuild does not make, so it counts as a difference)."""
    with central.engine.connect() as conn:
        return {
            table.name: sorted((tuple(r) for r in conn.execute(select(table))), key=repr) for table in rollups.DERIVED
        }


def empty_rows(central) -> dict[str, int]:
    """Rollup rows with nothing in them (every sum zero), per table."""
    out = {}
    with central.engine.connect() as conn:
        for table in rollups.ROLLUPS:
            keys = len(table.primary_key.columns)
            out[table.name] = sum(1 for r in conn.execute(select(table)) if not any(r[keys:]))
    return out


def report(central, commune: str, period=None):
    with central.engine.connect() as conn:
        return figures.build(conn, period or periods.quarter(2026, 1), Scope(communes=(commune,)), min_answers=1)


def test_increments_equal_a_rebuild_from_the_records(central):
    fx.load(central)
    incremental = snapshot(central)
    assert incremental["ticket_facts"] and incremental["rollup_ratings"] and incremental["rollup_indicators"]
    with central.engine.begin() as conn:
        rebuild(conn)
    assert snapshot(central) == incremental
    with central.engine.begin() as conn:  # a rebuild of one commune leaves the others alone
        rebuild(conn, ["A"])
    assert snapshot(central) == incremental


def test_late_clerk_actions_move_a_ticket_from_waiting_to_served(central):
    fx.load(central)
    feed = fx.Feed(central, "C", fx.Feed.device_of(central, "C"), seq=1000, counter=10)
    ticket = feed.ticket("2026-03-10T08:00:00", "HT", 1)
    feed.send()
    q = report(central, "C")["queue"]
    assert (q["issued"], q["served"], q["waited"], q["p90_wait_min"]) == (1, 0, 0, None)
    feed.action("2026-03-10T08:12:30", "call", ticket, 1, None)  # 750 s → 12.5 min, 13 whole minutes up
    batch = list(feed.pending)
    feed.send()
    feed.action("2026-03-10T08:20:00", "complete", ticket, 1, None)
    feed.send()
    q = report(central, "C")["queue"]
    assert (q["issued"], q["served"], q["mean_wait_min"], q["p90_wait_min"], q["mean_service_min"]) == (
        1,
        1,
        12.5,
        13,
        7.5,
    )
    # the same batch sent again is "already had" and changes nothing
    feed.pending = batch
    assert feed.send().already_had == [r["id"] for r in batch]
    assert report(central, "C")["queue"]["mean_wait_min"] == 12.5
    before = snapshot(central)
    with central.engine.begin() as conn:
        rebuild(conn)
    assert snapshot(central) == before


def test_an_answer_that_arrives_before_its_rating_counts_once(central):
    fx.load(central)
    feed = fx.Feed(central, "C", fx.Feed.device_of(central, "C"), seq=2000, counter=20)
    rating = feed.rating("2026-03-11T09:00:00", "very_satisfied", "HT", 1)
    feed.answers(rating, attitude=1)
    rating_record = feed.pending.pop(0)  # send the answer first, the rating in a later batch
    feed.send()
    assert report(central, "C")["communes"][0]["tt01"] is None
    feed.pending = [rating_record]
    feed.send()
    tt01 = report(central, "C")["communes"][0]["tt01"]
    assert tt01["scores"] == {"attitude": 1.0}
    assert next(i for i in report(central, "C")["indicators"] if i["key"] == "attitude")["answers"] == 1
    before = snapshot(central)
    with central.engine.begin() as conn:
        rebuild(conn)
    assert snapshot(central) == before


def test_records_of_a_past_month_arriving_now_land_in_their_month(central):
    fx.load(central)
    year = periods.year(2026)
    before = {p["bucket"]: p["ratings"] for p in report(central, "C", year)["trend"]["points"]}
    feed = fx.Feed(central, "C", fx.Feed.device_of(central, "C"), seq=3000, counter=30)
    feed.rating("2026-01-20T10:00:00", "unsatisfied", "HT", 1)
    feed.send()  # sent in April
    after = {p["bucket"]: p["ratings"] for p in report(central, "C", year)["trend"]["points"]}
    assert after["2026-01-01"] == before["2026-01-01"] + 1
    assert report(central, "C", periods.month(2026, 1))["summary"]["ratings"] == 2


def test_clerk_actions_that_arrive_before_their_ticket_wait_for_it(central):
    fx.load(central)
    feed = fx.Feed(central, "C", fx.Feed.device_of(central, "C"), seq=4000, counter=40)
    ticket = feed.ticket("2026-03-12T08:00:00", "CT", 1)
    ticket_record = feed.pending.pop()  # the ticket comes last (two clients of one kiosk racing, say)
    feed.action("2026-03-12T08:04:00", "call", ticket, 2, None)
    feed.send()
    feed.action("2026-03-12T08:09:00", "no_show", ticket, 2, None)
    feed.send()
    assert report(central, "C")["queue"]["issued"] == 0  # no ticket yet: nothing to count
    waiting = snapshot(central)["rollup_pending"]
    assert len(waiting) == 2 and {row[-1] for row in waiting} == {"action"}
    feed.pending = [ticket_record]
    feed.send()
    q = report(central, "C")["queue"]
    assert (q["issued"], q["no_show"], q["mean_wait_min"], q["p90_wait_min"]) == (1, 1, 4.0, 4)
    assert snapshot(central)["rollup_pending"] == []
    before = snapshot(central)
    with central.engine.begin() as conn:
        rebuild(conn)
    assert snapshot(central) == before


def crash(feed: fx.Feed) -> None:
    """The pending records stored in a transaction that never commits — what the database keeps of a batch
    when the server dies before its commit — then left pending, as the kiosk still holds them."""
    records = list(feed.pending)
    feed.counter += 1
    envelope = {"v": 1, "device": feed.device, "commune": feed.commune, "sent_at": fx.SERVER_NOW.isoformat(),
                "clock_synced": True, "status": {"unsynced": len(records)}, "records": records}  # fmt: skip
    prepared = ingest.prepare_body(json.dumps(envelope, ensure_ascii=False).encode(), feed.device, feed.commune, 5000)
    with feed.central.engine.connect() as conn:
        transaction = conn.begin()
        ingest.store(conn, prepared, feed.commune, feed.device, feed.counter, fx.SERVER_NOW)
        transaction.rollback()


def test_after_late_batches_and_crashes_every_rollup_table_equals_a_rebuild_row_for_row(central):
    """Issue 21, point 7: tickets whose clerk actions come late move between counters, clerks and wait buckets;
    the rows they leave held all-zero sums (16 in rollup_queue) that ``rebuild-rollups`` never makes."""
    fx.load(central)
    assert all(n == 0 for n in empty_rows(central).values())
    clerks = fx.clerk_ids(central, "A")
    a1, a2 = clerks["A1"], clerks["A2"]
    feed = fx.Feed(central, "A", fx.Feed.device_of(central, "A"), seq=5000, counter=50)
    tickets = [feed.ticket(f"2026-02-{10 + n}T08:0{n}:00", "HT", 100 + n) for n in range(4)]
    feed.send()
    for n, ticket in enumerate(tickets):  # called at counter 1 …
        feed.action(f"2026-02-{10 + n}T08:1{n}:00", "call", ticket, 1, a1)
    crash(feed)  # the server dies before committing this batch; the kiosk sends it again later
    feed.send()
    for n, ticket in enumerate(tickets[:3]):  # … then, in a late batch, called again and ended at counter 2
        feed.action(f"2026-02-{10 + n}T08:5{n}:00", "call", ticket, 2, a2)
        feed.action(f"2026-02-{10 + n}T09:0{n}:00", "complete" if n else "no_show", ticket, 2, a2)
    crash(feed)
    crash(feed)
    feed.send()
    feed.action("2026-02-13T08:40:00", "transfer", tickets[3], 1, a1, {"to": "CT"})  # another field
    feed.send()
    incremental = snapshot(central)
    assert incremental["rollup_queue"]
    assert empty_rows(central) == {table.name: 0 for table in rollups.ROLLUPS}, "rows with nothing in them"
    with central.engine.begin() as conn:
        rebuild(conn)
    assert snapshot(central) == incremental
