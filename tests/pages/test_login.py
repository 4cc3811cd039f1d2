"""Signing in and out of the pages, CSRF, and which role sees which page."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from cylinder_trace.domain.errors import DomainError
from cylinder_trace.users.services import check_password, set_password
from tests.pages.helpers import PASSWORD, csrf_of, login, page_token, sign_in, text
from tests.world import World

FAILED = "用户名或密码错误"


def _error(response: object) -> str:
    match = re.search(r'data-testid="login-error">([^<]*)<', text(response))
    assert match, text(response)
    return match.group(1)


def test_password_is_stored_as_scrypt_hash(db_session: Session, world: World) -> None:
    user = world.users["a_operator"]
    set_password(db_session, user, PASSWORD)
    assert user.password_hash.startswith("scrypt:")
    assert PASSWORD not in user.password_hash
    assert check_password(user, PASSWORD)
    assert not check_password(user, PASSWORD + "x")
    assert not check_password(world.users["a_admin"], PASSWORD)  # none set


@pytest.mark.parametrize("password", ["short", " padded-password ", "a.operator", "x" * 129])
def test_weak_passwords_are_refused(db_session: Session, world: World, password: str) -> None:
    with pytest.raises(DomainError) as caught:
        set_password(db_session, world.users["a_operator"], password)
    assert caught.value.code == "password_invalid"


def test_operator_signs_in_to_the_station_page(
    client: FlaskClient, db_session: Session, world: World
) -> None:
    set_password(db_session, world.users["a_operator"], PASSWORD)
    response = sign_in(client, "A.Operator")  # usernames are case-insensitive
    assert response.status_code == 302
    assert response.headers["Location"] == "/station"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get("/station")
    assert page.status_code == 200
    assert "充装前检查" in text(page)
    assert page.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_same_answer_for_unknown_user_and_wrong_password(
    client: FlaskClient, db_session: Session, world: World
) -> None:
    set_password(db_session, world.users["a_operator"], PASSWORD)
    wrong = sign_in(client, "a.operator", "Wrong-password-1")
    unknown = sign_in(client, "nobody.here", PASSWORD)
    no_password = sign_in(client, "a.admin", PASSWORD)  # a user who never got a password
    for response in (wrong, unknown, no_password):
        assert response.status_code == 200
        assert _error(response) == FAILED
        with client.session_transaction() as session:
            assert "sid" not in session


def test_inactive_user_cannot_sign_in_and_is_signed_out(
    client: FlaskClient, db_session: Session, world: World
) -> None:
    user = world.users["a_operator"]
    login(client, db_session, user)
    assert client.get("/station").status_code == 200
    user.active = False
    db_session.flush()
    response = client.get("/station")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    again = sign_in(client, "a.operator")
    assert again.status_code == 200
    assert "已停用" in text(again)


def test_changing_the_password_ends_other_sessions(
    client: FlaskClient, db_session: Session, world: World
) -> None:
    user = world.users["a_operator"]
    login(client, db_session, user)
    set_password(db_session, user, "Another-password-9")
    assert client.get("/station").status_code == 302


def test_post_without_csrf_token_is_refused(
    client: FlaskClient, db_session: Session, world: World
) -> None:
    set_password(db_session, world.users["a_operator"], PASSWORD)
    client.get("/login")
    response = client.post("/login", data={"username": "a.operator", "password": PASSWORD})
    assert response.status_code == 400
    assert "页面已过期" in text(response)
    forged = client.post(
        "/login",
        data={"username": "a.operator", "password": PASSWORD, "csrf_token": "guessed"},
    )
    assert forged.status_code == 400
    login(client, db_session, world.users["a_operator"])
    check = client.post("/station/check", json={"scan": "CQDZ-000001"})
    assert check.status_code == 400
    assert check.get_json()["code"] == "csrf_refused"
    assert client.post("/logout").status_code == 400


def test_logout(client: FlaskClient, db_session: Session, world: World) -> None:
    token = login(client, db_session, world.users["a_operator"])
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get("/station").status_code == 302
    with client.session_transaction() as session:
        assert "sid" not in session


def test_next_goes_back_but_never_off_site(
    client: FlaskClient, db_session: Session, world: World
) -> None:
    set_password(db_session, world.users["a_admin"], PASSWORD)
    first = client.get("/company/customers?q=x")
    assert first.status_code == 302
    assert first.headers["Location"] == "/login?next=/company/customers?q%3Dx"
    assert sign_in(client, "a.admin", next="/company/customers?q=x").headers["Location"] == (
        "/company/customers?q=x"
    )
    client.post("/logout", data={"csrf_token": page_token(client, "/company/customers")})
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        response = sign_in(client, "a.admin", next=target)
        assert response.headers["Location"] == "/company/cylinders"
        client.post("/logout", data={"csrf_token": page_token(client, "/company/customers")})


@pytest.mark.parametrize(
    ("who", "allowed", "forbidden"),
    [
        ("a_operator", ["/station", "/company/cylinders"], ["/bureau"]),
        ("a_admin", ["/company/customers", "/company/review"], ["/station", "/bureau"]),
        ("dazu_reviewer", ["/bureau"], ["/station", "/company/customers", "/company/cylinders"]),
        ("city_regulator", ["/bureau"], ["/station", "/company/review"]),
    ],
)
def test_roles_decide_which_pages_show(
    client: FlaskClient,
    db_session: Session,
    world: World,
    who: str,
    allowed: list[str],
    forbidden: list[str],
) -> None:
    login(client, db_session, world.users[who])
    for path in allowed:
        assert client.get(path).status_code == 200, path
    for path in forbidden:
        response = client.get(path)
        assert response.status_code == 403, path
        assert "无权" in text(response)


def test_anonymous_visitors_are_sent_to_sign_in(client: FlaskClient, world: World) -> None:
    for path in ("/", "/station", "/bureau", "/company/cylinders", "/bureau/export.csv"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login")
    anonymous_json = client.post("/station/check", json={"scan": "X"})
    assert anonymous_json.status_code == 400  # no session, so no CSRF token either


def test_login_page_in_english(client: FlaskClient, world: World) -> None:
    page = client.get("/login?lang=en")
    assert "Sign in" in text(page)
    assert "Username" in text(client.get("/login"))  # remembered in the session
    assert "用户名" in text(client.get("/login?lang=zh"))
    assert csrf_of(text(page))


def test_cli_sets_a_password(app: Flask, db_session: Session, world: World) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["user", "set-password", "A.Operator"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    db_session.refresh(world.users["a_operator"])
    assert check_password(world.users["a_operator"], PASSWORD)
    short = runner.invoke(args=["user", "set-password", "a.operator", "--password", "short"])
    assert short.exit_code != 0 and "password_invalid" in short.output
    unknown = runner.invoke(args=["user", "set-password", "ghost", "--password", PASSWORD])
    assert unknown.exit_code != 0 and "No user" in unknown.output


def test_an_unexpected_error_is_an_html_page(
    client: FlaskClient, db_session: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cylinder_trace.pages import company

    login(client, db_session, world.users["a_admin"])

    def broken(*_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(company, "visible_customers", broken)
    response = client.get("/company/customers")
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    assert "服务器错误" in text(response)
