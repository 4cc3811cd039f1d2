"""Reading batch items quickly: the schema's answer for the plain cases, or none at all.

``ScanCreateSchema`` is the definition of a scan item and the only place errors are worded.
Loading 500 items through it took longer than judging and storing them, so batch items go
first through ``quick_load``: it returns exactly what ``ScanCreateSchema().load`` returns
for the items it fully understands (plain JSON types, every value within the schema's
limits) and None for anything else, which then goes through the schema as before. It never
rejects: an item it cannot vouch for is the schema's to judge. A test holds the two to the
same answers and to the same set of fields.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from cylinder_trace.domain.lifecycle import ScanKind
from cylinder_trace.scans.schemas import REQUIRED_BY_KIND


class _Unsure(Exception):
    """The quick reader cannot vouch for this value: let the schema judge the item."""


def _text(low: int, high: int | None) -> Callable[[Any], str]:
    def read(value: Any) -> str:
        if type(value) is not str or len(value) < low or (high is not None and len(value) > high):
            raise _Unsure
        return value

    return read


def _integer(value: Any) -> int:
    if type(value) is not int:
        raise _Unsure
    return value


def _decimal(places: int, low: int, high: int) -> Callable[[Any], Decimal]:
    quantum = Decimal(1).scaleb(-places)

    def read(value: Any) -> Decimal:
        if type(value) not in (str, int, float):
            raise _Unsure
        try:
            number = Decimal(str(value))
            if not number.is_finite():
                raise _Unsure
            number = number.quantize(quantum)
        except InvalidOperation:
            raise _Unsure from None
        if not low <= number <= high:
            raise _Unsure
        return number

    return read


def _checks(value: Any) -> dict[str, bool]:
    if type(value) is not dict:
        raise _Unsure
    for key, passed in value.items():
        if type(key) is not str or type(passed) is not bool:
            raise _Unsure
    return dict(value)


def _staff(value: Any) -> list[str]:
    if type(value) is not list:
        raise _Unsure
    return [_text(0, 100)(name) for name in value]


def _uuid(value: Any) -> uuid.UUID:
    if type(value) is not str:
        raise _Unsure
    try:
        return uuid.UUID(value)
    except ValueError:
        raise _Unsure from None


_KINDS = {kind.value: kind for kind in ScanKind}


def _kind(value: Any) -> ScanKind:
    if type(value) is not str or value not in _KINDS:
        raise _Unsure
    return _KINDS[value]


def _instant(value: Any) -> datetime:
    if type(value) is not str:
        raise _Unsure
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _Unsure from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise _Unsure
    return parsed


_BUYER_FIELDS: dict[str, Callable[[Any], Any]] = {
    "customer_id": _integer,
    "card": _text(0, 300),
    "id_number": _text(0, 32),
}


def _buyer(value: Any) -> dict[str, Any]:
    if type(value) is not dict or len(value) != 1:
        raise _Unsure
    ((name, given),) = value.items()
    read = _BUYER_FIELDS.get(name)
    if read is None or not given:
        raise _Unsure
    return {name: read(given)}


def _inspection_result(value: Any) -> str:
    if value not in ("pass", "fail") or type(value) is not str:
        raise _Unsure
    return value


# One reader per field of ScanCreateSchema, with the schema's limits.
FIELDS: dict[str, Callable[[Any], Any]] = {
    "event_id": _uuid,
    "kind": _kind,
    "code": _text(1, 64),
    "qr": _text(1, 300),
    "occurred_at": _instant,
    "site_id": _integer,
    "latitude": _decimal(6, -90, 90),
    "longitude": _decimal(6, -180, 180),
    "gross_kg": _decimal(2, 0, 500),
    "tare_kg": _decimal(2, 0, 500),
    "pre_fill_check": _checks,
    "post_fill_check": _checks,
    "operator": _text(0, 100),
    "vehicle_plate": _text(2, 16),
    "staff": _staff,
    "buyer": _buyer,
    "inspection_result": _inspection_result,
    "inspection_body": _text(0, 200),
    "certificate_no": _text(0, 64),
    "reason": _text(2, 300),
    "note": _text(0, 300),
}


def quick_load(item: Any) -> dict[str, Any] | None:
    """What ``ScanCreateSchema().load(item)`` returns, or None to ask the schema instead."""
    if type(item) is not dict:
        return None
    try:
        loaded = {name: FIELDS[name](value) for name, value in item.items()}
    except (_Unsure, KeyError):
        return None
    if not loaded.get("event_id") or "kind" not in loaded or "occurred_at" not in loaded:
        return None
    if bool(loaded.get("code")) == bool(loaded.get("qr")):
        return None
    if any(loaded.get(name) is None for name in REQUIRED_BY_KIND.get(loaded["kind"], ())):
        return None
    return loaded
