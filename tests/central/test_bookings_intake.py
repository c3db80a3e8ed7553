"""Bookings into the central server: `kiosk-central import-bookings FILE --commune CODE` (CSV and JSON, all or
nothing, errors naming the row and field) and `POST /api/v1/bookings` with a province's token (401 without it,
400 for bad rows, the same code pushed again changes nothing), and the tables their migration makes."""

from __future__ import annotations

import json

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import create_engine, select

from central import booking_models
from central.app import create_central_app
from central.booking_models import Booking
from central.cli import main
from central.migrate import upgrade
from central.models import CentralBase

MY_TABLES = {booking_models.Booking.__tablename__, booking_models.BookingToken.__tablename__}


def run(env: dict, *args: str):
    return CliRunner().invoke(main, list(args), env=env, obj={})


def _env(tmp_path, central_db) -> dict:
    env = {"KIOSK_DATA_DIR": str(tmp_path / "srv"), "KIOSK_CENTRAL_DATABASE_URL": central_db}
    assert run(env, "add-province", "79", "Thành phố Hồ Chí Minh").exit_code == 0
    assert run(env, "add-province", "01", "Thành phố Hà Nội").exit_code == 0
    assert run(env, "add-commune", "26734", "Xã Tân Hòa", "--province", "79").exit_code == 0
    assert run(env, "add-commune", "00004", "Phường Ba Đình", "--province", "01").exit_code == 0
    return env


def _stored(env) -> list[tuple]:
    app = create_central_app(
        {"data_dir": env["KIOSK_DATA_DIR"], "central_database_url": env["KIOSK_CENTRAL_DATABASE_URL"]}
    )
    central = app.extensions["central"]
    try:
        with central.sessions() as session:
            rows = session.scalars(select(Booking).order_by(Booking.code))
            return [(b.code, b.site_code, b.service_code, b.at.isoformat(), b.name) for b in rows]
    finally:
        central.close()


def test_the_migration_makes_exactly_the_booking_tables(central_db):
    engine = create_engine(central_db)
    upgrade(engine)

    def mine(obj, name, type_, reflected, compare_to):
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
        return table in MY_TABLES or (table == "tickets" and type_ == "column" and name == "booked")

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": mine})
        assert compare_metadata(context, CentralBase.metadata) == []
    engine.dispose()


def test_a_csv_file_imports_and_a_bad_row_refuses_the_whole_file_naming_row_and_field(central_db, tmp_path):
    env = _env(tmp_path, central_db)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "code,site,service,at,name\n"
        "HT-0001,TT,HT,2026-11-20T09:30,Nguyễn Văn An\n"
        "HT-0002,TT,HT,20/11/2026 9h,\n"
        "HT-0003,XX,HT,2026-11-20T10:00,\n"
        "HT-0001,TT,CT,2026-11-20T10:30,\n",
        encoding="utf-8",
    )
    refused = run(env, "import-bookings", str(bad), "--commune", "26734")
    assert refused.exit_code != 0
    assert "row 3, field 'at'" in refused.output
    assert "row 4, field 'site': XX is not a reception point" in refused.output
    assert "row 5, field 'code': HT-0001 is already on row 2" in refused.output
    assert _stored(env) == []  # all or nothing

    good = tmp_path / "good.csv"
    good.write_text(
        "code,service,at,name\nht-0001,HT,2026-11-20T09:30,Nguyễn Văn An\nCT-0002,CT,2026-11-20 10:00,\n",
        encoding="utf-8",
    )
    done = run(env, "import-bookings", str(good), "--commune", "26734")
    assert done.exit_code == 0, done.output
    assert "2 added, 0 changed, 0 unchanged" in done.output
    assert _stored(env) == [
        ("CT-0002", "TT", "CT", "2026-11-20T10:00:00", ""),
        ("HT-0001", "TT", "HT", "2026-11-20T09:30:00", "Nguyễn Văn An"),
    ]


def test_a_json_file_with_a_control_character_is_refused_like_the_protocol(central_db, tmp_path):
    env = _env(tmp_path, central_db)
    path = tmp_path / "b.json"
    rows = [{"code": "A-1", "service": "HT", "at": "2026-11-20T08:00", "name": "An\x00"}]
    path.write_text(json.dumps({"bookings": rows}), encoding="utf-8")
    refused = run(env, "import-bookings", str(path), "--commune", "26734")
    assert refused.exit_code != 0
    assert "row 1, field 'name': holds the control character U+0000" in refused.output
    assert _stored(env) == []


def _push(client, token: str | None, body) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = client.post("/api/v1/bookings", json=body, headers=headers)
    return answer.status_code, answer.get_json()


def test_the_api_needs_the_provinces_token_refuses_bad_rows_and_takes_a_repeat_once(central_db, tmp_path):
    env = _env(tmp_path, central_db)
    made = run(env, "add-booking-token", "--province", "79", "--name", "Cổng dịch vụ công tỉnh")
    assert made.exit_code == 0, made.output
    token = made.output.strip().splitlines()[-1]
    app = create_central_app(
        {"data_dir": env["KIOSK_DATA_DIR"], "central_database_url": env["KIOSK_CENTRAL_DATABASE_URL"], "TESTING": True}
    )
    client = app.test_client()
    body = {"commune": "26734", "bookings": [{"code": "HT-7", "service": "HT", "at": "2026-11-20T09:00"}]}
    try:
        status, answer = _push(client, None, body)
        assert status == 401 and answer["error"]
        assert _push(client, token + "x", body)[0] == 401
        assert _push(client, token, {**body, "commune": "00004"})[0] == 403  # another province's commune

        bad = {"commune": "26734", "bookings": [body["bookings"][0], {"code": "HT-8", "service": "HT", "at": "soon"}]}
        status, answer = _push(client, token, bad)
        assert status == 400
        assert "row 2, field 'at'" in answer["error"]

        assert _push(client, token, body) == (200, {"added": 1, "changed": 0, "unchanged": 0})
        assert _push(client, token, body) == (200, {"added": 0, "changed": 0, "unchanged": 1})
        moved = {"commune": "26734", "bookings": [{**body["bookings"][0], "at": "2026-11-20T10:00"}]}
        assert _push(client, token, moved) == (200, {"added": 0, "changed": 1, "unchanged": 0})
    finally:
        app.extensions["central"].close()
    assert _stored(env) == [("HT-7", "TT", "HT", "2026-11-20T10:00:00", "")]

    withdrawn = run(env, "add-booking-token", "--province", "79", "--disable", "1")
    assert withdrawn.exit_code == 0, withdrawn.output
    app = create_central_app(
        {"data_dir": env["KIOSK_DATA_DIR"], "central_database_url": env["KIOSK_CENTRAL_DATABASE_URL"], "TESTING": True}
    )
    try:
        assert _push(app.test_client(), token, body)[0] == 401
    finally:
        app.extensions["central"].close()
