"""Run the catering API in this process's time zone (``TZ``) and print what it answers.

``python -m tests.catering.tz_probe`` builds a SQLite database with the migrations, records
visits around a week boundary and a year boundary, then prints, as one JSON line, the
list, the summary and the CSV export at several instants. test_timezones runs it under
different ``TZ`` values: the output must not change.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from alembic import command

from cylinder_trace import create_app
from cylinder_trace.catering import status
from cylinder_trace.db import get_database
from cylinder_trace.web import bounds
from tests.catering.helpers import URL, catering_user, checked, cst, utc
from tests.conftest import TEST_SECRET, alembic_config
from tests.world import build_world

INSTANTS = [
    cst(2026, 3, 1, 23, 45),  # Sunday night in China, Sunday afternoon in UTC and New York
    cst(2026, 3, 2, 0, 5),  # Monday in China (W10), still Sunday in UTC
    cst(2026, 3, 9, 7, 0),  # W11, Sunday evening in New York
    cst(2027, 1, 12, 10, 0),  # 2027-W02, across the year boundary
]


def probe(directory: Path) -> dict[str, Any]:
    url = f"sqlite:///{directory / 'probe.db'}"
    command.upgrade(alembic_config(url), "head")
    app = create_app(
        {
            "DATABASE_URL": url,
            "CT_ENV": "testing",
            "SECRET_KEY": TEST_SECRET,
            "CT_INSTANCE_PATH": str(directory),
            "CT_LOG_LEVEL": "WARNING",
        }
    )
    with app.app_context(), get_database().session_scope() as session:
        world = build_world(session)
    client = app.test_client()
    clock = {"now": INSTANTS[0]}
    status.clock = lambda: clock["now"]  # type: ignore[assignment]
    bounds.clock = lambda: clock["now"].timestamp()  # type: ignore[assignment]  # the window's present

    users = [catering_user(client, world, name=f"用户{n}")["id"] for n in range(4)]
    weeks = [
        checked(client, world, users[0], utc(2026, 3, 1, 15, 30))["week"],  # Sun 23:30 China
        checked(client, world, users[1], cst(2026, 2, 26, 9, 0), metal_hose="fail")["week"],
        checked(client, world, users[2], cst(2026, 2, 10, 9, 0))["week"],
    ]
    clock["now"] = cst(2026, 12, 24, 12, 0)
    weeks.append(checked(client, world, users[3], cst(2026, 12, 24, 10, 0))["week"])
    weeks.append(checked(client, world, users[3], outcome="nobody_home")["week"])

    headers = world.auth("dazu_reviewer")
    answers = []
    for instant in INSTANTS:
        clock["now"] = instant
        rows = client.get(f"{URL}?page_size=100", headers=headers).get_json()
        summary = client.get(f"{URL}/summary", headers=headers).get_json()
        export = client.get(f"{URL}/export.csv", headers=headers).get_data(as_text=True)
        answers.append({"rows": rows, "summary": summary, "csv": export})
    return {
        "process_utc_offset_at_epoch": time.localtime(0).tm_hour,
        "weeks": weeks,
        "answers": answers,
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        result = probe(Path(directory))
    print(json.dumps(result, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
