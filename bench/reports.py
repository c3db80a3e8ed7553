"""Dashboard queries on a province-sized PostgreSQL: 10 million ratings, 3 million tickets, 2,000 kiosks, 2 years.

The records are generated inside PostgreSQL (INSERT … SELECT over generate_series, indexes built after
the load): 500 communes of one province, each with its centre and, for a third of them (merged communes), a
second reception point; the rollups are rebuilt from them with ``central.reports.rebuild.rebuild`` (the same code
``kiosk-central rebuild-rollups`` runs). Then the whole dashboard (``figures.build``: every figure, with names)
is timed for each kind of filter — a province's year, a field, a custom period off month boundaries, a commune,
a reception point, a counter, a clerk and their combinations — median of 5 after a warm-up, and each query
of the dashboard for the slowest kind. Also timed: a late 1,000-record batch stored through the real ingest,
with the share spent keeping the rollups exact.

Run: python bench/reports.py   (or python -m bench reports). KIOSK_BENCH_REPORTS_SCALE=0.05 for a quick try.
KIOSK_BENCH_REPORTS_KEEP=DIR keeps the PostgreSQL cluster and its data in DIR: a later run reuses them (the data
is generated once; the rollups are rebuilt when their layout changed, or with KIOSK_BENCH_REPORTS_REBUILD=1) — the
late batch it adds each time is a thousand records of February 2026.
"""

from __future__ import annotations

import json
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
INSERT INTO provinces (code, name, created_at) VALUES ('P01', 'Tỉnh Thử Nghiệm', now());
INSERT INTO communes (code, name, district_code, province_code, created_at)
SELECT 'X' || lpad(c::text, 4, '0'), 'Xã ' || c, 'H' || lpad((c / 20)::text, 2, '0'), 'P01', now()
FROM generate_series(0, {DEVICES // PER_COMMUNE - 1}) c;
INSERT INTO sites (commune_code, code, name, active, created_at)
SELECT code, 'TT', 'Trung tâm Phục vụ hành chính công', true, now() FROM communes;
INSERT INTO sites (commune_code, code, name, former_commune, active, created_at)
SELECT code, 'S2', 'Điểm tiếp nhận xã cũ', 'Xã cũ ' || code, true, now() FROM communes WHERE right(code, 4)::int % 3 = 0;
CREATE TABLE bench_devices AS
SELECT d AS n, md5('device' || d)::uuid AS id, 'X' || lpad((d / {PER_COMMUNE})::text, 4, '0') AS commune_code,
       CASE WHEN (d / {PER_COMMUNE}) % 3 = 0 AND d % {PER_COMMUNE} = {PER_COMMUNE - 1} THEN 'S2' ELSE 'TT' END AS site,
       d % {PER_COMMUNE} + 1 AS counter, md5('clerk' || d)::uuid AS clerk
FROM generate_series(0, {DEVICES - 1}) d;
INSERT INTO devices (id, commune_code, site_code, name, key_version, secret_fingerprint, enabled, created_at)
SELECT id, commune_code, site, 'Kiosk ' || n, 1, repeat('0', 64), true, now() FROM bench_devices;
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
                     received_at, sync_id, site_code)
SELECT CASE WHEN r < 0.55 THEN 'very_satisfied' WHEN r < 0.9 THEN 'satisfied' ELSE 'unsatisfied' END,
       CASE WHEN r < 0.55 THEN 2 WHEN r < 0.9 THEN 1 ELSE 0 END,
       'button', 'button:' || counter, f >= 0.03, CASE WHEN f < 0.03 THEN 'response_interval' END, counter, NULL,
       clerk, svc, commune_code, id, gen_random_uuid(), g, t, true, t, NULL, now(), '{SYNC_ID}', site
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
                               clock_synced, corrected_time, clock_offset, received_at, sync_id, site_code)
SELECT id, ind, CASE p WHEN 2 THEN 'very_satisfied' WHEN 1 THEN 'satisfied' ELSE 'unsatisfied' END, p,
       commune_code, device_id, gen_random_uuid(), seq * 5 + k, t, true, t, NULL, now(), '{SYNC_ID}', site_code
FROM (
  SELECT r.id, r.commune_code, r.device_id, r.seq, r.site_code, r.corrected_time + interval '20 seconds' AS t, u.ind, u.k,
         CASE WHEN random() + 0 * r.seq < 0.6 THEN 2 WHEN random() < 0.75 THEN 1 ELSE 0 END AS p
  FROM ratings r CROSS JOIN unnest(ARRAY['time', 'contacts', 'agencies', 'attitude']) WITH ORDINALITY u(ind, k)
  WHERE r.seq % 20 = 0 AND (u.k = 4 OR random() < 0.7)
) x
"""

TICKETS_SQL = f"""
INSERT INTO tickets (service_code, business_day, number, display_number, priority, channel, commune_code, device_id,
                     id, seq, device_time, clock_synced, corrected_time, clock_offset, received_at, sync_id, site_code)
