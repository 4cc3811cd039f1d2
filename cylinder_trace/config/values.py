"""Reading one value of the configuration: whole numbers, seconds and yes/no flags, or
ConfigError."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class ConfigError(RuntimeError):
    """A configuration the service must not start with."""


def whole_number(environ: Mapping[str, Any], name: str) -> int | None:
    """The whole number ``environ[name]``, None when unset; else ConfigError."""
    raw = environ.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def positive_int(source: Mapping[str, Any], name: str, default: int) -> int:
    """The whole number ``source[name]`` (1 or more), ``default`` when unset; else ConfigError."""
    value = whole_number(source, name)
    if value is None:
        return default
    if value < 1:
        raise ConfigError(f"{name} must be at least 1, got {value}")
    return value


def seconds(environ: Mapping[str, Any], name: str, default: float) -> float:
    """A number of seconds (0 or more, fractions allowed), ``default`` when unset."""
    raw = str(environ.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from exc
    if not value >= 0 or value == float("inf"):
        raise ConfigError(f"{name} must be 0 or more seconds, got {raw!r}")
    return value


def is_on(environ: Mapping[str, str], name: str) -> bool:
    """Whether ``environ[name]`` says yes (1/true/yes/on); anything else is no."""
    return environ.get(name, "").strip().lower() in _TRUE


def flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    """A yes/no setting that must be spelled as one: 1/true/yes/on or 0/false/no/off."""
    raw = (environ.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ConfigError(f"{name} must be 1/true/yes/on or 0/false/no/off, got {raw!r}")
