"""A quick reader for a request schema: the schema's own answer, faster, for plain items.

The schema (``scans.schemas.ScanCreateSchema``) is the definition of a scan item and the
only place errors are worded. Loading 500 items through marshmallow took longer than
judging and storing them, so the batch view calls ``FastReader.load`` explicitly: it
returns exactly what the schema returns for the items it fully understands (plain JSON
types, every value within the schema's limits) and hands anything else to the schema
itself, which then loads or refuses it with its own errors. The quick part never rejects.

The readers are built from the schema's own fields, validators and whole-item rules, so a
limit lives in one place; a field, validator or hook they do not know stops the reader
being built instead of being skipped. tests/fastpath/test_scan_reader.py holds the reader's
answers and errors to the schema's on generated items (see README.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol, runtime_checkable

import marshmallow as ma
from marshmallow import validate

Reader = Callable[[Any], Any]
# A schema's whole-item rule, as the schema's validator applies it: what it refuses of the
# loaded item (anything truthy: the schema raises; empty or None: it accepts).
WholeItemRule = Callable[[dict[str, Any]], Any]
# Pre-load hooks the readers make redundant by reading plain JSON types only: the request
# schemas' refusal of a fraction in an Integer field (web/bounds.py, InputSchema), which
# the integer reader's ``type(value) is int`` covers.
COVERED_PRE_LOAD = frozenset({"_whole_numbers"})


@runtime_checkable
class AnswersWithoutRaising(Protocol):
    """A validator that also answers yes or no without raising (the request bounds added
    by web/bounds.py): its ``ok`` is the check the reader runs."""

    def ok(self, value: Any) -> bool: ...


class Unsure(Exception):
    """The quick reader cannot vouch for this value: the schema judges the item."""


def _checked(read: Reader, checks: list[Callable[[Any], bool]]) -> Reader:
    if not checks:
        return read
    if len(checks) == 1:
        (check,) = checks

        def checked_once(value: Any) -> Any:
            result = read(value)
            if not check(result):
                raise Unsure
            return result

        return checked_once

    def checked(value: Any) -> Any:
        result = read(value)
        for check in checks:
            if not check(result):
                raise Unsure
        return result

    return checked


def _validator_check(validator: Any) -> Callable[[Any], bool]:
    """The validator as a yes/no test on the loaded value (never raising)."""
    if isinstance(validator, AnswersWithoutRaising):
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
    raise TypeError(f"the fast reader does not know the validator {validator!r}")


def _text(value: Any) -> str:
    if type(value) is not str:
        raise Unsure
    return value


def _integer(value: Any) -> int:
    if type(value) is not int:
        raise Unsure
    return value


def _boolean(value: Any) -> bool:
    if type(value) is not bool:
        raise Unsure
    return value


def _uuid(value: Any) -> uuid.UUID:
    if type(value) is not str:
        raise Unsure
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Unsure from None


def _instant(value: Any) -> datetime:
    if type(value) is not str:
        raise Unsure
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Unsure from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise Unsure
    return parsed


def _decimal(field: ma.fields.Decimal) -> Reader:
    if field.allow_nan or field.as_string:
        raise TypeError(f"the fast reader does not read {field!r}")
    quantum, rounding = field.places, field.rounding

    def read(value: Any) -> Decimal:
        if type(value) not in (str, int, float):
            raise Unsure
        try:
            number = Decimal(str(value))
            if not number.is_finite():
                raise Unsure
            return number if quantum is None else number.quantize(quantum, rounding=rounding)
        except InvalidOperation:
            raise Unsure from None

    return read


def _enum(field: ma.fields.Enum) -> Reader:
    if not field.by_value:
        raise TypeError(f"the fast reader does not read {field!r}")
    members = {member.value: member for member in field.enum}

    def read(value: Any) -> Any:
        if type(value) is not str or value not in members:
            raise Unsure
        return members[value]

    return read


def _plain_text(field: Any) -> bool:
    """A text field whose only checks are maximum lengths."""
    return (
        type(field) is ma.fields.String
        and all(
            isinstance(v, validate.Length) and v.min is None and v.equal is None
            for v in field.validators
        )
        and any(v.max is not None for v in field.validators)
    )


def _text_to_boolean(value: Any, longest: int) -> dict[str, bool]:
    if type(value) is not dict:
        raise Unsure
    for key, item in value.items():
        if type(key) is not str or type(item) is not bool or len(key) > longest:
            raise Unsure
    return dict(value)


class _Builder:
    """Builds the readers of one schema and the schemas nested in it."""

    def __init__(self, rules: Mapping[type[ma.Schema], WholeItemRule]) -> None:
        self.rules = rules

    def schema(self, schema: ma.Schema) -> Reader:
        """A reader of a whole item: its fields, required ones, then the schema's rules."""
        hooks = getattr(type(schema), "_hooks", {})
        unknown = [name for name, *_ in hooks.get("pre_load", []) if name not in COVERED_PRE_LOAD]
        other = [key for key, found in hooks.items() if found and key not in _KNOWN_HOOKS]
        if unknown or other:
            raise TypeError(f"the fast reader does not know the hooks {unknown + other}")
        rule: WholeItemRule | None = None
        if hooks.get("validates_schema"):
            rule = next((r for cls, r in self.rules.items() if isinstance(schema, cls)), None)
            if rule is None:
                raise TypeError(f"give the fast reader {type(schema).__name__}'s whole-item rule")
        for name, field in schema.fields.items():
            if field.data_key not in (None, name):
                raise TypeError(f"the fast reader does not read {name} as {field.data_key}")
        fields = {name: self.field(field) for name, field in schema.fields.items()}
        required = [name for name, field in schema.fields.items() if field.required]

        def read(item: Any) -> dict[str, Any]:
            if type(item) is not dict:
                raise Unsure
            try:
                loaded = {name: fields[name](value) for name, value in item.items()}
            except KeyError:  # a field the schema does not have: its error to word
                raise Unsure from None
            for name in required:
                if name not in loaded:
                    raise Unsure
            if rule is not None and rule(loaded):
                raise Unsure
            return loaded

        read.fields = fields  # type: ignore[attr-defined]
        return read

    def field(self, field: ma.fields.Field) -> Reader:
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
            read = self._dict(field)
        elif isinstance(field, ma.fields.List):
            read = self._list(field)
        elif isinstance(field, ma.fields.Nested) and not field.many:
            read = self.schema(field.schema)
        else:
            raise TypeError(f"the fast reader does not read {field!r}")
        return _checked(read, [_validator_check(v) for v in field.validators])

    def _dict(self, field: ma.fields.Dict) -> Reader:
        keys, values = field.key_field, field.value_field
        if keys is None or values is None:
            raise TypeError(f"the fast reader does not read {field!r}")
        if _plain_text(keys) and type(values) is ma.fields.Boolean and not values.validators:
            # Checklists, the common case: inline, the keys' one bound (a length) included.
            longest = min(validator.max for validator in keys.validators)
            return lambda value: _text_to_boolean(value, longest)
        read_key, read_value = self.field(keys), self.field(values)

        def read(value: Any) -> dict[Any, Any]:
            if type(value) is not dict:
                raise Unsure
            return {read_key(key): read_value(item) for key, item in value.items()}

        return read

    def _list(self, field: ma.fields.List) -> Reader:
        read_item = self.field(field.inner)

        def read(value: Any) -> list[Any]:
            if type(value) is not list:
                raise Unsure
            return [read_item(item) for item in value]

        return read


_KNOWN_HOOKS = frozenset({"pre_load", "validates_schema", "post_dump", "pre_dump"})


class FastReader:
    """``schema.load`` for one item, answered without marshmallow when it can be.

    ``rules`` gives, for the schema and each schema nested in it that has a
    ``validates_schema`` hook, the same rule as a function of the loaded item (the schema's
    validator calls that very function, so the rule is written once).
    """

    def __init__(
        self, schema: ma.Schema, *, rules: Mapping[type[ma.Schema], WholeItemRule]
    ) -> None:
        self.schema = schema
        self._read = _Builder(rules).schema(schema)
        self.fields: dict[str, Reader] = self._read.fields  # type: ignore[attr-defined]

    def quick(self, item: Any) -> dict[str, Any] | None:
        """What ``schema.load(item)`` returns, or None when only the schema can say."""
        try:
            return self._read(item)
        except Unsure:
            return None

    def load(self, item: Any) -> dict[str, Any]:
        """Exactly ``schema.load(item)``: its value, or its ``ValidationError``."""
        try:
            return self._read(item)
        except Unsure:
            return self.schema.load(item)