SELECT svc, (t + interval '7 hours')::date, g % 999 + 1, lpad((g % 999 + 1)::text, 3, '0'), false, 'touch',
       commune_code, id, gen_random_uuid(), g, t, true, t, NULL, now(), '{SYNC_ID}', site
FROM (
  SELECT *, {WORKING_TIME} FROM (
    SELECT g, d.*, (ARRAY['HT','CT','DD','BT','NCC','TP'])[1 + floor(random() * 6)::int] AS svc, {DAY}
    FROM generate_series(1, {TICKETS}) g JOIN bench_devices d ON d.n = g % {DEVICES}
  ) a
) x
"""

CALLS_SQL = """
CREATE TABLE bench_calls AS
SELECT t.commune_code, t.device_id, t.site_code, t.id AS ticket_id, t.seq, d.counter, d.clerk, random() AS r,
       t.corrected_time + (random() * random() * 2400) * interval '1 second' AS call_time
FROM tickets t JOIN bench_devices d ON d.id = t.device_id
WHERE random() < 0.95
"""

ACTIONS_SQL = f"""
INSERT INTO clerk_actions (action, counter_number, clerk_id, ticket_id, detail, commune_code, device_id, id, seq,
                           device_time, clock_synced, corrected_time, clock_offset, received_at, sync_id, site_code)
SELECT 'call', counter, clerk, ticket_id, NULL::json, commune_code, device_id, gen_random_uuid(), seq * 3 + 1,
       call_time, true, call_time, NULL::float8, now(), '{SYNC_ID}'::uuid, site_code
FROM bench_calls
UNION ALL
SELECT CASE WHEN r < 0.93 THEN 'complete' ELSE 'no_show' END, counter, clerk, ticket_id, NULL::json, commune_code,
       device_id, gen_random_uuid(), seq * 3 + 2, t, true, t, NULL::float8, now(), '{SYNC_ID}'::uuid, site_code
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
    from central.reports.rebuild import rebuild as rebuild_rollups

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


#: (label, period, scope arguments) of each kind of filter; X0042 is a merged commune (two reception points).
def filter_kinds():
    from datetime import date

    from central.reports import periods

    d = date
    q2, year, jan_mar = periods.quarter(2026, 2), periods.year(2026), periods.from_range(d(2026, 1, 15), d(2026, 3, 14))
    worst = periods.from_range(d(2026, 1, 2), d(2026, 12, 30))  # 30 days at each end around ten whole months
    return [
        ("province, year", year, {}),
        ("province, year, one field", year, {"service": "HT"}),
        ("province, custom 15 Jan–14 Mar", jan_mar, {}),
        ("province, custom 15 Jan–14 Mar, one field", jan_mar, {"service": "HT"}),
        ("province, custom 2 Jan–30 Dec (60 edge days)", worst, {}),
        ("province, custom 2 Jan–30 Dec, one field", worst, {"service": "DD"}),
        ("former district (20 communes), year", year, {"communes": DISTRICT}),
        ("commune, quarter", q2, {"communes": (COMMUNE,)}),
        ("commune, reception point, year", year, {"communes": (COMMUNE,), "site": "S2"}),
        ("commune, counter, custom 15 Jan–14 Mar", jan_mar, {"communes": (COMMUNE,), "counter": 2}),
        (
            "commune, clerk, field, custom 2 Jan–30 Dec",
            worst,
            {"communes": (COMMUNE,), "clerk": CLERK, "service": "HT"},
        ),
        (
            "commune, reception point, field, counter, custom 15 Jan–14 Mar",
            jan_mar,
            {"communes": (COMMUNE,), "site": "S2", "service": "CT", "counter": 4},
        ),
    ]


COMMUNE = "X0042"
DISTRICT = tuple(f"X{c:04d}" for c in range(40, 60))  # H02: communes 40–59
CLERK = None  # filled in run(): the clerk of the commune's counter 1


def time_dashboard(engine, period, scope, label: str) -> dict:
    """The whole dashboard (``figures.build``: every figure with names and "cùng kỳ") for one kind of filter."""
    from central.reports import figures

    load = os.getloadavg()[0]  # other work on the machine (each row says how busy it was)
    with engine.connect() as conn:
        seconds = median_time(lambda: figures.build(conn, period, scope))
    return row("reports", f"{label}: whole dashboard", seconds * 1000, "ms", "< 1 s", f"load avg {load:.1f}")


