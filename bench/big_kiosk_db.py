"""A kiosk database of a given size, years of visits: tickets, their queue state, ratings, answers, comments.

Made by `kiosk init` (the real schema and indexes) and filled with ``INSERT … SELECT`` in SQLite itself: about
1 KB per visit, 100 MB in half a minute. For the start-up benchmark (bench/startup.py).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

BATCH = 5000

VISITS = """
WITH RECURSIVE n(i) AS (SELECT :first UNION ALL SELECT i + 1 FROM n WHERE i < :last)
INSERT INTO tickets (service_code, business_day, number, display_number, priority, channel, id, seq, device_time,
                     clock_synced)
SELECT s.code, date('2024-01-01', '+' || (i / 400) || ' days'), i % 400 + 1, s.code || (i % 400 + 1), 0, 'touch',
       lower(hex(randomblob(16))), 3 * i,
       datetime('2024-01-01 08:00', '+' || (i / 400) || ' days', '+' || (i % 400) || ' minutes'), 1
FROM n JOIN (SELECT code, row_number() OVER (ORDER BY code) - 1 AS k FROM services) s
  ON s.k = i % (SELECT count(*) FROM services)
"""
STATES = """
INSERT INTO ticket_state (ticket_id, status, service_code, priority, queued_at, counter_number, called_at,
                          finished_at, queue_day, provisional, token)
SELECT id, 'done', service_code, 0, device_time, 1 + number % 3, device_time, device_time, business_day, 0,
       lower(hex(randomblob(16)))
FROM tickets WHERE seq > :seq
"""
RATINGS = """
INSERT INTO ratings (level, points, channel, panel, counted, counter_number, ticket_id, service_code, id, seq,
                     device_time, clock_synced)
SELECT CASE number % 3 WHEN 0 THEN 'very_satisfied' WHEN 1 THEN 'satisfied' ELSE 'unsatisfied' END,
       2 - number % 3, 'touch', 'screen', 1, 1 + number % 3, id, service_code, lower(hex(randomblob(16))),
       seq + 1, device_time, 1
FROM tickets WHERE seq > :seq
"""
ANSWERS = """
INSERT INTO indicator_answers (rating_id, indicator, level, points, id, seq, device_time, clock_synced)
SELECT r.id, k.name, r.level, r.points, lower(hex(randomblob(16))), 4 * r.seq + k.n, r.device_time, 1
FROM ratings r, (SELECT 0 AS n, 'time' AS name UNION ALL SELECT 1, 'contacts' UNION ALL SELECT 2, 'agencies'
                 UNION ALL SELECT 3, 'attitude') k
WHERE r.seq > :seq AND r.seq % 10 < 3
"""
COMMENTS = """
INSERT INTO comments (rating_id, counter_number, text, id, seq, device_time, clock_synced)
SELECT id, counter_number, substr(:words, 1, 50 + seq % 200), lower(hex(randomblob(16))), seq, device_time, 1
FROM ratings WHERE seq > :seq AND seq % 10 = 1
"""
TABLES = ("tickets", "ratings", "indicator_answers", "comments")
WORDS = "Cán bộ tiếp dân nhiệt tình, hướng dẫn rõ ràng, thủ tục nhanh gọn. " * 5


def big_database(data_dir: Path, megabytes: float) -> Path:
    """`kiosk init` in ``data_dir``, then visits until kiosk.db holds ``megabytes``; the database file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env.update(KIOSK_DATA_DIR=str(data_dir), KIOSK_CONFIG=str(data_dir.parent / "none.toml"))
    subprocess.run([sys.executable, "-m", "kiosk.cli", "init"], env=env, check=True, capture_output=True)
    db = data_dir / "kiosk.db"
    con = sqlite3.connect(db)
    try:
        first = 1 + con.execute("SELECT coalesce(max(seq), 0) FROM tickets").fetchone()[0] // 3
        while db.stat().st_size < megabytes * 1024 * 1024:
            seq = 3 * first - 1
            with con:
                con.execute(VISITS, {"first": first, "last": first + BATCH - 1})
                for statement in (STATES, RATINGS, ANSWERS):
                    con.execute(statement, {"seq": seq})
                con.execute(COMMENTS, {"seq": seq, "words": WORDS})
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            first += BATCH
        with con:  # the kiosk's sequence goes on above every record made here
            last = max(con.execute(f"SELECT coalesce(max(seq), 0) FROM {table}").fetchone()[0] for table in TABLES)
            con.execute("INSERT OR REPLACE INTO device_state (key, value) VALUES ('seq', ?)", (str(last),))
    finally:
        con.close()
    return db
