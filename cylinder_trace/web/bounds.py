"""The bounds of every request field, given once by its type rather than field by field.

Request schemas derive from ``InputSchema`` (``Blueprint.arguments`` refuses others). As a
schema is built, each of its fields, and the items of its lists and dicts, gets the bounds
of its type unless it declares tighter ones:

- text: at most ``MAX_TEXT`` characters; a field that must hold something (a Length with
  ``min`` of 1 or more) refuses whitespace only, as it refuses "" (unless marked
  ``metadata={"blank_checked_by": ...}``: a service answers it with its own code);
- whole numbers: within the range of the column type that stores them (``Integer``: 32
  bits; a field marked ``metadata={"column": BigInteger}``: 64), and a JSON number with a
  fraction is refused, never truncated (``premises_floor: 1.5`` is not floor 1);
- decimals declare their places and a Range with both ends: their column's precision and
  scale, through ``numeric_range`` (a field without them stops the schema being built);
- lists and dicts of declared items: at most ``MAX_ITEMS`` entries (unless marked
  ``metadata={"max_items_checked_by": ...}``: a batch's view counts and answers itself);
- dates and instants: from the settings' ``earliest_date``; an instant no further ahead
  of the clock than ``max_days_ahead`` (it says when something happened), a date or a
  field marked ``metadata={"future": True}`` no further than ``max_years_ahead``.

MAX_TEXT and MAX_ITEMS appear in the OpenAPI document (maxLength, maxItems), so they are
part of the contract rather than settings. NUL characters and unpaired surrogates never
reach a schema: the edge refuses them for every request (``web/edge.py``).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from datetime import time as midnight
from typing import Any

import marshmallow as ma
from flask import has_app_context
from marshmallow import validate
from sqlalchemy import Integer

from cylinder_trace.columns import integer_range, numeric_limit
from cylinder_trace.config import InputLimits
from cylinder_trace.web.current import settings

MAX_TEXT = 1000
MAX_ITEMS = 100


def numeric_range(column: Any, **kwargs: Any) -> validate.Range:
    """The Range a ``Numeric(precision, scale)`` column holds (a column or its type), with
    ``Range``'s own arguments (``min=0, min_inclusive=False``) narrowing it."""
    largest = numeric_limit(column)
    kwargs.setdefault("min", -largest)
    kwargs.setdefault("max", largest)
    return validate.Range(**kwargs)


_DEFAULT_LIMITS = InputLimits()


def input_limits() -> InputLimits:
    """The app's limits (the defaults outside an app, as in unit tests of a schema)."""
    if has_app_context():
        return settings().input_limits
    return _DEFAULT_LIMITS


def clock() -> float:
    """The present, as a POSIX time, that the windows are counted from (tests move it)."""
    return time.time()


class Bound:
    """A validator this module added: ``ok`` answers without raising (``fastpath/scan_reader.py``
    reads it), and its presence says the field is bounded already."""

    def ok(self, value: Any) -> bool:
        raise NotImplementedError


class DefaultLength(validate.Length, Bound):
    def ok(self, value: Any) -> bool:
        return len(value) <= self.max  # type: ignore[operator]


class ColumnRange(validate.Range, Bound):
    def ok(self, value: Any) -> bool:
        return self.min <= value <= self.max  # type: ignore[operator]


class NotBlank(validate.Validator, Bound):
    """Text that must hold something is not whitespace alone."""

    error = "Must not be blank."

    def ok(self, value: Any) -> bool:
        return not value.isspace()

    def __call__(self, value: Any) -> Any:
        if value.isspace():
            raise ma.ValidationError(self.error)
        return value


def _span(limits: InputLimits, far_ahead: bool) -> tuple[float, float]:
    """The window's first instant (a POSIX time) and how far past now it ends (seconds)."""
    earliest = datetime.combine(limits.earliest_date, midnight(), tzinfo=UTC).timestamp()
    days = 366 * limits.max_years_ahead if far_ahead else limits.max_days_ahead
    return earliest, days * 86400.0


class Plausible(validate.Validator, Bound):
    """A date or an instant inside the settings' window (see the module's docstring)."""

    def __init__(self, *, far_ahead: bool) -> None:
        self.far_ahead = far_ahead
        self._span: tuple[Any, float, float] = (None, 0.0, 0.0)  # (limits, earliest, ahead)

    def _window(self) -> tuple[InputLimits, float, float]:
        limits = input_limits()
        cached = self._span
        if cached[0] is not limits:  # once per app: every scan of a batch reads it
            cached = (limits, *_span(limits, self.far_ahead))
            self._span = cached
        return cached

    def ok(self, value: Any) -> bool:
        limits, earliest, ahead = self._window()
        if isinstance(value, datetime):
            # POSIX times compare fastest, and exist where the UTC value does not
            # (9999-12-31T23:59:59-12:00 is in year 10000 in UTC).
            aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
            return earliest <= aware.timestamp() <= clock() + ahead
        return limits.earliest_date <= value <= self._latest(ahead).date()

    @staticmethod
    def _latest(ahead: float) -> datetime:
        return datetime.fromtimestamp(clock() + ahead, UTC)

    def __call__(self, value: Any) -> Any:
        if not self.ok(value):
            limits, _, ahead = self._window()
            latest = self._latest(ahead)
            if isinstance(value, datetime):
                span = f"{limits.earliest_date.isoformat()}T00:00:00Z and "
                span += latest.isoformat(timespec="seconds").replace("+00:00", "Z")
            else:
                span = f"{limits.earliest_date.isoformat()} and {latest.date().isoformat()}"
            raise ma.ValidationError(f"Must lie between {span}.")
        return value


