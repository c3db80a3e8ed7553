"""The physical rating buttons on gpiozero's mock pins: one press, one committed row, then the LED."""

from __future__ import annotations

import sqlite3
import time

import pytest
from sqlalchemy import event

BUTTONS = {"very_satisfied": 17, "satisfied": 27, "unsatisfied": 22}
LEDS = {"very_satisfied": 5, "satisfied": 6, "unsatisfied": 13}


def press(kiosk, level):
    pin = kiosk.hardware["pin_factory"].pin(BUTTONS[level])
    pin.drive_low()
    pin.drive_high()


def led_state(kiosk, level) -> bool:
    return bool(kiosk.hardware["pin_factory"].pin(LEDS[level]).state)


def wait_for(predicate, timeout=2.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def rows(kiosk):
    path = kiosk.settings.database_url.split("///", 1)[1]
    return sqlite3.connect(path).execute("SELECT level, channel, counter_number, counted FROM ratings").fetchall()


@pytest.mark.parametrize("level", list(BUTTONS))
def test_a_press_commits_exactly_one_row_with_its_level(kiosk, level):
    press(kiosk, level)
    assert rows(kiosk) == [(level, "button", 1, 1)]  # read through a separate connection: it is committed
    assert wait_for(lambda: led_state(kiosk, level))
    assert not any(led_state(kiosk, other) for other in LEDS if other != level)


def fresh_connections(kiosk, on_connect):
    """Make every new SQLite connection of this kiosk run ``on_connect`` (drops the ones already open)."""
    kiosk.ratings.close()
    kiosk.engine.dispose()
    event.listen(kiosk.engine, "connect", lambda dbapi, _record: on_connect(dbapi))


def test_the_led_is_dark_while_the_rating_is_uncommitted(kiosk):
    seen_inside_transaction = []

    def probe(dbapi):
        dbapi.create_function("led_probe", 0, lambda: seen_inside_transaction.append(led_state(kiosk, "satisfied")))

    fresh_connections(kiosk, probe)
    path = kiosk.settings.database_url.split("///", 1)[1]
    sqlite3.connect(path).executescript("CREATE TRIGGER probe AFTER INSERT ON ratings BEGIN SELECT led_probe(); END;")
    press(kiosk, "satisfied")
    assert seen_inside_transaction == [False]
    assert wait_for(lambda: led_state(kiosk, "satisfied"))


def test_a_failed_commit_leaves_the_led_dark_and_nothing_stored(kiosk):
    # A deferred foreign key is checked by SQLite at COMMIT: the COMMIT itself fails, as on a full disk.
    path = kiosk.settings.database_url.split("///", 1)[1]
    sqlite3.connect(path).executescript(
        """
        CREATE TABLE fail_parent (id INTEGER PRIMARY KEY);
        CREATE TABLE fail_child (pid INTEGER REFERENCES fail_parent(id) DEFERRABLE INITIALLY DEFERRED);
        CREATE TRIGGER fail_commit AFTER INSERT ON ratings BEGIN INSERT INTO fail_child VALUES (42); END;
        """
    )
    press(kiosk, "very_satisfied")
    time.sleep(0.2)
    assert not led_state(kiosk, "very_satisfied")
    assert kiosk.hardware["pin_factory"].pin(19).state == 0  # the buzzer stayed silent too
    assert rows(kiosk) == []
    # The failed transaction left nothing locked: once the fault is gone the next press is stored and lit.
    sqlite3.connect(path).executescript("DROP TRIGGER fail_commit;")
    press(kiosk, "satisfied")
    assert [r[0] for r in rows(kiosk)] == ["satisfied"]
    assert wait_for(lambda: led_state(kiosk, "satisfied"))


def test_the_buzzer_beeps_after_a_stored_press(kiosk):
    buzzer = kiosk.hardware["pin_factory"].pin(19)
    press(kiosk, "unsatisfied")
    assert wait_for(lambda: buzzer.state == 1 or any(s for _, s in buzzer.states[1:]))


def test_rapid_presses_are_stored_but_only_the_first_counts(kiosk):
    for level in ("very_satisfied", "very_satisfied", "unsatisfied"):
        press(kiosk, level)
        time.sleep(0.06)  # past the switch debounce, far inside the 5 s response interval
    stored = rows(kiosk)
    assert [r[0] for r in stored] == ["very_satisfied", "very_satisfied", "unsatisfied"]
    assert [r[3] for r in stored] == [1, 0, 0]


def test_real_gpio_without_a_pi_fails_loudly(tmp_path, clock):
    from common.errors import ConfigError
    from kiosk.app import create_app

    with pytest.raises(ConfigError, match="KIOSK_GPIO=mock"):  # `kiosk serve`: one line, exit status 2
        create_app({"data_dir": str(tmp_path), "gpio": "real"}, clock=clock)
