"""Canonical JSON text, byte for byte what ``json.dumps`` writes, mostly from orjson.

Stored hashes cover such text (the record chain, a scan's content hash), so it must never
change; orjson writes the same bytes about four times faster, except in the cases below,
which go to ``json.dumps``. tests/fastpath/test_jsontext.py holds both callers to their
original definitions (README.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson

# Dates and dataclasses go to ``default``, as with json.dumps (orjson would write its own).
_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_SCALARS = frozenset({str, int, bool, type(None)})


def dumps_sorted(
    value: Any,
    *,
    ensure_ascii: bool,
    default: Callable[[Any], Any] | None = None,
    float_free: bool = False,
) -> bytes:
    """``json.dumps(value, sort_keys=True, separators=(",", ":"), ...)`` as UTF-8.

    json.dumps' own output where orjson's could differ: a float anywhere (``1e+16``
    against ``1e16``; ``float_free`` says the caller has checked there is none), an
    integer beyond 64 bits or a key that is not a string (orjson refuses them), and with
    ``ensure_ascii`` any non-ASCII character or DEL (json.dumps escapes them then).
    """
    if float_free or not holds_float(value):
        try:
            raw = orjson.dumps(value, default=default, option=_OPTIONS)
        except orjson.JSONEncodeError:
            pass
        else:
            if not ensure_ascii or (raw.isascii() and b"\x7f" not in raw):
                return raw
    text = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=ensure_ascii, default=default
    )
    return text.encode("utf-8")


def holds_float(value: Any) -> bool:
    """Whether a float is anywhere in this value (dicts, lists and tuples looked into)."""
    if type(value) in _SCALARS:
        return False
    if isinstance(value, dict):
        return any(map(holds_float, value.values()))
    if isinstance(value, list | tuple):
        return any(map(holds_float, value))
    return isinstance(value, float)