def _declared(field: ma.fields.Field, kind: type) -> list[Any]:
    return [validator for validator in field.validators if isinstance(validator, kind)]


def _bound_text(field: ma.fields.String) -> None:
    lengths = _declared(field, validate.Length)
    bounded = any(length.max is not None or length.equal is not None for length in lengths)
    if not bounded and not _declared(field, validate.OneOf):
        field.validators.append(DefaultLength(max=MAX_TEXT))
    if field.metadata.get("blank_checked_by"):
        return  # the service refuses it, with its own code
    if any((length.min or 0) >= 1 or (length.equal or 0) >= 1 for length in lengths):
        field.validators.append(NotBlank())


def _bound_items(field: ma.fields.Field) -> None:
    if field.metadata.get("max_items_checked_by"):
        return  # the view counts them, and answers with its own code
    lengths = _declared(field, validate.Length)
    if not any(length.max is not None or length.equal is not None for length in lengths):
        field.validators.append(DefaultLength(max=MAX_ITEMS))


def bound(field: ma.fields.Field, where: str) -> None:
    """Give ``field`` (a schema's own copy) the bounds of its type; ``where`` names it."""
    if _declared(field, Bound):
        return
    if isinstance(field, ma.fields.List):
        bound(field.inner, f"{where}[]")
        _bound_items(field)
    elif isinstance(field, ma.fields.Tuple):
        for position, item in enumerate(field.tuple_fields):
            bound(item, f"{where}[{position}]")
    elif isinstance(field, ma.fields.Mapping):
        if field.key_field is None and field.value_field is None:
            return  # any JSON object: what reads it next bounds it (a batch's items)
        for inner in (field.key_field, field.value_field):
            if inner is not None:
                bound(inner, f"{where}{{}}")
        _bound_items(field)
    elif isinstance(field, ma.fields.Nested):
        nested = field.nested
        if isinstance(nested, type) and not issubclass(nested, InputSchema):
            raise TypeError(f"{where}: a nested request schema derives from InputSchema")
    elif isinstance(field, ma.fields.UUID):
        return
    elif isinstance(field, ma.fields.String):
        _bound_text(field)
    elif isinstance(field, ma.fields.Integer):
        low, high = integer_range(field.metadata.get("column", Integer))
        field.validators.append(ColumnRange(min=low, max=high))
    elif isinstance(field, ma.fields.Decimal | ma.fields.Float):
        ranges = _declared(field, validate.Range)
        whole = any(r.min is not None for r in ranges) and any(r.max is not None for r in ranges)
        places = isinstance(field, ma.fields.Float) or field.places is not None
        if not (whole and places):
            raise TypeError(
                f"{where}: a number in a request declares its places and a Range with both "
                "ends, its column's (bounds.numeric_range)"
            )
    elif isinstance(field, ma.fields.Date):
        field.validators.append(Plausible(far_ahead=True))
    elif isinstance(field, ma.fields.DateTime):
        field.validators.append(Plausible(far_ahead=bool(field.metadata.get("future"))))


def bound_schema(schema: ma.Schema) -> ma.Schema:
    """Bound the fields of a schema built elsewhere (flask-smorest's pagination)."""
    for name, field in schema.fields.items():
        bound(field, f"{type(schema).__name__}.{name}")
    return schema


class InputSchema(ma.Schema):
    """A request's schema: every field gets the bounds of its type (module docstring)."""

    def on_bind_field(self, field_name: str, field_obj: ma.fields.Field) -> None:
        bound(field_obj, f"{type(self).__name__}.{field_name}")

    @ma.pre_load
    def _whole_numbers(self, data: Any, **_: Any) -> Any:
        # Integer fields truncate 1.5 to 1; a fraction is refused here instead.
        if isinstance(data, dict):
            for name, field in self.load_fields.items():
                value = data.get(field.data_key or name)
                if (
                    type(value) is float
                    and isinstance(field, ma.fields.Integer)
                    and not value.is_integer()
                ):
                    raise ma.ValidationError("Not a whole number.", field.data_key or name)
        return data