def time_queries(engine, period, scope, label: str) -> list[dict]:
    """Each query of the dashboard, for one kind of filter (the slowest)."""
    from central.reports import figures
    from central.reports.query import Query

    unit = "day" if period.days <= figures.DAILY_TREND_DAYS else "month"
    results = []
    with engine.connect() as conn:

        def fresh(method, *args):
            return lambda: getattr(Query(conn, period, scope), method)(*args)  # no cache between the runs

        parts = [
            ("ratings: count, share, index, flagged", fresh("ratings")),
            ("ratings per commune", fresh("ratings", "commune")),
            ("ratings per reception point", fresh("ratings", "site")),
            ("ratings per field", fresh("ratings", "service")),
            ("ratings per clerk (ranking)", fresh("ratings", "clerk")),
            ("distribution of levels", fresh("levels")),
            ("TT 01 indicator scores per commune and clerk", fresh("indicators")),
            ("queue totals", fresh("queue")),
            ("queue per clerk", fresh("queue", "clerk")),
            ("waiting-time histogram (p90)", fresh("waits")),
            ("weekday × hour heat map", fresh("heat")),
            (f"trend per {unit}", fresh("trend", unit)),
            ("same period last year", lambda: Query(conn, period.previous_year(), scope).ratings()),
        ]
        for name, fn in parts:
            results.append(row("reports", f"  {label}: {name}", median_time(fn) * 1000, "ms"))
    return results


def late_batch(central, log) -> list[dict]:
    """A kiosk back after weeks offline: 1,000 records of an old month through the real ingest."""
    from sqlalchemy import select

    from central import ingest
    from central.models import Device, DeviceStatus
    from central.reports import rollups

    with central.sessions() as s:
        device = s.scalar(select(Device.id).where(Device.commune_code == COMMUNE).order_by(Device.id))
        counter = 1 + s.scalar(select(DeviceStatus.last_counter).where(DeviceStatus.device_id == device))
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
    body = json.dumps(envelope).encode()
    spent = {"apply": 0.0}
    # the rollups' part: gathering, computing and writing the batch's share (either way of the ingest)
    targets = [(rollups.BatchShare, name) for name in ("gather", "compute", "write")]
    originals = [(owner, name, getattr(owner, name)) for owner, name in targets]

    def timed(original):
        def run(*args, **kwargs):
            t = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent["apply"] += time.perf_counter() - t

        return run

    for owner, name, original in originals:
        setattr(owner, name, timed(original))
    try:
        t = time.perf_counter()
        prepared = ingest.prepare_body(body, device, COMMUNE, 5000)  # read as the server reads it
        with central.engine.begin() as conn:
            result = ingest.store(conn, prepared, COMMUNE, device, counter, datetime.now())
        total = time.perf_counter() - t
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)
    assert len(result.accepted) == len(records) and result.typed, result.rejected
    log(f"  late batch: {total * 1000:.0f} ms, rollups {spent['apply'] * 1000:.0f} ms")
    return [
        row("reports", "late 1,000-record batch stored (ingest + rollups)", total * 1000, "ms", "", "read and stored"),
        row(
            "reports",
            "… of which keeping the rollups exact",
            spent["apply"] * 1000,
            "ms",
            "",
            f"{100 * spent['apply'] / total:.0f} % of the batch",
        ),
    ]


class KeptCluster:
    """A cluster that outlives the run (``KIOSK_BENCH_REPORTS_KEEP``): generated once, reused by later runs."""

    def __init__(self, base: str) -> None:
        self.base = Path(base)

    def __enter__(self):
        import os
        import pwd

        from tests.pg import PgCluster

        pg = PgCluster()
        pg.base, pg.port = self.base, 55499
        data = self.base / "data"
        if not data.exists():
            self.base.mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:
                user = pwd.getpwnam("postgres")
                os.chown(self.base, user.pw_uid, user.pw_gid)
            pg._run("initdb", "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync", "-D", str(data))
        options = f"-p {pg.port} -k {self.base} -c listen_addresses=127.0.0.1 -c max_connections=200"
        options += "".join(f" -c {name}={value}" for name, value in TUNING.items())
        pg._run("pg_ctl", "-D", str(data), "-o", options, "-l", str(self.base / "log"), "-w", "start")
        self.pg = pg
        return pg

    def __exit__(self, *exc):
        self.pg._run("pg_ctl", "-D", str(self.base / "data"), "-m", "fast", "stop")


def _database(pg, log) -> tuple[str, bool]:
    """The URL of the benchmark's database, and whether it already holds this scale's data."""
    import psycopg

    with psycopg.connect(f"host=127.0.0.1 port={pg.port} user=postgres dbname=postgres", autocommit=True) as c:
        exists = c.execute("SELECT 1 FROM pg_database WHERE datname = 'reports'").fetchone()
        if not exists:
            c.execute("CREATE DATABASE reports")
    url = pg.url("reports")
    if exists:
        with psycopg.connect(f"host=127.0.0.1 port={pg.port} user=postgres dbname=reports") as c:
            found = c.execute("SELECT to_regclass('bench_meta') IS NOT NULL").fetchone()[0]
            if found and c.execute("SELECT scale FROM bench_meta").fetchone()[0] == SCALE:
                log("  reusing the data generated by an earlier run")
                return url, True
        with psycopg.connect(f"host=127.0.0.1 port={pg.port} user=postgres dbname=postgres", autocommit=True) as c:
            c.execute("DROP DATABASE reports")
            c.execute("CREATE DATABASE reports")
    return url, False


