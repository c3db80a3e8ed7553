"""The nightly sync of a province, and of a country, against one `kiosk-central serve` on PostgreSQL (fsync on).

A province: 300 communes × 2 kiosks; a country: 3,321 communes × 2 kiosks, on one server. Each kiosk holds one
working day of records made the way a kiosk makes them (tickets, their clerk calls and completions, a few
transfers and no-shows, ratings linked to the ticket and clerk, TT 01 answers to some, a comment now and then:
about 600 records). At night each kiosk does what `kiosk-sync.timer` starts: it waits the timer's randomised
delay (``RandomizedDelaySec=2h`` after 01:00), then `kiosk sync` sends its records in signed gzip batches of at
most 1,000 (``POST /api/v1/sync``) and exchanges the catalogue (``POST /api/v1/catalog``), the real protocol
over HTTP on loopback. Kiosks are threads of this process (at most ``CLIENTS`` at once); their bodies are built
and signed before the clock starts.

Time is compressed: the two hours of random delay are squeezed by ``COMPRESSION`` (each kiosk starts at its
drawn delay ÷ the factor), while every request takes its real time. The kiosks therefore arrive that many times
faster than they would: the server gets a harsher load than any real night, and if it keeps up here it keeps up
there. Reported: the window (first request to last answer, in compressed time, and what it stands for: the two
hours of the timer, unless the server fell behind), requests' latency (p50, p95, p99), the server's CPU (the
`kiosk-central` process and PostgreSQL's processes, each as seconds and as a share of the machine's cores over
the window), records per second; and once more with every kiosk starting at the same second (a power cut ends
at night): the window is then the server's capacity. Raw COPY of the same records into the same database
is measured in the same run for comparison.

Run: python bench/province.py   (or python -m bench province). KIOSK_BENCH_PROVINCE_COUNTRY=0 skips the country.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stats import percentile, row  # noqa: E402

DELAY = 7200  # RandomizedDelaySec=2h of systemd/kiosk-sync.timer
COMPRESSION = 60  # two hours of random delay in two minutes
CLIENTS = 48  # kiosks syncing at the same moment, at most
SERVER_THREADS = 8  # `kiosk-central serve --threads`
BATCH = 1000  # sync_batch_size
DAY = date(2026, 11, 19)
SERVICES = ("HT", "CT", "DD", "BT", "NCC", "TP")
MASTER = "bench-master-key-0123456789abcdef"


def kiosk_day(rng: random.Random, device: str, counter: int, clerk: str, services: tuple[str, ...]) -> list[dict]:
    """One working day of a kiosk's records, in the order it made them (as its outbox sends them)."""
    records: list[dict] = []
    seq = 0

    def add(kind: str, when: datetime, **fields) -> str:
        nonlocal seq
        seq += 1
        rid = str(uuid.uuid4())
        records.append(
            {"type": kind, "id": rid, "seq": seq, "device_time": when.isoformat(), "clock_synced": True, **fields}
        )
        return rid

    start = datetime(DAY.year, DAY.month, DAY.day, 0, 30)  # 07:30 local, in UTC
    for n in range(1, rng.randint(100, 140) + 1):
        issued = start + timedelta(seconds=n * 230 + rng.randint(0, 120))
        service = rng.choice(services)
        ticket = add(
            "ticket",
            issued,
            service_code=service,
            business_day=DAY.isoformat(),
            number=n,
            display_number=f"A{n:03d}",
            priority=rng.random() < 0.05,
            channel="touch",
        )
        called = issued + timedelta(seconds=rng.randint(30, 1500))
        add(
            "clerk_action", called, action="call", counter_number=counter, clerk_id=clerk, ticket_id=ticket, detail=None
        )
        if rng.random() < 0.04:
            add(
                "clerk_action",
                called + timedelta(seconds=20),
                action="no_show",
                counter_number=counter,
                clerk_id=clerk,
                ticket_id=ticket,
                detail=None,
            )
            continue
        if rng.random() < 0.05:
            target = rng.choice([s for s in services if s != service] or [service])
            add(
                "clerk_action",
                called + timedelta(seconds=60),
                action="transfer",
                counter_number=counter,
                clerk_id=clerk,
                ticket_id=ticket,
                detail={"from": service, "to": target},
            )
            service = target
        done = called + timedelta(seconds=rng.randint(120, 900))
        add(
            "clerk_action",
            done,
            action="complete",
            counter_number=counter,
            clerk_id=clerk,
            ticket_id=ticket,
            detail=None,
        )
        if rng.random() < 0.8:
            level, points = rng.choices(
                [("very_satisfied", 2), ("satisfied", 1), ("unsatisfied", 0)], weights=[55, 35, 10]
            )[0]
            rating = add(
                "rating",
                done + timedelta(seconds=15),
                level=level,
                points=points,
                channel="touch",
                panel=f"touch:{counter}",
                counted=True,
                flag=None,
                counter_number=counter,
                ticket_id=ticket,
                clerk_id=clerk,
                service_code=service,
                **({"dossier_codes": f"000.00.12.H56-{DAY:%y%m%d}-{n:04d}"} if rng.random() < 0.3 else {}),
            )
            if rng.random() < 0.15:
                for indicator in ("time", "contacts", "agencies", "attitude"):
                    add(
                        "indicator_answer",
                        done + timedelta(seconds=40),
                        rating_id=rating,
                        indicator=indicator,
                        level="satisfied",
                        points=rng.choice((2, 2, 1, 0)),
                    )
            if rng.random() < 0.03:
                add(
                    "comment",
                    done + timedelta(seconds=60),
                    rating_id=rating,
                    counter_number=counter,
                    text="Cán bộ hướng dẫn tận tình, thủ tục nhanh gọn.",
                    contact=None,
                )
    return records


