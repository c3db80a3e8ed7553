"""Counters belong to a reception point (issue 22): `import-config` takes each counter's point ("TT · Quầy 1" and
"CN · Quầy 1" are two counters; a file without ``site`` means the centre), the rule "no ticket nobody can call"
holds per point, and the upgrade moves a commune-wide counter to the point(s) of the kiosks that used it, keeping
the records as they were. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from click.testing import CliRunner
from sqlalchemy import create_engine, select, text

from central.cli import main
from central.migrate import downgrade, upgrade
from central.models import Counter, CounterService
from tests.central.test_province_migration import put

NOW = datetime(2026, 11, 2, 2, 0)
SERVICES = [{"code": "HT", "name": "Hộ tịch", "prefix": "A"}, {"code": "GD", "name": "Giáo dục", "prefix": "G"}]


def run(env: dict, *args: str):
    return CliRunner().invoke(main, list(args), env=env, obj={})


def import_config(env: dict, tmp_path, doc: dict):
    path = tmp_path / f"catalog-{uuid.uuid4().hex[:6]}.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return run(env, "import-config", str(path), "--commune", "42001")


def counters(url: str) -> list[tuple[str, int, bool, list[str]]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(select(Counter).where(Counter.commune_code == "42001")).all()
        links = conn.execute(select(CounterService).where(CounterService.commune_code == "42001")).all()
    engine.dispose()
    handled = {}
    for link in links:
        handled.setdefault((link.site_code, link.counter_number), []).append(link.service_code)
    return sorted((r.site_code, r.number, r.active, sorted(handled.get((r.site_code, r.number), []))) for r in rows)


def test_import_config_takes_each_counters_reception_point(central_db, tmp_path):
    env = {"KIOSK_DATA_DIR": str(tmp_path / "srv"), "KIOSK_CENTRAL_DATABASE_URL": central_db}
    assert run(env, "add-commune", "42001", "Xã Cẩm Nhượng").exit_code == 0
    assert run(env, "add-site", "42001", "CN", "Điểm Cẩm Nhượng cũ").exit_code == 0
    two_points = {
        "services": SERVICES,
        "counters": [
            {"number": 1, "site": "TT", "services": ["HT", "GD"]},
            {"number": 1, "site": "CN", "services": ["HT", "GD"]},
        ],
    }
    done = import_config(env, tmp_path, two_points)
    assert done.exit_code == 0, done.output
    assert [c for c in counters(central_db) if c[2]] == [("CN", 1, True, ["GD", "HT"]), ("TT", 1, True, ["GD", "HT"])]

    # A point left with a service no open counter there handles is refused, naming the service and the point.
    stranded = {
        **two_points,
        "counters": [*two_points["counters"][:1], {"number": 1, "site": "CN", "services": ["HT"]}],
    }
    refused = import_config(env, tmp_path, stranded)
    assert refused.exit_code == 2
    assert "Service Giáo dục has no open counter at reception point CN" in refused.output
    unknown = import_config(
        env, tmp_path, {**two_points, "counters": [{"number": 2, "site": "XX", "services": ["HT"]}]}
    )
    assert unknown.exit_code == 2 and "no reception point XX" in unknown.output
    assert [c for c in counters(central_db) if c[2]] == [("CN", 1, True, ["GD", "HT"]), ("TT", 1, True, ["GD", "HT"])]

    # A file of the previous release (no `site`) means the centre: CN's counters are not listed, so retired —
    # which is refused only when a kiosk stands at CN (none here).
    old = import_config(env, tmp_path, {"services": SERVICES, "counters": [{"number": 2, "services": ["HT", "GD"]}]})
    assert old.exit_code == 0, old.output
    assert [c for c in counters(central_db) if c[2]] == [("TT", 2, True, ["GD", "HT"])]


def old_database(url: str) -> dict[str, str]:
    """A central database at revision 0007: commune-wide counters 1–3, kiosks at TT and CN, records at each."""
    engine = create_engine(url)
    assert upgrade(engine, "0007") == "0007"
    ids = {name: str(uuid.uuid4()) for name in ("tt", "cn", "sync")}
    with engine.begin() as conn:
        put(conn, "communes", code="42001", name="Xã Cẩm Nhượng", province_code="42", created_at=NOW)
        put(conn, "sites", commune_code="42001", code="TT", name="Trung tâm", active=True, created_at=NOW)
        put(conn, "sites", commune_code="42001", code="CN", name="Điểm Cẩm Nhượng", active=True, created_at=NOW)
        for device, site in ((ids["tt"], "TT"), (ids["cn"], "CN")):
            put(
                conn,
                "devices",
                id=device,
                commune_code="42001",
                site_code=site,
                name=f"Kiosk {site}",
                key_version=1,
                secret_fingerprint="0" * 64,
                enabled=True,
                created_at=NOW,
            )
        for number, name, services in ((1, "Quầy 1", ["HT"]), (2, "Quầy Đất đai", ["HT", "DD"]), (3, "Quầy 3", ["HT"])):
            put(conn, "counters", commune_code="42001", number=number, name=name, active=True)
            for code in services:
                put(conn, "counter_services", commune_code="42001", counter_number=number, service_code=code)
        common = {"clock_synced": True, "received_at": NOW, "sync_id": ids["sync"], "device_time": NOW}
        # counter 1 rated at both points, counter 2 only at CN, counter 3 never named by a record
        for seq, (device, site, number) in enumerate(
            ((ids["tt"], "TT", 1), (ids["cn"], "CN", 1), (ids["cn"], "CN", 2))
        ):
            put(
                conn,
                "ratings",
                commune_code="42001",
                device_id=device,
                id=str(uuid.uuid4()),
                seq=seq,
                corrected_time=NOW,
                site_code=site,
                level="satisfied",
                points=1,
                channel="touch",
                panel="touch:1",
                counted=True,
                counter_number=number,
                **common,
            )
    engine.dispose()
    return ids


def test_the_upgrade_moves_counters_to_the_points_that_used_them(central_db):
    old_database(central_db)
    engine = create_engine(central_db)
    upgrade(engine)
    engine.dispose()
    assert counters(central_db) == [
        ("CN", 1, True, ["HT"]),  # counter 1 was used at both points: two counters now
        ("CN", 2, True, ["DD", "HT"]),  # counter 2 only at CN
        ("CN", 3, True, ["HT"]),  # counter 3, named by no record: at every point with a kiosk
        ("TT", 1, True, ["HT"]),
        ("TT", 3, True, ["HT"]),
    ]
    engine = create_engine(central_db)
    with engine.connect() as conn:  # history: the records keep their points
        rows = conn.execute(text("SELECT site_code, counter_number FROM ratings ORDER BY seq")).all()
        assert [tuple(r) for r in rows] == [("TT", 1), ("CN", 1), ("CN", 2)]
        names = dict(conn.execute(text("SELECT site_code, name FROM counters WHERE number = 2")).all())
        assert names == {"CN": "Quầy Đất đai"}
    downgrade(engine, "0007")  # and back: one commune-wide counter per number
    with engine.connect() as conn:
        assert sorted(conn.execute(text("SELECT number FROM counters")).scalars()) == [1, 2, 3]
    engine.dispose()
