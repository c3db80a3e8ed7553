"""Dashboard queries on a province-sized PostgreSQL: 10 million ratings, 3 million tickets, 2,000 kiosks, 2 years.

The records are generated inside PostgreSQL (INSERT … SELECT over generate_series, indexes built after
the load), the rollups are rebuilt from them with ``sync.reports.rebuild.rebuild`` (the same code
``kiosk-central rebuild-rollups`` runs), then each query of the dashboard is timed for a province-wide
year and for one commune's quarter (median of 5 after a warm-up). Also timed: a late 1,000-record batch
stored through the real ingest, with the share spent keeping the rollups exact.

Run: python bench/reports.py   (or python -m bench reports). KIOSK_BENCH_REPORTS_SCALE=0.05 for a quick try.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

# Run as a script, bench/ itself is first on sys.path and bench/queue.py would shadow the standard `queue`.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stats import row  # noqa: E402

SCALE = float(os.environ.get("KIOSK_BENCH_REPORTS_SCALE", "1"))
RATINGS = int(10_000_000 * SCALE)
TICKETS = int(3_000_000 * SCALE)
DEVICES = 2000
PER_COMMUNE = 4  # kiosks per commune → 500 communes, 25 districts of 20
COMMUNE = "X0042"
RECORD_TABLES = ("ratings", "indicator_answers", "tickets", "clerk_actions")
TUNING = {  # a province server's postgresql.conf (docs/reports.md); fsync stays off only in this throwaway cluster
    "shared_buffers": "2GB",
    "work_mem": "64MB",
    "maintenance_work_mem": "1GB",
    "effective_cache_size": "8GB",
    "max_wal_size": "16GB",
    "checkpoint_timeout": "30min",
    "max_parallel_workers_per_gather": "2",
    "max_parallel_maintenance_workers": "2",
    "random_page_cost": "1.1",
    "jit": "off",
}
SYNC_ID = "00000000-0000-4000-8000-000000000001"

SETUP = f"""
INSERT INTO communes (code, name, district_code, province_code, created_at)
SELECT 'X' || lpad(c::text, 4, '0'), 'Xã ' || c, 'H' || lpad((c / 20)::text, 2, '0'), 'P01', now()
FROM generate_series(0, {DEVICES // PER_COMMUNE - 1}) c;
CREATE TABLE bench_devices AS
SELECT d AS n, md5('device' || d)::uuid AS id, 'X' || lpad((d / {PER_COMMUNE})::text, 4, '0') AS commune_code,
       d % {PER_COMMUNE} + 1 AS counter, md5('clerk' || d)::uuid AS clerk
FROM generate_series(0, {DEVICES - 1}) d;
INSERT INTO devices (id, commune_code, name, key_version, secret_fingerprint, enabled, created_at)
SELECT id, commune_code, 'Kiosk ' || n, 1, repeat('0', 64), true, now() FROM bench_devices;
INSERT INTO device_status (commune_code, device_id, last_counter, last_sync_at, clock_offset, clock_synced, unsynced,
                           printer, software_version)
SELECT commune_code, id, 0, now() - (n % 40) * interval '1 hour', 0.4, true, n % 7, 'ok', '1.0.0' FROM bench_devices;
INSERT INTO clerks (commune_code, id, code, name, pin_hash, counter_number, active)
SELECT commune_code, clerk, 'K' || counter, 'Công chức ' || n, 'x', counter, true FROM bench_devices;
INSERT INTO counters (commune_code, number, name, active)
SELECT commune_code, counter, 'Quầy ' || counter, true FROM bench_devices;
INSERT INTO services (commune_code, code, name, prefix, position, active)
SELECT c.code, s.code, s.name, '', s.pos, true FROM communes c
CROSS JOIN (VALUES ('HT', 'Hộ tịch', 0), ('CT', 'Chứng thực', 1), ('DD', 'Đất đai', 2), ('BT', 'Bảo trợ xã hội', 3),
                   ('NCC', 'Người có công', 4), ('TP', 'Tư pháp – khác', 5)) s(code, name, pos);
INSERT INTO scale_levels (commune_code, key, label, points, position, active)
SELECT c.code, l.key, l.label, l.points, l.pos, true FROM communes c
CROSS JOIN (VALUES ('very_satisfied', 'Rất hài lòng', 2, 0), ('satisfied', 'Hài lòng', 1, 1),
                   ('unsatisfied', 'Không hài lòng', 0, 2)) l(key, label, points, pos);
"""

# A working day (Monday–Saturday) of 2025–2026 between 07:00 and 17:00 local time, stored as UTC.
DAY = "date '2025-01-01' + (random() * 729)::int AS day"
WORKING_TIME = "day - (extract(isodow from day) = 7)::int + time '07:00' + random() * interval '10 hours' - interval '7 hours' AS t"

RATINGS_SQL = f"""
INSERT INTO ratings (level, points, channel, panel, counted, flag, counter_number, ticket_id, clerk_id, service_code,
                     commune_code, device_id, id, seq, device_time, clock_synced, corrected_time, clock_offset,
                     received_at, sync_id)
SELECT CASE WHEN r < 0.55 THEN 'very_satisfied' WHEN r < 0.9 THEN 'satisfied' ELSE 'unsatisfied' END,
       CASE WHEN r < 0.55 THEN 2 WHEN r < 0.9 THEN 1 ELSE 0 END,
       'button', 'button:' || counter, f >= 0.03, CASE WHEN f < 0.03 THEN 'response_interval' END, counter, NULL,
       clerk, svc, commune_code, id, gen_random_uuid(), g, t, true, t, NULL, now(), '{SYNC_ID}'
FROM (
  SELECT *, {WORKING_TIME} FROM (
    SELECT g, d.*, random() AS r, random() AS f,
           (ARRAY['HT','CT','DD','BT','NCC','TP'])[1 + floor(random() * 6)::int] AS svc, {DAY}
    FROM generate_series(1, {RATINGS}) g JOIN bench_devices d ON d.n = g % {DEVICES}
  ) a
) x
"""

ANSWERS_SQL = f"""
INSERT INTO indicator_answers (rating_id, indicator, level, points, commune_code, device_id, id, seq, device_time,
                               clock_synced, corrected_time, clock_offset, received_at, sync_id)
SELECT id, ind, CASE p WHEN 2 THEN 'very_satisfied' WHEN 1 THEN 'satisfied' ELSE 'unsatisfied' END, p,
       commune_code, device_id, gen_random_uuid(), seq * 5 + k, t, true, t, NULL, now(), '{SYNC_ID}'
FROM (
  SELECT r.id, r.commune_code, r.device_id, r.seq, r.corrected_time + interval '20 seconds' AS t, u.ind, u.k,
         CASE WHEN random() + 0 * r.seq < 0.6 THEN 2 WHEN random() < 0.75 THEN 1 ELSE 0 END AS p
  FROM ratings r CROSS JOIN unnest(ARRAY['time', 'contacts', 'agencies', 'attitude']) WITH ORDINALITY u(ind, k)
  WHERE r.seq % 20 = 0 AND (u.k = 4 OR random() < 0.7)
) x
"""

TICKETS_SQL = f"""
INSERT INTO tickets (service_code, business_day, number, display_number, priority, channel, commune_code, device_id,
                     id, seq, device_time, clock_synced, corrected_time, clock_offset, received_at, sync_id)
SELECT svc, (t + interval '7 hours')::date, g % 999 + 1, lpad((g % 999 + 1)::text, 3, '0'), false, 'touch',
       commune_code, id, gen_random_uuid(), g, t, true, t, NULL, now(), '{SYNC_ID}'
FROM (
  SELECT *, {WORKING_TIME} FROM (
    SELECT g, d.*, (ARRAY['HT','CT','DD','BT','NCC','TP'])[1 + floor(random() * 6)::int] AS svc, {DAY}
    FROM generate_series(1, {TICKETS}) g JOIN bench_devices d ON d.n = g % {DEVICES}
  ) a
) x
"""

CALLS_SQL = """
CREATE TABLE bench_calls AS
SELECT t.commune_code, t.device_id, t.id AS ticket_id, t.seq, d.counter, d.clerk, random() AS r,
       t.corrected_time + (random() * random() * 2400) * interval '1 second' AS call_time
FROM tickets t JOIN bench_devices d ON d.id = t.device_id
WHERE random() < 0.95
"""

ACTIONS_SQL = f"""
INSERT INTO clerk_actions (action, counter_number, clerk_id, ticket_id, detail, commune_code, device_id, id, seq,
                           device_time, clock_synced, corrected_time, clock_offset, received_at, sync_id)
SELECT 'call', counter, clerk, ticket_id, NULL::json, commune_code, device_id, gen_random_uuid(), seq * 3 + 1,
       call_time, true, call_time, NULL::float8, now(), '{SYNC_ID}'::uuid
FROM bench_calls
UNION ALL
SELECT CASE WHEN r < 0.93 THEN 'complete' ELSE 'no_show' END, counter, clerk, ticket_id, NULL::json, commune_code,
       device_id, gen_random_uuid(), seq * 3 + 2, t, true, t, NULL::float8, now(), '{SYNC_ID}'::uuid
FROM (SELECT *, call_time + (120 + random() * 900) * interval '1 second' AS t FROM bench_calls) x
"""


class TunedCluster:
    """tests.pg.PgCluster restarted with a province server's settings."""

    def __enter__(self):
        import psycopg

        from tests.pg import PgCluster

        self.pg = PgCluster().start()
        try:
            with psycopg.connect(f"host=127.0.0.1 port={self.pg.port} user=postgres", autocommit=True) as c:
                for name, value in TUNING.items():
                    c.execute(f"ALTER SYSTEM SET {name} = '{value}'")
            self.pg._run("pg_ctl", "-D", str(self.pg.base / "data"), "-w", "-l", str(self.pg.base / "log"), "restart")
        except BaseException:
            self.pg.stop()
            raise
        return self.pg

    def __exit__(self, *exc):
        self.pg.stop()


def _defer_indexes(conn, tables) -> list[tuple[str, str]]:
    """Drop the record tables' primary keys and indexes; returns (table, statement) to recreate them."""
    from sqlalchemy import text

    again = []
    for table in tables:
        for name, definition in conn.execute(
            text("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = CAST(:t AS regclass)"),
            {"t": table},
        ):
            again.append((table, f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"))
            sql(conn, f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        for name, definition in conn.execute(
            text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t"), {"t": table}
        ):
            again.append((table, definition))
            sql(conn, f"DROP INDEX {name}")
    return again


def sql(conn, statement: str) -> None:
    """Run SQL as written (no parameter placeholders: `%` is the modulo operator here)."""
    conn.connection.driver_connection.execute(statement)


def _parallel(*jobs) -> None:
    """Run the jobs in threads (one connection each: PostgreSQL runs one statement per core)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(jobs)) as pool:
        for future in [pool.submit(job) for job in jobs]:
            future.result()


def generate(engine, log) -> dict[str, float]:
    """Setup rows, then ratings+answers and tickets+actions in two sessions at once, then keys and indexes."""
    timings = {}
    start = time.perf_counter()
    with engine.begin() as conn:
        sql(conn, "SELECT setseed(0.42)")
        for statement in SETUP.split(";"):
            if statement.strip():
                sql(conn, statement)
        again = _defer_indexes(conn, RECORD_TABLES)

    def run(name: str, *statements: str) -> None:
        t = time.perf_counter()
        with engine.begin() as conn:
            for statement in statements:
                sql(conn, statement)
        log(f"  {name}: {time.perf_counter() - t:.0f} s")

    _parallel(
        lambda: run("ratings and indicator answers", RATINGS_SQL, ANSWERS_SQL),
        lambda: run("tickets and clerk actions", TICKETS_SQL, CALLS_SQL, ACTIONS_SQL, "DROP TABLE bench_calls"),
    )
    t = time.perf_counter()
    sides = [[x for table, x in again if (table in ("ratings", "indicator_answers")) == side] for side in (True, False)]
    _parallel(
        lambda: run("keys and indexes of ratings and answers", *sides[0]),
        lambda: run("keys and indexes of tickets and actions", *sides[1]),
    )
    log(f"  primary keys and indexes: {time.perf_counter() - t:.0f} s")
    timings["generate"] = time.perf_counter() - start
    return timings


def rebuild(engine, log) -> float:
    """``rebuild`` for each half of the communes at once (as two `rebuild-rollups --commune …`)."""
    from sync.reports.rebuild import rebuild as rebuild_rollups

    with engine.connect() as conn:
        communes = [c for (c,) in conn.exec_driver_sql("SELECT code FROM communes ORDER BY code")]
    halves = communes[::2], communes[1::2]

    def job(half: list[str]) -> None:
        with engine.begin() as conn:
            rebuild_rollups(conn, half)

    t = time.perf_counter()
    _parallel(*(lambda h=h: job(h) for h in halves))
    return time.perf_counter() - t


def counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar() for t in RECORD_TABLES}


def median_time(fn, repeat: int = 5) -> float:
    fn()  # warm-up: plans, caches
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def time_dashboard(engine, period, scope, label: str) -> list[dict]:
    from sync.reports import figures
    from sync.reports.query import Query

    unit = "day" if period.days <= figures.DAILY_TREND_DAYS else "month"
    results = []
    with engine.connect() as conn:
        q = Query(conn, period, scope)
        before = Query(conn, period.previous_year(), scope)
        parts = [
            ("ratings: count, share, index, flagged", q.ratings),
            ("ratings per commune", lambda: q.ratings("commune")),
            ("ratings per field", lambda: q.ratings("service")),
            ("ratings per clerk (ranking)", lambda: q.ratings("clerk")),
            ("distribution of levels", q.levels),
            ("TT 01 indicator scores per commune and clerk", q.indicators),
            ("queue totals", q.queue),
            ("queue per clerk", lambda: q.queue("clerk")),
            ("waiting-time histogram (p90)", q.waits),
            ("weekday × hour heat map", q.heat),
            (f"trend per {unit}", lambda: q.trend(unit)),
            ("same period last year", before.ratings),
            ("whole dashboard: every figure above, with names", lambda: figures.build(conn, period, scope)),
        ]
        for name, fn in parts:
            seconds = median_time(fn)
            target = "< 1 s"
            results.append(row("reports", f"{label}: {name}", seconds * 1000, "ms", target))
    return results


def late_batch(central, log) -> list[dict]:
    """A kiosk back after weeks offline: 1,000 records of an old month through the real ingest."""
    from sqlalchemy import select

    from sync.central import ingest
    from sync.central.models import Device
    from sync.reports import rollups

    with central.sessions() as s:
        device = s.scalar(select(Device.id).where(Device.commune_code == COMMUNE).order_by(Device.id))
    base = datetime(2026, 2, 10, 1, 0)
    records, seq = [], 10**9

    def record(kind: str, when: datetime, **fields):
        nonlocal seq
        seq += 1
        rid = str(uuid.uuid4())
        records.append(
            {"type": kind, "id": rid, "seq": seq, "device_time": when.isoformat(), "clock_synced": True, **fields}
        )
        return rid

    for i in range(150):
        when = base + timedelta(minutes=3 * i)
        ticket = record(
            "ticket",
            when,
            service_code="HT",
            business_day="2026-02-10",
            number=i + 1,
            display_number=f"{i + 1:03d}",
            priority=False,
            channel="touch",
        )
        record(
            "clerk_action",
            when + timedelta(minutes=5),
            action="call",
            counter_number=1,
            clerk_id=None,
            ticket_id=ticket,
            detail=None,
        )
        record(
            "clerk_action",
            when + timedelta(minutes=12),
            action="complete",
            counter_number=1,
            clerk_id=None,
            ticket_id=ticket,
            detail=None,
        )
    for i in range(550):
        record(
            "rating",
            base + timedelta(seconds=40 * i),
            level="satisfied",
            points=1,
            channel="button",
            panel="button:1",
            counted=True,
            flag=None,
            counter_number=1,
            ticket_id=None,
            clerk_id=None,
            service_code="HT",
        )
    envelope = {
        "v": 1,
        "device": device,
        "commune": COMMUNE,
        "sent_at": datetime.now().isoformat(),
        "clock_synced": True,
        "records": records,
    }
    prepared = ingest.prepare(envelope, device, COMMUNE, 5000)
    spent = {"apply": 0.0}
    original = rollups.apply_batch

    def timed(*args, **kwargs):
        t = time.perf_counter()
        original(*args, **kwargs)
        spent["apply"] += time.perf_counter() - t

    ingest.apply_batch = timed
    try:
        t = time.perf_counter()
        with central.engine.begin() as conn:
            result = ingest.store(conn, prepared, COMMUNE, device, 1, datetime.now())
        total = time.perf_counter() - t
    finally:
        ingest.apply_batch = original
    assert len(result.accepted) == len(records), result.rejected
    log(f"  late batch: {total * 1000:.0f} ms, rollups {spent['apply'] * 1000:.0f} ms")
    return [
        row("reports", "late 1,000-record batch stored (ingest + rollups)", total * 1000, "ms"),
        row(
            "reports",
            "… of which keeping the rollups exact",
            spent["apply"] * 1000,
            "ms",
            "",
            f"{100 * spent['apply'] / total:.0f} % of the batch",
        ),
    ]


def run(log=print) -> list[dict]:
    from kiosk import settings as settings_mod
    from sync.central.app import build_central
    from sync.reports import periods
    from sync.reports.query import Scope

    results = []
    with TunedCluster() as pg, tempfile.TemporaryDirectory() as tmp:
        url = pg.create_database("reports")
        settings = settings_mod.load(overrides={"data_dir": tmp, "central_database_url": url})
        central = build_central(settings)
        log(f"generating {RATINGS:,} ratings and {TICKETS:,} tickets over {DEVICES:,} kiosks …")
        timings = generate(central.engine, log)
        n = counts(central.engine)
        log(f"  {n}")
        timings["rebuild"] = rebuild(central.engine, log)
        log(f"  rollups rebuilt: {timings['rebuild']:.0f} s")
        t = time.perf_counter()
        with central.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
        log(f"  vacuum analyze: {time.perf_counter() - t:.0f} s")
        with central.engine.connect() as conn:
            rollup_rows = conn.exec_driver_sql("SELECT count(*) FROM rollup_ratings").scalar()
        results += [
            row(
                "reports",
                "records generated in PostgreSQL",
                sum(n.values()),
                "rows",
                "",
                ", ".join(f"{k} {v:,}" for k, v in n.items()),
            ),
            row("reports", "generation (INSERT … SELECT, then keys and indexes)", timings["generate"], "s"),
            row(
                "reports",
                "rebuild of every rollup from the records (two halves of the communes at once)",
                timings["rebuild"],
                "s",
                "",
                f"rollup_ratings {rollup_rows:,} rows",
            ),
        ]
        results += time_dashboard(central.engine, periods.year(2026), Scope(), "province, year")
        results += time_dashboard(
            central.engine, periods.quarter(2026, 2), Scope(communes=(COMMUNE,)), "commune, quarter"
        )
        extra = [
            ("province, year, one field (no target)", periods.year(2026), Scope(service="HT")),
            (
                "province, custom 15 Jan–14 Mar (no target)",
                periods.from_range(datetime(2026, 1, 15).date(), datetime(2026, 3, 14).date()),
                Scope(),
            ),
        ]
        from sync.reports import figures

        with central.engine.connect() as conn:
            for label, period, scope in extra:
                seconds = median_time(lambda p=period, s=scope: figures.build(conn, p, s), repeat=3)
                results.append(row("reports", f"{label}: whole dashboard", seconds * 1000, "ms"))
        results += late_batch(central, log)
        central.close()
    return results


if __name__ == "__main__":
    for r in run():
        print(f"{r['metric']:75s} {r['value']:12,.1f} {r['unit']:4s} {r['target']:6s} {r['comparison']}")
