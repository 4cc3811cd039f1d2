"""The record hash must never change its canonical form: stored chains are checked with it."""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from cylinder_trace.domain.lifecycle import Outcome, ScanKind
from cylinder_trace.scans.chain import HASHED_FIELDS, record_hash
from cylinder_trace.scans.models import ScanResult


def reference_hash(fields: dict[str, Any]) -> str:
    """The definition the first chains were written with."""

    def canonical(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        if isinstance(value, Decimal | float):
            return f"{Decimal(str(value)):.6f}"
        if hasattr(value, "value"):
            return value.value
        if value is None or isinstance(value, bool | int | str | dict | list):
            return value
        return str(value)

    data = {name: canonical(fields.get(name)) for name in HASHED_FIELDS}
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_record_hash_matches_the_original_definition() -> None:
    rng = random.Random(7)
    zones = [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30))]
    for _ in range(500):
        at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(10**8))
        at = at.replace(microsecond=rng.choice([0, 1, 999999, rng.randrange(10**6)]))
        fields = {
            "event_id": uuid.UUID(int=rng.getrandbits(128)),
            "content_hash": f"{rng.getrandbits(256):064x}",
            "kind": rng.choice(list(ScanKind)),
            "outcome": rng.choice([None, *Outcome]),
            "scanned": rng.choice(["CQAB-00000001", "https://t.example/C/x?y=1", "瓶"]),
            "chain_key": "CQAB-00000001",
            "seq": rng.randrange(1, 10**6),
            "cylinder_id": rng.choice([None, rng.randrange(10**9)]),
            "occurred_at": at.astimezone(rng.choice(zones)),
            "received_at": at + timedelta(microseconds=rng.randrange(10**7)),
            "actor_user_id": rng.choice([None, 3]),
            "device_id": None,
            "organisation_id": 2,
            "site_id": rng.choice([None, 3]),
            "latitude": rng.choice([None, Decimal("29.563001"), 29.5, Decimal("-0.000001")]),
            "longitude": rng.choice([None, Decimal("106.551600"), 106]),
            "customer_id": rng.choice([None, 9]),
            "data": rng.choice([{}, {"gross_kg": "30.90", "pre_fill_check": {"valve": True}}]),
            "interactive": rng.choice([True, False]),
            "result": rng.choice(list(ScanResult)),
            "result_code": rng.choice([None, "inspection_overdue"]),
            "prev_hash": rng.choice([None, f"{rng.getrandbits(256):064x}"]),
        }
        assert record_hash(fields) == reference_hash(fields)


AWKWARD_TEXT = [
    "".join(chr(code) for code in range(0x80)),  # every control character, quote, backslash
    "渝A12345 张三",
    "\u2028\u2029\ufeff\U0001f600 é",
    "",
]


def test_record_hash_matches_it_for_awkward_data_too() -> None:
    # The data a scanner sends ends up in the hash: every kind of text, nested values,
    # and the values the fast encoder cannot write the same way (floats, huge integers).
    rng = random.Random(11)
    now = datetime(2026, 11, 29, 7, 0, 0, 123456, tzinfo=UTC)
    values: list[Any] = [
        *AWKWARD_TEXT,
        0,
        -1,
        2**63 - 1,
        2**70,
        True,
        False,
        None,
        1e16,
        0.1,
        -2.5e-7,
        [],
        ["a", 1, None],
        {"valve": True, "渝": "x"},
    ]
    for _ in range(500):
        data: dict[str, Any] = {}
        for _ in range(rng.randrange(5)):
            key = rng.choice(["note", "staff", "pre_fill_check", "渝", "\n", "b"])
            value = rng.choice(values)
            data[key] = {"inner": value, "list": [value]} if rng.random() < 0.3 else value
        fields = {
            "event_id": uuid.UUID(int=rng.getrandbits(128)),
            "kind": ScanKind.DISPATCH,
            "scanned": rng.choice(AWKWARD_TEXT),
            "chain_key": "CQAB-00000001",
            "seq": 1,
            "occurred_at": now,
            "received_at": now,
            "organisation_id": 2,
            "data": data,
            "interactive": False,
            "result": ScanResult.ACCEPTED,
        }
        assert record_hash(fields) == reference_hash(fields), data
