"""Identifiers for customer tests, with check characters computed independently of the app."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.world import World

# The examples from the domain brief (shared/domain.md).
BRIEF_ID = "11010519491231002X"
BRIEF_ID_WRONG_CHECK = "110105194912310021"
BRIEF_CREDIT_CODE = "91350100M000100Y43"

_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def with_id_check(body: str) -> str:
    """``body`` (17 digits) plus the ISO 7064 MOD 11-2 check character.

    Written from the definition, not the app's table: the weighted sum of all 18
    characters (X counting 10, weight 2^(17-i)) must be 1 modulo 11.
    """
    for char in "0123456789X":
        values = [10 if c == "X" else int(c) for c in body + char]
        if sum(v * 2 ** (17 - i) for i, v in enumerate(values)) % 11 == 1:
            return body + char
    raise AssertionError("no check character")


def id_number(region: str = "500111", born: str = "19850612", seq: str = "123") -> str:
    return with_id_check(region + born + seq)


def with_credit_check(body: str) -> str:
    """``body`` (17 characters) plus its GB 32100 check: weights 3^i mod 31, 31 - sum mod 31."""
    total = sum(_CREDIT_CHARS.index(c) * pow(3, i, 31) for i, c in enumerate(body))
    return body + _CREDIT_CHARS[(31 - total % 31) % 31]


def credit_code(org: str = "MA5U12345") -> str:
    return with_credit_check("92500111" + org)


def person(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "person",
        "name": "张三",
        "id_number": BRIEF_ID,
        "phone": "13812345678",
        "address": "大足区龙岗街道石刻路1号",
        "division_code": "500111",
    }
    data.update(overrides)
    return data


def business(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "business",
        "name": "老王火锅店",
        "credit_code": BRIEF_CREDIT_CODE,
        "responsible_person": "王五",
        "id_number": id_number(born="19700101", seq="456"),
        "phone": "023-43721234",
        "address": "大足区棠香街道美食街8号",
        "division_code": "500111",
        "is_catering": True,
        "premises_floor": 1,
    }
    data.update(overrides)
    return data


def register(
    client: FlaskClient, world: World, who: str = "a_admin", **data: Any
) -> Any:  # a TestResponse
    return client.post("/api/v1/customers", json=data, headers=world.auth(who))


def registered(client: FlaskClient, world: World, who: str = "a_admin", **data: Any) -> dict:
    response = register(client, world, who, **data)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()
