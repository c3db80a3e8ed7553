"""One rule set for the catalogue, whatever the door and whatever the store.

The same edit on the kiosk's `/admin` (device SQLite) and on the central pages (central SQLite and PostgreSQL)
is refused with the same message, and changes nothing; the same document refused by the kiosk taking it down,
by `kiosk-central import-config` and by the central server receiving it as a kiosk's upload, for the same
reason. Each door is called as the program calls it (kiosk.catalog_edit, central.catalog_edit,
kiosk.uplink.device_catalog.apply_catalog, central.catalog.import_catalog, central.catalog_upload).
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from central import catalog_edit as central_edit
from central.audit import Actor
from central.catalog import content, import_catalog
from central.catalog_upload import check_upload, receive
from central.models import Clerk as CentralClerk
from central.registry import add_commune
from common import settings as settings_mod
from common.catalog_rules import hash_pin
from common.db import transaction
from common.errors import KioskError
from kiosk import catalog_edit as kiosk_edit
from kiosk import catalog_state
from kiosk.app import build_kiosk
from kiosk.clock import FakeClock
from kiosk.models import Clerk as KioskClerk
from kiosk.uplink.device_catalog import apply_catalog

NOW = datetime(2026, 11, 20, 1, 0)
ACTOR = Actor("qt-a")


def refusal(action, *args: Any, **kwargs: Any) -> tuple[str, str, dict[str, Any]]:
    """(kind of error, msgid, params) of the refusal ``action(*args, **kwargs)`` raises (it must raise one)."""
    with pytest.raises(KioskError) as caught:
        action(*args, **kwargs)
    detail = caught.value.detail if isinstance(caught.value.detail, dict) else {}
    assert detail.get("msgid"), f"no translatable reason: {caught.value.message}"
    return type(caught.value).__name__, detail["msgid"], detail.get("params", {})


class DeviceDoor:
    """The kiosk's /admin functions and the document it takes down, over its own SQLite database."""

    name = "device"

    def __init__(self, tmp_path):
        settings = settings_mod.load(overrides={"data_dir": str(tmp_path / "kiosk"), "printer": "none"})
        self.kiosk = build_kiosk(settings, FakeClock())

    def _edit(self, fn, *args, **kwargs):
        with transaction(self.kiosk.sessions) as s:
            return fn(s, *args, **kwargs)

    def service(self, code, name, prefix, daily_max, active, *, new):
        return self._edit(kiosk_edit.save_service, code, name, prefix, daily_max, active, new=new)

    def counter(self, number, services, active, name, *, new):
        return self._edit(kiosk_edit.save_counter, number, services, active, name, new=new)

    def add_clerk(self, name, counter, pin):
        return self._edit(kiosk_edit.create_clerk, name, counter, pin).id

    def update_clerk(self, clerk_id, name, counter, active, pin=None):
        return self._edit(kiosk_edit.update_clerk, clerk_id, name, counter, active, pin)

    def take_down(self, doc):
        apply_catalog(self.kiosk, doc)

    def catalogue(self) -> dict:
        with self.kiosk.sessions() as s:
            return catalog_state.snapshot(s)

    def clerk_ids(self) -> dict[str, str]:
        with self.kiosk.sessions() as s:
            return {c.name: c.id for c in s.scalars(select(KioskClerk))}

    def close(self):
        self.kiosk.close()


class CentralDoor:
    """The central pages' functions, import-config and a kiosk's upload, for commune A."""

    name = "central"

    def __init__(self, central):
        self.central = central
        add_commune(central, "A", "Xã An Bình")

    def _edit(self, fn, *args, **kwargs):
        with transaction(self.central.sessions) as s:
            return fn(s, "A", *args, **kwargs, actor=ACTOR, now=NOW)

    def service(self, code, name, prefix, daily_max, active, *, new):
        return self._edit(central_edit.save_service, code, name, prefix, daily_max, active, new=new)

    def counter(self, number, services, active, name, *, new):
        return self._edit(central_edit.save_counter, number, services, active, name, new=new)

    def add_clerk(self, name, counter, pin):
        return self._edit(central_edit.add_clerk, name, None, counter, pin).id

    def update_clerk(self, clerk_id, name, counter, active, pin=None):
        return self._edit(central_edit.save_clerk, clerk_id, name, counter, active, pin)

    def import_config(self, doc):
        with transaction(self.central.sessions) as s:
            import_catalog(s, "A", doc, ACTOR, NOW)

    def upload(self, doc):
        catalog, changed = check_upload(doc, [])
        with transaction(self.central.sessions) as s:
            receive(s, "A", "8f0e7b1c-0000-4000-8000-0000000000aa", "Quầy 1", catalog, changed, NOW)

    def catalogue(self) -> dict:
        with self.central.sessions() as s:
            return {k: v for k, v in content(s, "A").items() if k != "owner"}

    def clerk_ids(self) -> dict[str, str]:
        with self.central.sessions() as s:
            return {c.name: c.id for c in s.scalars(select(CentralClerk).where(CentralClerk.commune_code == "A"))}


