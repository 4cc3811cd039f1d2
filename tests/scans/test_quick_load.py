"""The batch items' quick reader gives the schema's answer or none: never another one."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import marshmallow as ma
import pytest

from cylinder_trace.scans.items import FIELDS, quick_load
from cylinder_trace.scans.schemas import ScanCreateSchema

SCHEMA = ScanCreateSchema()
EVENT = "6d1f0a43-7d3c-4c38-9d5e-0123456789ab"
AT = "2026-11-29T08:30:00+08:00"
PRE = {"appearance": True, "valve": True, "residual_liquid": True, "marking": True}

VALID: list[dict[str, Any]] = [
    {"event_id": EVENT, "kind": "fill", "code": "CQAB-00000001", "occurred_at": AT,
     "gross_kg": "30.90", "tare_kg": 16.4, "pre_fill_check": PRE, "operator": "王五"},
    {"event_id": EVENT, "kind": "fill", "qr": "https://t.example/C/abc", "occurred_at": AT,
     "gross_kg": 31, "post_fill_check": {"leak": False}, "site_id": 3},
    {"event_id": EVENT.upper(), "kind": "reweigh", "code": "cqab-00000001", "occurred_at": AT,
     "gross_kg": "30.905"},
    {"event_id": EVENT, "kind": "dispatch", "code": "CQAB-00000001",
     "occurred_at": "2026-11-29T00:30:00Z", "vehicle_plate": "渝A12345", "staff": ["张三", ""]},
    {"event_id": EVENT, "kind": "deliver", "code": "CQAB-00000001", "occurred_at": AT,
     "buyer": {"customer_id": 7}, "latitude": "29.5630001", "longitude": 106.5516},
    {"event_id": EVENT, "kind": "deliver", "code": "CQAB-00000001", "occurred_at": AT,
     "buyer": {"id_number": "11010519491231002X"}},
    {"event_id": EVENT, "kind": "deliver", "code": "CQAB-00000001", "occurred_at": AT,
     "buyer": {"card": "https://t.example/K/xyz"}, "note": ""},
    {"event_id": EVENT, "kind": "inspect", "code": "CQAB-00000001", "occurred_at": AT,
     "inspection_result": "pass", "inspection_body": "站", "certificate_no": "No.1"},
    {"event_id": EVENT, "kind": "scrap", "code": "CQAB-00000001", "occurred_at": AT,
     "reason": "corroded"},
    {"event_id": EVENT, "kind": "stop", "code": "CQAB-00000001", "occurred_at": AT,
     "reason": "recall"},
    {"event_id": EVENT, "kind": "collect", "code": "CQAB-00000001", "occurred_at": AT,
     "latitude": -90, "longitude": "180.0000004"},
]  # fmt: skip

# Each a change to a valid fill item: some the schema accepts, most it refuses.
CHANGES: list[dict[str, Any]] = [
    {"event_id": "not-a-uuid"}, {"event_id": 5}, {"event_id": None}, {"event_id": ""},
    {"kind": "teleport"}, {"kind": 3}, {"kind": None},
    {"code": ""}, {"code": "C" * 65}, {"code": 12345}, {"qr": "x"}, {"code": None},
    {"occurred_at": "2026-11-29T08:30:00"}, {"occurred_at": "yesterday"},
    {"occurred_at": 1764376200}, {"site_id": "3"}, {"site_id": True}, {"site_id": 3.0},
    {"gross_kg": "NaN"}, {"gross_kg": "Infinity"}, {"gross_kg": "-1"}, {"gross_kg": "500.004"},
    {"gross_kg": "500.005"}, {"gross_kg": True}, {"gross_kg": "1e400"}, {"gross_kg": " 30.9 "},
    {"gross_kg": None}, {"gross_kg": []}, {"tare_kg": "abc"},
    {"latitude": "90.0000005"}, {"longitude": -180.1},
    {"pre_fill_check": {"valve": "yes"}}, {"pre_fill_check": {"valve": 1}},
    {"pre_fill_check": [True]}, {"pre_fill_check": {}},
    {"operator": "x" * 101}, {"vehicle_plate": "A"}, {"staff": "张三"}, {"staff": [1]},
    {"buyer": {}}, {"buyer": {"customer_id": 0}}, {"buyer": {"customer_id": 5, "card": ""}},
    {"buyer": {"customer_id": 5, "card": "c"}}, {"buyer": {"name": "x"}},
    {"buyer": {"id_number": "1" * 33}},
    {"inspection_result": "maybe"}, {"reason": "x"}, {"note": "x" * 301},
    {"colour": "red"}, {"kind": "deliver"}, {"kind": "inspect"}, {"kind": "scrap"},
    # The bounds every request field gets (web/bounds.py).
    {"occurred_at": "1970-01-01T00:00:00Z"}, {"occurred_at": "9999-12-31T23:59:59-12:00"},
    {"site_id": 2**31}, {"site_id": 1.5}, {"staff": ["张三"] * 101}, {"code": "   "},
    {"pre_fill_check": {f"item{n}": True for n in range(101)}},
]  # fmt: skip


def fields_load(item: Any) -> dict[str, Any]:
    """The schema's own answer, by its fields (its ``load`` tries ``quick_load`` first)."""
    return ma.Schema.load(SCHEMA, item)


