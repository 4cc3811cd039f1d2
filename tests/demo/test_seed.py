"""`cylinder-trace demo seed` on an empty database: a world with something to look at.

The seed runs through the CLI inside the rolled-back test transaction (``db_session``),
which starts empty: the same way the existing token test in tests/health/test_docs_health_cli.py
does it.
"""

from __future__ import annotations

import os
import re
import stat
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cylinder_trace.catering.models import CateringCheck, CateringHazard
from cylinder_trace.customers.models import Customer
from cylinder_trace.cylinders.models import Cylinder
from cylinder_trace.cylinders.scanned_labels import signer_for
from cylinder_trace.db import utcnow
from cylinder_trace.scans.chain import verify_chains
from cylinder_trace.scans.models import Scan
from cylinder_trace.users.models import User
from tests.pages.helpers import sign_in, text

STATION = "大足龙水液化气充装站"
_ROLE_LINE = re.compile(r"^  (\w+)\s+(\S+) ")
_PASSWORD_LINE = re.compile(r"^  ([a-z.]+): (\S+)$")
_URL = re.compile(r"(https?://\S+)", re.IGNORECASE)


@dataclass
class Seeded:
    output: str
    tokens: dict[str, str] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)
    overdue_url: str = ""

    def auth(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[username]}"}


def _parse(output: str) -> Seeded:
    seeded = Seeded(output)
    lines = output.splitlines()
    for line, following in zip(lines, [*lines[1:], ""], strict=True):
        role = _ROLE_LINE.match(line)
        if role and following.strip().startswith("ct_"):
            seeded.tokens[role.group(2)] = following.strip()
        password = _PASSWORD_LINE.match(line)
        if password:
            seeded.passwords[password.group(1)] = password.group(2)
        if "Public page" in line:
            seeded.overdue_url = _URL.search(line).group(1)  # type: ignore[union-attr]
    return seeded


@pytest.fixture
def seeded(app: Flask, db_session: Session) -> Seeded:
    assert db_session.scalar(select(func.count()).select_from(User)) == 0, "needs an empty db"
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--if-empty"])
    assert result.exit_code == 0, result.output
    return _parse(result.output)


def _label_path(app: Flask, code: str) -> str:
    return urlsplit(signer_for(app.config["CT_SETTINGS"]).sign(code)).path


def _count(session: Session, model: type, *where: object) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_seed_makes_cylinders_scans_customers_and_chains_that_verify(
    app: Flask, db_session: Session, seeded: Seeded
) -> None:
    cylinders = {c.code: c for c in db_session.scalars(select(Cylinder))}
    assert sorted(cylinders) == [f"CQDZ-{n:06d}" for n in range(1, 11)]
    assert Counter(c.model for c in cylinders.values()) == {"YSP35.5": 9, "YSP118": 1}
    states = {code: cylinder.state for code, cylinder in cylinders.items()}
    assert [states[f"CQDZ-{n:06d}"] for n in range(1, 11)] == [
        *["with_customer"] * 2,
        *["full_at_station"] * 3,
        *["registered"] * 2,
        "full_at_station",  # the YSP118
        "registered",  # inspection overdue: its fill was refused
        "scrapped",
    ]
    overdue = cylinders["CQDZ-000009"]
    today = utcnow().astimezone(app.config["CT_SETTINGS"].time_zone).date()
    assert overdue.next_inspection_due < today < overdue.scrap_date
    assert overdue.last_inspected_on < today - timedelta(days=4 * 365)

    scans = list(db_session.scalars(select(Scan).order_by(Scan.id)))
    assert Counter((s.kind, s.result) for s in scans) == {
        ("register", "accepted"): 10,
        ("fill", "accepted"): 6,
        ("fill", "rejected"): 1,
        ("dispatch", "accepted"): 2,
        ("deliver", "accepted"): 2,
        ("scrap", "accepted"): 1,  # every change of a cylinder is a scan
    }
    users = {u.username: u for u in db_session.scalars(select(User))}
    filler, courier = users["dz.filler"], users["dz.courier"]
    # Registered at the station by its operator, as POST /cylinders by that operator would.
    assert {(s.actor_user_id, s.site_id) for s in scans if s.kind == "register"} == {
        (filler.id, filler.organisation_id)
    }
    assert {s.actor_user_id for s in scans if s.kind == "fill"} == {filler.id}
    assert {(s.actor_user_id, s.device_id is not None) for s in scans if s.kind == "deliver"} == {
        (courier.id, True)
    }
    assert all(s.occurred_at <= utcnow().replace(tzinfo=s.occurred_at.tzinfo) for s in scans)
    assert verify_chains(db_session) == (22, [])
    verified = app.test_cli_runner().invoke(args=["scans", "verify-chains"])
    assert (
        verified.exit_code == 0
        and "22 records checked against no checkpoint, 10 cylinders replayed, 0 problems"
        in verified.output
    )

    assert _count(db_session, Customer) == 5
    assert _count(db_session, Customer, Customer.is_catering.is_(True)) == 4
    assert _count(db_session, CateringCheck) == 3
    assert _count(db_session, CateringHazard, CateringHazard.closed_at.is_(None)) == 1
    assert "10 cylinders (CQDZ-000001..CQDZ-000010" in seeded.output
    assert "4 catering users" in seeded.output


