"""One session mark for the clerk, the kiosk admin and the central server: it ends with the epoch or the secret."""

from __future__ import annotations

from common.web.session_mark import make_mark, mark_holds

HASH = "scrypt:32768:8:1$salt$0123abcd"


def test_a_mark_holds_while_the_user_epoch_and_secret_are_the_same():
    mark = make_mark("user-1", 3, HASH)
    assert mark_holds(mark, "user-1", 3, HASH)
    assert not mark_holds(mark, "user-1", 4, HASH)  # signed out everywhere
    assert not mark_holds(mark, "user-1", 3, HASH + "x")  # a new password or PIN
    assert not mark_holds(mark, "user-2", 3, HASH)  # another user's session


def test_a_mark_reveals_nothing_of_the_hash_and_needs_a_secret():
    mark = make_mark("admin", 0, HASH)
    assert len(mark) == 32 and "salt" not in mark and HASH not in mark
    assert not mark_holds(mark, "admin", 0, None) and not mark_holds(mark, "admin", 0, "")
    assert not mark_holds(None, "admin", 0, HASH) and not mark_holds({"mark": mark}, "admin", 0, HASH)
    assert not mark_holds("0:abcdef", "admin", 0, HASH)  # a mark of the former scheme