def setup(engine, communes: int, master: bytes) -> list[dict]:
    """Provinces, communes (each with its centre, six fields, two counters and clerks), two kiosks each."""
    from sqlalchemy import text

    from central.keys import device_secret, fingerprint

    provinces = 34
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO provinces (code, name, created_at) SELECT 'P' || p, 'Tỉnh ' || p, now() FROM generate_series(1, :n) p"
            ),
            {"n": provinces},
        )
        conn.execute(
            text(
                "INSERT INTO communes (code, name, province_code, created_at, catalog_owner) "
                "SELECT lpad(c::text, 5, '0'), 'Xã ' || c, 'P' || (1 + c % :p), now(), 'central' "
                "FROM generate_series(1, :n) c"
            ),
            {"n": communes, "p": provinces},
        )
        conn.execute(
            text(
                "INSERT INTO sites (commune_code, code, name, active, created_at) "
                "SELECT code, 'TT', 'Trung tâm Phục vụ hành chính công', true, now() FROM communes"
            )
        )
        conn.execute(
            text(
                "INSERT INTO services (commune_code, code, name, prefix, position, active) "
                "SELECT c.code, s.code, s.code, '', s.pos, true FROM communes c "
                "CROSS JOIN (SELECT unnest(CAST(:codes AS text[])) AS code, generate_series(0, 5) AS pos) s"
            ),
            {"codes": list(SERVICES)},
        )
        conn.execute(
            text(
                "INSERT INTO counters (commune_code, number, name, active) "
                "SELECT code, n, 'Quầy ' || n, true FROM communes CROSS JOIN generate_series(1, 2) n"
            )
        )
        conn.execute(
            text(
                "INSERT INTO counter_services (commune_code, counter_number, service_code) "
                "SELECT commune_code, number, s FROM counters CROSS JOIN unnest(CAST(:codes AS text[])) s"
            ),
            {"codes": list(SERVICES)},
        )
        conn.execute(
            text(
                "INSERT INTO scale_levels (commune_code, key, label, points, position, active) "
                "SELECT c.code, l.key, l.label, l.points, l.pos, true FROM communes c CROSS JOIN (VALUES "
                "('very_satisfied', 'Rất hài lòng', 2, 0), ('satisfied', 'Hài lòng', 1, 1), "
                "('unsatisfied', 'Không hài lòng', 0, 2)) l(key, label, points, pos)"
            )
        )
        kiosks = []
        for c in range(1, communes + 1):
            commune = f"{c:05d}"
            for counter in (1, 2):
                device = str(uuid.uuid4())
                secret = device_secret(master, device, 1)
                kiosks.append(
                    {
                        "device": device,
                        "secret": secret,
                        "commune": commune,
                        "counter": counter,
                        "clerk": str(uuid.uuid4()),
                        "fingerprint": fingerprint(secret),
                    }
                )
        conn.execute(
            text(
                "INSERT INTO clerks (commune_code, id, code, name, pin_hash, counter_number, active) "
                "VALUES (:commune, :clerk, 'CC0' || :counter, 'Công chức ' || :counter, 'x', :counter, true)"
            ),
            kiosks,
        )
        conn.execute(
            text(
                "INSERT INTO devices (id, commune_code, site_code, name, key_version, secret_fingerprint, enabled, "
                "created_at) VALUES (:device, :commune, 'TT', 'Kiosk ' || :counter, 1, :fingerprint, true, now())"
            ),
            kiosks,
        )
        conn.execute(
            text("INSERT INTO device_status (commune_code, device_id, last_counter) VALUES (:commune, :device, 0)"),
            kiosks,
        )
    return kiosks


