"""Canonical JSON text: byte for byte json.dumps', since stored hashes cover it."""

from __future__ import annotations

import json
import os
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from cylinder_trace.customers.crypto import PiiVault
from cylinder_trace.domain.lifecycle import ScanKind
from cylinder_trace.fastpath.jsontext import dumps_sorted, holds_float
from cylinder_trace.scans.context import ScanContext


@dataclass(frozen=True)
class Point:
    x: int


TEXT = [
    "".join(chr(code) for code in range(0x80)),  # every control character, quote, backslash, DEL
    "渝A12345 张三",
    "\u2028\u2029\ufeff\U0001f600 é",
    "plain",
    "",
]
VALUES: list[Any] = [
    *TEXT,
    0,
    -(2**63),
    2**64 - 1,
    2**70,
    True,
    None,
    1e16,
    0.1,
    Decimal("30.90"),
    uuid.UUID(int=12345),
    ScanKind.FILL,
    datetime(2026, 11, 29, 7, 0, 0, 123456, tzinfo=timezone(timedelta(hours=8))),
    datetime(2026, 11, 29, 7, 0, tzinfo=UTC),
    date(2026, 11, 29),
    Point(1),
    (1, "a"),
    [],
    {},
]


def random_value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth < 3 and roll < 0.2:
        return {rng.choice([*TEXT[1:], "a", "b"]): random_value(rng, depth + 1) for _ in range(3)}
    if depth < 3 and roll < 0.3:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(3))]
    return rng.choice(VALUES)


@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_the_same_bytes_as_json_dumps(ensure_ascii: bool) -> None:
    rng = random.Random(5)
    for _ in range(2000):
        value = {"event_id": rng.choice(VALUES), "item": random_value(rng)}
        if rng.random() < 0.05:
            value["by_number"] = {2: "b", 1: "a"}  # keys json.dumps turns into strings
        expected = json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=ensure_ascii, default=str
        ).encode()
        assert dumps_sorted(value, ensure_ascii=ensure_ascii, default=str) == expected, value


def test_without_a_default_it_refuses_what_json_dumps_refuses() -> None:
    with pytest.raises(TypeError):
        dumps_sorted({"at": date(2026, 1, 1)}, ensure_ascii=False)


def test_floats_are_found_anywhere() -> None:
    assert holds_float({"a": [{"b": (1, 2.5)}]})
    assert not holds_float({"a": [{"b": (1, "2.5", True, None)}], "c": Decimal("1.5")})


def test_a_scans_content_hash_is_its_original_definition() -> None:
    vault = PiiVault({"k1": os.urandom(32)}, "k1", os.urandom(32))
    ctx = ScanContext(
        principal=None,  # type: ignore[arg-type]
        rules=None,  # type: ignore[arg-type]
        signer=None,  # type: ignore[arg-type]
        vault=vault,
        card_signer=None,  # type: ignore[arg-type]
        now=datetime.now(UTC),
        today=date.today(),
        tz=None,  # type: ignore[arg-type]
    )
    rng = random.Random(9)
    for _ in range(500):
        item = {
            "event_id": uuid.UUID(int=rng.getrandbits(128)),
            "kind": rng.choice(list(ScanKind)),
            "code": rng.choice(TEXT),
            "occurred_at": rng.choice(VALUES[-7:-5]),
            "gross_kg": rng.choice([None, Decimal("30.90"), 30.9]),
            "buyer": {"id_number": rng.choice(TEXT)},
            "note": random_value(rng),
        }
        text = json.dumps(item, sort_keys=True, separators=(",", ":"), default=str)
        assert ctx.content_hash(item) == vault.lookup_hash(text, purpose="scans.content")
