"""Walking the API's own OpenAPI document and URL map, to send hostile input everywhere."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cylinder_trace.models import Base
from tests.world import World

# A role named in an operation's "Who may call" line -> the World key calling as it.
CALLERS = {
    "system_admin": "sysadmin",
    "company_admin": "a_admin",
    "station_operator": "a_operator",
    "delivery_staff": "a_courier",
    "bureau_reviewer": "dazu_reviewer",
    "regulator": "city_regulator",
    "device": "a_handheld",
}
_WHO = re.compile(r"Who may call: ([a-z_, ]+)\.")
_PARAM = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Operation:
    path: str  # OpenAPI form, /api/v1/cylinders/{code}
    method: str
    spec: dict[str, Any]
    parameters: list[dict[str, Any]]

    def url(self, **values: Any) -> str:
        """The path with its parameters filled: an id 1, a code, unless given."""
        types = {p["name"]: p.get("schema", {}).get("type") for p in self.parameters}

        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in values:
                return str(values[name])
            return "1" if types.get(name) == "integer" else "CQDZ-000001"

        return _PARAM.sub(fill, self.path)

    def query(self) -> list[dict[str, Any]]:
        return [p for p in self.parameters if p.get("in") == "query"]

    def caller(self) -> str | None:
        """A World key allowed to call it (None: public)."""
        if self.spec.get("security") == []:
            return None
        match = _WHO.search(self.spec.get("description", ""))
        assert match, f"{self.method} {self.path} names no roles"
        roles = [role.strip() for role in match.group(1).split(",")]
        return next(CALLERS[role] for role in roles if role in CALLERS)

    def json_body(self, doc: dict[str, Any]) -> dict[str, Any] | None:
        """The resolved schema of its JSON body, if it takes one."""
        content = self.spec.get("requestBody", {}).get("content", {})
        if "application/json" not in content:
            return None
        return resolve(doc, content["application/json"]["schema"])


def openapi(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def operations(doc: dict[str, Any]) -> Iterator[Operation]:
    for path, item in doc["paths"].items():
        shared = item.get("parameters", [])
        for method, spec in item.items():
            if method == "parameters":
                continue
            yield Operation(path, method, spec, [*shared, *spec.get("parameters", [])])


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """A schema with its $ref followed and allOf merged (enough for our documents)."""
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = {
            **doc["components"]["schemas"][name],
            **{k: v for k, v in schema.items() if k != "$ref"},
        }
    if "allOf" in schema:
        merged: dict[str, Any] = {"properties": {}}
        for part in schema["allOf"]:
            part = resolve(doc, part)
            merged["properties"].update(part.get("properties", {}))
        return merged
    return schema


def send(
    client: FlaskClient, world: World, operation: Operation, who: str | None, **kwargs: Any
) -> Any:
    headers = {**kwargs.pop("headers", {}), **(world.auth(who) if who else {})}
    url = kwargs.pop("url", None) or operation.url()
    return client.open(url, method=operation.method.upper(), headers=headers, **kwargs)


def row_counts(session: Session) -> dict[str, int]:
    """Rows in every table: a refused request leaves them as they were."""
    session.expire_all()
    return {
        table.name: session.scalar(select(func.count()).select_from(table))
        for table in Base.metadata.sorted_tables
    }


def rules_of(app: Flask) -> list[Any]:
    """Every URL rule of the app (API, pages, static), but HEAD/OPTIONS-only ones."""
    return [
        rule for rule in app.url_map.iter_rules() if set(rule.methods or ()) - {"HEAD", "OPTIONS"}
    ]


def error_code(response: Any) -> str | None:
    body = response.get_json(silent=True)
    return body.get("code") if isinstance(body, dict) else None