def test_tokens_and_passwords_are_printed_and_saved_for_the_owner_only(
    app: Flask, seeded: Seeded
) -> None:
    assert (
        set(seeded.tokens)
        == set(seeded.passwords)
        == {
            "admin",
            "dz.admin",
            "dz.filler",
            "dz.courier",
            "dz.bureau",
            "cq.regulator",
        }
    )
    assert len(set(seeded.passwords.values())) == 6
    saved = Path(app.instance_path) / "demo-tokens.txt"
    assert stat.S_IMODE(os.stat(saved).st_mode) == 0o600
    content = saved.read_text("utf-8")
    for username, password in seeded.passwords.items():
        assert f"  {username}: {password}\n" in content
    again = app.test_cli_runner().invoke(args=["demo", "seed", "--if-empty"])
    assert again.exit_code == 0
    assert "already present" in again.output
    assert f"dz.filler: {seeded.passwords['dz.filler']}" in again.output


def test_demo_users_sign_in_with_the_printed_password(
    app: Flask, client: FlaskClient, seeded: Seeded
) -> None:
    wrong = sign_in(client, "dz.filler", seeded.passwords["dz.admin"])
    assert wrong.status_code == 200  # the form again, with its error
    response = sign_in(client, "dz.filler", seeded.passwords["dz.filler"])
    assert response.status_code == 302, text(response)
    assert response.headers["Location"] == "/station"
    assert client.get("/station").status_code == 200
    bureau = app.test_client()  # a second browser
    response = sign_in(bureau, "dz.bureau", seeded.passwords["dz.bureau"])
    assert response.headers["Location"] == "/bureau"
    page = text(bureau.get("/bureau"))
    for name in ("石刻老火锅", "邮亭鲫鱼馆", "龙水豆花饭庄", "宝顶素食馆"):
        assert name in page


def test_public_pages_show_the_overdue_warning_and_the_filling_station(
    app: Flask, client: FlaskClient, seeded: Seeded
) -> None:
    overdue = client.get(urlsplit(seeded.overdue_url).path)
    assert overdue.status_code == 200
    assert 'data-warning="warn_inspection_overdue"' in text(overdue)
    assert "CQDZ-000009" in text(overdue)

    filled = text(client.get(_label_path(app, "CQDZ-000003")))
    assert 'data-testid="public-ok"' in filled
    assert STATION in filled
    assert "14.30 kg" in filled  # 16.50 tare, 30.80 gross

    scrapped = text(client.get(_label_path(app, "CQDZ-000010")))
    assert 'data-warning="warn_scrapped"' in scrapped


def test_bureau_sees_each_catering_status_and_the_open_hazard(
    client: FlaskClient, seeded: Seeded
) -> None:
    response = client.get("/api/v1/catering-users", headers=seeded.auth("dz.bureau"))
    assert response.status_code == 200, response.get_json()
    rows = {row["name"]: row for row in response.get_json()}
    assert {name: row["status"] for name, row in rows.items()} == {
        "石刻老火锅": "checked_this_period",
        "邮亭鲫鱼馆": "due",
        "龙水豆花饭庄": "overdue",
        "宝顶素食馆": "never_checked",
    }
    assert {name: row["open_hazards"] for name, row in rows.items()} == {
        "石刻老火锅": 0,
        "邮亭鲫鱼馆": 1,
        "龙水豆花饭庄": 0,
        "宝顶素食馆": 0,
    }
    assert rows["邮亭鲫鱼馆"]["past_deadline_hazards"] == 0
    assert rows["邮亭鲫鱼馆"]["leak_alarm_working"] is False
    assert all(row["credit_code"].startswith("92500111") for row in rows.values())
    summary = client.get("/api/v1/catering-users/summary", headers=seeded.auth("dz.bureau"))
    total = summary.get_json()["total"]
    assert (total["catering_users"], total["checked_this_period"], total["open_hazards"]) == (
        4,
        1,
        1,
    )
    assert (total["due"], total["overdue"], total["never_checked"]) == (1, 1, 1)
