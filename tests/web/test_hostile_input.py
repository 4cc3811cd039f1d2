"""Hostile input at every endpoint and page, generated from the URL map and the OpenAPI
document: a 4xx with a machine-readable code, never a 500, and nothing stored changes.

The schemathesis run behind issue 13 found these answered 500 (or stored garbage):
NUL characters and unpaired surrogates anywhere, deep JSON, integers past their column,
datetimes past year 9999 in UTC, huge bodies, and JSON endpoints that took text/plain.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from cylinder_trace.config import InputLimits
from tests.hostile import error_code, openapi, operations, resolve, row_counts, rules_of, send
from tests.world import World

LIMITS = InputLimits()
NUL = "a\x00b"
SURROGATE = "a\ud800b"
# Integers no Integer column holds (32 bits), and none any column holds (64 bits).
TOO_BIG = [2**31, -(2**31) - 1, 2**63, 10**30]
# Instants outside years 1-9999 in UTC, and ones no record of this service can have.
BAD_INSTANTS = [
    "9999-12-31T23:59:59-12:00",
    "0001-01-01T00:00:00+14:00",
    "1970-01-01T00:00:00Z",
    "0210-06-01T10:00:00+08:00",
]
BAD_DATES = ["0210-06-01", "1970-01-01", "9999-12-31"]
_RULE_PARAM = re.compile(r"<(?:[^:<>]+:)?(\w+)>")


def _failures(found: list[str]) -> None:
    assert not found, f"{len(found)} answers were wrong:\n" + "\n".join(found[:40])


@pytest.fixture
def doc(client: FlaskClient) -> dict[str, Any]:
    return openapi(client)


def _json_operations(doc: dict[str, Any]) -> list[Any]:
    return [op for op in operations(doc) if op.json_body(doc) is not None]


# --- text: NUL and unpaired surrogates ----------------------------------------------------


def _is_int(converter: Any) -> bool:
    return type(converter).__name__.endswith("IntConverter")


def _build(rule: Any, values: dict[str, Any]) -> str:
    """The rule's path with these values (str() of each) in its parameters."""
    return _RULE_PARAM.sub(lambda match: str(values[match.group(1)]), rule.rule)


def _path_with(rule: Any, text: str) -> str | None:
    """The rule's path with ``text`` in its string parameters and 1 in its numbers, or
    None when it has no string parameter."""
    values = {name: 1 if _is_int(c) else text for name, c in rule._converters.items()}
    if all(value == 1 for value in values.values()):
        return None
    return _build(rule, values)


def test_nul_in_every_path_parameter_is_invalid_text(
    app: Flask, client: FlaskClient, world: World, db_session: Session
) -> None:
    before = row_counts(db_session)
    found, tried = [], 0
    for rule in rules_of(app):
        path = _path_with(rule, "%00x")
        if path is None:
            continue
        for method in sorted(set(rule.methods) - {"HEAD", "OPTIONS"}):
            tried += 1
            response = client.open(path, method=method, headers=world.auth("sysadmin"))
            if response.status_code != 422 or (
                path.startswith("/api/") and error_code(response) != "invalid_text"
            ):
                found.append(f"{method} {rule.rule}: {response.status_code} {error_code(response)}")
    assert tried > 10  # every label, timeline, whereabouts, page and static file
    _failures(found)
    assert row_counts(db_session) == before


def test_nul_in_any_query_parameter_is_invalid_text(
    app: Flask, client: FlaskClient, world: World, doc: dict[str, Any], db_session: Session
) -> None:
    before = row_counts(db_session)
    found = []
    # Every documented query parameter of every operation...
    for operation in operations(doc):
        for parameter in operation.query():
            response = send(
                client, world, operation, operation.caller(), query_string={parameter["name"]: NUL}
            )
            if (response.status_code, error_code(response)) != (422, "invalid_text"):
                found.append(f"{operation.method} {operation.path}?{parameter['name']}")
    # ...and an undocumented one on every route, pages included (/company?q=, /login?next=).
    for rule in rules_of(app):
        path = _build(rule, dict.fromkeys(rule._converters, 1))
        for method in sorted(set(rule.methods) - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method, query_string={"q": NUL, "lang": "en"})
            if response.status_code != 422:
                found.append(f"{method} {rule.rule}?q=NUL: {response.status_code}")
    _failures(found)
    assert row_counts(db_session) == before