def schema_load(item: Any) -> dict[str, Any] | None:
    try:
        return fields_load(item)
    except ma.ValidationError:
        return None


def test_it_knows_exactly_the_schema_fields() -> None:
    assert set(FIELDS) == set(SCHEMA.fields)


@pytest.mark.parametrize("item", VALID)
def test_valid_items_load_as_the_schema_loads_them(item: dict[str, Any]) -> None:
    expected = fields_load(item)
    quick = quick_load(item)
    assert quick == expected
    assert {k: type(v) for k, v in quick.items()} == {k: type(v) for k, v in expected.items()}


@pytest.mark.parametrize("change", CHANGES, ids=[str(c)[:40] for c in CHANGES])
def test_other_items_get_the_schema_answer_or_none(change: dict[str, Any]) -> None:
    item = {**VALID[0], **change}
    quick = quick_load(item)
    expected = schema_load(item)
    assert quick is None or quick == expected
    if expected is None:
        assert quick is None


def test_the_schema_answers_with_the_quick_reader_or_its_fields() -> None:
    assert SCHEMA.load(VALID[0]) == fields_load(VALID[0])
    with pytest.raises(ma.ValidationError) as refused:
        SCHEMA.load({**VALID[0], "gross_kg": "-1"})
    assert "gross_kg" in refused.value.messages


def test_missing_fields_and_non_objects_go_to_the_schema() -> None:
    for name in VALID[0]:
        item = {k: v for k, v in VALID[0].items() if k != name}
        quick = quick_load(item)
        assert quick is None or quick == schema_load(item)
    for odd in (None, [], "scan", 5):
        assert quick_load(odd) is None


def test_many_combinations_agree() -> None:
    optional = {
        "site_id": [2, "2"],
        "latitude": ["29.56", 29.56, 91],
        "note": ["", "ok", None],
        "gross_kg": ["30.9", "0", "600"],
    }
    names = list(optional)
    for values in itertools.product(*(optional[name] for name in names)):
        item = {**VALID[0], "event_id": str(uuid.uuid4()), **dict(zip(names, values, strict=True))}
        quick = quick_load(item)
        expected = schema_load(item)
        assert quick is None or quick == expected
        if expected is None:
            assert quick is None


def test_its_readers_come_from_the_schema_fields_and_stop_at_what_they_do_not_know() -> None:
    from marshmallow import validate

    from cylinder_trace.scans import items

    class Narrow(ma.Schema):
        code = ma.fields.String(validate=validate.Length(min=2, max=3))

    read = items._readers(Narrow())["code"]
    assert read("abc") == "abc"
    for too in ("a", "abcd"):
        with pytest.raises(items._Unsure):
            read(too)
    for odd in (ma.fields.Time(), ma.fields.String(validate=validate.Regexp("x"))):

        class Odd(ma.Schema):
            field = odd

        with pytest.raises(TypeError):
            items._readers(Odd())
