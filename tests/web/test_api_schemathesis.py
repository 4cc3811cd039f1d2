"""The API keeps its OpenAPI document: schemathesis generates requests from it, as every role.

For each role of tests/world.py (and anonymous), every documented operation gets a few
generated requests that fit the document (positive) and a few that break it (negative),
against the Flask app in-process (WSGI), with company A's cylinders, customers, a catering
check and a fill already there so that answers have bodies. Every answer must be no server
error (5xx) and must keep the document: a documented status code, its content type, its
body schema and its headers.

Bounded: ``CT_SCHEMATHESIS_EXAMPLES`` examples (default 4) per operation and mode, and the
roles that may not call an operation (all 401/403) get one. Derandomized, so every run sends
the same requests; no shrinking and no example database, so a failure costs no extra time.
Every failure is collected, not only the first, and reported by operation, check and status,
with the request as curl and, for a 500, the error the app logged. Besides schemathesis'
checks, every status must be listed for its operation ("default" does not count).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi import checks

from cylinder_trace.web.api import DEVICE
from tests.catering.helpers import catering_user, checked
from tests.customers.helpers import person, registered
from tests.scans.conftest import fill
from tests.world import World

ROLES = (
    "sysadmin",
    "a_admin",
    "a_operator",
    "a_courier",
    "a_handheld",
    "dazu_reviewer",
    "city_regulator",
    None,  # anonymous
)
EXAMPLES = int(os.environ.get("CT_SCHEMATHESIS_EXAMPLES", "4"))
CHECKS = [
    not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


@dataclass
class Found:
    """Distinct failures: (operation, check, status) -> what it was and how to send it again."""

    failures: dict[tuple[str, str, int], str] = field(default_factory=dict)
    requests: int = 0

    def add(self, key: tuple[str, str, int], text: str) -> None:
        self.failures.setdefault(key, text)

    def report(self, role: str | None) -> str:
        lines = [f"{len(self.failures)} contract failures as {role or 'anonymous'}:"]
        for (operation, check, status), text in sorted(self.failures.items()):
            lines += [f"--- {operation}: {check} ({status})", text]
        return "\n".join(lines)


class _ErrorLog(logging.Handler):
    """What the app logged for its last 500: the kind of error, to name its cause."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.last = ""

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            self.last = f"{type(error).__name__}: {str(error)[:300]}"
        else:
            self.last = record.getMessage().splitlines()[0][:300]


@pytest.fixture
def error_log() -> Iterator[_ErrorLog]:
    handler = _ErrorLog()
    logger = logging.getLogger("cylinder_trace")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


@pytest.fixture(scope="module")
def api_schema(app: Flask) -> Any:
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


def _seed(client: FlaskClient, world: World, make_cylinder: Any) -> dict[str, Any]:
    """Records of company A for the answers to show; their ids as path parameters."""
    make_cylinder("CQDZ-900001", manufactured_on=date(2024, 3, 15))
    make_cylinder("CQDZ-900002", manufactured_on=date(2024, 3, 15))
    registered(client, world, **person())
    shop = catering_user(client, world)
    check = checked(client, world, shop["id"], metal_hose="fail")
    response = client.post(
        "/api/v1/scans", json=fill("CQDZ-900001", 0), headers=world.auth("a_operator")
    )
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    return {
        "code": "CQDZ-900001",
        "customer_id": shop["id"],
        "check_id": check["id"],
        "org_id": world.orgs["a_station"].id,
        "user_id": world.users["a_operator"].id,
        "device_id": world.devices["a_handheld"].id,
        "scan_id": response.get_json()["id"],
    }


def _caller_role(world: World, who: str | None) -> str | None:
    if who is None:
        return None
    if who in world.users:
        return str(world.users[who].role)
    return DEVICE