@pytest.fixture
def doors(tmp_path, central):
    device = DeviceDoor(tmp_path)
    yield device, CentralDoor(central)
    device.close()


# --- one item at a time: the kiosk's /admin and the central pages ------------------------------------------

EDITS = [
    ("a new service code with accents", lambda d, ids: d.service("Hộ", "Sai mã", "Z", "", True, new=True)),
    ("a service code taken", lambda d, ids: d.service("HT", "Trùng", "Z", "", True, new=True)),
    ("a name with a NUL", lambda d, ids: d.service("HT", "Hộ\x00tịch", "A", "", "1", new=False)),
    ("a name with an escape", lambda d, ids: d.service("HT", "Hộ tịch\x1b[2J", "A", "", "1", new=False)),
    ("a lone surrogate", lambda d, ids: d.service("HT", "Hộ tịch \ud800", "A", "", "1", new=False)),
    ("a name too long", lambda d, ids: d.service("HT", "x" * 201, "A", "", "1", new=False)),
    ("a blank name", lambda d, ids: d.service("HT", "  ", "A", "", "1", new=False)),
    ("another service's prefix", lambda d, ids: d.service("HT", "Hộ tịch", "B", "", "1", new=False)),
    ("a prefix with accents", lambda d, ids: d.service("HT", "Hộ tịch", "Á", "", "1", new=False)),
    ("a daily maximum too high", lambda d, ids: d.service("HT", "Hộ tịch", "A", "10000", "1", new=False)),
    ("a daily maximum in words", lambda d, ids: d.service("HT", "Hộ tịch", "A", "nhiều", "1", new=False)),
    ("a counter number too high", lambda d, ids: d.counter("1000", ["HT"], True, "", new=True)),
    ("a counter that exists", lambda d, ids: d.counter("1", ["HT"], True, "", new=True)),
    ("a counter that is not there", lambda d, ids: d.counter("9", ["HT"], "1", "", new=False)),
    ("an unknown service at a counter", lambda d, ids: d.counter("4", ["HT", "XX"], True, "", new=True)),
    ("an open counter with no service", lambda d, ids: d.counter("1", [], "1", "Quầy 1", new=False)),
    ("a counter name too long", lambda d, ids: d.counter("1", ["HT"], "1", "x" * 101, new=False)),
    ("a short PIN", lambda d, ids: d.add_clerk("Lê Văn Nam", "", "12")),
    ("another clerk's PIN", lambda d, ids: d.add_clerk("Lê Văn Nam", "", "1111")),
    ("a clerk at a counter that is not there", lambda d, ids: d.add_clerk("Lê Văn Nam", "9", "4321")),
    ("a clerk without a name", lambda d, ids: d.add_clerk(" ", "1", "4321")),
    (
        "a new PIN another clerk has",
        lambda d, ids: d.update_clerk(ids["Trần Văn Minh"], "Trần Văn Minh", "2", "1", "1111"),
    ),
]


def test_the_same_edit_is_refused_alike_on_the_kiosk_and_on_the_central_pages(doors):
    """Each edit of EDITS on both doors (a refusal is rolled back, so each starts from the same catalogue)."""
    found: dict[str, list] = {case: [] for case, _ in EDITS}
    for door in doors:
        door.add_clerk("Nguyễn Thị Lan", "1", "1111")
        door.add_clerk("Trần Văn Minh", "2", "2222")
        before, ids = door.catalogue(), door.clerk_ids()
        for case, edit in EDITS:
            found[case].append(refusal(edit, door, ids))
            assert door.catalogue() == before, f"{door.name}: a refused edit changed the catalogue ({case})"
    differ = {case: ways for case, ways in found.items() if ways[0] != ways[1]}
    assert not differ, f"the kiosk and the central server refuse differently: {differ}"