def _batches(k: dict, records: list[dict], sent_at: datetime, counter: int, count_left: bool = True) -> list[tuple]:
    """The sync requests carrying ``records`` in batches of :data:`BATCH`, counted on from ``counter``:
    ``(path, body, counter, records)``. ``count_left``: the status says how many records are still to come (else 0)."""
    from sync import protocol

    requests_ = []
    for start in range(0, len(records), BATCH):
        chunk = records[start : start + BATCH]
        counter += 1
        body = protocol.encode_batch(
            {
                "v": 1,
                "device": k["device"],
                "commune": k["commune"],
                "sent_at": sent_at.isoformat(),
                "clock_synced": True,
                "status": {
                    "unsynced": len(records) - start - len(chunk) if count_left else 0,
                    "printer": "ok",
                    "version": "bench",
                },
                "records": chunk,
            }
        )
        requests_.append((protocol.SYNC_PATH, body, counter, len(chunk)))
    return requests_


def bodies(kiosks: list[dict], seed: int) -> int:
    """Each kiosk's signed requests, built before the clock starts; returns the number of records."""
    from sync import protocol

    rng = random.Random(seed)
    total = 0
    for k in kiosks:
        records = kiosk_day(rng, k["device"], k["counter"], k["clerk"], SERVICES)
        total += len(records)
        sent_at = datetime(DAY.year, DAY.month, DAY.day, 18, 0) + timedelta(seconds=rng.randint(0, DELAY))
        requests_ = _batches(k, records, sent_at, 0)
        counter = len(requests_)
        catalog = protocol.encode_batch(
            {
                "v": 1,
                "device": k["device"],
                "commune": k["commune"],
                "applied": None,
                "refused": None,
                "catalog": None,
                "digest": None,
                "changed": [],
            }
        )
        counter += 1
        requests_.append((protocol.CATALOG_PATH, catalog, counter, 0))
        k["requests"] = [
            (path, body, protocol.request_headers(k["secret"], "POST", path, k["device"], n, body), records)
            for path, body, n, records in requests_
        ]
        k["delay"] = rng.uniform(0, DELAY)
    return total


class Usage:
    """CPU seconds of a set of processes (by pid, from /proc), sampled before and after."""

    TICK = os.sysconf("SC_CLK_TCK")

    @classmethod
    def cpu(cls, pids: list[int]) -> float:
        total = 0.0
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / cls.TICK
            except (FileNotFoundError, ProcessLookupError, IndexError):
                pass
        return total


def postgres_pids() -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as fh:
                    if fh.read().strip() in ("postgres", "postmaster"):
                        pids.append(int(entry))
            except OSError:
                pass
    return pids


