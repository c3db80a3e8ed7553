"""The clerk's session: log in at a counter with a PIN, log out, and the decorators that guard clerk calls.

The session cookie (signed with the kiosk's secret key, HttpOnly, SameSite=Lax) holds the clerk's id, the
counter they logged in at, and what the server checks on every call (``ClerkDesk.session_valid``): a
log-out or a new PIN ends every session of that clerk, copied cookies included, and a session ends a day
after its log-in. A clerk may act only on that counter (403 elsewhere); without a session every clerk
call answers 401. A clerk whose counter
another clerk has taken over, or whose log-in was on an earlier business day, is logged out too.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, jsonify, session

from common.errors import AuthError, KioskError
from common.web.jsonapi import BadBody, read_json
from kiosk.app import current_kiosk

bp = Blueprint("clerk_auth", __name__)

SESSION_KEY = "clerk"


class Forbidden(KioskError, PermissionError):
    """A clerk acting on a counter they are not logged in at."""

    status = 403
    code = "forbidden"


@dataclass(frozen=True)
class CurrentClerk:
    id: str
    name: str
    code: str
    counter: int


def current_clerk() -> CurrentClerk | None:
    """The clerk of this request's session, or None: also when the clerk logged out (anywhere), got a new
    PIN, was deactivated, or logged in more than a day ago."""
    data = session.get(SESSION_KEY)
    if not isinstance(data, dict):
        return None
    try:
        clerk = CurrentClerk(str(data["id"]), str(data["name"]), str(data["code"]), int(data["counter"]))
    except (KeyError, TypeError, ValueError):
        return None
    clerks = current_kiosk().queue.clerks
    if not clerks.session_valid(data) or not clerks.holds(clerk.id, clerk.counter):
        session.pop(SESSION_KEY, None)
        return None
    return clerk


def require_clerk(view: Callable[..., Any]) -> Callable[..., Any]:
    """401 JSON without a clerk session; with ``counter`` in the URL, 403 unless it is the clerk's counter."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        data = session.get(SESSION_KEY)
        clerk = current_clerk()
        if clerk is None:
            raise AuthError("Log in at the clerk console (counter and PIN) first.", _ended(data))
        counter = kwargs.get("counter")
        if counter is not None and counter != clerk.counter:
            raise Forbidden(
                f"You are logged in at counter {clerk.counter}, not counter {counter}; "
                "log out and log in at that counter.",
                {"counter": clerk.counter},
            )
        return view(*args, **kwargs)

    return guarded


def _ended(data: Any) -> dict[str, Any]:
    """Why a session (``data``) has no clerk: ``taken_over`` (with who) when its counter has another clerk now."""
    detail: dict[str, Any] = {"login": "/clerk"}
    if isinstance(data, dict) and isinstance(data.get("counter"), int):
        holder = current_kiosk().queue.clerks.holder(data["counter"])
        if holder is not None and holder[0] != data.get("id"):
            detail.update(reason="taken_over", counter=data["counter"], clerk=holder[1])
    return detail


LOGIN_FIELDS = ["counter", "pin", "clerk", "take_over"]


@bp.post("/api/clerk/login")
def login():
    body = read_json()
    unknown = sorted(set(body) - set(LOGIN_FIELDS))
    if unknown:
        raise BadBody(f"Unknown field(s): {', '.join(unknown)}.", {"allowed": LOGIN_FIELDS})
    counter = body.get("counter")
    if isinstance(counter, str) and counter.strip().isdigit():
        counter = int(counter)
    clerks = current_kiosk().queue.clerks
    clerk = clerks.login(counter, body.get("pin"), body.get("clerk"), body.get("take_over", False))
    screen = session.get("screen")
    session.clear()
    if screen:
        session["screen"] = screen  # a clerk logging in on a citizen screen keeps the screen's own session
    session[SESSION_KEY] = clerk.session()
    return jsonify({"clerk": clerk.as_json()}), 200


@bp.post("/api/clerk/logout")
def logout():
    clerk = current_clerk()
    if clerk is not None:
        current_kiosk().queue.clerks.logout(clerk.id, clerk.counter)
    session.pop(SESSION_KEY, None)
    return jsonify({"logged_out": True}), 200


@bp.get("/api/clerk/me")
def me():
    data = session.get(SESSION_KEY)
    clerk = current_clerk()
    if clerk is None:
        raise AuthError("Not logged in.", _ended(data))
    return jsonify({"clerk": clerk.__dict__}), 200
