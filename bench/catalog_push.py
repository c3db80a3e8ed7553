"""A catalogue saved centrally, live on 600 kiosks: the catalogue watch against one `kiosk-central serve`.

One `kiosk-central serve` (its own process, 8 threads plus the default ``central_watch_slots``) on PostgreSQL
(fsync on) with a province's 300 communes × 2 kiosks (the fixtures of bench/province.py). 600 kiosks — threads
of this process, each doing the real signed protocol over loopback — keep `GET /api/v1/config/changes` open as
`kiosk serve` does (``wait`` 25 s). Then an administrator saves a field's name in one commune after another
(the code behind the catalogue pages, in this process, like a second server process sharing the database). For
each save: seconds from the commit until each of the commune's two kiosks had the watch's answer, and until it
held the new document (the catalogue exchange, ``POST /api/v1/catalog``, that also tells the server the version
it now uses). Then a real `kiosk serve` (its own process, the 601st kiosk, syncing once an hour) in a commune of
its own: seconds from each save until its `/ticket` page names the field by its new name — the document applied
and the screens reloaded.

Also measured: the server's memory (RSS) with the 600 requests waiting, and the CPU of the server and of
PostgreSQL while the 600 kiosks just watch; then, for comparison, the cheap check the watch replaced — every
kiosk asking `?wait=0` every 2.5 s — over the same time. The kiosks' threads share the machine's cores with the
server, so both CPU figures are for a busier machine than a real server's.

Run: python bench/catalog_push.py   (or python -m bench catalog_push).
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stats import percentile, row  # noqa: E402

COMMUNES = int(os.environ.get("KIOSK_BENCH_PUSH_COMMUNES", "300"))  # × 2 kiosks
WAIT = 25.0  # catalog_watch_wait of the kiosks
SAVES = min(40, COMMUNES)
SAVE_EVERY = 1.5  # seconds between two saves (each in another commune)
IDLE_WINDOW = float(
    os.environ.get("KIOSK_BENCH_PUSH_WINDOW", "60")
)  # seconds of CPU measured while the kiosks only watch
CHECK_EVERY = 2.5  # the cheap check's period, for comparison


class Kiosk(threading.Thread):
    """One kiosk's catalogue watch over the real signed protocol: ask, and on a change take the document."""

    def __init__(self, url: str, k: dict, stop: threading.Event, log: dict[str, list]) -> None:
        super().__init__(daemon=True, name=f"kiosk-{k['device'][:8]}")
        import requests

        self.url, self.k, self.stopping, self.log = url, k, stop, log
        self.http = requests.Session()
        self.counter = 0
        self.version = ""
        self.ready = threading.Event()

    def signed(self, method: str, path: str, body: bytes = b"", **params) -> dict:
        from sync import protocol

        self.counter += 1
        headers = protocol.request_headers(self.k["secret"], method, path, self.k["device"], self.counter, body)
        if body:
            headers.update({"Content-Type": "application/json", "Content-Encoding": "gzip"})
        answer = self.http.request(
            method, self.url + path, params=params or None, data=body or None, headers=headers, timeout=WAIT + 30
        )
        signature = answer.headers.get(protocol.SIGNATURE_HEADER, "")
        ok = protocol.response_ok(self.k["secret"], signature, self.k["device"], self.counter, answer.content)
        if answer.status_code != 200 or not ok:
            raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.text[:200]}")
        return answer.json()

    def exchange(self) -> str:
        """The catalogue exchange a kiosk makes on a change; the version of the document it got."""
        from sync import protocol

        body = {"v": 1, "device": self.k["device"], "commune": self.k["commune"], "applied": self.version}
        body |= {"refused": None, "catalog": None, "digest": None, "changed": []}
        doc = self.signed("POST", protocol.CATALOG_PATH, protocol.encode_batch(body))["catalog"]
        return doc["version"]

    def run(self) -> None:
        from sync import protocol

        while not self.stopping.is_set():
            answer = self.signed("GET", protocol.CHANGES_PATH, since=self.version, wait=f"{WAIT:g}")
            if answer.get("changed"):
                heard = time.perf_counter()
                version = self.exchange()
                self.log["answers"].append((self.k["commune"], heard, time.perf_counter(), version))
                self.version = version
            self.ready.set()
        self.http.close()


def checker(url: str, k: dict, until: float, counts: list[int]) -> None:
    """The alternative: a version check every CHECK_EVERY seconds (``wait=0``), with the same signature."""
    import requests

    from sync import protocol

    http = requests.Session()
    counter = 10_000_000
    time.sleep(random.uniform(0, CHECK_EVERY))
    while time.perf_counter() < until:
        counter += 1
        headers = protocol.request_headers(k["secret"], "GET", protocol.CHANGES_PATH, k["device"], counter, b"")
        try:
            answer = http.get(
                url + protocol.CHANGES_PATH, params={"since": "x", "wait": "0"}, headers=headers, timeout=30
            )
            counts.append(answer.status_code)
        except requests.RequestException as exc:
            counts.append(type(exc).__name__)
        time.sleep(CHECK_EVERY)
    http.close()


