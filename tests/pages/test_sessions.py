"""Page sessions live on the server: a copied cookie stops working the moment a session ends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cylinder_trace.auth.models import UserSession
from cylinder_trace.auth.page_sessions import hash_session_id
from cylinder_trace.db import utcnow
from cylinder_trace.pages import auth as page_auth
from cylinder_trace.users.models import User
from cylinder_trace.users.services import set_password
from tests.pages.helpers import PASSWORD, login, page_token, sign_in
from tests.world import World

PAGE = "/company/cylinders"  # open to company admins and station operators alike


def _copy(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of ``client``'s session cookie (a stolen cookie)."""
    cookie = client.get_cookie("session")
    assert cookie is not None, "not signed in"
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    return thief


def _opens(client: FlaskClient, path: str = PAGE) -> bool:
    response = client.get(path)
    assert response.status_code in (200, 302), response.status_code
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/login")
    return response.status_code == 200


def _cookie(app: Flask, client: FlaskClient) -> dict[str, object]:
    cookie = client.get_cookie("session")
    assert cookie is not None
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    return serializer.loads(cookie.value)


def _signed_in(app: Flask, db_session: Session, user: User) -> FlaskClient:
    client = app.test_client()
    login(client, db_session, user)
    assert _opens(client)
    return client


def _sessions_of(db_session: Session, user: User) -> int:
    return db_session.scalar(
        select(func.count()).select_from(UserSession).where(UserSession.user_id == user.id)
    )


def _ended_by_logout(
    app: Flask, db_session: Session, user: User, client: FlaskClient, world: World
) -> None:
    response = client.post("/logout", data={"csrf_token": page_token(client, PAGE)})
    assert response.status_code == 302


def _ended_by_password_change(
    app: Flask, db_session: Session, user: User, client: FlaskClient, world: World
) -> None:
    set_password(db_session, user, "Another-password-9")


def _ended_by_deactivation(
    app: Flask, db_session: Session, user: User, client: FlaskClient, world: World
) -> None:
    response = app.test_client().patch(
        f"/api/v1/users/{user.id}", json={"active": False}, headers=world.auth("a_admin")
    )
    assert response.status_code == 200, response.get_json()


def _ended_by_cli(
    app: Flask, db_session: Session, user: User, client: FlaskClient, world: World
) -> None:
    result = app.test_cli_runner().invoke(args=["user", "end-sessions", user.username.upper()])
    assert result.exit_code == 0, result.output
    assert "2 session(s) of a.operator ended" in result.output


def _ended_by_api(
    app: Flask, db_session: Session, user: User, client: FlaskClient, world: World
) -> None:
    response = app.test_client().delete(
        f"/api/v1/users/{user.id}/sessions", headers=world.auth("a_admin")
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"user_id": user.id, "ended": 2}


ENDINGS = {
    "logout": _ended_by_logout,
    "password_change": _ended_by_password_change,
    "deactivation": _ended_by_deactivation,
    "cli_end_sessions": _ended_by_cli,
    "api_end_sessions": _ended_by_api,
}


@pytest.mark.parametrize("how", list(ENDINGS))
def test_a_copied_cookie_stops_working_when_the_session_ends(
    app: Flask, db_session: Session, world: World, how: str
) -> None:
    user = world.users["a_operator"]
    browser = _signed_in(app, db_session, user)
    thief = _copy(app, browser)
    assert _opens(thief)
    # The same user on another device, and another user: only what `how` ends must end.
    second_device = app.test_client()
    sign_in(second_device, user.username)
    assert _opens(second_device)
    colleague = _signed_in(app, db_session, world.users["a_admin"])

    ENDINGS[how](app, db_session, user, browser, world)

    assert not _opens(thief)
    assert not _opens(browser)
    # Signing out ends that one browser's session; the others end every session of the user.
    assert _opens(second_device) == (how == "logout")
    assert _opens(colleague)
    assert _sessions_of(db_session, world.users["a_admin"]) == 1


def test_reactivating_a_user_does_not_revive_old_sessions(
    app: Flask, db_session: Session, world: World
) -> None:
    user = world.users["a_operator"]
    browser = _signed_in(app, db_session, user)
    for active in (False, True):
        response = app.test_client().patch(
            f"/api/v1/users/{user.id}", json={"active": active}, headers=world.auth("a_admin")
        )
        assert response.status_code == 200
    assert not _opens(browser)
    login(browser, db_session, user)
    assert _opens(browser)


