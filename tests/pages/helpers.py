"""Signing in through the pages with the Flask test client."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from cylinder_trace.users.models import User
from cylinder_trace.users.services import set_password

PASSWORD = "Gas-safety-2026"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def page_token(client: FlaskClient, path: str = "/login") -> str:
    """The session's CSRF token, read from a page as a browser would."""
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return csrf_of(response.get_data(as_text=True))


def sign_in(
    client: FlaskClient, username: str, password: str = PASSWORD, **extra: str
) -> Any:  # a TestResponse
    token = page_token(client)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, **extra},
    )


def login(client: FlaskClient, db_session: Session, user: User) -> str:
    """Give ``user`` the test password, sign in, and return the new CSRF token."""
    if not user.password_hash:
        set_password(db_session, user, PASSWORD)
    response = sign_in(client, user.username)
    assert response.status_code == 302, response.get_data(as_text=True)
    with client.session_transaction() as session:
        return session["csrf_token"]


def text(response: Any) -> str:
    return response.get_data(as_text=True)
