"""`kiosk-central import-procedures FILE --province CODE` (CSV and JSON, all or nothing, errors naming the row and
field), `hide-procedures`, and the tables of the procedures made by their migration."""

from __future__ import annotations

import json

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import create_engine

from bench.procedures import write_csv
from central import procedure_models
from central.app import build_central
from central.cli import main
from central.migrate import upgrade
from central.models import CentralBase
from central.procedures import build_document, commune_list
from common import settings as settings_mod
from common.procedure_examples import EXAMPLE_PROCEDURES

MY_TABLES = {procedure_models.Procedure.__tablename__, procedure_models.HiddenProcedure.__tablename__}


def run(env: dict, *args: str):
    return CliRunner().invoke(main, list(args), env=env, obj={})


def _env(tmp_path, central_db) -> dict:
    env = {"KIOSK_DATA_DIR": str(tmp_path / "srv"), "KIOSK_CENTRAL_DATABASE_URL": central_db}
    assert run(env, "add-province", "79", "Thành phố Hồ Chí Minh").exit_code == 0
    assert run(env, "add-commune", "26734", "Xã Tân Hòa", "--province", "79").exit_code == 0
    return env


def _document(tmp_path, central_db) -> dict:
    central = build_central(
        settings_mod.load(overrides={"data_dir": str(tmp_path / "srv"), "central_database_url": central_db})
    )
    try:
        with central.sessions() as session:
            return build_document(session, "26734") | {"all": commune_list(session, "26734")}
    finally:
        central.close()


def test_the_migration_makes_exactly_the_procedure_tables(central_db):
    engine = create_engine(central_db)
    upgrade(engine)

    def mine(obj, name, type_, reflected, compare_to):
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
        return table in MY_TABLES

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": mine})
        assert compare_metadata(context, CentralBase.metadata) == []
    engine.dispose()


def test_the_documented_example_imports_and_a_commune_hides_what_it_does_not_handle(central_db, tmp_path):
    env = _env(tmp_path, central_db)
    path = tmp_path / "procedures.json"
    path.write_text(json.dumps({"procedures": EXAMPLE_PROCEDURES}, ensure_ascii=False), encoding="utf-8")
    done = run(env, "import-procedures", str(path), "--province", "79")
    assert done.exit_code == 0, done.output
    assert f"{len(EXAMPLE_PROCEDURES)} procedure(s) imported for province 79" in done.output
    doc = _document(tmp_path, central_db)
    birth = next(p for p in doc["procedures"] if p["name"] == "Đăng ký khai sinh")
    assert birth["service"] == "HT" and birth["fee"].startswith("Miễn lệ phí") and birth["days"] == 0
    assert {"name": "Giấy chứng sinh (hoặc văn bản của người làm chứng)", "copies": 1} in birth["papers"]

    hidden = run(env, "hide-procedures", "2.000884", "--commune", "26734")
    assert hidden.exit_code == 0 and "1 procedure(s) hidden" in hidden.output
    after = _document(tmp_path, central_db)
    assert "2.000884" not in {p["code"] for p in after["procedures"]} and after["version"] != doc["version"]
    assert len(after["procedures"]) == len(EXAMPLE_PROCEDURES) - 1
    unknown = run(env, "hide-procedures", "9.999999", "--commune", "26734")
    assert unknown.exit_code == 2 and "9.999999" in unknown.output
    shown = run(env, "hide-procedures", "2.000884", "--commune", "26734", "--show")
    assert shown.exit_code == 0 and _document(tmp_path, central_db)["version"] == doc["version"]


def test_a_bad_file_names_the_rows_and_fields_and_changes_nothing(central_db, tmp_path):
    env = _env(tmp_path, central_db)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(EXAMPLE_PROCEDURES[:2], ensure_ascii=False), encoding="utf-8")
    assert run(env, "import-procedures", str(good), "--province", "79").exit_code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "code,service,name,papers,forms,fee,days,result_at\n"
        "1.001193,HT,Đăng ký khai sinh,Tờ khai * 1;Giấy chứng sinh,,Miễn lệ phí,0,Bộ phận Một cửa\n"
        "1.000894,HT,,Tờ khai,,Miễn lệ phí,0,Bộ phận Một cửa\n"
        "2.000908,CT,Chứng thực bản sao,Bản chính * 99,,2.000 đồng/trang,0,Bộ phận Một cửa\n"
        "1.001193,HT,Trùng mã,,,,1,\n"
        "1.004873,HT,Xác nhận tình trạng hôn nhân,Tờ khai,,,ba ngày,\n"
        "1.000656,HT,Khai tử\x07,,,,0,\n",
        encoding="utf-8",
    )
    refused = run(env, "import-procedures", str(bad), "--province", "79")
    assert refused.exit_code == 2, refused.output
    out = " ".join(refused.output.split())
    assert "Nothing was imported: 5 error(s)" in out
    assert "row 3, field 'name': is empty" in out
    assert "row 4, field 'papers[1].copies': must be a whole number from 1 to 20" in out
    assert "row 5, field 'code': 1.001193 is already on row 2" in out
    assert "row 6, field 'days'" in out
    assert "row 7, field 'name': holds the control character U+0007" in out
    doc = _document(tmp_path, central_db)
    assert [p["code"] for p in doc["procedures"]] == ["1.001193", "1.000894"]  # the earlier list stands

    nowhere = run(env, "import-procedures", str(good), "--province", "99")
    assert nowhere.exit_code == 2 and "Province 99 is unknown" in nowhere.output


def test_a_province_sized_csv_imports_whole(central_db, tmp_path):
    env = _env(tmp_path, central_db)
    path = tmp_path / "province.csv"
    write_csv(path, 400)  # the benchmark's list: six papers each, over the six fields
    done = run(env, "import-procedures", str(path), "--province", "79")
    assert done.exit_code == 0, done.output
    doc = _document(tmp_path, central_db)
    assert len(doc["procedures"]) == 400 and doc["procedures"][399]["code"] == "1.000399"
    assert doc["procedures"][1]["papers"][1] == {"name": "Giấy tờ số 1 của thủ tục hành chính số 1", "copies": 2}
    assert doc["procedures"][5]["service"] == "TP"


def test_the_examples_in_the_docs_import_as_written(tmp_path):
    from pathlib import Path

    from central.procedures import read_file

    text = (Path(__file__).resolve().parents[2] / "docs" / "procedures.md").read_text(encoding="utf-8")
    for kind in ("json", "csv"):
        block = text.split(f"```{kind}\n", 1)[1].split("```", 1)[0]
        path = tmp_path / f"example.{kind}"
        path.write_text(block, encoding="utf-8")
        items = read_file(path)
        assert items[0]["name"] == "Đăng ký khai sinh" and items[0]["fee"].startswith("Miễn lệ phí")
        assert len(items) == 2 and items[1]["service"] == "CT"
