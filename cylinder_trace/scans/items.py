"""Reading batch items quickly: the schema's answer for the plain cases, or none at all.

``ScanCreateSchema`` is the definition of a scan item and the only place errors are worded.
Loading 500 items through it took longer than judging and storing them, so items go first
through ``quick_load``: it returns exactly what the schema's fields return for the items it
fully understands (plain JSON types, every value within the schema's limits) and None for
anything else, which then goes through the fields as before. It never rejects: an item it
cannot vouch for is the schema's to judge.

The readers are built from the schema's own fields and validators, so a limit lives in one
place; a field or validator they do not know stops the import instead of being skipped.
Tests hold the quick answers to marshmallow's own.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import marshmallow as ma
from marshmallow import validate

from cylinder_trace.scans.schemas import REQUIRED_BY_KIND, BuyerSchema, ScanCreateSchema
from cylinder_trace.web.bounds import Bound, DefaultLength

Reader = Callable[[Any], Any]


class _Unsure(Exception):
    """The quick reader cannot vouch for this value: let the schema judge the item."""


def _checked(read: Reader, checks: list[Callable[[Any], bool]]) -> Reader:
    if not checks:
        return read
    if len(checks) == 1:
        (check,) = checks

        def checked_once(value: Any) -> Any:
            result = read(value)
            if not check(result):
                raise _Unsure
            return result

        return checked_once

    def checked(value: Any) -> Any:
        result = read(value)
        for check in checks:
            if not check(result):
                raise _Unsure
        return result

    return checked


def _validator_check(validator: Any) -> Callable[[Any], bool]:
    """The validator as a yes/no test on the loaded value (never raising)."""
    if isinstance(validator, Bound):  # the bounds every request field gets (web/bounds.py)
        return validator.ok
    if isinstance(validator, validate.Length):
        if validator.equal is not None:
            equal = validator.equal
            return lambda value: len(value) == equal
        low = validator.min if validator.min is not None else 0
        high = validator.max if validator.max is not None else float("inf")
        return lambda value: low <= len(value) <= high
    if isinstance(validator, validate.Range):
        low, high = validator.min, validator.max
        low_in, high_in = validator.min_inclusive, validator.max_inclusive
        return lambda value: (
            (low is None or (value >= low if low_in else value > low))
            and (high is None or (value <= high if high_in else value < high))
        )
    if isinstance(validator, validate.OneOf):
        choices = list(validator.choices)
        return lambda value: value in choices
    raise TypeError(f"quick_load does not know the validator {validator!r}")


def _text(value: Any) -> str:
    if type(value) is not str:
        raise _Unsure
    return value


def _integer(value: Any) -> int:
    if type(value) is not int:
        raise _Unsure
    return value


def _boolean(value: Any) -> bool:
    if type(value) is not bool:
        raise _Unsure
    return value


def _uuid(value: Any) -> uuid.UUID:
    if type(value) is not str:
        raise _Unsure
    try:
        return uuid.UUID(value)
    except ValueError:
        raise _Unsure from None


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


def _decimal(field: ma.fields.Decimal) -> Reader:
    if field.allow_nan or field.as_string:
        raise TypeError(f"quick_load does not read {field!r}")
    quantum, rounding = field.places, field.rounding

    def read(value: Any) -> Decimal:
        if type(value) not in (str, int, float):
            raise _Unsure
        try:
            number = Decimal(str(value))
            if not number.is_finite():
                raise _Unsure
            return number if quantum is None else number.quantize(quantum, rounding=rounding)
        except InvalidOperation:
            raise _Unsure from None

    return read


def _enum(field: ma.fields.Enum) -> Reader:
    if not field.by_value:
        raise TypeError(f"quick_load does not read {field!r}")
    members = {member.value: member for member in field.enum}

    def read(value: Any) -> Any:
        if type(value) is not str or value not in members:
            raise _Unsure
        return members[value]

    return read


def _dict(field: ma.fields.Dict) -> Reader:
    keys, values = field.key_field, field.value_field
    if _plain_text(keys) and type(values) is ma.fields.Boolean and not values.validators:
        # Checklists, the common case: inline, the keys' one bound (a length) included.
        longest = min(validator.max for validator in keys.validators)
        return lambda value: _text_to_boolean(value, longest)
    read_key, read_value = _reader(keys), _reader(values)

    def read(value: Any) -> dict[Any, Any]:
        if type(value) is not dict:
            raise _Unsure
        return {read_key(key): read_value(item) for key, item in value.items()}

    return read


def _plain_text(field: Any) -> bool:
    """A text field whose only checks are maximum lengths."""
    return (
        type(field) is ma.fields.String
        and all(
            type(v) in (validate.Length, DefaultLength) and v.min is None and v.equal is None
            for v in field.validators
        )
        and any(v.max is not None for v in field.validators)
    )


def _text_to_boolean(value: Any, longest: int) -> dict[str, bool]:
    if type(value) is not dict:
        raise _Unsure
    for key, item in value.items():
        if type(key) is not str or type(item) is not bool or len(key) > longest:
            raise _Unsure
    return dict(value)


def _list(field: ma.fields.List) -> Reader:
    read_item = _reader(field.inner)

    def read(value: Any) -> list[Any]:
        if type(value) is not list:
            raise _Unsure
        return [read_item(item) for item in value]

    return read


def _buyer(field: ma.fields.Nested) -> Reader:
    if not isinstance(field.schema, BuyerSchema):
        raise TypeError(f"quick_load does not read {field!r}")
    readers = _readers(field.schema)

    def read(value: Any) -> dict[str, Any]:
        # BuyerSchema wants exactly one of its fields given (truthy); this takes the
        # stricter case of exactly one field at all.
        if type(value) is not dict or len(value) != 1:
            raise _Unsure
        ((name, given),) = value.items()
        reader = readers.get(name)
        if reader is None or not given:
            raise _Unsure
        return {name: reader(given)}

    return read


def _reader(field: ma.fields.Field) -> Reader:
    """A quick reader for one marshmallow field, with its validators."""
    # Subclasses first: a UUID field is a String, an AwareDateTime a DateTime.
    if isinstance(field, ma.fields.UUID):
        read = _uuid
    elif isinstance(field, ma.fields.AwareDateTime) and field.default_timezone is None:
        read = _instant
    elif isinstance(field, ma.fields.String):
        read = _text
    elif isinstance(field, ma.fields.Enum):
        read = _enum(field)
    elif isinstance(field, ma.fields.Decimal):
        read = _decimal(field)
    elif isinstance(field, ma.fields.Integer):
        read = _integer
    elif isinstance(field, ma.fields.Boolean):
        read = _boolean
    elif isinstance(field, ma.fields.Dict):
        read = _dict(field)
    elif isinstance(field, ma.fields.List):
        read = _list(field)
    elif isinstance(field, ma.fields.Nested):
        read = _buyer(field)
    else:
        raise TypeError(f"quick_load does not read {field!r}")
    return _checked(read, [_validator_check(v) for v in field.validators])


def _readers(schema: ma.Schema) -> dict[str, Reader]:
    return {name: _reader(field) for name, field in schema.fields.items()}


FIELDS: dict[str, Reader] = _readers(ScanCreateSchema())
_REQUIRED = [name for name, field in ScanCreateSchema().fields.items() if field.required]


def quick_load(item: Any) -> dict[str, Any] | None:
    """What ``ScanCreateSchema().load(item)`` returns, or None to ask the schema instead."""
    if type(item) is not dict:
        return None
    try:
        loaded = {name: FIELDS[name](value) for name, value in item.items()}
    except (_Unsure, KeyError):
        return None
    if any(name not in loaded for name in _REQUIRED):
        return None
    # ScanCreateSchema's own rules (its _shape hook).
    if bool(loaded.get("code")) == bool(loaded.get("qr")):
        return None
    if any(loaded.get(name) is None for name in REQUIRED_BY_KIND.get(loaded["kind"], ())):
        return None
    return loaded
