"""Whether a PostgreSQL server is set up for a province's data, or runs with its defaults.

PostgreSQL's defaults suit a laptop: 128 MB of shared buffers, 4 MB of sort memory per
operation, a checkpoint every 1 GB of WAL, autovacuum waiting for a fifth of a table to
change. At 10 million scans that means sorts spilling to disk, full-page images in the WAL
after every frequent checkpoint, and vacuum visiting the scans table once in months. Each
``Advice`` says what a parameter should be at least (or at most) and why; docs/postgresql.md
explains the values. The thresholds are data, not code: a deployment can read the table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, text

_UNITS = {"B": 1, "kB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}
_TIME_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1, "min": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class Advice:
    """What one server parameter should be for this service at scale."""

    name: str
    # "min": the value should be at least ``value``; "max": at most; "equal": exactly.
    bound: str
    value: float | str
    why: str
    # How ``value`` reads: "bytes" and "seconds" in people's units, "" as a plain number.
    unit: str = ""


MiB = 1024**2
GiB = 1024**3

ADVICE: tuple[Advice, ...] = (
    Advice(
        "shared_buffers",
        "min",
        1 * GiB,
        "the hot indexes of scans and cylinders stay "
        "in memory; about a quarter of the server's RAM",
        "bytes",
    ),
    Advice(
        "effective_cache_size",
        "min",
        8 * GiB,
        "tells the planner the OS caches the indexes too: about three quarters of RAM",
        "bytes",
    ),
    Advice(
        "work_mem",
        "min",
        16 * MiB,
        "sorts and hashes of the lists and exports stay in "
        "memory (4 MB spills the review list's sort to disk)",
        "bytes",
    ),
    Advice(
        "maintenance_work_mem",
        "min",
        512 * MiB,
        "index builds and vacuum of the scans table in one pass",
        "bytes",
    ),
    Advice(
        "max_wal_size",
        "min",
        4 * GiB,
        "fewer checkpoints, so fewer full-page images in the WAL of every scan",
        "bytes",
    ),
    Advice(
        "checkpoint_timeout",
        "min",
        15 * 60,
        "the same: a checkpoint every 15 minutes rather than every 5",
        "seconds",
    ),
    Advice("checkpoint_completion_target", "min", 0.9, "spread each checkpoint's writes"),
    Advice(
        "wal_compression",
        "equal",
        "on",
        "full-page images compressed: half the WAL (values lz4 or pglz count as on)",
    ),
    Advice(
        "random_page_cost",
        "max",
        1.5,
        "on SSDs an index read costs little more than a "
        "sequential one (the default 4 assumes spinning disks)",
    ),
    Advice(
        "autovacuum",
        "equal",
        "on",
        "vacuum keeps the visibility map that lets counts and lists read only the index",
    ),
    Advice(
        "autovacuum_vacuum_scale_factor",
        "max",
        0.05,
        "vacuum a large table after 5% of "
        "it changed, not 20%: the cylinders table changes with every scan",
    ),
    Advice(
        "autovacuum_analyze_scale_factor",
        "max",
        0.02,
        "fresh statistics for the planner as the scans table grows",
    ),
    Advice(
        "autovacuum_vacuum_cost_limit",
        "min",
        1000,
        "let vacuum keep up with millions "
        "of cylinder updates a day (-1 means vacuum_cost_limit's, by default 200)",
    ),
)


@dataclass(frozen=True, slots=True)
class Finding:
    name: str
    current: str
    advice: Advice
    ok: bool

    def __str__(self) -> str:
        mark = "ok  " if self.ok else "WARN"
        return (
            f"{mark} {self.name} = {self.current} (want {_wanted(self.advice)}): {self.advice.why}"
        )


def _wanted(advice: Advice) -> str:
    value = advice.value
    if isinstance(value, str):
        return value
    shown = _human(value, advice.unit)
    return {"min": f">= {shown}", "max": f"<= {shown}", "equal": shown}[advice.bound]


def _human(value: float, unit: str) -> str:
    if unit == "bytes":
        return f"{value / GiB:g} GB" if value >= GiB else f"{value / MiB:g} MB"
    if unit == "seconds":
        return f"{value / 60:g} min" if value >= 60 else f"{value:g} s"
    return f"{value:g}"


def parameter_value(setting: str, unit: str | None, vartype: str) -> float | str:
    """A pg_settings row as a number in bytes or seconds (or as text for other kinds)."""
    if vartype not in ("integer", "real"):
        return setting
    number = float(setting)
    if not unit:
        return number
    match = re.fullmatch(r"(\d*)\s*(\w+)", unit)
    if match is None:
        return number
    factor = float(match.group(1) or 1)
    name = match.group(2)
    if name in _UNITS:
        return number * factor * _UNITS[name]
    if name in _TIME_UNITS:
        return number * factor * _TIME_UNITS[name]
    return number


def assess(parameters: Mapping[str, tuple[float | str, str]]) -> list[Finding]:
    """Hold ``parameters`` (name: (value in bytes/seconds or text, as the server shows it))
    to ``ADVICE``; a parameter the server does not have is skipped."""
    findings = []
    for advice in ADVICE:
        if advice.name not in parameters:
            continue
        value, shown = parameters[advice.name]
        findings.append(Finding(advice.name, shown, advice, _meets(advice, value)))
    return findings


def _meets(advice: Advice, value: float | str) -> bool:
    if isinstance(advice.value, str):
        text = str(value).lower()
        if advice.name == "wal_compression":
            return text not in ("off", "false", "0")
        return text == advice.value
    if isinstance(value, str):
        return False
    if advice.bound == "min":
        return value >= advice.value
    if advice.bound == "max":
        return value <= advice.value
    return value == advice.value


def read_parameters(connection: Connection) -> dict[str, tuple[float | str, str]]:
    """The server's values of the advised parameters: (value, as the server shows it)."""
    names = [advice.name for advice in ADVICE] + ["vacuum_cost_limit"]
    rows = connection.execute(
        text(
            "SELECT name, setting, unit, vartype, current_setting(name) FROM pg_settings "
            "WHERE name = ANY(:names)"
        ),
        {"names": names},
    )
    found = {
        name: (parameter_value(setting, unit, vartype), shown)
        for name, setting, unit, vartype, shown in rows
    }
    limit = found.get("autovacuum_vacuum_cost_limit")
    if limit is not None and limit[0] == -1 and "vacuum_cost_limit" in found:
        value, shown = found["vacuum_cost_limit"]
        found["autovacuum_vacuum_cost_limit"] = (value, f"-1 (vacuum_cost_limit: {shown})")
    return found


# Storage options the migrations set, which a restored dump or a hand-made schema may lack.
TABLE_OPTIONS = {"cylinders": ("fillfactor", 85), "scan_chains": ("fillfactor", 85)}


def table_findings(connection: Connection) -> list[str]:
    """Tables whose storage options differ from what the migrations set."""
    problems = []
    for table, (option, wanted) in TABLE_OPTIONS.items():
        options = connection.execute(
            text("SELECT reloptions FROM pg_class WHERE relname = :table AND relkind IN ('r','p')"),
            {"table": table},
        ).scalar()
        values = dict(item.split("=", 1) for item in options or [])
        if values.get(option) != str(wanted):
            problems.append(
                f"WARN table {table}: {option} is {values.get(option, 'the default')}, "
                f"want {wanted} (room in each page for HOT updates; migration 0013)"
            )
    return problems