def night(url: str, kiosks: list[dict], compression: float | None, server_pid: int) -> dict:
    """Every kiosk syncs once; ``compression`` None = all at the same second. Returns the measurements."""
    import requests

    latencies: dict[str, list[float]] = {"sync": [], "catalog": []}
    errors: list[str] = []
    local = threading.local()
    order = sorted(kiosks, key=lambda k: k["delay"]) if compression else list(kiosks)
    started = time.perf_counter()
    ended = [started]

    def one(k: dict) -> None:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        if compression:
            wait = started + k["delay"] / compression - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
        for path, body, headers, _records in k["requests"]:
            headers = {**headers, "Content-Encoding": "gzip", "Content-Type": "application/json"}
            t = time.perf_counter()
            answer = session.post(url + path, data=body, headers=headers, timeout=300)
            latencies["sync" if path.endswith("/sync") else "catalog"].append(time.perf_counter() - t)
            if answer.status_code != 200:
                errors.append(f"{path} {answer.status_code} {answer.text[:200]}")
        ended[0] = max(ended[0], time.perf_counter())

    pg = postgres_pids()
    cpu_server, cpu_pg = Usage.cpu([server_pid]), Usage.cpu(pg)
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(one, order))
    window = ended[0] - started
    cpu_server, cpu_pg = Usage.cpu([server_pid]) - cpu_server, Usage.cpu(pg) - cpu_pg
    assert not errors, errors[:5]
    return {"window": window, "latencies": latencies, "cpu_server": cpu_server, "cpu_pg": cpu_pg}


def raw_copy_rate(url: str, kiosks: list[dict]) -> float:
    """Records/s of a raw COPY of the same kind of records (one kiosk-day per transaction) into a fresh database."""
    from sqlalchemy import create_engine

    from bench.sync import raw_copy, server_rows
    from central.migrate import upgrade

    engine = create_engine(url)
    upgrade(engine)
    rng = random.Random(99)
    days = [kiosk_day(rng, k["device"], k["counter"], k["clerk"], SERVICES) for k in kiosks[:100]]
    rows = [
        server_rows(records, k["commune"], k["device"], datetime.now())
        for records, k in zip(days, kiosks, strict=False)
    ]
    n = sum(len(r) for r in days)
    with engine.connect() as conn:
        t = time.perf_counter()
        for by_kind in rows:
            raw_copy(conn, by_kind)
        elapsed = time.perf_counter() - t
    engine.dispose()
    return n / elapsed


