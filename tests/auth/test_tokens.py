"""Tokens: 401 without a valid one, 403 for the wrong role, stored only as hashes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from cylinder_trace.auth.models import ApiToken
from cylinder_trace.auth.tokens import hash_token, issue_token
from cylinder_trace.db import utcnow
from tests.assertions import assert_error
from tests.world import World

PROTECTED = [
    ("get", "/api/v1/me"),
    ("get", "/api/v1/organisations"),
    ("post", "/api/v1/organisations"),
    ("get", "/api/v1/organisations/1"),
    ("patch", "/api/v1/organisations/1"),
    ("get", "/api/v1/users"),
    ("post", "/api/v1/users"),
    ("get", "/api/v1/users/1"),
    ("patch", "/api/v1/users/1"),
    ("get", "/api/v1/devices"),
    ("post", "/api/v1/devices"),
    ("get", "/api/v1/devices/1"),
    ("patch", "/api/v1/devices/1"),
    ("get", "/api/v1/tokens"),
    ("post", "/api/v1/tokens"),
    ("delete", "/api/v1/tokens/1"),
]


@pytest.mark.parametrize(("method", "url"), PROTECTED)
def test_no_token_is_401(client: FlaskClient, world: World, method: str, url: str) -> None:
    response = getattr(client, method)(url, json={})
    assert_error(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    ["Bearer ct_not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer", "ct_no_scheme"],
)
def test_bad_tokens_are_401(client: FlaskClient, world: World, header: str) -> None:
    response = client.get("/api/v1/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.get_json()["code"] in {"unauthenticated", "invalid_token"}


def test_revoked_token_is_401(client: FlaskClient, world: World) -> None:
    headers = world.auth("a_operator")
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    token_id = client.get("/api/v1/tokens", headers=headers).get_json()[0]["id"]
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=headers).status_code == 204
    assert_error(client.get("/api/v1/me", headers=headers), 401, "invalid_token")


def test_expired_token_is_401(client: FlaskClient, world: World, db_session: Session) -> None:
    _, secret = issue_token(
        db_session,
        name="short",
        user=world.users["a_admin"],
        expires_at=utcnow() + timedelta(seconds=1),
    )
    token = db_session.scalars(
        select(ApiToken).where(ApiToken.token_hash == hash_token(secret))
    ).one()
    token.expires_at = utcnow() - timedelta(seconds=1)
    db_session.flush()
    assert_error(
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}),
        401,
        "invalid_token",
    )


def test_deactivated_user_token_is_401(client: FlaskClient, world: World) -> None:
    user_id = world.users["a_operator"].id
    response = client.patch(
        f"/api/v1/users/{user_id}", json={"active": False}, headers=world.auth("a_admin")
    )
    assert response.status_code == 200
    assert_error(client.get("/api/v1/me", headers=world.auth("a_operator")), 401, "invalid_token")


@pytest.mark.parametrize(
    ("who", "method", "url"),
    [
        ("a_operator", "get", "/api/v1/users"),
        ("a_courier", "post", "/api/v1/devices"),
        ("dazu_reviewer", "post", "/api/v1/organisations"),
        ("city_regulator", "post", "/api/v1/tokens"),
        ("a_handheld", "get", "/api/v1/organisations"),
        ("a_handheld", "get", "/api/v1/tokens"),
    ],
)
def test_wrong_role_is_403(
    client: FlaskClient, world: World, who: str, method: str, url: str
) -> None:
    response = getattr(client, method)(url, json={"name": "x"}, headers=world.auth(who))
    assert_error(response, 403, "forbidden")


def test_me_names_the_holder(client: FlaskClient, world: World) -> None:
    body = client.get("/api/v1/me", headers=world.auth("a_operator")).get_json()
    assert body["role"] == "station_operator"
    assert body["user"]["username"] == "a.operator"
    assert body["company_id"] == world.orgs["a"].id
    device = client.get("/api/v1/me", headers=world.auth("a_handheld")).get_json()
    assert device["role"] == "device"
    assert device["device"]["serial_no"] == "HH-A-1"
    assert device["user"] is None


def test_issue_token_over_the_api_and_use_it(client: FlaskClient, world: World) -> None:
    response = client.post(
        "/api/v1/tokens",
        json={
            "name": "scanner",
            "user_id": world.users["a_courier"].id,
            "device_id": world.devices["a_handheld"].id,
        },
        headers=world.auth("a_admin"),
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["token"].startswith("ct_") and body["token"].startswith(body["prefix"])
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"}).get_json()
    assert me["user"]["username"] == "a.courier"
    assert me["device"]["serial_no"] == "HH-A-1"


def test_token_for_user_and_device_of_different_companies_is_refused(
    client: FlaskClient, world: World
) -> None:
    response = client.post(
        "/api/v1/tokens",
        json={
            "name": "x",
            "user_id": world.users["a_courier"].id,
            "device_id": world.devices["b_handheld"].id,
        },
        headers=world.auth("sysadmin"),
    )
    assert_error(response, 422, "token_holder_mismatch")


def test_tokens_are_stored_only_as_hashes(world: World, db_session: Session) -> None:
    stored = db_session.execute(text("SELECT token_hash, prefix FROM api_tokens")).all()
    assert len(stored) == len(world.tokens)
    hashes = {row.token_hash for row in stored}
    for secret in world.tokens.values():
        assert hash_token(secret) in hashes
        assert all(secret not in (row.token_hash + row.prefix) for row in stored)


def test_last_used_is_recorded(client: FlaskClient, world: World, db_session: Session) -> None:
    token = db_session.scalars(
        select(ApiToken).where(ApiToken.token_hash == hash_token(world.tokens["b_admin"]))
    ).one()
    assert token.last_used_at is None
    client.get("/api/v1/me", headers=world.auth("b_admin"))
    db_session.expire_all()
    assert token.last_used_at is not None
    assert utcnow() - token.last_used_at < timedelta(minutes=1)


def test_every_api_endpoint_declares_access(app: Flask) -> None:
    undeclared = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        view = app.view_functions[rule.endpoint]
        view_class = getattr(view, "view_class", None)
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        for method in methods:
            handler = getattr(view_class, method.lower(), None) if view_class else view
            if not hasattr(handler, "_access"):
                undeclared.append(f"{method} {rule.rule}")
    assert undeclared == []
