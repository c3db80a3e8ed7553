"""`GET /api/v1/config/changes`: a kiosk waits for a catalogue newer than its own (SQLite and PostgreSQL).

The answer is signed for the kiosk's request; it comes at once when the kiosk's version is not the commune's,
as soon as the commune's catalogue is saved while it waits, and says "unchanged" after the wait otherwise.
Past ``central_watch_slots`` waiting kiosks a request is answered at once with a delay to ask again after.
"""

from __future__ import annotations

import threading
import time

from central.catalog import catalog_version
from central.catalog_watch import CatalogWatch
from central.registry import add_device
from sync import protocol
from tests.central.helpers import COMMUNE, import_catalog

NEW_FIELD = {
    "services": [{"code": "HT", "name": "Hộ tịch", "prefix": "A"}, {"code": "XD", "name": "Xây dựng", "prefix": "X"}],
    "counters": [{"number": 1, "services": ["HT", "XD"]}],
}


class Watcher:
    """Asks as one kiosk, each request with the next counter."""

    def __init__(self, client, device: tuple[str, str]) -> None:
        self.client, self.device_id, self.secret = client, device[0], device[1]
        self.counter = 0

    def ask(self, **params):
        self.counter += 1
        headers = protocol.request_headers(self.secret, "GET", protocol.CHANGES_PATH, self.device_id, self.counter, b"")
        answer = self.client.get(protocol.CHANGES_PATH, query_string=params, headers=headers)
        signature = answer.headers.get(protocol.SIGNATURE_HEADER, "")
        signed = protocol.response_ok(self.secret, signature, self.device_id, self.counter, answer.get_data())
        return answer, signed


def version(central) -> str:
    with central.sessions() as session:
        return catalog_version(session, COMMUNE)


def test_a_kiosk_behind_is_answered_at_once_and_one_up_to_date_after_the_wait(central_app, central, device):
    watcher = Watcher(central_app.test_client(), device)
    behind, signed = watcher.ask(since="an-older-version", wait="20")
    assert behind.status_code == 200 and signed
    assert behind.get_json() == {"v": 1, "changed": True, "version": version(central)}

    same, signed = watcher.ask(since=version(central), wait="0.3")
    assert same.status_code == 200 and signed
    assert same.get_json() == {"v": 1, "changed": False, "version": version(central)}


def test_a_waiting_kiosk_is_answered_when_the_catalogue_is_saved(central_app, central, device):
    watcher = Watcher(central_app.test_client(), device)
    before = version(central)
    answers = []
    waiting = threading.Thread(target=lambda: answers.append(watcher.ask(since=before, wait="30")))
    waiting.start()
    time.sleep(0.5)
    with central.sessions.begin() as session:
        import_catalog(session, COMMUNE, NEW_FIELD)
    waiting.join(40)
    ((answer, signed),) = answers
    assert signed and answer.get_json()["changed"] is True
    assert answer.get_json()["version"] == version(central) != before


def test_a_watch_needs_a_signature_and_a_number_of_seconds(central_app, central, device):
    client = central_app.test_client()
    unsigned = client.get(protocol.CHANGES_PATH, query_string={"since": "x"})
    assert unsigned.status_code == 401 and unsigned.get_json()["error"]
    wrong, _ = Watcher(client, device).ask(since="x", wait="soon")
    assert wrong.status_code == 400 and wrong.get_json()["detail"] == {"field": "wait"}
    long, _ = Watcher(client, device).ask(since="x" * 65)
    assert long.status_code == 400 and long.get_json()["detail"] == {"field": "since"}


def test_past_its_slots_the_server_says_when_to_ask_again(central_app, central):
    central_app.extensions["catalog_watch"] = CatalogWatch(central.sessions, slots=1)  # central_watch_slots = 1
    first = Watcher(central_app.test_client(), add_device(central, "Quầy 1", COMMUNE, "Xã Tân Hòa"))
    second = Watcher(central_app.test_client(), add_device(central, "Quầy 2", COMMUNE, "Xã Tân Hòa"))
    current = version(central)
    waiting = threading.Thread(target=lambda: first.ask(since=current, wait="3"))
    waiting.start()
    time.sleep(0.5)
    busy, signed = second.ask(since=current, wait="20")
    assert signed and busy.get_json() == {"v": 1, "changed": False, "version": current, "retry": 5.0}
    waiting.join(10)