def test_an_expired_session_is_refused(
    app: Flask, db_session: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = world.users["a_operator"]
    browser = _signed_in(app, db_session, user)
    thief = _copy(app, browser)
    started = utcnow()
    almost = started + page_auth.SESSION_MAX_AGE - timedelta(minutes=1)
    monkeypatch.setattr(page_auth, "utcnow", lambda: almost)
    assert _opens(thief)
    later = started + page_auth.SESSION_MAX_AGE + timedelta(seconds=1)
    monkeypatch.setattr(page_auth, "utcnow", lambda: later)
    assert not _opens(thief)
    assert not _opens(browser)
    # The next sign-in, by anyone, clears expired rows away.
    login(app.test_client(), db_session, world.users["a_admin"])
    assert _sessions_of(db_session, user) == 0


def test_only_a_hash_of_the_session_id_is_stored(
    app: Flask, db_session: Session, world: World
) -> None:
    user = world.users["a_operator"]
    browser = _signed_in(app, db_session, user)
    session_id = _cookie(app, browser)["sid"]
    assert isinstance(session_id, str) and len(session_id) >= 43
    row = db_session.scalars(select(UserSession).where(UserSession.user_id == user.id)).one()
    assert row.session_hash == hash_session_id(session_id) != session_id
    columns = db_session.execute(select(UserSession.__table__)).one()
    assert not any(session_id in str(value) for value in columns)
    assert row.expires_at - row.created_at == page_auth.SESSION_MAX_AGE


def test_a_forged_or_old_cookie_opens_nothing(
    app: Flask, db_session: Session, world: World
) -> None:
    user = world.users["a_operator"]
    set_password(db_session, user, PASSWORD)
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    for content in (
        {"sid": "a-guessed-session-id"},
        {"sid": "x" * 10_000},
        {"sid": 7},
        # What a cookie held before sessions lived on the server.
        {"uid": user.id, "at": utcnow().timestamp(), "pw": "0" * 32},
    ):
        client = app.test_client()
        client.set_cookie("session", serializer.dumps(content))
        assert not _opens(client), content


def test_signing_in_again_ends_the_previous_session(
    app: Flask, db_session: Session, world: World
) -> None:
    user = world.users["a_operator"]
    browser = _signed_in(app, db_session, user)
    before = _copy(app, browser)
    login(browser, db_session, world.users["a_admin"])
    assert not _opens(before)
    assert _sessions_of(db_session, user) == 0
    assert _opens(browser)


def test_end_sessions_is_for_admins_within_their_reach(
    app: Flask, db_session: Session, world: World
) -> None:
    user = world.users["a_operator"]
    browser = _signed_in(app, db_session, user)
    api = app.test_client()
    path = f"/api/v1/users/{user.id}/sessions"
    assert api.delete(path, headers=world.auth("b_admin")).status_code == 404
    assert api.delete(path, headers=world.auth("a_operator")).status_code == 403
    assert api.delete(path).status_code == 401
    assert _opens(browser)
    by_system_admin = api.delete(path, headers=world.auth("sysadmin"))
    assert by_system_admin.status_code == 200
    assert by_system_admin.get_json() == {"user_id": user.id, "ended": 1}
    assert not _opens(browser)
    again = api.delete(path, headers=world.auth("a_admin"))
    assert again.get_json() == {"user_id": user.id, "ended": 0}


def test_cli_end_sessions_names_unknown_users(app: Flask, db_session: Session) -> None:
    result = app.test_cli_runner().invoke(args=["user", "end-sessions", "ghost"])
    assert result.exit_code != 0 and "No user 'ghost'" in result.output


@pytest.mark.parametrize(
    "broken",
    [{"session_hash": "short"}, {"expires_at": "created"}],
    ids=["hash_length", "expires_before_created"],
)
def test_the_database_refuses_malformed_sessions(
    db_session: Session, world: World, broken: dict[str, str]
) -> None:
    now = utcnow()
    values = {
        "user_id": world.users["a_operator"].id,
        "session_hash": hash_session_id("x"),
        "created_at": now,
        "expires_at": now + timedelta(hours=1),
    }
    values.update({key: now if value == "created" else value for key, value in broken.items()})
    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.add(UserSession(**values))
        db_session.flush()
