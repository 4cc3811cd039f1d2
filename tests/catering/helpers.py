"""Catering users, checklists, images and a frozen clock for the catering tests."""

from __future__ import annotations

import io
import itertools
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from flask.testing import FlaskClient
from PIL import Image

from cylinder_trace.domain.rules import load_rules
from tests.customers.helpers import business, credit_code, registered
from tests.world import World

URL = "/api/v1/catering-users"
CST = timezone(timedelta(hours=8))  # fixed offset, independent of the zoneinfo under test
CHECKLIST = [item.code for item in load_rules().catering_checklist]

_numbers = itertools.count(1)


def cst(*args: int) -> datetime:
    return datetime(*args, tzinfo=CST)  # type: ignore[misc]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def catering_user(
    client: FlaskClient, world: World, who: str = "a_admin", **overrides: Any
) -> dict[str, Any]:
    """Register a catering business (a fresh credit code each time) and return it."""
    number = next(_numbers)
    data = business(
        name=overrides.pop("name", f"餐馆{number}"),
        credit_code=credit_code(f"MA5U{number:05d}"),
        **overrides,
    )
    return registered(client, world, who, **data)


def items(**results: str) -> list[dict[str, Any]]:
    """Every checklist item, passed unless named: items(metal_hose="fail")."""
    unknown = set(results) - set(CHECKLIST)
    assert not unknown, unknown
    return [{"code": code, "result": results.get(code, "pass")} for code in CHECKLIST]


def check_body(
    checked_at: datetime | None = None, outcome: str = "completed", **item_results: str
) -> dict[str, Any]:
    body: dict[str, Any] = {"outcome": outcome}
    if outcome == "completed":
        body["items"] = items(**item_results)
    if checked_at is not None:
        body["checked_at"] = checked_at.isoformat()
    return body


def post_check(
    client: FlaskClient, world: World, customer_id: int, who: str = "a_courier", **body: Any
) -> Any:
    return client.post(f"{URL}/{customer_id}/checks", json=body, headers=world.auth(who))


def checked(
    client: FlaskClient,
    world: World,
    customer_id: int,
    checked_at: datetime | None = None,
    who: str = "a_courier",
    outcome: str = "completed",
    **item_results: str,
) -> dict[str, Any]:
    response = post_check(
        client, world, customer_id, who, **check_body(checked_at, outcome, **item_results)
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def post_multipart(
    client: FlaskClient,
    world: World,
    customer_id: int,
    body: dict[str, Any],
    *,
    photos: list[tuple[bytes, str, str]] = (),  # type: ignore[assignment]
    signature: tuple[bytes, str, str] | None = None,
    who: str = "a_courier",
) -> Any:
    data: dict[str, Any] = {"data": json.dumps(body)}
    if photos:
        data["photos"] = [
            (io.BytesIO(content), name, content_type) for content, name, content_type in photos
        ]
    if signature is not None:
        content, name, content_type = signature
        data["signature"] = (io.BytesIO(content), name, content_type)
    return client.post(
        f"{URL}/{customer_id}/checks",
        data=data,
        headers=world.auth(who),
        content_type="multipart/form-data",
    )


def image(kind: str = "JPEG", size: tuple[int, int] = (64, 48), color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=kind)
    return buffer.getvalue()


def listed(client: FlaskClient, world: World, who: str, query: str = "") -> list[dict[str, Any]]:
    response = client.get(f"{URL}?page_size=500&{query}", headers=world.auth(who))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def by_id(rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {row["id"]: row for row in rows}
