"""The same answers whatever the process's (or the database session's) time zone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.catering.helpers import URL, catering_user, checked, cst, utc
from tests.conftest import REPO
from tests.world import World


def _run_probe(tz_name: str) -> dict[str, Any]:
    env = dict(os.environ, TZ=tz_name, PYTHONPATH=str(REPO))
    env.pop("TEST_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "tests.catering.tz_probe"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def probes() -> dict[str, dict[str, Any]]:
    return {tz: _run_probe(tz) for tz in ("UTC", "America/New_York", "Asia/Shanghai")}


def test_the_process_zone_really_differed(probes: dict[str, dict[str, Any]]) -> None:
    hours = {tz: probe["process_utc_offset_at_epoch"] for tz, probe in probes.items()}
    assert hours == {"UTC": 0, "America/New_York": 19, "Asia/Shanghai": 8}


@pytest.mark.parametrize("tz_name", ["UTC", "America/New_York"])
def test_same_answers_under_another_process_zone(
    probes: dict[str, dict[str, Any]], tz_name: str
) -> None:
    china = probes["Asia/Shanghai"]
    other = probes[tz_name]
    assert other["weeks"] == china["weeks"]
    for instant, mine, theirs in zip(range(4), other["answers"], china["answers"], strict=True):
        for part in ("rows", "summary", "csv"):
            assert mine[part] == theirs[part], (tz_name, instant, part)


def test_the_probe_answers_are_the_china_time_ones(probes: dict[str, dict[str, Any]]) -> None:
    probe = probes["UTC"]
    # Sun 23:30 China; 02-26; 02-10; 2026-12-24; the nobody-home visit "now" on 12-24.
    assert probe["weeks"] == ["2026-W09", "2026-W09", "2026-W07", "2026-W52", "2026-W52"]

    def states(index: int) -> list[tuple[str, int | None]]:
        rows = sorted(probe["answers"][index]["rows"], key=lambda row: row["name"])
        return [(row["status"], row["missed_periods"]) for row in rows]

    # Sunday 23:45 in China (15:45 UTC, 10:45 in New York): still W09.
    assert states(0) == [
        ("checked_this_period", 0),
        ("checked_this_period", 0),
        ("overdue", 1),
        ("checked_this_period", 0),  # its December check is "from the future" here
    ]
    # Monday 00:05 in China: W10 has begun although it is Sunday in UTC.
    assert states(1)[:3] == [("due", 0), ("due", 0), ("overdue", 2)]
    assert states(2)[:3] == [("overdue", 1), ("overdue", 1), ("overdue", 3)]
    # 2027-W02: the check of 2026-W52 missed 2026-W53 and 2027-W01.
    assert states(3)[3] == ("overdue", 2)
    assert probe["answers"][1]["summary"]["week"] == "2026-W10"
    assert probe["answers"][3]["summary"]["week"] == "2027-W02"


def test_same_answers_in_process_and_in_the_database_session_zone(
    client: FlaskClient,
    world: World,
    db_session: Session,
    backend: str,
    now: Callable[[datetime], None],
    set_process_tz: Callable[[str], None],
) -> None:
    """On the database under test (PostgreSQL too): the process zone and the database
    session's zone change nothing."""
    now(cst(2026, 3, 2, 0, 5))
    users = [catering_user(client, world)["id"] for _ in range(3)]
    checked(client, world, users[0], utc(2026, 3, 1, 15, 30))  # Sunday 23:30 China
    checked(client, world, users[1], utc(2026, 3, 1, 16, 0))  # Monday 00:00 China
    checked(client, world, users[2], cst(2026, 2, 22, 23, 59), metal_hose="fail")

    def answers() -> list[Any]:
        headers = world.auth("dazu_reviewer")
        return [
            client.get(f"{URL}?page_size=100", headers=headers).get_json(),
            client.get(f"{URL}/summary", headers=headers).get_json(),
            client.get(f"{URL}/export.csv", headers=headers).get_data(as_text=True),
        ]

    results = {}
    for zone in ("UTC", "America/New_York", "Asia/Shanghai"):
        set_process_tz(zone)
        if backend == "postgresql":
            db_session.execute(text(f"SET TIME ZONE '{zone}'"))
        results[zone] = answers()
    assert results["UTC"] == results["America/New_York"] == results["Asia/Shanghai"]
    states = {row["id"]: (row["status"], row["missed_periods"]) for row in results["UTC"][0]}
    assert states == {
        users[0]: ("due", 0),
        users[1]: ("checked_this_period", 0),
        users[2]: ("overdue", 1),
    }
