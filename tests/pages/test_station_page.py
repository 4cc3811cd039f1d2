"""/station: each scan checked for filling at once, and today's list."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from cylinder_trace.cylinders.scanned_labels import signer_for
from cylinder_trace.qr_labels.signing import LabelSigner
from tests.pages.helpers import login, text
from tests.world import World

GOOD = "CQDZ-600001"
OVERDUE = "CQDZ-600002"
PRE_OK = {"appearance": True, "valve": True, "residual_liquid": True, "marking": True}


@pytest.fixture
def signer(app: Flask) -> LabelSigner:
    return signer_for(app.config["CT_SETTINGS"])


@pytest.fixture
def operator(client: FlaskClient, db_session: Session, world: World, make_cylinder: Any) -> str:
    make_cylinder(GOOD)
    make_cylinder(OVERDUE, manufactured_on=date.today() - timedelta(days=5 * 365))
    make_cylinder("CQYB-600003", company="b")
    return login(client, db_session, world.users["a_operator"])


def check(client: FlaskClient, token: str, scanned: str) -> dict[str, Any]:
    response = client.post(
        "/station/check", json={"scan": scanned}, headers={"X-CSRF-Token": token}
    )
    assert response.status_code == 200, text(response)
    return response.get_json()


def test_a_good_cylinder_may_be_filled(
    client: FlaskClient, operator: str, signer: LabelSigner
) -> None:
    answer = check(client, operator, signer.sign(GOOD))
    assert answer["allowed"] is True
    assert answer["headline"] == "可以充装"
    assert answer["reasons"] == []
    assert answer["scanned"] == GOOD
    assert answer["cylinder"]["model"] == "YSP35.5"
    assert check(client, operator, GOOD.lower())["allowed"] is True  # a typed code


def test_an_overdue_cylinder_is_refused_with_the_reason(
    client: FlaskClient, operator: str, signer: LabelSigner
) -> None:
    answer = check(client, operator, signer.sign(OVERDUE))
    assert answer["allowed"] is False
    assert answer["headline"] == "禁止充装"
    assert answer["reasons"] == [{"code": "inspection_overdue", "text": "超过定期检验日期，请送检"}]
    english = client.post(
        "/station/check?lang=en", json={"scan": OVERDUE}, headers={"X-CSRF-Token": operator}
    ).get_json()
    assert english["headline"] == "Do not fill"
    assert "overdue" in english["reasons"][0]["text"]


@pytest.mark.parametrize(
    ("scanned", "code", "words"),
    [
        ("CQDZ-NOSUCH", "cylinder_unknown", "气瓶编码未登记"),
        ("CQYB-600003", "not_own_cylinder", "不是本企业的气瓶"),
        (
            "HTTP://127.0.0.1:5000/C/CQDZ-600001.1AAAAAAAAAAAA",
            "label_invalid",
            "标签不是本系统签发",
        ),
        ("https://example.com/anything", "label_invalid", "标签不是本系统签发"),
    ],
)
def test_refusals(client: FlaskClient, operator: str, scanned: str, code: str, words: str) -> None:
    answer = check(client, operator, scanned)
    assert answer["allowed"] is False
    assert answer["reasons"][0]["code"] == code
    assert answer["reasons"][0]["text"] == words


def test_full_width_scanner_input_is_folded(
    client: FlaskClient, operator: str, signer: LabelSigner
) -> None:
    payload = signer.sign(GOOD)
    full_width = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in payload)
    assert check(client, operator, f"  {full_width}\n")["allowed"] is True


def test_an_empty_scan_is_an_error(client: FlaskClient, operator: str) -> None:
    response = client.post(
        "/station/check", json={"scan": "  "}, headers={"X-CSRF-Token": operator}
    )
    assert response.status_code == 400


def test_todays_list_and_fills(
    client: FlaskClient, operator: str, world: World, signer: LabelSigner
) -> None:
    check(client, operator, GOOD)
    answer = check(client, operator, signer.sign(OVERDUE))
    assert answer["counts"] == "今日已检查 2 次：可以充装 1，禁止充装 1"
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    fill = {
        "event_id": str(uuid.uuid4()),
        "kind": "fill",
        "code": GOOD,
        "occurred_at": at.isoformat(),
        "gross_kg": "30.90",
        "pre_fill_check": PRE_OK,
    }
    assert (
        client.post("/api/v1/scans", json=fill, headers=world.auth("a_operator")).status_code == 201
    )
    refused = {**fill, "event_id": str(uuid.uuid4()), "code": OVERDUE}
    assert (
        client.post("/api/v1/scans", json=refused, headers=world.auth("a_operator")).status_code
        == 422
    )
    page = text(client.get("/station"))
    assert "今日已检查 2 次" in page
    assert page.count('<tr class="refused">') == 1 and page.count('<tr class="ok">') == 1
    fills = page.split('data-testid="fills"')[1]
    assert GOOD in fills and "14.50 kg" in fills
    assert OVERDUE in fills and "已拒绝" in fills


def test_a_plain_form_post_works_without_javascript(client: FlaskClient, operator: str) -> None:
    response = client.post("/station", data={"scan": OVERDUE, "csrf_token": operator})
    assert response.status_code == 200
    page = text(response)
    assert 'data-allowed="false"' in page
    assert "禁止充装" in page and "超过定期检验日期" in page
