"""Sessions of the central pages end server-side, and sign-in is throttled per source address (issue 12,
cases 7 and 10). Runs on SQLite and PostgreSQL.

A `/reports/data.json` cookie copied before a sign-out once kept working; thirty usernames tried from one
address all went through the per-username throttle.
"""

from __future__ import annotations

import re

from click.testing import CliRunner

from central.registry import add_user
from tests.central.helpers import TEST_PASSWORD, token

DATA = "/reports/data.json?period=month&year=2026&month=11"


def sign_in(app, username: str, password: str = TEST_PASSWORD, address: str = "10.0.0.7"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    answer = client.post("/login", data={"username": username, "password": password, "csrf_token": token(client)})
    return client, answer


def copy_of(client, app):
    thief = app.test_client()
    thief.set_cookie("kiosk_central", client.get_cookie("kiosk_central").value)
    return thief


def test_signing_out_ends_every_session_of_that_user(central_app, central):
    add_user(central, "lanh-dao", TEST_PASSWORD, "admin")
    first, answer = sign_in(central_app, "lanh-dao")
    assert answer.status_code == 302
    second, _ = sign_in(central_app, "lanh-dao", address="10.0.0.8")  # the same person on another computer
    thief = copy_of(first, central_app)
    assert thief.get(DATA).status_code == 200
    assert first.post("/logout", data={"csrf_token": token(first, "/fleet")}).status_code == 302
    assert thief.get(DATA).status_code == 401, "a cookie copied before the sign-out no longer works"
    assert second.get(DATA).status_code == 401
    again, answer = sign_in(central_app, "lanh-dao")
    assert answer.status_code == 302 and again.get(DATA).status_code == 200


def test_a_new_password_ends_the_users_sessions(central_app, central, tmp_path):
    from central.cli import main

    add_user(central, "xem-xa", TEST_PASSWORD, "admin")
    client, _ = sign_in(central_app, "xem-xa")
    assert client.get(DATA).status_code == 200
    url = central.engine.url.render_as_string(hide_password=False)
    env = {"KIOSK_DATA_DIR": str(tmp_path / "central"), "KIOSK_CENTRAL_DATABASE_URL": url}
    done = CliRunner().invoke(main, ["set-password", "xem-xa", "--password", "mật-khẩu-mới-dài"], env=env, obj={})
    assert done.exit_code == 0, done.output
    assert "every session" in done.output
    assert client.get(DATA).status_code == 401
    assert sign_in(central_app, "xem-xa")[1].status_code == 401  # the old password is gone
    assert sign_in(central_app, "xem-xa", "mật-khẩu-mới-dài", address="10.0.0.9")[1].status_code == 302


def test_sign_in_is_throttled_per_source_address_whatever_the_usernames(central_app, central):
    add_user(central, "that-user", TEST_PASSWORD, "admin")
    codes = [sign_in(central_app, f"nguoi-{i}", "doan-mo")[1].status_code for i in range(30)]
    assert codes[:10] == [401] * 10 and set(codes[10:]) == {429}
    # The right password from that address waits too; another address is not affected.
    assert sign_in(central_app, "that-user")[1].status_code == 429
    assert sign_in(central_app, "that-user", address="10.0.0.99")[1].status_code == 302


def test_behind_a_reverse_proxy_the_clients_address_is_throttled_not_the_proxys(tmp_path, central_db, server_clock):
    from central.app import create_central_app

    app = create_central_app(
        {
            "data_dir": str(tmp_path / "proxied"),
            "central_database_url": central_db,
            "central_proxy_count": 1,
            "TESTING": True,
        },
        clock=server_clock,
    )
    try:
        add_user(app.extensions["central"], "quan-tri", TEST_PASSWORD, "admin")

        def attempt(client_address: str, password: str) -> int:
            client = app.test_client()
            client.environ_base.update({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": client_address})
            page = client.get("/login")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            return client.post(
                "/login", data={"username": "quan-tri", "password": password, "csrf_token": csrf}
            ).status_code

        assert [attempt("203.0.113.5", "sai") for _ in range(11)][-1] == 429
        assert attempt("203.0.113.6", TEST_PASSWORD) == 302, "another client behind the same proxy signs in"
    finally:
        app.extensions["central"].close()
