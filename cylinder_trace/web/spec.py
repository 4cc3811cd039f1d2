"""What the OpenAPI document says beyond what apispec reads off the marshmallow fields.

apispec documents each field on its own. Four things the service does needed saying here,
once for every schema, so that the document and the answers agree:

- Decimals (masses, coordinates) travel as exact decimal strings ("16.40"): binary floats
  would turn 14.5 kg into 14.499999. They are documented as strings with a pattern.
- Rules across fields (exactly one of ``code`` and ``qr``, ...) live in ``validates_schema``
  hooks, which apispec cannot read; a schema states them for the document in
  ``Meta.openapi`` (JSON Schema keywords merged into its object), beside the hook. In
  OpenAPI 3.0 a branch that restates a property's type without ``nullable`` excludes null.
- ``X-Pagination`` is a JSON object inside a header, which OpenAPI 3 describes as a header
  with ``content``, not with an object ``schema`` (that would mean ``k,v,k,v`` text).
- A path parameter names a record, and a record you may not see or that does not exist is
  404: every operation with one documents it. A body can be malformed (400), too large
  (413) or not of the documented media type (415): every operation taking one says so.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from http import HTTPStatus
from typing import Any

import marshmallow as ma
from apispec.ext.marshmallow import MarshmallowPlugin, OpenAPIConverter, resolver
from apispec.ext.marshmallow.common import resolve_schema_cls
from flask_smorest.pagination import PaginationMetadataSchema


class PageMetadataSchema(PaginationMetadataSchema):
    total_exact = ma.fields.Boolean(
        metadata={
            "description": "False when the list is longer than the count limit: ``total`` "
            "is then a lower bound, and there is no last page number"
        }
    )
    next_cursor = ma.fields.String(
        metadata={"description": "Pass as ``after`` for the next page (lists paged by cursor)"}
    )


PAGINATION_HEADER = {
    "description": "Pagination metadata: a JSON object in the header's value, e.g. "
    '{"total": 42, "total_pages": 5, "first_page": 1, "last_page": 5, "page": 1, '
    '"next_page": 2}. Pages past the last one give only total and total_pages. Large lists '
    "(those taking ``after``) also say whether the total is exact and give the cursor of the "
    "next page, and stop counting at a limit.",
    "content": {"application/json": {"schema": PageMetadataSchema}},
}


class _Converter(OpenAPIConverter):
    def schema2jsonschema(self, schema: Any) -> dict[str, Any]:
        jsonschema = super().schema2jsonschema(schema)
        extra = getattr(getattr(schema, "Meta", None), "openapi", None)
        if extra:
            jsonschema.update(copy.deepcopy(extra))
        return jsonschema


class _Plugin(MarshmallowPlugin):
    Converter = _Converter

    def operation_helper(self, path: str | None = None, operations: Any = None, **kwargs: Any):  # type: ignore[no-untyped-def]
        super().operation_helper(path=path, operations=operations, **kwargs)
        for operation in (operations or {}).values():
            responses = operation.setdefault("responses", {})
            if path and "{" in path:
                responses.setdefault("404", HTTPStatus.NOT_FOUND.name)
            if "requestBody" in operation:
                for status in (400, 413, 415):
                    responses.setdefault(str(status), HTTPStatus(status).name)


def component_name(schema: Any) -> str:
    """apispec's name for a schema; a schema that only reads another one's definition a
    faster way (``Meta.definition``, e.g. ``scans.api.ScanBodyReadFast``) is documented as
    that one."""
    cls = resolve_schema_cls(schema)
    cls = cls[0] if isinstance(cls, list) else cls
    definition = getattr(getattr(cls, "Meta", None), "definition", None)
    return resolver(definition or cls)


def marshmallow_plugin() -> MarshmallowPlugin:
    return _Plugin(schema_name_resolver=component_name)


def _decimal_as_string(
    self: Any, field: ma.fields.Field, ret: dict[str, Any], **_: Any
) -> dict[str, Any]:
    if not isinstance(field, ma.fields.Decimal):
        return {}
    bounds = [v for v in field.validators if isinstance(v, ma.validate.Range)]
    low = next((v.min for v in bounds if v.min is not None), None)
    high = next((v.max for v in bounds if v.max is not None), None)
    # Bounded fields get a bounded number of integer digits, so a generated or typed
    # value is never absurdly long; the range itself is x-minimum / x-maximum.
    widest = max(abs(Decimal(end)) for end in (low or 0, high)) if high is not None else None
    digits = "+" if widest is None else f"{{1,{len(str(int(widest)))}}}"
    # marshmallow keeps ``places`` as the quantum, Decimal("0.01") for 2.
    places = "+" if field.places is None else f"{{1,{-field.places.as_tuple().exponent}}}"
    sign = "" if low is not None and Decimal(low) >= 0 else "-?"
    ret["pattern"] = rf"^{sign}[0-9]{digits}(\.[0-9]{places})?$"
    for key in ("x-minimum", "x-maximum"):
        if key in ret:
            ret[key] = str(ret[key])
    text = "An exact decimal, as a string (a request may send a JSON number)."
    described = ret.get("description", "").rstrip(". ")
    ret["description"] = f"{described}. {text}" if described else text
    return {}


def describe_fields(api: Any) -> None:
    """Register the field descriptions above with the Api's marshmallow plugin."""
    api.register_field(ma.fields.Decimal, "string", "decimal")
    api.ma_plugin.converter.add_attribute_function(_decimal_as_string)