def _string_properties(doc: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    return [
        name
        for name, prop in schema.get("properties", {}).items()
        if resolve(doc, prop).get("type") == "string" and not prop.get("readOnly")
    ]


@pytest.mark.parametrize("text", [NUL, SURROGATE], ids=["nul", "lone-surrogate"])
def test_bad_text_in_any_json_string_or_key_is_invalid_text(
    client: FlaskClient, world: World, doc: dict[str, Any], db_session: Session, text: str
) -> None:
    before = row_counts(db_session)
    found, tried = [], 0
    for operation in _json_operations(doc):
        schema = operation.json_body(doc)
        bodies = [{name: text} for name in _string_properties(doc, schema)]
        bodies.append({text: "key"})  # a key of the object
        bodies.append({"scans": [{"note": "fine"}, {"operator": text}]})  # deep inside
        for body in bodies:
            tried += 1
            # json.dumps writes \u0000 and \ud800 escapes, as a client's JSON library would.
            response = send(
                client, world, operation, operation.caller(),
                data=json.dumps(body), content_type="application/json",
            )  # fmt: skip
            if (response.status_code, error_code(response)) != (422, "invalid_text"):
                found.append(
                    f"{operation.method} {operation.path} {body!r:.60}: {response.status_code}"
                )
            elif "scans" in body and operation.path.endswith("/batch"):
                assert response.get_json()["details"]["field"] == "/scans/1/operator"
    assert tried > 60
    _failures(found)
    assert row_counts(db_session) == before


def test_raw_nul_and_bytes_that_are_not_utf8_are_invalid_text(
    client: FlaskClient, world: World
) -> None:
    for raw in (b'{"reason": "a\x00b"}', b'{"reason": "\xed\xa0\x80"}', b'{"reason": "\xff"}'):
        response = client.post(
            "/api/v1/cylinders/CQDZ-000001/scrap",
            data=raw,
            content_type="application/json",
            headers=world.auth("a_admin"),
        )
        assert (response.status_code, error_code(response)) == (422, "invalid_text"), raw


def test_nul_in_a_header_is_invalid_text(client: FlaskClient, world: World) -> None:
    for headers in (
        {"Authorization": f"{world.auth('a_admin')['Authorization']}\x00"},
        {**world.auth("a_admin"), "Accept-Language": "zh\x00"},
        {**world.auth("a_admin"), "X-Forwarded-For": "10.0.0.1\x00"},
    ):
        response = client.get("/api/v1/me", headers=headers)
        assert (response.status_code, error_code(response)) == (422, "invalid_text"), headers


# --- JSON: depth, size, media type --------------------------------------------------------


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_deep_json_is_refused_at_every_json_endpoint(
    client: FlaskClient, world: World, doc: dict[str, Any], db_session: Session
) -> None:
    before = row_counts(db_session)
    found = []
    deep = [100_000, LIMITS.max_json_depth + 1]
    targets = [(op, op.caller()) for op in _json_operations(doc)]
    for operation, who in targets:
        for depth in deep:
            body = (
                _nested(depth) if depth > 50 else json.dumps({"x": json.loads(_nested(depth - 1))})
            )
            response = send(
                client, world, operation, who, data=body, content_type="application/json"
            )
            if (response.status_code, error_code(response)) != (400, "json_too_deep"):
                found.append(
                    f"{operation.method} {operation.path} depth {depth}: {response.status_code}"
                )
        # As deep as allowed: whatever the endpoint answers, it is not that.
        allowed = json.dumps({"x": json.loads(_nested(LIMITS.max_json_depth - 1))})
        response = send(
            client, world, operation, who, data=allowed, content_type="application/json"
        )
        if error_code(response) == "json_too_deep" or response.status_code >= 500:
            found.append(
                f"{operation.method} {operation.path} at the limit: {response.status_code}"
            )
    # The station page's scale check reads JSON too.
    response = client.post("/station/check", data=_nested(100_000), content_type="application/json")
    if response.status_code != 400:
        found.append(f"POST /station/check: {response.status_code}")
    _failures(found)
    assert row_counts(db_session) == before


def test_a_json_body_over_the_limit_is_413(
    client: FlaskClient, world: World, doc: dict[str, Any]
) -> None:
    body = json.dumps({"note": "x" * LIMITS.max_json_bytes})
    found = []
    for operation in _json_operations(doc):
        response = send(
            client, world, operation, operation.caller(), data=body, content_type="application/json"
        )
        if (response.status_code, error_code(response)) != (413, "payload_too_large"):
            found.append(f"{operation.method} {operation.path}: {response.status_code}")
    _failures(found)


def test_json_endpoints_refuse_other_content_types_with_415(
    client: FlaskClient, world: World, doc: dict[str, Any], db_session: Session
) -> None:
    before = row_counts(db_session)
    found = []
    for operation in _json_operations(doc):
        for content_type, data in (
            ("text/plain", '{"name": "改了"}'),
            ("application/x-www-form-urlencoded", "name=x"),
        ):
            response = send(
                client, world, operation, operation.caller(), data=data, content_type=content_type
            )
            if (response.status_code, error_code(response)) != (415, "unsupported_media_type"):
                found.append(
                    f"{operation.method} {operation.path} {content_type}: {response.status_code}"
                )
    _failures(found)
    assert row_counts(db_session) == before


def test_a_patch_as_text_changes_nothing_and_says_so(
    client: FlaskClient, world: World, db_session: Session
) -> None:
    org = world.orgs["a"]
    response = client.patch(
        f"/api/v1/organisations/{org.id}",
        data=json.dumps({"name": "改名燃气"}),
        content_type="text/plain",
        headers=world.auth("sysadmin"),
    )
    assert (response.status_code, error_code(response)) == (415, "unsupported_media_type")
    db_session.refresh(org)
    assert org.name == "大足燃气"
    # JSON with a charset parameter is JSON.
    response = client.patch(
        f"/api/v1/organisations/{org.id}",
        data=json.dumps({"address": "大足区"}),
        content_type="application/json; charset=utf-8",
        headers=world.auth("sysadmin"),
    )
    assert response.status_code == 200, response.get_data(as_text=True)


# --- numbers and times past their columns and the plausible window -------------------------


def _field_refused(response: Any, location: str, *path: Any) -> bool:
    if response.status_code != 422 or error_code(response) != "validation_error":
        return False
    node = response.get_json()["details"].get("fields", {}).get(location, {})
    for key in path:
        if not isinstance(node, dict) or str(key) not in node:
            return False
        node = node[str(key)]
    return True


def _hostile_values(doc: dict[str, Any], prop: dict[str, Any]) -> list[Any]:
    kind, fmt = prop.get("type"), prop.get("format")
    if kind == "integer":
        return [*TOO_BIG, 1.5]
    if kind == "string" and fmt == "date-time":
        return BAD_INSTANTS
    if kind == "string" and fmt == "date":
        return BAD_DATES
    if kind == "string" and fmt is None and "enum" not in prop and "maxLength" in prop:
        return ["x" * (prop["maxLength"] + 1)]
    if (
        kind == "array"
        and "maxItems" in prop
        and resolve(doc, prop.get("items", {})).get("type") == "string"
    ):
        return [["x"] * (prop["maxItems"] + 1)]
    return []


def test_every_body_field_refuses_values_past_its_column_and_window(
    client: FlaskClient, world: World, doc: dict[str, Any], db_session: Session
) -> None:
    before = row_counts(db_session)
    found, tried = [], 0
    for operation in _json_operations(doc):
        schema = operation.json_body(doc)
        for name, prop in schema.get("properties", {}).items():
            prop = resolve(doc, prop)
            cases = [((name,), value) for value in _hostile_values(doc, prop)]
            # One level down: an object (the buyer), or the objects of a list (items).
            inner = prop if prop.get("type") == "object" else resolve(doc, prop.get("items", {}))
            for sub, sub_prop in inner.get("properties", {}).items():
                for value in _hostile_values(doc, resolve(doc, sub_prop)):
                    path = (name, sub) if inner is prop else (name, 0, sub)
                    cases.append((path, value))
            for path, value in cases:
                tried += 1
                body: Any = value
                for key in reversed(path):
                    body = [body] if key == 0 else {key: body}
                response = send(client, world, operation, operation.caller(), json=body)
                if not _field_refused(response, "json", *path):
                    found.append(
                        f"{operation.method} {operation.path} {'.'.join(map(str, path))}="
                        f"{str(value)[:30]}: {response.status_code} {error_code(response)}"
                    )
    assert tried > 100
    _failures(found)
    assert row_counts(db_session) == before


def test_every_query_parameter_refuses_values_past_its_column_and_window(
    client: FlaskClient, world: World, doc: dict[str, Any]
) -> None:
    found, tried = [], 0
    for operation in operations(doc):
        for parameter in operation.query():
            schema = resolve(doc, parameter.get("schema", {}))
            if schema.get("type") == "array":
                schema = resolve(doc, schema.get("items", {}))
            for value in _hostile_values(doc, schema):
                if isinstance(value, float | list):
                    continue  # a query holds text: "1.5" was never a number there
                tried += 1
                response = send(
                    client, world, operation, operation.caller(),
                    query_string={parameter["name"]: str(value)},
                )  # fmt: skip
                if not _field_refused(response, "query", parameter["name"]):
                    found.append(
                        f"{operation.method} {operation.path}?{parameter['name']}="
                        f"{str(value)[:30]}: {response.status_code}"
                    )
    assert tried > 50  # page is among them: every paginated list
    _failures(found)


def test_integers_past_their_column_in_a_path_name_nothing(
    app: Flask, client: FlaskClient, world: World
) -> None:
    found, tried = [], 0
    for rule in rules_of(app):
        ints = {
            name: type(converter).__name__
            for name, converter in rule._converters.items()
            if _is_int(converter)
        }
        if not ints:
            continue
        for value in (2**31, 2**63, 10**30, "9" * 5000):
            if value == 2**31 and all(kind == "BigIntConverter" for kind in ints.values()):
                value = 2**63  # a scan id may be past 32 bits
            values = {name: value if name in ints else "CQDZ-000001" for name in rule._converters}
            path = _build(rule, values)
            for method in sorted(set(rule.methods) - {"HEAD", "OPTIONS"}):
                tried += 1
                response = client.open(path, method=method, headers=world.auth("sysadmin"))
                if response.status_code != 404:
                    found.append(f"{method} {rule.rule} {str(value)[:12]}: {response.status_code}")
    assert tried > 40
    _failures(found)
    # A scan id is 64 bits: past 32 it is a number like any other, and names no scan.
    response = client.get(f"/api/v1/scans/{2**40}/verdict-changes", headers=world.auth("sysadmin"))
    assert (response.status_code, error_code(response)) == (404, "scan_not_found")