def _may_call(app: Flask, operation: Any, role: str | None) -> bool:
    """Whether the endpoint's declared access (Blueprint.access) admits the role."""
    path = operation.path.replace("{", "<").replace("}", ">")
    adapter = app.url_map.bind("localhost")
    endpoint, _ = adapter.match(_sample_path(path), method=operation.method.upper())
    view = app.view_functions[endpoint]
    method = getattr(getattr(view, "view_class", None), operation.method.lower(), view)
    access = getattr(method, "_access", {"public": True})
    return access["public"] or (role is not None and role in access["roles"])


def _sample_path(path: str) -> str:
    return re.sub(r"<[^>]+>", "1", path)


def _strategy(operation: Any, mode: GenerationMode, known: dict[str, Any]) -> Any:
    names = {parameter.name for parameter in operation.path_parameters}
    fixed = {name: value for name, value in known.items() if name in names}
    strategy = operation.as_strategy(generation_mode=mode)
    if fixed:
        # Half the requests name records that exist, so their answers have bodies.
        strategy = st.one_of(
            strategy, operation.as_strategy(generation_mode=mode, path_parameters=fixed)
        )
    return strategy


def _run_operation(
    operation: Any,
    mode: GenerationMode,
    examples: int,
    headers: dict[str, str],
    known: dict[str, Any],
    found: Found,
    error_log: _ErrorLog,
) -> None:
    @given(case=_strategy(operation, mode, known))
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        # Generated credentials are dropped: the role's own token, or none.
        case.headers = {
            k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"
        }
        error_log.last = ""
        response = case.call(headers=headers)
        found.requests += 1
        # flask-smorest gives every operation a "default" (error) response, which makes
        # schemathesis' status check accept any status: here each must be listed (a 5xx is
        # not_a_server_error's to report).
        listed = case.operation.definition.raw["responses"]
        if response.status_code < 500 and str(response.status_code) not in listed:
            found.add(
                (operation.label, "Status code not listed", response.status_code),
                "\n    " + case.as_curl_command(headers)[:300],
            )
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (Failure, FailureGroup) as error:
            failures = error.exceptions if isinstance(error, FailureGroup) else [error]
            for failure in failures:
                cause = f"\n    logged: {error_log.last}" if response.status_code >= 500 else ""
                message = str(failure).strip().splitlines()
                text = (
                    "\n    ".join(["", *message[:12]])
                    + f"\n    {case.as_curl_command(headers)}{cause}"
                )
                found.add((operation.label, failure.title, response.status_code), text)

    # Unsatisfiable: nothing to break in an operation without parameters or a body.
    with contextlib.suppress(Unsatisfiable):
        run()


@pytest.mark.parametrize("who", ROLES, ids=[role or "anonymous" for role in ROLES])
def test_every_operation_keeps_the_document(
    app: Flask,
    client: FlaskClient,
    world: World,
    make_cylinder: Any,
    api_schema: Any,
    error_log: _ErrorLog,
    who: str | None,
) -> None:
    known = _seed(client, world, make_cylinder)
    headers = world.auth(who) if who else {}
    role = _caller_role(world, who)
    found = Found()
    started = time.monotonic()
    for result in api_schema.get_all_operations():
        operation = result.ok()
        examples = EXAMPLES if _may_call(app, operation, role) else 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _run_operation(operation, mode, examples, headers, known, found, error_log)
    took = time.monotonic() - started
    print(f"{who or 'anonymous'}: {found.requests} requests in {took:.1f} s")
    assert not found.failures, found.report(who)


def test_the_run_sees_answers_with_bodies(
    client: FlaskClient, world: World, make_cylinder: Any
) -> None:
    """The seeded records are visible to company A, so the run checks real bodies."""
    known = _seed(client, world, make_cylinder)
    headers = world.auth("a_admin")
    cylinder = client.get(f"/api/v1/cylinders/{known['code']}", headers=headers).get_json()
    assert cylinder["tare_kg"] == "16.40"
    assert (
        client.get(f"/api/v1/scans/{known['scan_id']}/verdict-changes", headers=headers).status_code
        == 200
    )
    assert uuid.UUID(client.get("/api/v1/scans", headers=headers).get_json()[0]["event_id"])
