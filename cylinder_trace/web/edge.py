"""The edge: what every request must be before a view, a schema or a page reads it.

One hook runs before every request, API and pages alike:

- bodies are bounded: any body by ``max_request_bytes``, a JSON body by ``max_json_bytes``,
  each form field by ``max_form_field_bytes`` (413 ``payload_too_large``);
- an endpoint that reads a JSON body is sent JSON (415 ``unsupported_media_type``):
  otherwise webargs would find no body and the request would succeed doing nothing;
- a JSON body is parsed once, strictly (no NaN or Infinity), and no deeper than
  ``max_json_depth`` (400 ``json_too_deep``, never a RecursionError); webargs reads that
  parse (``EdgeParser``);
- no NUL character and no unpaired surrogate anywhere: path, query, headers, form fields,
  file names, JSON strings and keys (422 ``invalid_text``). PostgreSQL cannot store a NUL
  and no encoder writes a lone surrogate, so either would surface as a 500 much later.

Integers in paths are bounded by their converters (``int``: 32 bits, ``bigint``: 64), so a
number no column can hold names no record (404). What fields hold is ``web/bounds.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, NoReturn

import orjson
from flask import Flask, current_app, g, request
from flask_smorest import abort
from sqlalchemy import BigInteger, Integer
from webargs import core
from webargs.flaskparser import FlaskParser
from werkzeug.routing import IntegerConverter, Map, ValidationError

from cylinder_trace.columns import integer_range, storable_text
from cylinder_trace.config import SETTINGS_CONFIG_KEY, InputLimits
from cylinder_trace.web.bounds import InputSchema, bound_schema
from cylinder_trace.web.current import settings

_FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")
_NOT_PARSED = object()
_JSON_BODY = "edge_json_body"
# Longest detail echoed back: a key path names where, it need not repeat a hostile key.
_POINTER_MAX = 200


class InvalidJson(ValueError):
    """The text is not JSON (the caller chooses the answer: 400, or a form field's 422)."""


def refuse(status: int, code: str, message: str, details: dict[str, Any] | None = None) -> NoReturn:
    abort(status, code=code, message=message, details=details or {})


def _invalid_text(location: str, where: str | None = None) -> NoReturn:
    details = {"location": location}
    if where is not None:
        details["field"] = where[:_POINTER_MAX]
    refuse(
        422,
        "invalid_text",
        "Text may not contain NUL characters, unpaired surrogates or bytes that are not UTF-8.",
        details,
    )


# --- JSON ---------------------------------------------------------------------------------


def _no_constant(name: str) -> NoReturn:
    raise InvalidJson(f"{name} is not JSON")


def load_json(data: bytes | str, *, max_depth: int, location: str = "json") -> Any:
    """Parse JSON text strictly and check it all (see the module docstring).

    Raises InvalidJson for text that is not JSON, and answers 400/422 itself for what is
    JSON but not allowed.
    """
    try:
        # orjson parses a batch of scans in a quarter of json's time; what it refuses (NaN,
        # a lone surrogate, a BOM, invalid UTF-8, depth past 1,024) json judges below.
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        value = _load_carefully(data, max_depth, location)
    # Without an escape (\u) no string can hold a NUL or a surrogate; without more brackets
    # than the depth allowed, nothing can be too deep: then there is nothing to walk.
    if isinstance(data, bytes):
        escaped, brackets = b"\\u" in data, data.count(b"[") + data.count(b"{")
    else:
        escaped, brackets = "\\u" in data, data.count("[") + data.count("{")
    if escaped or brackets > max_depth:
        _walk(value, max_depth, check_text=escaped, location=location)
    return value


def _load_carefully(data: bytes | str, max_depth: int, location: str) -> Any:
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")  # strict: UTF-8 has no encoded surrogates
        except UnicodeDecodeError:
            _invalid_text(location)
    else:
        text = data
    if not storable_text(text):  # a raw NUL is not JSON, but gets the escaped one's answer
        _invalid_text(location)
    text = text.removeprefix("\ufeff")  # a byte-order mark, as some Windows tools write
    try:
        return json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        _too_deep(max_depth)
    except ValueError as exc:  # JSONDecodeError, an integer of over 4,300 digits
        raise InvalidJson(str(exc)) from None


def _too_deep(max_depth: int) -> NoReturn:
    refuse(
        400,
        "json_too_deep",
        f"The JSON body nests arrays and objects more than {max_depth} deep.",
        {"max_depth": max_depth},
    )


def _walk(root: Any, max_depth: int, *, check_text: bool, location: str) -> None:
    if type(root) is str:
        if check_text and not storable_text(root):
            _invalid_text(location, "")
        return
    if type(root) not in (dict, list):
        return
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            _too_deep(max_depth)
        if type(node) is dict:
            if check_text and not all(map(storable_text, node)):
                _invalid_text(location, _pointer(root))
            values = node.values()
        else:
            values = node
        for item in values:
            kind = type(item)
            if kind is dict or kind is list:
                stack.append((item, depth + 1))
            elif check_text and kind is str and not storable_text(item):
                _invalid_text(location, _pointer(root))


def _pointer(root: Any) -> str:
    """Where the first bad text is, as a JSON pointer (found again, slowly: errors only)."""
    for path, text in _strings(root, ()):
        if not storable_text(text):
            return "/" + "/".join(str(part) for part in path)
    return ""


def _strings(node: Any, path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], str]]:
    stack = [(node, path)]
    while stack:
        node, path = stack.pop()
        if type(node) is dict:
            for key, item in node.items():
                yield path, key
                stack.append((item, (*path, key)))
        elif type(node) is list:
            stack.extend((item, (*path, index)) for index, item in enumerate(node))
        elif type(node) is str:
            yield path, node


