"""The batch items' fast reader (``scans.api.fast_scan_reader``) answers as the schema does.

``quick`` gives the schema's answer or none, never another one; ``load`` gives exactly what
``ScanCreateSchema().load`` gives: the same value or the same errors, on hand-picked items
and on generated ones, valid and invalid.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cylinder_trace.config import InputLimits
from cylinder_trace.fastpath.scan_reader import FastReader, Unsure
from cylinder_trace.scans.api import ScanBodyReadFast, fast_scan_reader
from cylinder_trace.scans.schemas import ScanCreateSchema
from cylinder_trace.web import bounds

SCHEMA = ScanCreateSchema()
BODY = ScanBodyReadFast()
# The items' instants are fixed, so the window of plausible instants is too: counted from a
# fixed present with the default limits, whatever today is and whatever app is current.
PRESENT = datetime(2026, 12, 1, tzinfo=UTC).timestamp()
FIELDS = fast_scan_reader.fields
quick_load = fast_scan_reader.quick
EVENT = "6d1f0a43-7d3c-4c38-9d5e-0123456789ab"
AT = "2026-11-29T08:30:00+08:00"
PRE = {"appearance": True, "valve": True, "residual_liquid": True, "marking": True}


@pytest.fixture(autouse=True, scope="module")
def _a_fixed_window() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bounds, "clock", lambda: PRESENT)
        limits = InputLimits()
        patch.setattr(bounds, "input_limits", lambda: limits)
        yield


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
    """The schema's own answer (the definition)."""
    return SCHEMA.load(item)


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


def test_load_is_the_schema_answer_value_or_errors() -> None:
    assert fast_scan_reader.load(VALID[0]) == fields_load(VALID[0])
    with pytest.raises(ma.ValidationError) as refused:
        fast_scan_reader.load({**VALID[0], "gross_kg": "-1"})
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

    class Narrow(ma.Schema):
        code = ma.fields.String(validate=validate.Length(min=2, max=3))

    read = FastReader(Narrow(), rules={}).fields["code"]
    assert read("abc") == "abc"
    for too in ("a", "abcd"):
        with pytest.raises(Unsure):
            read(too)
    for odd in (ma.fields.Time(), ma.fields.String(validate=validate.Regexp("x"))):

        class Odd(ma.Schema):
            field = odd

        with pytest.raises(TypeError):
            FastReader(Odd(), rules={})


def test_a_whole_item_rule_or_hook_it_is_not_given_stops_it() -> None:
    class Ruled(ma.Schema):
        code = ma.fields.String()

        @ma.validates_schema
        def _rule(self, data: dict, **_: object) -> None:
            pass

    class Loaded(ma.Schema):
        code = ma.fields.String()

        @ma.post_load
        def _change(self, data: dict, **_: object) -> dict:
            return data

    for schema in (Ruled(), Loaded()):
        with pytest.raises(TypeError):
            FastReader(schema, rules={})


# Generated items: each field drawn from values the schema accepts, values it refuses, and
# values of the wrong JSON type; fields left out, unknown fields added, kinds mixed up.
def _json_scalars() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**40), max_value=2**40),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=8),
    )


ODD = _json_scalars() | st.lists(_json_scalars(), max_size=2)
DECIMALS = st.one_of(
    st.decimals(min_value=-1, max_value=600, places=3).map(str),
    st.integers(min_value=-5, max_value=600),
    st.floats(min_value=-1, max_value=600),
    st.sampled_from(["NaN", "1e400", " 30.9 ", "abc", "500.005", "-0"]),
)
CHECKLIST = st.dictionaries(
    st.sampled_from(["valve", "appearance", "x" * 1001]), ODD | st.booleans()
)
FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "event_id": st.uuids().map(str) | st.sampled_from(["not-a-uuid", EVENT.upper(), ""]),
    "kind": st.sampled_from(["fill", "reweigh", "dispatch", "deliver", "collect", "inspect",
                             "scrap", "stop", "store", "teleport"]),
    "code": st.sampled_from(["CQAB-00000001", "", "   ", "C" * 65, "cqab-1"]),
    "qr": st.sampled_from(["https://t.example/C/abc", "", "q" * 301]),
    "occurred_at": st.sampled_from([AT, "2026-11-29T08:30:00", "yesterday",
                                    "1970-01-01T00:00:00Z", "2026-11-29T00:30:00Z"]),
    "site_id": st.integers(min_value=-3, max_value=2**32) | st.sampled_from([1.5, 3.0, "3"]),
    "latitude": DECIMALS,
    "longitude": DECIMALS,
    "gross_kg": DECIMALS,
    "tare_kg": DECIMALS,
    "pre_fill_check": CHECKLIST,
    "post_fill_check": CHECKLIST,
    "operator": st.text(max_size=3) | st.just("x" * 101),
    "vehicle_plate": st.sampled_from(["渝A12345", "A", "x" * 17]),
    "staff": st.lists(st.text(max_size=3) | st.integers(), max_size=3),
    "buyer": st.dictionaries(
        st.sampled_from(["customer_id", "card", "id_number", "name"]),
        st.integers(min_value=0, max_value=2**31) | st.text(max_size=3) | st.none(),
        max_size=3,
    ),
    "inspection_result": st.sampled_from(["pass", "fail", "maybe"]),
    "inspection_body": st.text(max_size=3),
    "certificate_no": st.text(max_size=3),
    "reason": st.sampled_from(["corroded", "x", "r" * 301]),
    "note": st.text(max_size=3),
    "colour": st.just("red"),
}  # fmt: skip


@st.composite
def items(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 30)) == 0:
        return draw(ODD)
    base = dict(draw(st.sampled_from(VALID)))
    # A few fields changed, often none: Hypothesis leans towards small draws, so a draw per
    # field (as this once was) changed nearly every field and hardly ever left an item whole.
    changed = draw(st.lists(st.sampled_from(sorted(FIELD_VALUES)), max_size=4, unique=True))
    for name in changed:
        change = draw(st.sampled_from(("value", "odd", "drop")))
        if change == "value":
            base[name] = draw(FIELD_VALUES[name])
        elif change == "odd":
            base[name] = draw(ODD)
        else:
            base.pop(name, None)
    return base


def _answer(load: Any, item: Any) -> tuple[str, Any]:
    try:
        return "loaded", load(item)
    except ma.ValidationError as error:
        return "refused", error.messages


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items())
def test_generated_items_load_or_fail_as_the_schema_does(item: Any) -> None:
    expected = _answer(SCHEMA.load, item)
    assert _answer(fast_scan_reader.load, item) == expected
    assert _answer(BODY.load, item) == expected  # POST /scans's body
    quick = quick_load(item)
    assert quick is None or ("loaded", quick) == expected


def test_generated_items_reach_both_answers() -> None:
    # The generator is worth something only if it makes both kinds of item, and plain ones
    # the quick part answers itself.
    seen: set[str] = set()
    refusals: list[Any] = []

    @settings(max_examples=400, deadline=None, database=None)
    @given(items())
    def collect(item: Any) -> None:
        kind, answer = _answer(SCHEMA.load, item)
        seen.add(kind)
        if kind == "refused" and len(refusals) < 3:
            refusals.append((item, answer))
        if quick_load(item) is not None:
            seen.add("quick")

    collect()
    assert seen == {"loaded", "refused", "quick"}, refusals
