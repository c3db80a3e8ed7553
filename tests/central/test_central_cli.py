"""`kiosk-central`: init, add-commune, add-device (id and secret printed once), disable-device, add-user,
import-config; and the Alembic schema matching the models on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import create_engine, inspect, select
from werkzeug.security import check_password_hash

from central import models
from central.app import build_central, create_central_app
from central.cli import main
from central.migrate import alembic_config, current_revision, downgrade, upgrade
from central.models import CentralBase, Clerk, Device, Service, User
from common import settings as settings_mod
from tests.central.helpers import Signer


def run(env: dict, *args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), env=env, obj={}, input=input)


def _mine(obj, name, type_, reflected, compare_to) -> bool:
    """Compare only the tables of central/models.py (the reports add their own, tested with them)."""
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    return table in MY_TABLES


MY_TABLES = {m.__tablename__ for m in vars(models).values() if isinstance(m, type) and hasattr(m, "__tablename__")}


def test_migrations_create_exactly_the_models_and_downgrade(central_db):
    engine = create_engine(central_db)
    head = ScriptDirectory.from_config(alembic_config(central_db)).get_current_head()
    assert upgrade(engine) == head
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": _mine})
        assert compare_metadata(context, CentralBase.metadata) == []
    names = set(inspect(engine).get_table_names())
    assert {"ratings", "tickets", "device_status", "quarantine", "sync_log", "users"} <= names
    for table in ("ratings", "tickets", "comments", "clerk_actions", "indicator_answers", "quarantine", "sync_log"):
        assert inspect(engine).get_pk_constraint(table)["constrained_columns"][:2] == ["commune_code", "device_id"]
    downgrade(engine, "base")
    assert current_revision(engine) is None and "ratings" not in inspect(engine).get_table_names()
    engine.dispose()


def test_init_add_device_and_sync_with_the_printed_secret(central_db, tmp_path):
    env = {"KIOSK_DATA_DIR": str(tmp_path / "srv"), "KIOSK_CENTRAL_DATABASE_URL": central_db}
    init = run(env, "init")
    assert init.exit_code == 0 and "is at revision" in init.output
    assert run(env, "init").exit_code == 0  # safe to run again
    added = run(env, "add-device", "Quầy 1 – UBND xã Tân Hòa", "--commune", "26734", "--commune-name", "Xã Tân Hòa")
    assert added.exit_code == 0, added.output
    device_id = re.search(r"KIOSK_DEVICE_ID=(\S+)", added.output).group(1)
    secret = re.search(r"KIOSK_DEVICE_SECRET=(\S+)", added.output).group(1)
    assert "KIOSK_COMMUNE_CODE=26734" in added.output and len(secret) == 64
    app = create_central_app({"data_dir": str(tmp_path / "srv"), "central_database_url": central_db})
    central = app.extensions["central"]
    with central.sessions() as session:
        device = session.get(Device, device_id)
        assert device.commune_code == "26734" and secret not in json.dumps(
            {c.name: str(getattr(device, c.name)) for c in Device.__table__.columns}
        )
        assert session.scalar(select(Service.name).where(Service.code == "HT")) == "Hộ tịch"  # seeded from settings
    signer = Signer(app.test_client(), (device_id, secret))
    answer, counter = signer.get_config()
    assert answer.status_code == 200 and signer.answer_signed(answer, counter)
    assert run(env, "disable-device", device_id).exit_code == 0
    assert signer.get_config()[0].status_code == 403
    assert run(env, "disable-device", device_id, "--enable").exit_code == 0
    assert signer.get_config()[0].status_code == 200
    central.close()


def test_a_missing_master_key_is_a_plain_error_not_new_secrets(central_db, tmp_path):
    env = {"KIOSK_DATA_DIR": str(tmp_path / "srv"), "KIOSK_CENTRAL_DATABASE_URL": central_db}
    assert run(env, "add-device", "Quầy 1", "--commune", "26734").exit_code == 0
    elsewhere = run({**env, "KIOSK_DATA_DIR": str(tmp_path / "other")}, "add-device", "Quầy 2", "--commune", "26734")
    assert elsewhere.exit_code == 2 and "master key" in elsewhere.output


def test_add_user_hashes_the_password_and_checks_the_scope(central_db, tmp_path):
    env = {"KIOSK_DATA_DIR": str(tmp_path / "srv"), "KIOSK_CENTRAL_DATABASE_URL": central_db}
    assert run(env, "add-commune", "26734", "Xã Tân Hòa", "--district", "784").exit_code == 0
    ok = run(
        env,
        "add-user",
        "chutich.tanhoa",
        "--role",
        "commune_viewer",
        "--commune",
        "26734",
        "--password",
        "mật-khẩu-dài",
    )
    assert ok.exit_code == 0, ok.output
    assert run(env, "add-user", "chutich.tanhoa", "--role", "admin", "--password", "another-long").exit_code == 2
    missing = run(env, "add-user", "tinh", "--role", "province_viewer", "--password", "long-enough")
    assert missing.exit_code == 2 and "--province" in missing.output
    gone = run(env, "add-user", "huyen", "--role", "district_viewer", "--password", "long-enough")
    assert gone.exit_code == 2 and "province_viewer" in gone.output  # districts are gone since 1 July 2025
    assert run(env, "add-user", "short", "--role", "admin", "--password", "1234567").exit_code == 2
    prompted = run(env, "add-user", "quantri", "--role", "admin", input="long-enough-pw\nlong-enough-pw\n")
    assert prompted.exit_code == 0, prompted.output
    central = build_central(
        settings_mod.load(overrides={"data_dir": str(tmp_path / "srv"), "central_database_url": central_db})
    )
    with central.sessions() as session:
        user = session.scalar(select(User).where(User.username == "chutich.tanhoa"))
        assert (user.role, user.commune_code) == ("commune_viewer", "26734")
        assert user.password_hash != "mật-khẩu-dài" and check_password_hash(user.password_hash, "mật-khẩu-dài")
    central.close()


def test_import_config_replaces_a_communes_setup(central_db, tmp_path):
    env = {"KIOSK_DATA_DIR": str(tmp_path / "srv"), "KIOSK_CENTRAL_DATABASE_URL": central_db}
    assert run(env, "add-commune", "26734", "Xã Tân Hòa").exit_code == 0
    path = tmp_path / "tanhoa.toml"
    path.write_text(
        '[[services]]\ncode = "HT"\nname = "Hộ tịch"\nprefix = "A"\n\n'
        '[[counters]]\nnumber = 1\nservices = ["HT"]\n\n'
        '[[clerks]]\ncode = "CC01"\nname = "Nguyễn Thị Lan"\npin = "2468"\ncounter = 1\n',
        encoding="utf-8",
    )
    done = run(env, "import-config", str(path), "--commune", "26734")
    assert done.exit_code == 0, done.output
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"clerks": [{"code": "CC09", "name": "X", "pin": "12"}]}), encoding="utf-8")
    refused = run(env, "import-config", str(bad), "--commune", "26734")
    assert refused.exit_code == 2 and "PIN" in refused.output
    central = build_central(
        settings_mod.load(overrides={"data_dir": str(tmp_path / "srv"), "central_database_url": central_db})
    )
    with central.sessions() as session:
        clerks = session.scalars(select(Clerk)).all()
        active = {s.code for s in session.scalars(select(Service).where(Service.active))}
    assert [c.code for c in clerks] == ["CC01"] and active == {"HT"}
    central.close()