def _rollups_current(engine) -> bool:
    """Whether the kept rollups have this release's grains (else they are rebuilt from the kept records)."""
    from central.report_models import GRAINS

    with engine.connect() as conn:
        grains = {g for (g,) in conn.exec_driver_sql("SELECT DISTINCT grain FROM rollup_totals")}
    return grains == set(GRAINS)


def run(log=print) -> list[dict]:
    import os

    from central.app import build_central
    from central.reports.query import Scope
    from common import settings as settings_mod

    global CLERK
    results = []
    keep = os.environ.get("KIOSK_BENCH_REPORTS_KEEP")
    with KeptCluster(keep) if keep else TunedCluster() as pg, tempfile.TemporaryDirectory() as tmp:
        url, ready = _database(pg, log) if keep else (pg.create_database("reports"), False)
        overrides = {"data_dir": tmp, "central_database_url": url, "central_secret_key": "bench-reports-master-key"}
        settings = settings_mod.load(overrides=overrides)
        central = build_central(settings)
        if ready and (os.environ.get("KIOSK_BENCH_REPORTS_REBUILD") == "1" or not _rollups_current(central.engine)):
            log("  the rollups' layout changed: rebuilding them from the kept records …")
            with central.engine.begin() as conn:
                sql(conn, "DROP TABLE IF EXISTS bench_meta")
            ready = False
            skip_generation = True
        else:
            skip_generation = False
        if not ready:
            if skip_generation:
                with central.engine.connect() as conn:
                    generated = conn.exec_driver_sql("SELECT generate FROM bench_timings").scalar()
                    conn.exec_driver_sql("DROP TABLE bench_timings")
                    conn.commit()
                timings = {"generate": generated}
            else:
                log(f"generating {RATINGS:,} ratings and {TICKETS:,} tickets over {DEVICES:,} kiosks …")
                timings = generate(central.engine, log)
            timings["rebuild"] = rebuild(central.engine, log)
            log(f"  rollups rebuilt: {timings['rebuild']:.0f} s")
            t = time.perf_counter()
            with central.engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
                conn.exec_driver_sql(f"CREATE TABLE bench_meta AS SELECT {SCALE}::float8 AS scale")
                conn.exec_driver_sql(
                    "CREATE TABLE bench_timings AS SELECT "
                    f"{timings['generate']}::float8 AS generate, {timings['rebuild']}::float8 AS rebuild"
                )
                conn.commit()
            log(f"  vacuum analyze: {time.perf_counter() - t:.0f} s")
        with central.engine.connect() as conn:
            generated, rebuilt = conn.exec_driver_sql("SELECT generate, rebuild FROM bench_timings").one()
            sizes = dict(
                conn.exec_driver_sql(
                    "SELECT relname, n_live_tup FROM pg_stat_user_tables WHERE relname LIKE 'rollup_%%'"
                ).all()
            )
            CLERK = str(conn.exec_driver_sql(f"SELECT md5('clerk' || {42 * PER_COMMUNE})::uuid").scalar())
        n = counts(central.engine)
        log(f"  {n}")
        results += [
            row(
                "reports",
                "records generated in PostgreSQL",
                sum(n.values()),
                "rows",
                "",
                ", ".join(f"{k} {v:,}" for k, v in n.items()),
            ),
            row("reports", "generation (INSERT … SELECT, then keys and indexes)", generated, "s"),
            row(
                "reports",
                "rebuild of every rollup from the records (two halves of the communes at once)",
                rebuilt,
                "s",
                "",
                ", ".join(f"{k[7:]} {v:,}" for k, v in sorted(sizes.items())),
            ),
        ]
        kinds = filter_kinds()  # after CLERK is known
        for label, period, scope_args in kinds:
            result = time_dashboard(central.engine, period, Scope(**scope_args), label)
            log(f"  {label}: {result['value']:.0f} ms")
            results.append(result)
        worst = max(results[3:], key=lambda r: r["value"])
        label, period, scope_args = next(k for k in kinds if worst["metric"] == f"{k[0]}: whole dashboard")
        results += time_queries(central.engine, period, Scope(**scope_args), label)
        results += late_batch(central, log)
        central.close()
    return results


if __name__ == "__main__":
    for r in run():
        print(f"{r['metric']:75s} {r['value']:12,.1f} {r['unit']:4s} {r['target']:6s} {r['comparison']}")
