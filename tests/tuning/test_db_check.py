"""``cylinder-trace db check``: the server's parameters held to what a province needs."""

from __future__ import annotations

import pytest
from flask import Flask

from cylinder_trace.tuning.advice import ADVICE, GiB, MiB, assess, parameter_value

# What PostgreSQL 15 ships with, as pg_settings gives it (setting, unit, vartype, shown).
DEFAULTS = {
    "shared_buffers": ("16384", "8kB", "integer", "128MB"),
    "effective_cache_size": ("524288", "8kB", "integer", "4GB"),
    "work_mem": ("4096", "kB", "integer", "4MB"),
    "maintenance_work_mem": ("65536", "kB", "integer", "64MB"),
    "max_wal_size": ("1024", "MB", "integer", "1GB"),
    "checkpoint_timeout": ("300", "s", "integer", "5min"),
    "checkpoint_completion_target": ("0.9", None, "real", "0.9"),
    "wal_compression": ("off", None, "enum", "off"),
    "random_page_cost": ("4", None, "real", "4"),
    "autovacuum": ("on", None, "bool", "on"),
    "autovacuum_vacuum_scale_factor": ("0.2", None, "real", "0.2"),
    "autovacuum_analyze_scale_factor": ("0.1", None, "real", "0.1"),
    "autovacuum_vacuum_cost_limit": ("200", None, "integer", "200"),
}
TUNED = {
    "shared_buffers": ("524288", "8kB", "integer", "4GB"),
    "effective_cache_size": ("1572864", "8kB", "integer", "12GB"),
    "work_mem": ("32768", "kB", "integer", "32MB"),
    "maintenance_work_mem": ("1048576", "kB", "integer", "1GB"),
    "max_wal_size": ("8192", "MB", "integer", "8GB"),
    "checkpoint_timeout": ("900", "s", "integer", "15min"),
    "checkpoint_completion_target": ("0.9", None, "real", "0.9"),
    "wal_compression": ("lz4", None, "enum", "lz4"),
    "random_page_cost": ("1.1", None, "real", "1.1"),
    "autovacuum": ("on", None, "bool", "on"),
    "autovacuum_vacuum_scale_factor": ("0.02", None, "real", "0.02"),
    "autovacuum_analyze_scale_factor": ("0.01", None, "real", "0.01"),
    "autovacuum_vacuum_cost_limit": ("2000", None, "integer", "2000"),
}


def _parameters(rows: dict) -> dict:
    return {
        name: (parameter_value(setting, unit, kind), shown)
        for name, (setting, unit, kind, shown) in rows.items()
    }


def test_values_are_read_in_bytes_and_seconds() -> None:
    assert parameter_value("16384", "8kB", "integer") == 128 * MiB
    assert parameter_value("1024", "MB", "integer") == GiB
    assert parameter_value("300", "s", "integer") == 300
    assert parameter_value("200", "ms", "integer") == 0.2
    assert parameter_value("0.2", None, "real") == 0.2
    assert parameter_value("lz4", None, "enum") == "lz4"


def test_the_defaults_are_warned_and_a_tuned_server_is_not() -> None:
    defaults = {f.name: f.ok for f in assess(_parameters(DEFAULTS))}
    assert set(defaults) == {advice.name for advice in ADVICE}
    # The two defaults that already suit: a spread checkpoint, and autovacuum on.
    assert {name for name, ok in defaults.items() if ok} == {
        "checkpoint_completion_target",
        "autovacuum",
    }
    tuned = assess(_parameters(TUNED))
    assert all(finding.ok for finding in tuned), [str(f) for f in tuned if not f.ok]


@pytest.mark.parametrize(
    ("name", "row"),
    [
        ("autovacuum", ("off", None, "bool", "off")),
        ("wal_compression", ("off", None, "enum", "off")),
        ("random_page_cost", ("2", None, "real", "2")),
        ("work_mem", ("8192", "kB", "integer", "8MB")),
    ],
)
def test_one_parameter_off_its_advice_is_the_one_warned(name: str, row: tuple) -> None:
    findings = assess(_parameters({**TUNED, name: row}))
    assert [f.name for f in findings if not f.ok] == [name]
    assert str(next(f for f in findings if f.name == name)).startswith("WARN")


def test_a_parameter_the_server_lacks_is_skipped() -> None:
    rows = dict(TUNED)
    del rows["wal_compression"]
    assert "wal_compression" not in {f.name for f in assess(_parameters(rows))}


def test_the_command_reports_the_server_it_runs_on(app: Flask, backend: str) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output
    strict = runner.invoke(args=["db", "check", "--strict"])
    if backend == "sqlite":
        assert "WARN the database is sqlite" in result.output
        assert strict.exit_code == 1
        return
    lines = result.output.splitlines()
    assert lines[0].startswith("PostgreSQL ")
    named = {line.split()[1] for line in lines if line.startswith(("ok", "WARN")) and "=" in line}
    assert named == {advice.name for advice in ADVICE}
    warned = any(line.startswith("WARN") for line in lines)
    assert strict.exit_code == (1 if warned else 0)
    # The migrations leave room for HOT updates of cylinder rows and chain heads.
    assert not any(line.startswith("WARN table") for line in lines)