def scenario(pg, tmp: Path, label: str, communes: int, compression: float, log, burst: bool = True) -> list[dict]:
    """One night of ``communes`` × 2 kiosks spread over the timer's delay ÷ ``compression``; with ``burst``, a second
    night with every kiosk at the same second (the server's capacity)."""
    from bench.sync import CentralProcess
    from central.app import make_central_engine
    from central.migrate import upgrade

    url = pg.create_database(f"night_{communes}")
    engine = make_central_engine(url)
    upgrade(engine)
    data = tmp / f"central-{communes}"
    data.mkdir()
    (data / "central_secret_key").write_text(MASTER)
    kiosks = setup(engine, communes, MASTER.encode())
    total = bodies(kiosks, seed=communes)
    log(f"  {label}: {len(kiosks):,} kiosks, {total:,} records; bodies signed")
    server = CentralProcess(data, url, threads=SERVER_THREADS)
    try:
        spread = night(server.url, kiosks, compression, server.proc.pid)
        log(f"  {label}: spread over the timer's delay ÷ {compression:g}: {spread['window']:.0f} s")
        nights = [("timer's random delay", spread, total)]
        again = 0
        if burst:  # the same night again, everything at once (new records: the same kiosks, a second set of bodies)
            for k in kiosks:
                k["counter_base"] = len(k["requests"])
            again = _again(kiosks, seed=communes + 1)
            at_once = night(server.url, kiosks, None, server.proc.pid)
            log(f"  {label}: all at once: {at_once['window']:.0f} s")
            nights.append(("all kiosks at once", at_once, again))
    finally:
        server.stop()
    with engine.connect() as conn:
        stored = sum(
            conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar()
            for t in ("tickets", "ratings", "indicator_answers", "comments", "clerk_actions")
        )
    engine.dispose()
    assert stored == total + again, (stored, total, again)
    cores = os.cpu_count() or 1
    results = []
    for name, run_, records in nights:
        window = run_["window"]
        syncs = run_["latencies"]["sync"]
        every = syncs + run_["latencies"]["catalog"]
        spread_s = DELAY / compression
        if not name.startswith("timer"):
            standing = "the server's capacity"
        elif window <= 1.15 * spread_s:
            standing = (
                f"{DELAY / 3600:g} h of timer delay ÷ {compression:g}, the server kept up; "
                f"a real night: the timer's {DELAY / 3600:g} h"
            )
        else:
            standing = (
                f"{DELAY / 3600:g} h of timer delay ÷ {compression:g} = {spread_s:.0f} s, the server fell behind: "
                f"a real night's work is {window:.0f} s of server time in the timer's {DELAY / 3600:g} h"
            )
        results += [
            row("province", f"{label}, {name}: sync window", window, "s", "", standing),
            row(
                "province",
                f"{label}, {name}: records stored per second",
                records / window,
                "records/s",
                "",
                f"{records:,} records, {len(every):,} requests",
            ),
            row("province", f"{label}, {name}: sync request p50", percentile(syncs, 0.5) * 1000, "ms"),
            row("province", f"{label}, {name}: sync request p95", percentile(syncs, 0.95) * 1000, "ms"),
            row("province", f"{label}, {name}: any request p99", percentile(every, 0.99) * 1000, "ms"),
            row(
                "province",
                f"{label}, {name}: server CPU (kiosk-central / PostgreSQL)",
                run_["cpu_server"] + run_["cpu_pg"],
                "s",
                "",
                f"{run_['cpu_server']:.0f} s / {run_['cpu_pg']:.0f} s; "
                f"{100 * (run_['cpu_server'] + run_['cpu_pg']) / (window * cores):.0f} % of {cores} cores",
            ),
        ]
    return results


def _again(kiosks: list[dict], seed: int) -> int:
    """A new day of records for each kiosk, signed with counters above the ones already used; their number."""
    from sync import protocol

    rng = random.Random(seed)
    total = 0
    for k in kiosks:
        records = kiosk_day(rng, k["device"], k["counter"], k["clerk"], SERVICES)
        total += len(records)
        k["requests"] = [
            (path, body, protocol.request_headers(k["secret"], "POST", path, k["device"], n, body), records)
            for path, body, n, records in _batches(k, records, datetime.now(), k["counter_base"], count_left=False)
        ]
    return total


def run(log=print) -> list[dict]:
    from bench.reports import TUNING
    from tests.pg import PgCluster

    results: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp, PgCluster(durable=True) as pg:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={pg.port} user=postgres", autocommit=True) as c:
            for name, value in TUNING.items():
                c.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        pg._run("pg_ctl", "-D", str(pg.base / "data"), "-w", "-l", str(pg.base / "log"), "restart")
        one = {"device": str(uuid.uuid4()), "commune": "00001", "counter": 1, "clerk": str(uuid.uuid4())}
        copy = raw_copy_rate(pg.create_database("copy"), [one] * 100)
        log(f"  raw COPY of the same records: {copy:,.0f} records/s")
        results.append(
            row("province", "raw COPY of the same records (one kiosk-day per transaction)", copy, "records/s")
        )
        results += scenario(pg, Path(tmp), "province, 300 communes × 2 kiosks", 300, COMPRESSION, log)
        if os.environ.get("KIOSK_BENCH_PROVINCE_COUNTRY", "1") != "0":
            results += scenario(pg, Path(tmp), "country, 3,321 communes × 2 kiosks", 3321, COMPRESSION, log)
    return results


if __name__ == "__main__":
    for r in run():
        print(f"{r['metric']:80s} {r['value']:12,.1f} {r['unit']:10s} {r['comparison']}")
