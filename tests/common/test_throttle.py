"""The one throttle of both programs: a flood gate (events per window) and a lock-out (wrong tries in a row),
timed on a monotonic clock the tests move by hand."""

from __future__ import annotations

import pytest

from common.errors import KioskError, LockedOut, TooManyRequests
from common.throttle import FloodGate, Lockout


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Count:
    """A lock-out's wrong tries kept in memory (the kiosk keeps them in its database)."""

    def __init__(self) -> None:
        self.failures, self.locked = 0, False

    def read(self) -> tuple[int, bool]:
        return self.failures, self.locked

    def write(self, failures: int, locked: bool) -> None:
        self.failures, self.locked = failures, locked


def test_one_error_class_answers_429_and_the_lock_out_is_one_of_them():
    for cls in (TooManyRequests, LockedOut):
        assert issubclass(cls, KioskError) and issubclass(cls, PermissionError) and cls.status == 429
    assert issubclass(LockedOut, TooManyRequests)


def test_a_flood_gate_lets_limit_events_per_window_then_refuses_until_the_oldest_ages_out():
    clock = Monotonic()
    gate = FloodGate(3, 60, clock=clock)
    for _ in range(3):
        gate.check("10.0.0.5")
        clock.now += 10
    with pytest.raises(TooManyRequests) as refused:
        gate.check("10.0.0.5")
    assert refused.value.retry_after == 30 and refused.value.detail == {"reason": "flood", "retry_after": 30}
    assert refused.value.message == "3 requests from 10.0.0.5 within a minute: wait 30 s and try again."
    gate.check("10.0.0.6")  # another address has its own allowance
    clock.now += 30  # the first event is a minute old
    gate.check("10.0.0.5")
    assert gate.full("10.0.0.5")


def test_a_refused_event_is_not_counted_and_a_guard_counts_nothing():
    clock = Monotonic()
    gate = FloodGate(2, 100, clock=clock)
    gate.count("a")
    gate.count("a")
    for _ in range(5):
        with pytest.raises(TooManyRequests):
            gate.guard("a")
        with pytest.raises(TooManyRequests):
            gate.check("a")
    clock.now += 100
    assert not gate.full("a")
    gate.guard("a")
    assert not gate.full("a")


def test_a_flood_gate_refuses_with_its_callers_error_and_limit_zero_means_no_limit():
    def refuse(count: int, key: str, wait: int) -> KioskError:
        return TooManyRequests(f"{count} from {key}", retry_after=wait)

    gate = FloodGate(1, 60, refuse, clock=Monotonic())
    gate.check("x")
    with pytest.raises(TooManyRequests, match="1 from x"):
        gate.check("x")
    free = FloodGate(0, clock=Monotonic())
    for _ in range(100):
        free.check("x")
    assert not free.full("x")


def test_a_lock_out_locks_after_n_wrong_tries_in_a_row_and_lifts_after_its_period():
    clock, count = Monotonic(), Count()
    lockout = Lockout(3, 300, clock)
    assert lockout.failed(count).failures == 1
    lockout.succeeded(count)  # a right secret: the count starts again
    assert count.read() == (0, False)
    for _ in range(2):
        assert not lockout.failed(count).locked
    state = lockout.failed(count)
    assert state.locked and state.seconds_left == 300 and count.read() == (3, True)
    clock.now += 120.4
    assert lockout.state(count).seconds_left == 180
    clock.now += 180
    assert not lockout.state(count).locked and count.read() == (0, False)


def test_a_restarted_lock_out_locks_again_for_a_full_period_never_less():
    clock, count = Monotonic(), Count()
    for _ in range(3):
        Lockout(3, 300, clock).failed(count)
    clock.now = 5.0  # a new process: its monotonic clock starts again, lower
    restarted = Lockout(3, 300, clock)
    assert restarted.state(count).seconds_left == 300
    clock.now += 299
    assert restarted.state(count).locked
    clock.now += 1
    assert not restarted.state(count).locked