def test_an_item_that_is_not_there_is_named_where_it_is_missing(doors):
    device, central = doors
    assert refusal(lambda: device.service("XX", "X", "X", "", "1", new=False))[:2] == (
        "NotFoundError",
        "Service %(code)s does not exist on this kiosk.",
    )
    assert refusal(lambda: central.service("XX", "X", "X", "", "1", new=False))[:2] == (
        "NotFoundError",
        "Service %(code)s does not exist in this commune.",
    )
    gone = "8f0e7b1c-0000-4000-8000-000000000009"
    assert refusal(lambda: device.update_clerk(gone, "X", "", "1"))[1] == "This clerk does not exist on this kiosk."
    assert refusal(lambda: central.update_clerk(gone, "X", "", "1"))[1] == "This clerk does not exist in this commune."


def test_neither_lets_the_last_service_counter_or_clerk_go(doors):
    for door in doors:
        lan = door.add_clerk("Nguyễn Thị Lan", "1", "1111")
        found = [refusal(door.update_clerk, lan, "Nguyễn Thị Lan", "1", "")]
        for code, prefix in [("HT", "A"), ("CT", "B"), ("DD", "C"), ("TP", "F")]:
            door.service(code, code, prefix, "", "", new=False)  # (a counter closes only when no field needs it)
        for number in (1, 2):
            door.counter(str(number), [], "", f"Quầy {number}", new=False)
        found.append(refusal(door.counter, "3", [], "", "Quầy 3", new=False))
        door.service("BT", "BT", "D", "", "", new=False)
        found.append(refusal(door.service, "NCC", "NCC", "E", "", "", new=False))
        assert [msgid for _, msgid, _ in found] == [
            "No clerk could sign in any more: at least one clerk must stay active.",
            "No open counter would handle a service in use: at least one open counter must handle a service in use.",
            "No service would be in use: at least one service must stay in use.",
        ], door.name


# --- a whole catalogue: the document a kiosk takes down, import-config, a kiosk's upload ----------------------


def good_catalogue() -> dict:
    """A commune's catalogue in the document's shape, as the kiosk takes it down and sends it up."""
    levels = [("very_satisfied", "Rất hài lòng", 2), ("satisfied", "Hài lòng", 1), ("unsatisfied", "Không hài lòng", 0)]
    return {
        "version": "v-test",
        "services": [
            {"code": "HT", "name": "Hộ tịch", "prefix": "A", "daily_max": None, "active": True},
            {"code": "DD", "name": "Đất đai", "prefix": "C", "daily_max": 50, "active": True},
        ],
        "counters": [
            {"number": 1, "name": "Quầy 1", "active": True, "services": ["HT"]},
            {"number": 2, "name": "Quầy 2", "active": True, "services": ["DD"]},
        ],
        "clerks": [
            {
                "id": "8f0e7b1c-0000-4000-8000-000000000001",
                "code": "CC01",
                "name": "Nguyễn Thị Lan",
                "pin_hash": hash_pin("1111"),
                "counter": 1,
                "active": True,
            }
        ],
        "scale": [{"key": k, "label": label, "points": p, "active": True} for k, label, p in levels],
        "questions": [{"key": "time", "question": "Thời gian giải quyết", "answers": ["Sớm", "Đúng hẹn", "Trễ"]}],
    }


def changed(path: str, value: Any):
    """The good catalogue with ``value`` at ``path`` ("services.0.name"; "scale" for a whole section)."""

    def make() -> dict:
        doc = good_catalogue()
        *where, last = path.split(".")
        target = doc
        for step in where:
            target = target[int(step)] if step.isdigit() else target[step]
        target[int(last) if last.isdigit() else last] = value(copy.deepcopy(doc)) if callable(value) else value
        return doc

    return make