def cpu_now(pids: list[int]) -> dict[int, float]:
    from bench.province import Usage

    return {pid: Usage.cpu([pid]) for pid in pids}


def cpu_since(before: dict[int, float], pids: list[int]) -> float:
    """CPU seconds of ``pids`` since ``before`` (a process that started since counts from zero)."""
    from bench.province import Usage

    return sum(max(0.0, Usage.cpu([pid]) - before.get(pid, 0.0)) for pid in pids)


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


REAL_COMMUNE = "99999"
SCREEN_SAVES = 15


def real_kiosk(tmp: Path, server_url: str, database_url: str):
    """A real `kiosk serve` (its own process) registered in commune REAL_COMMUNE, syncing once an hour."""
    import re
    import subprocess

    from tests.server import KioskServer

    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env |= {"KIOSK_DATA_DIR": str(tmp), "KIOSK_CENTRAL_DATABASE_URL": database_url, "KIOSK_CONFIG": str(tmp / "none")}
    out = subprocess.run(
        [sys.executable, "-m", "central.cli", "add-device", "Kiosk thật", "--commune", REAL_COMMUNE],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    device = dict(re.findall(r"^(KIOSK_[A-Z_]+)=(\S+)$", out, re.M))
    kiosk = KioskServer(
        tmp / "kiosk",
        env={
            **device,
            "KIOSK_CENTRAL_URL": server_url,
            "KIOSK_SYNC_INTERVAL": "3600",
            "KIOSK_CATALOG_WATCH_WAIT": f"{WAIT:g}",
        },
    )
    kiosk.cli("init")
    return kiosk.start()


def screen_latency(engine, kiosk) -> list[float]:
    """Seconds from each save of field HT's name to the real kiosk's /ticket showing it."""
    import requests
    from sqlalchemy import text

    deadline = time.monotonic() + 60
    while True:  # the kiosk's first exchange: its catalogue adopted as the commune's
        with engine.connect() as conn:
            prefix = conn.execute(
                text("SELECT prefix FROM services WHERE commune_code = :c AND code = 'HT'"), {"c": REAL_COMMUNE}
            ).scalar()
        if prefix is not None:
            break
        assert time.monotonic() < deadline, "the real kiosk never exchanged its catalogue"
        time.sleep(0.2)
    time.sleep(2)
    seen = []
    for n in range(SCREEN_SAVES):
        name = f"Hộ tịch lần {n}"
        saved = save(engine, REAL_COMMUNE, n, name, prefix)
        while name not in requests.get(f"{kiosk.base}/ticket", timeout=10).text:
            assert time.perf_counter() - saved < 60, f"{name} never reached /ticket"
            time.sleep(0.02)
        seen.append(time.perf_counter() - saved)
        time.sleep(random.uniform(0.5, 2.0))
    return seen


def save(engine, commune: str, n: int, name: str | None = None, prefix: str = "A") -> float:
    """An administrator renames field HT of ``commune`` (the pages' code); the moment it was committed."""
    from sqlalchemy.orm import Session

    from central import audit, catalog_edit

    with Session(engine) as session, session.begin():
        catalog_edit.save_service(
            session,
            commune,
            "HT",
            name or f"Hộ tịch {n}",
            prefix,
            "",
            "on",
            new=False,
            actor=audit.Actor("bench"),
            now=datetime.now(),
        )
    return time.perf_counter()


def measure(pg, tmp: Path, log) -> list[dict]:
    from bench.province import MASTER, Usage, postgres_pids, setup
    from bench.sync import CentralProcess
    from central.app import make_central_engine
    from central.migrate import upgrade

    url = pg.create_database("push")
    engine = make_central_engine(url)
    upgrade(engine)
    (tmp / "central_secret_key").write_text(MASTER)
    kiosks = setup(engine, COMMUNES, MASTER.encode())
    with engine.begin() as conn:  # a prefix each, as the pages require of a field saved there
        conn.exec_driver_sql("UPDATE services SET prefix = chr(65 + position)")
    server = CentralProcess(tmp, url, threads=8)
    pid, cores = server.proc.pid, os.cpu_count() or 1
    rss_idle = rss_mb(pid)
    stop = threading.Event()
    answers: dict[str, list] = {"answers": []}
    try:
        started = time.perf_counter()
        watchers = [Kiosk(server.url, k, stop, answers) for k in kiosks]
        for w in watchers:
            w.start()
        for w in watchers:
            assert w.ready.wait(120), "a kiosk did not get its first answer"
        log(f"  {len(watchers)} kiosks watching after {time.perf_counter() - started:.1f} s")
        time.sleep(3)
        rss_waiting = rss_mb(pid)
        cpu0, pg0, t0 = Usage.cpu([pid]), cpu_now(postgres_pids()), time.perf_counter()
        time.sleep(IDLE_WINDOW)
        idle_cpu, idle_pg = Usage.cpu([pid]) - cpu0, cpu_since(pg0, postgres_pids())
        idle_window = time.perf_counter() - t0
        log(f"  watching: server {idle_cpu:.1f} s CPU, PostgreSQL {idle_pg:.1f} s over {idle_window:.0f} s")

        answers["answers"].clear()
        communes = random.Random(5).sample(sorted({k["commune"] for k in kiosks}), SAVES)
        saved: dict[str, float] = {}
        for n, commune in enumerate(communes):
            saved[commune] = save(engine, commune, n)
            time.sleep(SAVE_EVERY)
        time.sleep(5)
        heard = [a[1] - saved[a[0]] for a in answers["answers"] if a[0] in saved]
        held = [a[2] - saved[a[0]] for a in answers["answers"] if a[0] in saved]
        missing = 2 * SAVES - len(heard)
        log(f"  {len(heard)} kiosks notified of {SAVES} saves; p95 {percentile(held, 0.95):.2f} s to the document")
        kiosk = real_kiosk(tmp, server.url, url)
        try:
            screen = screen_latency(engine, kiosk)
        finally:
            kiosk.stop()
        log(
            f"  a real kiosk serve: save → /ticket p50 {percentile(screen, 0.5):.2f} s, p95 {percentile(screen, 0.95):.2f} s"
        )
        stop.set()
        for w in watchers:
            w.join(WAIT + 10)

        counts: list[int] = []
        until = time.perf_counter() + IDLE_WINDOW
        cpu0, pg0, t0 = Usage.cpu([pid]), cpu_now(postgres_pids()), time.perf_counter()
        checkers = [threading.Thread(target=checker, args=(server.url, k, until, counts), daemon=True) for k in kiosks]
        for c in checkers:
            c.start()
        for c in checkers:
            c.join(IDLE_WINDOW + 60)
        check_cpu, check_pg = Usage.cpu([pid]) - cpu0, cpu_since(pg0, postgres_pids())
        failed = sum(1 for c in counts if c != 200)
        check_window = time.perf_counter() - t0
        log(f"  cheap check: {len(counts)} requests, server {check_cpu:.1f} s CPU, PostgreSQL {check_pg:.1f} s")
    finally:
        stop.set()
        server.stop()
        engine.dispose()

    def share(cpu: float, window: float) -> str:
        return f"{100 * cpu / (window * cores):.1f} % of {cores} cores over {window:.0f} s"

    label = f"{len(kiosks)} kiosks ({COMMUNES} communes) on one server"
    return [
        row("catalog_push", f"{label}: save → kiosk notified, p50", percentile(heard, 0.5), "s"),
        row("catalog_push", f"{label}: save → kiosk notified, p95", percentile(heard, 0.95), "s"),
        row(
            "catalog_push",
            f"{label}: save → new document at the kiosk, p50",
            percentile(held, 0.5),
            "s",
            "",
            f"{len(held)} kiosk answers for {SAVES} saves, {missing} missing",
        ),
        row(
            "catalog_push",
            f"{label}: save → new document at the kiosk, p95",
            percentile(held, 0.95),
            "s",
            "",
        ),
        row(
            "catalog_push",
            f"{label}: save → a real `kiosk serve`'s /ticket shows it, p50",
            percentile(screen, 0.5),
            "s",
            "",
            f"{len(screen)} saves; the 601st kiosk, its own process",
        ),
        row(
            "catalog_push",
            f"{label}: save → a real `kiosk serve`'s /ticket shows it, p95",
            percentile(screen, 0.95),
            "s",
            "< 5 s",
        ),
        row(
            "catalog_push",
            f"{label}: server RSS with every kiosk waiting",
            rss_waiting,
            "MB",
            "",
            f"{rss_idle:.0f} MB before they came",
        ),
        row(
            "catalog_push",
            f"{label}: CPU while watching (kiosk-central + PostgreSQL)",
            idle_cpu + idle_pg,
            "s",
            "",
            f"{idle_cpu:.1f} s / {idle_pg:.1f} s; {share(idle_cpu + idle_pg, idle_window)}",
        ),
        row(
            "catalog_push",
            f"{label}: CPU of a check every {CHECK_EVERY:g} s instead (kiosk-central + PostgreSQL)",
            check_cpu + check_pg,
            "s",
            "",
            f"{check_cpu:.1f} s / {check_pg:.1f} s; {share(check_cpu + check_pg, check_window)}; "
            f"{len(counts) / check_window:.0f} requests/s, {failed} failed",
        ),
    ]


def run(log=print) -> list[dict]:
    from tests.pg import PgCluster

    with tempfile.TemporaryDirectory() as tmp, PgCluster(durable=True) as pg:
        return measure(pg, Path(tmp), log)


if __name__ == "__main__":
    for r in run():
        print(f"{r['metric']:90s} {r['value']:10,.2f} {r['unit']:4s} {r['comparison']}")
