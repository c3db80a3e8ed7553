"""The upgrade to the 2025 hierarchy keeps a district's data and users: a database of the previous release
(revision 0003) with a district viewer, communes of two districts, kiosks and records is upgraded; the district
viewer becomes a viewer of every commune its district had, and its account (and the log) says so; every commune
gets its first reception point, every kiosk and record belongs to it; the reports' rollups are made again from
the records when the server starts, and the figures are the same. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime

from sqlalchemy import Uuid, column, create_engine, insert, select, text
from sqlalchemy import table as sql_table

from central.app import create_central_app
from central.migrate import current_revision, upgrade
from central.models import Device, Site, User, UserCommune
from tests.central import helpers
from tests.central.helpers import TEST_PASSWORD

NOW = datetime(2025, 6, 20, 3, 0)


UUIDS = {"id", "device_id", "sync_id"}


def put(conn, table: str, **values) -> None:
    """One row, with ids in the database's own UUID format (32 hex digits on SQLite, ``uuid`` on PostgreSQL)."""
    columns = [column(name, Uuid(as_uuid=False) if name in UUIDS else None) for name in values]
    conn.execute(insert(sql_table(table, *columns)).values(**values))


def old_database(url: str) -> dict[str, str]:
    """A central database at revision 0003 (before provinces and sites), filled the way that release filled it."""
    from werkzeug.security import generate_password_hash

    engine = create_engine(url)
    assert upgrade(engine, "0003") == "0003"
    ids = {name: str(uuid.uuid4()) for name in ("device_a", "device_c", "viewer", "orphan", "ticket", "sync")}
    with engine.begin() as conn:
        for code, name, district in (("A", "Xã An Bình", "D1"), ("B", "Xã Bình Minh", "D1"), ("C", "Xã Cẩm Hà", "D2")):
            put(conn, "communes", code=code, name=name, district_code=district, province_code="P1", created_at=NOW)
        for device, commune in ((ids["device_a"], "A"), (ids["device_c"], "C")):
            put(
                conn,
                "devices",
                id=device,
                commune_code=commune,
                name=f"Kiosk {commune}",
                key_version=1,
                secret_fingerprint="0" * 64,
                enabled=True,
                created_at=NOW,
            )
        users = (
            (ids["viewer"], "huyen-d1", "district_viewer", None, "D1"),
            (ids["orphan"], "huyen-d9", "district_viewer", None, "D9"),
            (str(uuid.uuid4()), "xem-c", "commune_viewer", "C", None),
        )
        for user_id, name, role, commune, district in users:
            put(
                conn,
                "users",
                id=user_id,
                username=name,
                password_hash=generate_password_hash(TEST_PASSWORD),
                role=role,
                commune_code=commune,
                district_code=district,
                active=True,
                created_at=NOW,
            )
        common = {"clock_synced": True, "received_at": NOW, "sync_id": ids["sync"]}
        for seq, (device, commune, level, points, at) in enumerate(
            (
                (ids["device_a"], "A", "very_satisfied", 2, datetime(2025, 6, 2, 2, 0)),
                (ids["device_a"], "A", "unsatisfied", 0, datetime(2025, 6, 3, 2, 0)),
                (ids["device_c"], "C", "satisfied", 1, datetime(2025, 6, 4, 2, 0)),
            ),
            1,
        ):
            put(
                conn,
                "ratings",
                commune_code=commune,
                device_id=device,
                id=str(uuid.uuid4()),
                seq=seq,
                device_time=at,
                corrected_time=at,
                level=level,
                points=points,
                channel="button",
                panel="button:1",
                counted=True,
                service_code="HT",
                counter_number=1,
                **common,
            )
        at = datetime(2025, 6, 2, 1, 0)
        put(
            conn,
            "tickets",
            commune_code="A",
            device_id=ids["device_a"],
            id=ids["ticket"],
            seq=10,
            device_time=at,
            corrected_time=at,
            service_code="HT",
            business_day=date(2025, 6, 2),
            number=1,
            display_number="A001",
            priority=False,
            channel="touch",
            **common,
        )
        # the old rollups (a shape this release no longer reads): dropped by the upgrade
        put(
            conn,
            "rollup_totals",
            commune_code="A",
            grain="M",
            start=date(2025, 6, 1),
            ratings=999,
            satisfied_plus=999,
            points=999,
            flagged=0,
            tickets=999,
        )
    engine.dispose()
    return ids