DOCUMENTS = [
    ("a NUL in a name", changed("services.0.name", "Hộ\x00tịch")),
    ("a control character in a counter's name", changed("counters.0.name", "Quầy\x07 1")),
    ("a name too long", changed("clerks.0.name", "x" * 201)),
    ("a service code with accents", changed("services.1.code", "Đ")),
    ("a service listed twice", changed("services.1.code", "HT")),
    ("two services on one prefix", changed("services.1.prefix", "A")),
    ("a prefix too long", changed("services.0.prefix", "ABCDE")),
    ("a daily maximum too high", changed("services.1.daily_max", 10_000)),
    ("in use as a word", changed("services.0.active", "yes")),
    ("a counter number too high", changed("counters.1.number", 1000)),
    ("a counter listed twice", changed("counters.1.number", 1)),
    ("a counter of an unknown service", changed("counters.0.services", ["HT", "XX"])),
    ("an open counter with no service", changed("counters.0.services", [])),
    ("a clerk at a counter not listed", changed("clerks.0.counter", 7)),
    ("a clerk code with a space", changed("clerks.0.code", "CC 01")),
    ("a clerk without a PIN hash", changed("clerks.0.pin_hash", "")),
    (
        "one rating level",
        changed("scale", lambda doc: doc["scale"][:1]),
    ),
    ("a level without wording", changed("scale.0.label", " ")),
    ("points out of bounds", changed("scale.0.points", 99)),
    ("a question with two answers", changed("questions.0.answers", ["Sớm", "Trễ"])),
    (
        "too many services",
        changed(
            "services",
            lambda doc: [{"code": f"S{i}", "name": f"Lĩnh vực {i}", "prefix": "", "active": False} for i in range(101)],
        ),
    ),
    ("no service in use", changed("services", lambda doc: [{**s, "active": False} for s in doc["services"]])),
    ("no open counter", changed("counters", lambda doc: [{**c, "active": False} for c in doc["counters"]])),
    # issue 22: no ticket nobody can call
    ("the only counter of a service closed", changed("counters.1.active", False)),
    (
        "a service added with no counter",
        changed("services", lambda doc: [*doc["services"], {"code": "GD", "name": "Giáo dục", "prefix": "G"}]),
    ),
]


def test_a_catalogue_is_refused_alike_at_every_door(doors):
    """Each catalogue of DOCUMENTS at the three doors: the same reason, and nothing changed."""
    device, central = doors
    ways = {
        "the kiosk taking the commune's document down": (device, device.take_down),
        "kiosk-central import-config": (central, central.import_config),
        "the central server receiving a kiosk's upload": (central, central.upload),
    }
    differ = {}
    for case, make in DOCUMENTS:
        found = {}
        for way, (door, action) in ways.items():
            before = door.catalogue()
            found[way] = refusal(action, make())[1:]
            assert door.catalogue() == before, f"{way}: a refused catalogue changed something ({case})"
        if len(set(map(repr, found.values()))) != 1:
            differ[case] = found
    assert not differ, f"the doors refuse differently: {differ}"


def test_a_good_catalogue_is_taken_alike_at_every_door(doors):
    device, central = doors
    device.take_down(good_catalogue())
    central.import_config(good_catalogue())
    kiosk, commune = device.catalogue(), central.catalogue()
    for part in ("services", "counters"):
        assert [x for x in kiosk[part] if x["active"]] == [x for x in commune[part] if x["active"]], part
    people = [(c["code"], c["name"], c["counter"], c["active"]) for c in kiosk["clerks"]]
    assert people == [(c["code"], c["name"], c["counter"], c["active"]) for c in commune["clerks"]]
    assert people == [("CC01", "Nguyễn Thị Lan", 1, True)]
    assert [lv["label"] for lv in kiosk["scale"] if lv["active"]] == [
        lv["label"] for lv in commune["scale"] if lv["active"]
    ]
    asked = {q["key"]: q["answers"] for q in kiosk["questions"] if q["active"]}
    assert (
        asked
        == {q["key"]: q["answers"] for q in commune["questions"] if q["active"]}
        == {"time": ["Sớm", "Đúng hẹn", "Trễ"]}
    )


def test_a_stranded_service_is_refused_at_every_door_naming_it_and_its_point(doors):
    """Issue 22: closing the only counter of a service is refused by the kiosk taking the document down, by
    import-config and by the central server receiving a kiosk's upload — naming the service and the point."""
    device, central = doors
    make = changed("counters.1.active", False)
    for action in (device.take_down, central.import_config, central.upload):
        _, msgid, params = refusal(action, make())
        assert msgid.startswith("Service %(name)s has no open counter at reception point %(site)s")
        assert (params["name"], params["site"]) == ("Đất đai", "TT")
