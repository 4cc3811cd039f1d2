"""Password guessing on the sign-in page is slowed down: failed sign-ins are limited."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cylinder_trace.auth.models import SignInFailure
from cylinder_trace.auth.sign_in import record_sign_in_failure, sign_in_wait
from cylinder_trace.config import ConfigError, SignInLimits, load_settings
from cylinder_trace.db import utcnow
from cylinder_trace.users.services import set_password
from tests.pages.helpers import PASSWORD, sign_in, text
from tests.world import World

LIMITS = SignInLimits(max_failures=3, max_failures_per_address=5, window=timedelta(minutes=15))
WRONG = "Wrong-password-1"


@pytest.fixture
def limits(app: Flask, monkeypatch: pytest.MonkeyPatch) -> SignInLimits:
    # Small limits keep the test quick: every failed sign-in costs a real password check.
    settings = dataclasses.replace(app.config["CT_SETTINGS"], sign_in_limits=LIMITS)
    monkeypatch.setitem(app.config, "CT_SETTINGS", settings)
    return LIMITS


def client_at(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _error(response: object) -> str:
    match = re.search(r'data-testid="login-error">([^<]*)<', text(response))
    assert match, text(response)
    return match.group(1)


def failures(db_session: Session, **where: str) -> int:
    conditions = [getattr(SignInFailure, name) == value for name, value in where.items()]
    return db_session.scalar(select(func.count()).select_from(SignInFailure).where(*conditions))


def test_a_guessed_username_waits_even_with_the_right_password(
    app: Flask, db_session: Session, world: World, limits: SignInLimits
) -> None:
    set_password(db_session, world.users["a_operator"], PASSWORD)
    guesser = client_at(app, "10.0.0.1")
    for _ in range(limits.max_failures):
        assert sign_in(guesser, "a.operator", WRONG).status_code == 200
    refused = sign_in(guesser, "A.Operator", PASSWORD)
    assert refused.status_code == 429
    assert _error(refused) == "登录失败次数过多，请 15 分钟后再试"
    assert 14 * 60 < int(refused.headers["Retry-After"]) <= 15 * 60
    with guesser.session_transaction() as session:
        assert "sid" not in session
    # The username is what is limited: from anywhere, until the window has passed.
    assert sign_in(client_at(app, "10.0.0.9"), "a.operator", PASSWORD).status_code == 429
    # Other people sign in as usual.
    set_password(db_session, world.users["a_admin"], PASSWORD)
    assert sign_in(client_at(app, "10.0.0.9"), "a.admin", PASSWORD).status_code == 302


def test_unknown_usernames_are_limited_alike(
    app: Flask, db_session: Session, world: World, limits: SignInLimits
) -> None:
    guesser = client_at(app, "10.0.0.2")
    for _ in range(limits.max_failures):
        assert sign_in(guesser, "nobody.here", WRONG).status_code == 200
    assert sign_in(guesser, "nobody.here", WRONG).status_code == 429
    assert failures(db_session, username="nobody.here") == limits.max_failures  # none while refused


def test_after_the_window_the_user_signs_in_and_starts_afresh(
    app: Flask, db_session: Session, world: World, limits: SignInLimits
) -> None:
    set_password(db_session, world.users["a_operator"], PASSWORD)
    client = client_at(app, "10.0.0.3")
    for _ in range(limits.max_failures):
        sign_in(client, "a.operator", WRONG)
    assert sign_in(client, "a.operator", PASSWORD).status_code == 429
    # A quarter of an hour later (the failures moved back, as the clock would move on):
    for failure in db_session.scalars(select(SignInFailure)):
        failure.at -= limits.window
    db_session.flush()
    assert sign_in(client, "a.operator", PASSWORD).status_code == 302
    assert failures(db_session, username="a.operator") == 0


def test_one_address_trying_many_usernames_is_limited(
    app: Flask, db_session: Session, world: World, limits: SignInLimits
) -> None:
    set_password(db_session, world.users["a_operator"], PASSWORD)
    sprayer = client_at(app, "10.0.0.4")
    for number in range(limits.max_failures_per_address):
        assert sign_in(sprayer, f"user.{number}", WRONG).status_code == 200
    assert sign_in(sprayer, "a.operator", PASSWORD).status_code == 429
    assert sign_in(client_at(app, "10.0.0.5"), "a.operator", PASSWORD).status_code == 302


def test_the_wait_is_until_the_counted_failures_leave_the_window(db_session: Session) -> None:
    now = utcnow()
    for minutes_ago in (14, 10, 9, 2):  # 14 minutes ago: the oldest, leaves in a minute
        record_sign_in_failure(
            db_session, "a.operator", "10.0.0.6", now - timedelta(minutes=minutes_ago), LIMITS
        )
    # Three allowed in 15 minutes: trying again needs fewer than three in the window, so
    # the third most recent (10 minutes ago) must leave it first: in 5 minutes.
    assert sign_in_wait(db_session, "a.operator", "10.0.0.7", now, LIMITS) == timedelta(minutes=5)
    assert sign_in_wait(db_session, "someone.else", "10.0.0.7", now, LIMITS) is None
    # A new failure clears out those no limit looks at any more (older than the window).
    later = now + timedelta(minutes=5)
    record_sign_in_failure(db_session, "b.admin", "10.0.0.8", later, LIMITS)
    assert failures(db_session, username="a.operator") == 2


def test_limits_are_settings() -> None:
    settings = load_settings(
        {
            "CT_ENV": "testing",
            "CT_SIGN_IN_MAX_FAILURES": "8",
            "CT_SIGN_IN_MAX_FAILURES_PER_ADDRESS": "100",
            "CT_SIGN_IN_WINDOW_MINUTES": "30",
        }
    )
    assert settings.sign_in_limits == SignInLimits(8, 100, timedelta(minutes=30))
    assert load_settings({"CT_ENV": "testing"}).sign_in_limits == SignInLimits()
    for bad in ("0", "-1", "five"):
        with pytest.raises(ConfigError, match="CT_SIGN_IN_MAX_FAILURES"):
            load_settings({"CT_ENV": "testing", "CT_SIGN_IN_MAX_FAILURES": bad})
