"""Syncing through bad networks and crashes: each test ends with every record on the server exactly once,
and every record marked sent on the kiosk. Real server (waitress over loopback), real client, real
databases (SQLite and PostgreSQL at the server); faults are injected only at the edge."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from sqlalchemy import delete, func, select

from kiosk.models import SyncedRecord
from kiosk.uplink.client import SyncClient
from tests.central.faults import DeliverTwice, FailSometimes, ResettingProxy, SlowAnswers
from tests.central.helpers import COMMUNE, add_records, assert_exactly_once, server_ids


def synced_on_device(kiosk) -> int:
    with kiosk.sessions() as session:
        return session.scalar(select(func.count()).select_from(SyncedRecord))


def client(kiosk, **options) -> SyncClient:
    options = {"backoff": 0.01, "max_backoff": 0.05, "max_attempts": 8, "batch_size": 40, **options}
    return SyncClient(kiosk, **options)


def test_server_answering_500_mid_run(central_app, central, device, serve, make_kiosk):
    failing = []
    server = serve(central_app, wrap=lambda app: failing.append(FailSometimes(app)) or failing[0])
    kiosk = make_kiosk(server.url, device)
    made = add_records(kiosk, 300)
    report = client(kiosk).run()
    assert report.ok, report.message()
    assert failing[0].failed_before >= 2 and failing[0].failed_after >= 2
    assert report.sent == len(made) and report.already_had >= 1  # the lost answers' records came back
    assert_exactly_once(central, made)
    assert synced_on_device(kiosk) == len(made)


def test_connections_reset_in_the_middle_of_uploads_and_answers(central_app, central, device, serve, make_kiosk):
    server = serve(central_app)
    proxy = ResettingProxy(server.server.effective_port)
    try:
        kiosk = make_kiosk(proxy.url, device)
        made = add_records(kiosk, 300)
        report = client(kiosk, max_attempts=10).run()
    finally:
        proxy.close()
    assert report.ok, report.message()
    assert proxy.resets["upload"] >= 3 and proxy.resets["answer"] >= 3
    assert_exactly_once(central, made)
    assert synced_on_device(kiosk) == len(made)


def test_the_same_batch_delivered_twice(central_app, central, device, serve, make_kiosk):
    duplicator = []
    server = serve(central_app, wrap=lambda app: duplicator.append(DeliverTwice(app)) or duplicator[0])
    kiosk = make_kiosk(server.url, device)
    made = add_records(kiosk, 120)
    report = client(kiosk).run()
    assert report.ok, report.message()
    assert duplicator[0].duplicated >= 4
    assert_exactly_once(central, made)
    # The kiosk forgets what it sent (a database restored from a backup) and sends it all again.
    with kiosk.engine.begin() as conn:
        conn.execute(delete(SyncedRecord.__table__))
    again = client(kiosk).run()
    assert again.ok and again.accepted == 0 and again.already_had == len(made)
    assert_exactly_once(central, made)


def test_two_clients_with_the_same_device_id_at_once(central_app, central, device, serve, make_kiosk):
    """A cloned SD card (two databases, one identity) and, on one kiosk, `kiosk sync` next to `kiosk serve`."""
    server = serve(central_app)
    first, clone = make_kiosk(server.url, device, "first"), make_kiosk(server.url, device, "clone")
    made = add_records(first, 200) + add_records(clone, 200)
    reports = []

    def run(kiosk) -> None:
        reports.append(client(kiosk, batch_size=20).run())

    threads = [threading.Thread(target=run, args=(k,)) for k in (first, clone, first)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(reports) == 3 and all(r.ok for r in reports), [r.message() for r in reports]
    assert_exactly_once(central, made)
    assert synced_on_device(first) == synced_on_device(clone) == len(made) // 2


def test_client_killed_mid_sync_and_run_again(central_app, central, device, serve, make_kiosk, tmp_path):
    slow = []
    server = serve(central_app, wrap=lambda app: slow.append(SlowAnswers(app, 0.15)) or slow[0])
    kiosk = make_kiosk(server.url, device, "pi")
    made = add_records(kiosk, 400)
    kiosk.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env.update(
        KIOSK_DATA_DIR=str(tmp_path / "pi"),
        KIOSK_CONFIG=str(tmp_path / "none.toml"),
        KIOSK_CENTRAL_URL=server.url,
        KIOSK_DEVICE_ID=device[0],
        KIOSK_DEVICE_SECRET=device[1],
        KIOSK_COMMUNE_CODE=COMMUNE,
        KIOSK_SYNC_BATCH_SIZE="30",
        KIOSK_PRINTER="none",
        KIOSK_GPIO="mock",
    )
    command = [sys.executable, "-m", "kiosk.cli", "sync", "--once"]
    for _ in range(2):  # killed twice, each time while the server holds back an answer it committed
        stored_before = len(server_ids(central))
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while len(server_ids(central)) < stored_before + 60 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert slow[0].busy.wait(30)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert proc.returncode == -signal.SIGKILL
    stored = len(server_ids(central))
    assert 0 < stored < len(made), "the kill came mid-sync"
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "Sync finished" in finished.stdout
    assert_exactly_once(central, made)
    reopened = make_kiosk(server.url, device, "pi")
    assert synced_on_device(reopened) == len(made)
