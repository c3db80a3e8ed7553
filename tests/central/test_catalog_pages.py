"""The central catalogue pages: roles and commune scope, CSRF, refusals that change nothing, the audit log,
who manages the catalogue, and `kiosk-central import-config` / `add-user` for the same rules. SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from central.cli import main as central_cli
from central.models import AuditEntry, Clerk, Commune, Question, ScaleLevel, Service
from central.registry import add_commune, add_user
from common.catalog_rules import pin_matches
from tests.central import helpers
from tests.central.helpers import token

PASSWORD = "mat-khau-du-dai"


@pytest.fixture
def site(central_app, central):
    add_commune(central, "A", "Xã An Bình")
    add_commune(central, "B", "Xã Bình Minh")
    add_user(central, "admin", PASSWORD, "admin")
    add_user(central, "qt-a", PASSWORD, "commune_admin", "A")
    add_user(central, "xem-a", PASSWORD, "commune_viewer", "A")
    add_user(central, "xuly-a", PASSWORD, "handler", "A")
    return central_app


def sign_in(app, username: str):
    return helpers.sign_in(app, username, PASSWORD)


def post(client, path: str, **form):
    return client.post(path, data={"csrf_token": token(client, "/admin/communes/A"), **form})


def text(answer) -> str:
    return re.sub(r"\s+", " ", answer.text)


def clerk(central, name: str) -> Clerk:
    with central.sessions() as s:
        return s.scalar(select(Clerk).where(Clerk.name == name))


def audit(central, commune: str = "A") -> list[tuple[str, str, str]]:
    with central.sessions() as s:
        query = select(AuditEntry).where(AuditEntry.commune_code == commune).order_by(AuditEntry.at)
        return [(e.actor, e.action, e.target) for e in s.scalars(query)]


def owner(central, commune: str = "A") -> str:
    with central.sessions() as s:
        return s.get(Commune, commune).catalog_owner


def test_who_may_open_the_catalogue_pages(site):
    assert site.test_client().get("/admin/communes/A").status_code == 302  # sign in first
    admin = sign_in(site, "admin")
    listing = text(admin.get("/admin/communes"))
    assert "Xã An Bình" in listing and "Xã Bình Minh" in listing and "Danh mục" in listing
    own = sign_in(site, "qt-a")
    assert own.get("/admin/communes").headers["Location"].endswith("/admin/communes/A")  # its one commune
    assert own.get("/admin/communes/A/clerks").status_code == 200
    for path in ("/admin/communes/B", "/admin/communes/B/clerks"):
        assert own.get(path).status_code == 403
    answer = post(own, "/admin/communes/B/services", code="LD", name="Lao động", prefix="G")
    assert answer.status_code == 403
    for user in ("xem-a", "xuly-a"):
        assert sign_in(site, user).get("/admin/communes/A").status_code == 403
    assert "Danh mục" not in text(sign_in(site, "xem-a").get("/reports"))
    assert sign_in(site, "qt-a").get("/reports").status_code == 200  # a commune admin reads its reports
    assert own.get("/admin/communes/ZZ").status_code == 403 and admin.get("/admin/communes/ZZ").status_code == 404


def test_an_edit_needs_the_forms_csrf_token(site, central):
    admin = sign_in(site, "admin")
    answer = admin.post("/admin/communes/A/services/HT", data={"name": "Đổi", "prefix": "A"})
    assert answer.status_code == 400
    answer = admin.post("/admin/communes/A/services/HT", data={"name": "Đổi", "prefix": "A", "csrf_token": "x"})
    assert answer.status_code == 400
    with central.sessions() as s:
        assert s.get(Service, ("A", "HT")).name == "Hộ tịch"
    assert owner(central) == "kiosk" and audit(central) == []


def test_clerks_added_renamed_moved_deactivated_with_their_pins(site, central):
    admin = sign_in(site, "qt-a")
    added = post(admin, "/admin/communes/A/clerks", name="Nguyễn Thị Lan", pin="1111", counter="1")
    assert added.status_code == 302
    assert "Đã thêm công chức Nguyễn Thị Lan, mã CC01." in text(admin.get(added.headers["Location"]))
    post(admin, "/admin/communes/A/clerks", name="Trần Văn Minh", pin="2222", counter="2", code="minh")
    lan = clerk(central, "Nguyễn Thị Lan")
    assert (lan.code, lan.counter_number, lan.active) == ("CC01", 1, True) and pin_matches(lan, "1111")
    assert clerk(central, "Trần Văn Minh").code == "MINH"
    # Another clerk's PIN: refused with her name, nothing written, the form keeps what was typed.
    clash = post(admin, "/admin/communes/A/clerks", name="Lê Thị Hoa", pin="1111", counter="3")
    assert clash.status_code == 400
    assert "Mã PIN này đã là mã PIN của Nguyễn Thị Lan (CC01)" in text(clash) and 'value="Lê Thị Hoa"' in clash.text
    assert clerk(central, "Lê Thị Hoa") is None
    reset = post(
        admin, f"/admin/communes/A/clerks/{lan.id}", name="Nguyễn Thị Lan", counter="1", active="1", pin="2222"
    )
    assert reset.status_code == 400 and "Trần Văn Minh (MINH)" in text(reset)
    moved = post(admin, f"/admin/communes/A/clerks/{lan.id}", name="Nguyễn Thị Lan Anh", counter="2", active="1")
    assert moved.status_code == 302
    renamed = clerk(central, "Nguyễn Thị Lan Anh")
    assert (renamed.id, renamed.counter_number) == (lan.id, 2) and pin_matches(renamed, "1111")  # same person
    post(admin, f"/admin/communes/A/clerks/{lan.id}", name="Nguyễn Thị Lan Anh", counter="2", active="1", pin="5678")
    assert pin_matches(clerk(central, "Nguyễn Thị Lan Anh"), "5678")
    minh = clerk(central, "Trần Văn Minh")
    assert post(admin, f"/admin/communes/A/clerks/{minh.id}", name="Trần Văn Minh", counter="").status_code == 302
    assert not clerk(central, "Trần Văn Minh").active
    # The last active clerk cannot be switched off: the commune's kiosks would have nobody to sign in.
    last = post(admin, f"/admin/communes/A/clerks/{lan.id}", name="Nguyễn Thị Lan Anh", counter="2")
    assert last.status_code == 400 and "Sẽ không còn công chức nào đăng nhập được" in text(last)
    assert clerk(central, "Nguyễn Thị Lan Anh").active
    log = audit(central)
    assert ("qt-a", "owner", "catalog") in log and owner(central) == "central"
    assert sorted(action for _, action, _ in log) == ["clerk"] * 5 + ["owner"]  # 2 added, moved, PIN, deactivated
    page = text(admin.get("/admin/communes/A/audit"))
    assert "qt-a" in page and "Nguyễn Thị Lan Anh" in page and "đã đổi mã PIN" in page and "5678" not in page


def test_services_and_counters_keep_the_kiosks_usable(site, central):
    admin = sign_in(site, "admin")
    stranded = post(admin, "/admin/communes/A/services", code="ld", name="Lao động", prefix="G")
    assert stranded.status_code == 400 and "Lĩnh vực Lao động không có quầy nào đang mở ở điểm TT" in text(stranded)
    assert 'name="counters" value="TT:1"' in admin.get("/admin/communes/A/services").text  # which counter(s)?
    added = post(admin, "/admin/communes/A/services", code="ld", name="Lao động", prefix="G", counters=["TT:1"])
    assert added.status_code == 302
    refused = post(admin, "/admin/communes/A/services", code="LD", name="Trùng", prefix="Z")
    assert refused.status_code == 400 and "Đã có lĩnh vực mang mã LD." in text(refused)
    refused = post(admin, "/admin/communes/A/services/HT", name="Hộ tịch", prefix="B", active="1")
    assert refused.status_code == 400 and "CT đã dùng tiền tố “B”" in text(refused)
    assert post(admin, "/admin/communes/A/counters", number="4", services=["LD", "HT"]).status_code == 302
    with central.sessions() as s:
        query = select(Service).where(Service.commune_code == "A", Service.active).order_by(Service.position)
        services = [(x.code, x.prefix) for x in s.scalars(query)]
    for code, prefix in services:  # every service but the last goes out of use; the last one stays
        answer = post(admin, f"/admin/communes/A/services/{code}", name=code, prefix=prefix, daily_max="")
        if code == services[-1][0]:
            assert answer.status_code == 400 and "Sẽ không còn lĩnh vực nào được dùng" in text(answer)
        else:
            assert answer.status_code == 302, text(answer)
    with central.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Service).where(Service.commune_code == "A", Service.active))
    assert audit(central, "B") == []  # another commune's catalogue is untouched


def test_the_owner_switch_is_shown_and_logged(site, central):
    admin = sign_in(site, "admin")
    page = text(admin.get("/admin/communes/A"))
    assert "các thiết bị (trang /admin của thiết bị)" in page and "Thay đổi đầu tiên của bạn tại đây" in page
    assert post(admin, "/admin/communes/A/owner", owner="central").status_code == 302
    assert owner(central) == "central" and "máy chủ trung tâm (các trang này)" in text(admin.get("/admin/communes/A"))
    assert post(admin, "/admin/communes/A/owner", owner="kiosk").status_code == 302
    assert owner(central) == "kiosk"
    assert [(a, t) for _, a, t in audit(central)] == [("owner", "catalog"), ("owner", "catalog")]
    assert post(admin, "/admin/communes/A/owner", owner="tinh").status_code == 400


def test_rating_wording_and_questions(site, central):
    admin = sign_in(site, "admin")
    form = admin.get("/admin/communes/A/wording").text
    assert 'name="label-unsatisfied" type="text" value="Không hài lòng"' in form
    answer = post(
        admin,
        "/admin/communes/A/wording",
        **{"label-very_satisfied": "Rất hài lòng", "label-satisfied": "Hài lòng", "label-unsatisfied": "Chưa hài lòng"},
        **{"active-time": "1", "active-attitude": "1", "question-attitude": "Thái độ của cán bộ tiếp nhận"},
        **{"question-time": "Thời gian giải quyết", "answer-time-0": "Sớm hơn hẹn", "answer-time-1": "Đúng hẹn"},
        **{"answer-time-2": "Trễ hẹn"},
    )
    assert answer.status_code == 302, answer.text
    with central.sessions() as s:
        assert s.get(ScaleLevel, ("A", "unsatisfied")).label == "Chưa hài lòng"
        asked = {
            q.key: (q.active, q.question, q.answers) for q in s.scalars(select(Question).filter_by(commune_code="A"))
        }
    assert asked["time"] == (True, "Thời gian giải quyết", ["Sớm hơn hẹn", "Đúng hẹn", "Trễ hẹn"])
    assert asked["attitude"][:2] == (True, "Thái độ của cán bộ tiếp nhận")
    assert not asked["contacts"][0] and not asked["agencies"][0]  # not asked: left out, never counted as zero
    empty = post(admin, "/admin/communes/A/wording", **{"label-unsatisfied": " ", "active-time": "1"})
    assert empty.status_code == 400 and "Hãy nhập nội dung của mọi mức đánh giá." in text(empty)


def run(env: dict, *args: str, input: str | None = None):
    return CliRunner().invoke(central_cli, list(args), env=env, obj={}, input=input)


def test_import_config_refuses_a_shared_pin_or_no_clerk(central_db, tmp_path):
    env = {"KIOSK_DATA_DIR": str(tmp_path / "srv"), "KIOSK_CENTRAL_DATABASE_URL": central_db}
    assert run(env, "add-commune", "A", "Xã An Bình").exit_code == 0
    twice = tmp_path / "twice.json"
    people = [
        {"code": "CC01", "name": "Nguyễn Thị Lan", "pin": "1111"},
        {"code": "CC02", "name": "Lê Hoa", "pin": "1111"},
    ]
    twice.write_text(json.dumps({"clerks": people}, ensure_ascii=False), encoding="utf-8")
    refused = run(env, "import-config", str(twice), "--commune", "A")
    assert refused.exit_code == 2 and "already the PIN of Nguyễn Thị Lan (CC01)" in refused.output
    people[1]["pin"] = "2222"
    twice.write_text(json.dumps({"clerks": people}, ensure_ascii=False), encoding="utf-8")
    done = run(env, "import-config", str(twice), "--commune", "A")
    assert done.exit_code == 0 and "managed centrally" in done.output
    nobody = tmp_path / "nobody.json"
    nobody.write_text(json.dumps({"clerks": [{**people[0], "active": False}]}), encoding="utf-8")
    refused = run(env, "import-config", str(nobody), "--commune", "A")
    assert refused.exit_code == 2 and "No clerk could sign in any more" in refused.output
    missing = run(env, "add-user", "quantri-xa", "--role", "commune_admin", "--password", PASSWORD)
    assert missing.exit_code == 2 and "--commune" in missing.output


def test_counters_are_edited_per_reception_point(site, central):
    """Issue 22: "TT · Quầy 1" and "CN · Quầy 1" are two counters on the page; saving one leaves the other."""
    from central.models import Counter
    from central.registry import add_site

    add_site(central, "A", "CN", "Điểm Cẩm Nhượng")
    admin = sign_in(site, "admin")
    added = post(admin, "/admin/communes/A/counters", site="CN", number="1", services=helpers_all(central))
    assert added.status_code == 302, text(added)
    page = text(admin.get("/admin/communes/A/counters"))
    assert "TT · Quầy số 1" in page and "CN · Quầy số 1" in page
    renamed = post(admin, "/admin/communes/A/counters/CN/1", name="Quầy Cẩm Nhượng", services=["HT"], active="1")
    assert renamed.status_code == 400 and "không có quầy nào đang mở ở điểm CN" in text(renamed)  # CT stranded
    renamed = post(
        admin, "/admin/communes/A/counters/CN/1", name="Quầy Cẩm Nhượng", services=helpers_all(central), active="1"
    )
    assert renamed.status_code == 302, text(renamed)
    with central.sessions() as s:
        names = {(c.site_code, c.number): c.name for c in s.scalars(select(Counter).where(Counter.commune_code == "A"))}
    assert names[("CN", 1)] == "Quầy Cẩm Nhượng" and names[("TT", 1)] == "Quầy 1"
    unknown = post(admin, "/admin/communes/A/counters", site="XX", number="5", services=["HT"])
    assert unknown.status_code == 400 and "Xã không có điểm tiếp nhận XX" in text(unknown)


def helpers_all(central) -> list[str]:
    """The codes of commune A's services in use."""
    with central.sessions() as s:
        return list(s.scalars(select(Service.code).where(Service.commune_code == "A", Service.active)))
