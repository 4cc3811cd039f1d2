"""OpenAPI document, Swagger UI, health, and the administration CLI."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cylinder_trace import __version__, create_app
from cylinder_trace.auth.models import ApiToken
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.users.models import User
from tests.conftest import TEST_SECRET


def test_openapi_document_validates_and_lists_every_endpoint(
    app: Flask, client: FlaskClient
) -> None:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    validate(spec)
    documented = {(path, method.upper()) for path, item in spec["paths"].items() for method in item}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented, f"{method} {path} missing from OpenAPI"
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    error = spec["components"]["schemas"]["Error"]["properties"]
    assert set(error) == {"code", "status", "message", "details"}
    assert spec["paths"]["/api/v1/health"]["get"]["security"] == []
    assert spec["paths"]["/api/v1/users"]["get"]["security"] == [{"bearerAuth": []}]


def test_swagger_ui_is_served(client: FlaskClient) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert b"swagger-ui" in response.data
    # The UI's assets are served locally, so the docs work without internet access.
    assert b"/api/docs/assets/swagger-ui-bundle.js" in response.data
    asset = client.get("/api/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200
    assert len(asset.data) > 100_000


def test_health_reports_version_and_database(client: FlaskClient, backend: str) -> None:
    body = client.get("/api/v1/health").get_json()
    assert body["status"] == "ok"
    assert body["version"] == __version__
    assert body["database"]["ok"] is True
    assert body["database"]["backend"] == backend


def test_health_is_503_when_the_database_does_not_answer(tmp_path: Path) -> None:
    # A directory is not a database file: SQLite cannot open it.
    app = create_app(
        {"CT_ENV": "testing", "SECRET_KEY": TEST_SECRET, "DATABASE_URL": f"sqlite:///{tmp_path}"}
    )
    response = app.test_client().get("/api/v1/health")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "degraded"
    assert body["database"]["ok"] is False


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_cli_creates_organisations_users_devices_and_tokens(
    app: Flask, db_session: Session, client: FlaskClient
) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "org",
            "create",
            "--kind",
            "gas_company",
            "--name",
            "永川燃气",
            "--division",
            "500118",
        ]
    )
    assert result.exit_code == 0, result.output
    company_id = int(result.output.split("\t")[0])
    result = runner.invoke(
        args=[
            "org",
            "create",
            "--kind",
            "supply_point",
            "--name",
            "永川供应站",
            "--division",
            "500118",
            "--parent",
            str(company_id),
        ]
    )
    assert result.exit_code == 0, result.output
    site_id = int(result.output.split("\t")[0])
    result = runner.invoke(
        args=[
            "user",
            "create",
            "--org",
            str(site_id),
            "--username",
            "yc.courier",
            "--name",
            "周杰",
            "--role",
            "delivery_staff",
        ]
    )
    assert result.exit_code == 0, result.output
    user_id = int(result.output.split("\t")[0])
    result = runner.invoke(
        args=["device", "create", "--org", str(site_id), "--serial", "hh-yc-1", "--name", "手持 1"]
    )
    assert result.exit_code == 0, result.output
    device_id = int(result.output.split("\t")[0])
    result = runner.invoke(
        args=["token", "create", "--user", str(user_id), "--device", str(device_id)]
    )
    assert result.exit_code == 0, result.output
    secret = result.output.strip().split(": ")[1]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).get_json()
    assert (me["user"]["username"], me["device"]["serial_no"]) == ("yc.courier", "HH-YC-1")


def test_cli_reports_rule_violations_and_changes_nothing(app: Flask, db_session: Session) -> None:
    before = _count(db_session, Organisation)
    result = app.test_cli_runner().invoke(
        args=[
            "org",
            "create",
            "--kind",
            "filling_station",
            "--name",
            "orphan",
            "--division",
            "500111",
        ]
    )
    assert result.exit_code != 0
    assert "organisation_parent_required" in result.output
    assert _count(db_session, Organisation) == before


def test_demo_seed_prints_working_tokens(
    app: Flask, db_session: Session, client: FlaskClient
) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    secrets = [
        line.strip() for line in result.output.splitlines() if line.strip().startswith("ct_")
    ]
    assert len(secrets) == _count(db_session, ApiToken) == 6
    roles = set()
    for secret in secrets:
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
        assert me.status_code == 200
        roles.add(me.get_json()["role"])
    assert roles == {
        "system_admin",
        "company_admin",
        "station_operator",
        "delivery_staff",
        "bureau_reviewer",
        "regulator",
    }
    assert _count(db_session, User) == 6
    again = runner.invoke(args=["demo", "seed", "--if-empty"])
    assert again.exit_code == 0
    assert "already present" in again.output
    assert _count(db_session, User) == 6
    assert runner.invoke(args=["demo", "seed"]).exit_code != 0