def test_district_viewers_become_viewers_of_their_communes_and_the_data_stays(central_db, tmp_path, caplog):
    ids = old_database(central_db)
    with caplog.at_level(logging.WARNING):
        app = create_central_app(
            {
                "data_dir": str(tmp_path / "central"),
                "central_database_url": central_db,
                "central_secret_key": "the-master-key-of-the-old-server",
                "TESTING": True,
            }
        )
    central = app.extensions["central"]
    try:
        assert current_revision(central.engine) not in (None, "0003")
        log = caplog.text
        assert "district viewer huyen-d1 (district D1) is now a commune viewer of A, B" in log
        assert "huyen-d9" in log and "no commune" in log
        assert "rollups rebuilt from the records" in log
        with central.sessions() as s:
            viewer = s.get(User, ids["viewer"])
            assert (viewer.role, viewer.commune_code, viewer.district_code) == ("commune_viewer", "A", "D1")
            extra = set(s.scalars(select(UserCommune.commune_code).where(UserCommune.user_id == ids["viewer"])))
            assert extra == {"A", "B"}
            assert "huyện D1" in viewer.note and "A, B" in viewer.note and "Xem báo cáo xã" in viewer.note
            orphan = s.get(User, ids["orphan"])
            assert orphan.role == "commune_viewer" and orphan.commune_code is None and "giao xã" in orphan.note
            assert {(x.commune_code, x.code) for x in s.scalars(select(Site))} == {
                ("A", "TT"),
                ("B", "TT"),
                ("C", "TT"),
            }
            assert {d.site_code for d in s.scalars(select(Device))} == {"TT"}
        with central.engine.connect() as conn:
            assert conn.execute(text("SELECT DISTINCT site_code FROM ratings")).scalars().all() == ["TT"]
            assert conn.execute(text("SELECT name FROM provinces")).scalars().all() == ["Tỉnh P1"]

        # the former district viewer signs in and sees its two communes, with the records as they were
        client = helpers.sign_in(app, "huyen-d1", TEST_PASSWORD)
        data = client.get("/reports/data.json?period=month&year=2025&month=6").json
        assert [c["code"] for c in data["communes"]] == ["A", "B"]
        assert (data["summary"]["ratings"], data["summary"]["points"], data["queue"]["issued"]) == (2, 2, 1)
        assert client.get("/reports/data.json?period=month&year=2025&month=6&commune=C").status_code == 403
        # reports of 2025 grouped by former district still work
        admin_view = helpers.sign_in(app, "xem-c", TEST_PASSWORD).get(
            "/reports/data.json?period=month&year=2025&month=6"
        )
        assert admin_view.json["summary"]["ratings"] == 1
        page = helpers.sign_in(app, "huyen-d1", TEST_PASSWORD).get("/reports?period=month&year=2025&month=6").text
        assert "Xã An Bình" in page and "Xã Cẩm Hà" not in page
    finally:
        central.close()


def test_the_upgrade_can_be_undone(central_db):
    from central.migrate import downgrade

    old_database(central_db)
    engine = create_engine(central_db)
    upgrade(engine)
    downgrade(engine, "0003")
    with engine.connect() as conn:
        roles = dict(conn.execute(text("SELECT username, role FROM users")).all())
        assert roles == {"huyen-d1": "district_viewer", "huyen-d9": "district_viewer", "xem-c": "commune_viewer"}
        assert conn.execute(text("SELECT count(*) FROM ratings")).scalar() == 3
    engine.dispose()
