"""The OpenAPI document and the answers agree (issue 13, "contract drift"), and every answer
carries the security headers.

Each test names one finding: X-Pagination, decimals, Allow on 405, the rules across fields,
division codes, the customer list's parameters, the security headers and HSTS.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_schema_validator import OAS30Validator

from cylinder_trace import create_app
from tests.catering.helpers import catering_user
from tests.conftest import TEST_SECRET
from tests.customers.helpers import BRIEF_CREDIT_CODE, BRIEF_ID
from tests.world import World


@pytest.fixture(scope="module")
def document(app: Flask) -> dict[str, Any]:
    return app.test_client().get("/api/openapi.json").get_json()


def component(document: dict[str, Any], name: str) -> dict[str, Any]:
    return document["components"]["schemas"][name]


def conforms(document: dict[str, Any], name: str, instance: Any) -> bool:
    """Whether ``instance`` is valid against the named component, $refs resolved."""
    root = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    return OAS30Validator(root).is_valid(instance)


def test_x_pagination_is_documented_as_the_json_it_is(
    document: dict[str, Any], client: FlaskClient, world: World, make_cylinder: Any
) -> None:
    header = document["components"]["headers"]["PAGINATION"]
    # An object schema would mean "k,v,k,v" text; the value is a JSON document.
    assert "schema" not in header
    assert list(header["content"]) == ["application/json"]
    users = document["paths"]["/api/v1/users"]["get"]["responses"]["200"]
    assert users["headers"]["X-Pagination"] == {"$ref": "#/components/headers/PAGINATION"}

    response = client.get("/api/v1/users?page_size=2", headers=world.auth("sysadmin"))
    sent = json.loads(response.headers["X-Pagination"])
    assert sent["total"] == len(world.users) and sent["next_page"] == 2
    assert conforms(document, "PageMetadata", sent)
    # A large list's adds whether the count is exact and the next page's cursor.
    make_cylinder("CQDZ-500001")
    make_cylinder("CQDZ-500002")
    response = client.get("/api/v1/cylinders?page_size=1", headers=world.auth("sysadmin"))
    sent = json.loads(response.headers["X-Pagination"])
    assert sent["total_exact"] is True and sent["next_cursor"]
    assert conforms(document, "PageMetadata", sent)


def test_decimals_are_documented_and_sent_as_exact_strings(
    document: dict[str, Any], client: FlaskClient, world: World, make_cylinder: Any
) -> None:
    decimals = {
        ("CylinderCreate", "tare_kg"),
        ("Cylinder", "tare_kg"),
        ("ScanCreate", "gross_kg"),
        ("ScanCreate", "latitude"),
        ("CateringUser", "kg_on_site"),
        ("EquipmentUpdate", "kg_on_site"),
    }
    for schema, name in decimals:
        described = component(document, schema)["properties"][name]
        assert described["type"] == "string" and described["format"] == "decimal", schema
        assert "minimum" not in described and "maximum" not in described
    # Every decimal of the document is a string with a pattern, none a binary number.
    for schema in document["components"]["schemas"].values():
        for described in schema.get("properties", {}).values():
            if described.get("format") == "decimal":
                assert described["type"] == "string" and described["pattern"]

    make_cylinder("CQDZ-910001", manufactured_on=date(2024, 3, 15))
    cylinder = client.get("/api/v1/cylinders/CQDZ-910001", headers=world.auth("a_admin"))
    tare = cylinder.get_json()["tare_kg"]
    assert tare == "16.40"
    assert re.fullmatch(component(document, "Cylinder")["properties"]["tare_kg"]["pattern"], tare)

    shop = catering_user(client, world)
    # A JSON number is accepted, and answered as the exact decimal string.
    changed = client.patch(
        f"/api/v1/catering-users/{shop['id']}",
        json={"kg_on_site": 12.5},
        headers=world.auth("a_admin"),
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["kg_on_site"] == "12.5"
    assert conforms(document, "CateringUser", changed.get_json())


def test_405_says_which_methods_the_resource_has(client: FlaskClient, world: World) -> None:
    response = client.delete("/api/v1/health")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert response.get_json()["code"] == "method_not_allowed"
    assert set(response.get_json()) == {"code", "status", "message", "details"}
    put = client.put("/api/v1/cylinders", json={}, headers=world.auth("a_admin"))
    assert put.status_code == 405
    assert {"GET", "POST"} <= {m.strip() for m in put.headers["Allow"].split(",")}


# (schema, body, path, who): the document and the service say the same of each body.
ONE_OF_CASES = [
    ("FillCheck", {"code": "CQDZ-920001", "qr": "HTTP://X/C/CQDZ-920001.1AAAA"}, False),
    ("FillCheck", {}, False),
    ("FillCheck", {"code": "CQDZ-920001"}, True),
    ("CustomerLookup", {"id_number": BRIEF_ID, "credit_code": BRIEF_CREDIT_CODE}, False),
    ("CustomerLookup", {}, False),
    ("CustomerLookup", {"credit_code": BRIEF_CREDIT_CODE}, True),
    ("TokenCreate", {"name": "t"}, False),
    ("TokenCreate", {"name": "t", "user_id": None, "device_id": None}, False),
    ("TokenCreate", {"name": "t", "device_id": 1}, True),
]
PATHS = {
    "FillCheck": ("/api/v1/scans/fill-check", "a_operator"),
    "CustomerLookup": ("/api/v1/customers/lookup", "a_admin"),
    "TokenCreate": ("/api/v1/tokens", "sysadmin"),
}


@pytest.mark.parametrize(("schema", "body", "valid"), ONE_OF_CASES)
def test_rules_across_fields_are_in_the_document(
    document: dict[str, Any],
    client: FlaskClient,
    world: World,
    schema: str,
    body: dict[str, Any],
    valid: bool,
) -> None:
    assert conforms(document, schema, body) is valid
    path, who = PATHS[schema]
    if schema == "TokenCreate" and "device_id" in body and body["device_id"]:
        body = {**body, "device_id": world.devices["a_handheld"].id}
    response = client.post(path, json=body, headers=world.auth(who))
    assert (response.status_code != 422) is valid, response.get_json()


def test_scan_and_customer_rules_are_in_the_document(document: dict[str, Any]) -> None:
    scan = {"event_id": "3f0c8c1e-6a43-4e1b-9a55-2b9c1c3f4a10", "kind": "collect"}
    scan["occurred_at"] = "2026-11-30T08:00:00+08:00"
    assert conforms(document, "ScanCreate", {**scan, "code": "CQDZ-000001"})
    assert not conforms(document, "ScanCreate", scan)
    assert not conforms(document, "ScanCreate", {**scan, "code": "CQDZ-000001", "qr": "x"})
    shop = {
        "kind": "business",
        "name": "店",
        "id_number": BRIEF_ID,
        "phone": "13812345678",
        "address": "大足区",
        "division_code": "500111",
    }
    assert not conforms(document, "CustomerCreate", shop)
    business = {**shop, "credit_code": BRIEF_CREDIT_CODE, "responsible_person": "王五"}
    assert conforms(document, "CustomerCreate", business)
    assert conforms(document, "CustomerCreate", {**shop, "kind": "person"})


def test_division_codes_have_their_pattern_everywhere(document: dict[str, Any]) -> None:
    named = {"division_code", "district", "jurisdiction"}
    found = 0
    for name, schema in document["components"]["schemas"].items():
        for prop, described in schema.get("properties", {}).items():
            if prop in named:
                assert described.get("pattern") == "^[0-9]{6}$", f"{name}.{prop}"
                found += 1
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue  # the path's own parameters (a list): path parameters, numbers
            for parameter in operation.get("parameters", []):
                if parameter.get("name") in named:
                    assert parameter["schema"]["pattern"] == "^[0-9]{6}$", f"{method} {path}"
                    found += 1
    assert found >= 12


def test_the_customer_list_documents_only_filters_it_takes(
    document: dict[str, Any], client: FlaskClient, world: World
) -> None:
    for path in ("/api/v1/customers", "/api/v1/customers/export.csv"):
        names = {p["name"] for p in document["paths"][path]["get"]["parameters"]}
        assert "id_number" not in names and {"q", "district", "credit_code"} <= names
    # Still refused, never ignored: ignored, it would list every customer.
    response = client.get(f"/api/v1/customers?id_number={BRIEF_ID}", headers=world.auth("a_admin"))
    assert response.status_code == 422
    assert "id_number" in response.get_json()["details"]["fields"]["query"]


def _policy(response: Any) -> dict[str, str]:
    text = response.headers["Content-Security-Policy"]
    return dict(part.strip().partition(" ")[::2] for part in text.split(";"))


def test_every_answer_carries_the_security_headers(client: FlaskClient, world: World) -> None:
    answers = {
        "api": client.get("/api/v1/me", headers=world.auth("a_admin")),
        "api error": client.get("/api/v1/nothing-here"),
        "document": client.get("/api/openapi.json"),
        "docs": client.get("/api/docs"),
        "docs asset": client.get("/api/docs/assets/swagger-ui.css"),
        "page": client.get("/login"),
    }
    for what, response in answers.items():
        assert response.headers["X-Content-Type-Options"] == "nosniff", what
        assert _policy(response)["frame-ancestors"] == "'none'", what
        assert response.headers["Referrer-Policy"] in {"no-referrer", "same-origin"}, what
        # Not in production: HSTS would pin a developer's localhost to HTTPS.
        assert "Strict-Transport-Security" not in response.headers, what
    assert _policy(answers["api"])["default-src"] == "'none'"


def test_swagger_ui_runs_under_a_policy_without_inline_script(client: FlaskClient) -> None:
    response = client.get("/api/docs")
    policy = _policy(response)
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert "unsafe" not in response.headers["Content-Security-Policy"]
    page = response.get_data(as_text=True)
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert scripts and all('src="/' in attrs and not body.strip() for attrs, body in scripts)
    # Every asset from this service (the installed swagger-ui-bundle), none from a CDN.
    for url in re.findall(r'(?:src|href)="([^"]+)"', page):
        assert url.startswith("/"), url
        assert client.get(url).status_code == 200, url


def test_hsts_is_sent_in_production_only(tmp_path: Any) -> None:
    app = create_app(
        {
            "CT_ENV": "testing",
            "SECRET_KEY": TEST_SECRET,
            "DATABASE_URL": "sqlite://",
            "CT_INSTANCE_PATH": str(tmp_path),
        }
    )
    asset = "/api/docs/ui/swagger-ui-init.js"
    assert "Strict-Transport-Security" not in app.test_client().get(asset).headers
    # The same app told it runs in production (the rest of production's settings are
    # test_config's business).
    app.config["CT_SETTINGS"] = replace(app.config["CT_SETTINGS"], env="production")
    for path in (asset, "/api/openapi.json", "/login"):
        hsts = app.test_client().get(path).headers["Strict-Transport-Security"]
        assert hsts.startswith("max-age=31536000"), path