class EdgeParser(FlaskParser):
    """webargs' parser reading the body the edge parsed, and bounding foreign schemas."""

    def _raw_load_json(self, req: Any) -> Any:
        body = g.get(_JSON_BODY, _NOT_PARSED)
        if body is not _NOT_PARSED:
            return body
        return super()._raw_load_json(req)  # an empty body: webargs' own answer

    def _get_schema(self, argmap: Any, req: Any) -> Any:
        schema = super()._get_schema(argmap, req)
        if not isinstance(schema, InputSchema):
            bound_schema(schema)  # flask-smorest's pagination: page and page_size
        return schema


# --- the hook -----------------------------------------------------------------------------


def _limits() -> InputLimits:
    return settings().input_limits


def _reads_json(app: Flask, endpoint: str | None, method: str) -> bool:
    """Whether the endpoint's method takes a JSON body (a flask-smorest ``arguments``)."""
    cache: dict[tuple[str | None, str], bool] = app.extensions.setdefault(
        "cylinder_trace.reads_json", {}
    )
    key = (endpoint, method)
    if key not in cache:
        view = app.view_functions.get(endpoint) if endpoint else None
        view_class = getattr(view, "view_class", None)
        handler = getattr(view_class, method.lower(), None) if view_class else view
        parameters = getattr(handler, "_apidoc", {}).get("arguments", {}).get("parameters", [])
        cache[key] = any(parameter.get("in") == "json" for parameter in parameters)
    return cache[key]


def _has_body() -> bool:
    return bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "")


def _check_media_type(app: Flask) -> None:
    if core.is_json(request.mimetype) or not _reads_json(app, request.endpoint, request.method):
        return
    if request.mimetype or _has_body():
        refuse(
            415,
            "unsupported_media_type",
            "This endpoint reads a JSON body: send it as application/json.",
            {"content_type": request.mimetype[:_POINTER_MAX]},
        )


def _check_texts() -> None:
    if not storable_text(request.path):
        _invalid_text("path")
    for key, value in request.args.items(multi=True):
        if not (storable_text(key) and storable_text(value)):
            _invalid_text("query", key if storable_text(key) else None)
    for name, value in request.headers.items():
        if "\x00" in value:
            _invalid_text("header", name)
    if request.mimetype in _FORMS:
        for key, value in request.form.items(multi=True):
            if not (storable_text(key) and storable_text(value)):
                _invalid_text("form", key if storable_text(key) else None)
        for key, upload in request.files.items(multi=True):
            if not (storable_text(key) and storable_text(upload.filename or "")):
                _invalid_text("files", key if storable_text(key) else None)


def _parse_json_body(limits: InputLimits) -> None:
    if not core.is_json(request.mimetype):
        return
    if (request.content_length or 0) > limits.max_json_bytes:
        refuse(
            413,
            "payload_too_large",
            f"A JSON body may hold at most {limits.max_json_bytes} bytes.",
            {"max_bytes": limits.max_json_bytes},
        )
    request.max_content_length = limits.max_json_bytes  # a body sent in chunks, too
    data = request.get_data(cache=True)
    if not data:
        return
    try:
        setattr(g, _JSON_BODY, load_json(data, max_depth=limits.max_json_depth))
    except InvalidJson as exc:
        refuse(400, "bad_request", f"The body is not valid JSON: {exc}"[:_POINTER_MAX])


def _check_request() -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    limits = _limits()
    _check_media_type(app)
    _check_texts()
    _parse_json_body(limits)


# --- path converters ----------------------------------------------------------------------


class _ColumnIntConverter(IntegerConverter):
    """Werkzeug's ``int`` bounded by a column type's range; a longer number never matches
    (Python refuses to read one of over 4,300 digits: that was a 500)."""

    column: Any = None

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        low, high = integer_range(self.column)
        kwargs.setdefault("max", high)
        super().__init__(map, *args, **kwargs)
        self.digits = len(str(high))
        if kwargs.get("signed"):
            self.min = low if self.min is None else max(self.min, low)

    def to_python(self, value: str) -> Any:
        if len(value.lstrip("-")) > self.digits:
            raise ValidationError()
        return super().to_python(value)


class IntConverter(_ColumnIntConverter):
    """``<int:...>``: ids of Integer columns (32 bits)."""

    column = Integer


class BigIntConverter(_ColumnIntConverter):
    """``<bigint:...>``: ids of BigInteger columns (64 bits), such as scans'."""

    column = BigInteger


def install(app: Flask) -> None:
    """Bound the app's requests; call before any route is registered (the converters)."""
    limits: InputLimits = app.config[SETTINGS_CONFIG_KEY].input_limits
    app.config["MAX_CONTENT_LENGTH"] = limits.max_request_bytes
    app.config["MAX_FORM_MEMORY_SIZE"] = limits.max_form_field_bytes
    app.url_map.converters["int"] = IntConverter
    app.url_map.converters["bigint"] = BigIntConverter
    app.before_request(_check_request)
