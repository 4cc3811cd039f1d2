"""/C/<token>: the page a label's QR opens, for anyone, without personal data."""

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
from tests.customers.helpers import BRIEF_ID, person
from tests.pages.helpers import text
from tests.world import World

CODE = "CQDZ-700001"
PRE_OK = {"appearance": True, "valve": True, "residual_liquid": True, "marking": True}
FORGED = "标签不是本系统签发"


@pytest.fixture
def signer(app: Flask) -> LabelSigner:
    return signer_for(app.config["CT_SETTINGS"])


def path_of(signer: LabelSigner, code: str) -> str:
    """The path part of the label's QR URL, as the phone's browser requests it."""
    payload = signer.sign(code)
    assert payload.startswith("HTTP://127.0.0.1:5000/C/")
    return payload[len("HTTP://127.0.0.1:5000") :]


def scan(kind: str, minutes_ago: int, **fields: Any) -> dict[str, Any]:
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=minutes_ago)
    return {
        "event_id": str(uuid.uuid4()),
        "kind": kind,
        "code": CODE,
        "occurred_at": at.isoformat(),
        **fields,
    }


def post(client: FlaskClient, world: World, body: dict[str, Any], who: str) -> None:
    response = client.post("/api/v1/scans", json=body, headers=world.auth(who))
    assert response.status_code == 201, response.get_json()


def test_a_genuine_cylinder(
    client: FlaskClient, world: World, make_cylinder: Any, signer: LabelSigner
) -> None:
    make_cylinder(CODE, manufactured_on=date(2024, 3, 15))
    response = client.get(path_of(signer, CODE))
    assert response.status_code == 200
    page = text(response)
    for expected in (CODE, "YSP35.5", "14.5 kg", "大足燃气", "大足燃气充装站", "2028-03-15"):
        assert expected in page
    assert "在检验有效期内" in page
    assert 'data-testid="public-ok"' in page
    assert 'data-testid="public-warnings"' not in page
    assert "暂无充装记录" in page
    assert response.headers["Cache-Control"] == "no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]


def test_last_fill_and_no_personal_data(
    client: FlaskClient, world: World, make_cylinder: Any, signer: LabelSigner
) -> None:
    make_cylinder(CODE)
    customer = client.post("/api/v1/customers", json=person(), headers=world.auth("a_admin"))
    customer_id = customer.get_json()["id"]
    post(
        client,
        world,
        scan("fill", 50, gross_kg="30.80", pre_fill_check=PRE_OK, operator="刘强"),
        "a_operator",
    )
    post(client, world, scan("dispatch", 40, vehicle_plate="渝A12345"), "a_operator")
    post(client, world, scan("store", 30, site_id=world.orgs["a_supply"].id), "a_courier")
    post(client, world, scan("deliver", 20, buyer={"customer_id": customer_id}), "a_courier")
    page = text(client.get(path_of(signer, CODE)))
    assert "14.40 kg" in page  # 30.80 gross - 16.40 tare
    assert "最近充装" in page
    for secret in (
        "张三",  # the customer
        BRIEF_ID,
        "110105********002X",
        "13812345678",
        "石刻路",
        "刘强",  # the operator typed on the fill
        "a_operator",  # staff names
        "a_courier",
        "渝A12345",
    ):
        assert secret not in page, secret


def test_overdue_inspection(
    client: FlaskClient, world: World, make_cylinder: Any, signer: LabelSigner
) -> None:
    make_cylinder(CODE, manufactured_on=date.today() - timedelta(days=5 * 365))
    response = client.get(path_of(signer, CODE))
    assert response.status_code == 200
    page = text(response)
    assert 'data-warning="warn_inspection_overdue"' in page
    assert "已超过定期检验日期" in page
    assert "已超过检验日期" in page
    english = text(client.get(path_of(signer, CODE) + "?lang=en"))
    assert "Periodic inspection overdue" in english
    assert "Periodic inspection overdue" in text(client.get(path_of(signer, CODE)))  # remembered


def test_stopped_scrapped_and_past_scrap_date(
    client: FlaskClient,
    world: World,
    make_cylinder: Any,
    signer: LabelSigner,
    db_session: Session,
    scrap: Any,
) -> None:
    stopped = make_cylinder("CQDZ-700002")
    stopped.stopped = True
    scrapped = make_cylinder("CQDZ-700003")
    scrap(scrapped, reason="检验不合格")
    old = make_cylinder("CQDZ-700004")
    old.scrap_date = date.today() - timedelta(days=1)  # time has passed since registration
    db_session.flush()
    for code, warning, words in (
        ("CQDZ-700002", "warn_stopped", "已停用"),
        ("CQDZ-700003", "warn_scrapped", "已报废"),
        ("CQDZ-700004", "warn_past_scrap_date", "已超过报废日期"),
    ):
        response = client.get(path_of(signer, code))
        assert response.status_code == 200, code
        page = text(response)
        assert f'data-warning="{warning}"' in page, code
        assert words in page, code
        assert 'data-testid="public-ok"' not in page


def test_a_forged_label(
    client: FlaskClient, world: World, make_cylinder: Any, signer: LabelSigner
) -> None:
    make_cylinder(CODE)
    genuine = path_of(signer, CODE)
    last = genuine[-1]
    tampered = genuine[:-1] + ("A" if last != "A" else "B")
    other_key = LabelSigner(signer.base_url, {"1": b"k" * 32}, "1")
    for path in (
        tampered,
        path_of(other_key, CODE),  # signed with a key we do not hold
        path_of(signer, "CQDZ-799999"),  # our signature, a code never registered
        "/C/CQDZ-700001",  # no signature at all
        "/C/not-a-token",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        page = text(response)
        assert FORGED in page, path
        assert 'data-testid="forged"' in page
        assert "YSP35.5" not in page and "大足燃气" not in page
    assert "Label not genuine" in text(client.get(tampered + "?lang=en"))


def test_the_page_follows_a_configured_label_path(migrated_url: str, tmp_path: Any) -> None:
    from cylinder_trace import create_app
    from tests.conftest import TEST_SECRET

    app = create_app(
        {
            "DATABASE_URL": migrated_url,
            "CT_ENV": "testing",
            "SECRET_KEY": TEST_SECRET,
            "CT_INSTANCE_PATH": str(tmp_path),
            "CT_LABEL_BASE_URL": "HTTPS://TRACE.EXAMPLE.CN/trace/C/",
        }
    )
    try:
        response = app.test_client().get("/trace/C/CQDZ-000001.1AAAAAAAAAAAA")
        assert response.status_code == 404
        assert FORGED in text(response)
    finally:
        app.extensions["cylinder_trace.db"].dispose()
