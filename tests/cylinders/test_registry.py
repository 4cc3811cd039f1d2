"""Registering, reading and listing cylinders; codes unique for good."""

from __future__ import annotations

from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cylinder_trace.cylinders.models import Cylinder
from cylinder_trace.cylinders.services import CylinderInput, register_cylinder
from cylinder_trace.domain.errors import DomainError
from cylinder_trace.domain.rules import RuleSettings
from tests.assertions import assert_error
from tests.cylinders.conftest import cylinder_json
from tests.world import World


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Cylinder))


def test_operator_registers_a_cylinder_of_their_station(client: FlaskClient, world: World) -> None:
    response = client.post(
        "/api/v1/cylinders", json=cylinder_json("cqdz-000001"), headers=world.auth("a_operator")
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["code"] == "CQDZ-000001"
    assert body["owner_company_id"] == world.orgs["a"].id
    assert body["filling_station_id"] == world.orgs["a_station"].id
    assert body["state"] == "registered"
    # 4-year inspection interval and 8-year design life from the default rules.
    assert body["next_inspection_due"] == "2028-03-15"
    assert body["scrap_date"] == "2032-03-15"
    assert body["label_payload"].endswith("/C/" + "CQDZ-000001." + body["label_payload"][-13:])
    got = client.get("/api/v1/cylinders/CQDZ-000001", headers=world.auth("a_courier"))
    assert got.get_json()["serial_no"] == "SN-cqdz-000001"


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"model": "YSP99"}, 422, "cylinder_model_unknown"),
        ({"tare_kg": "0"}, 422, "validation_error"),
        ({"tare_kg": "-3"}, 422, "validation_error"),
        ({"code": "AB1"}, 422, "validation_error"),
        ({"code": "CQ DZ 01"}, 422, "validation_error"),
        # Ahead, yet inside the plausible window (the window's edge: test_hostile_input).
        ({"manufactured_on": "2099-01-01"}, 422, "manufacture_date_in_future"),
        ({"manufactured_on": "2000-01-01"}, 422, "past_scrap_date"),
        ({"last_inspected_on": "2020-01-01"}, 422, "inspection_date_invalid"),
        ({"filling_station_id": "B_STATION"}, 422, "filling_station_invalid"),
    ],
)
def test_bad_cylinders_are_refused_and_nothing_is_stored(
    client: FlaskClient, world: World, db_session: Session, overrides: dict, status: int, code: str
) -> None:
    if overrides.get("filling_station_id") == "B_STATION":
        overrides = {"filling_station_id": world.orgs["b_station"].id}
    before = count(db_session)
    response = client.post(
        "/api/v1/cylinders", json=cylinder_json(**overrides), headers=world.auth("a_operator")
    )
    assert_error(response, status, code)
    assert count(db_session) == before


def test_company_admin_must_name_the_station(client: FlaskClient, world: World) -> None:
    response = client.post("/api/v1/cylinders", json=cylinder_json(), headers=world.auth("a_admin"))
    assert_error(response, 422, "filling_station_required")


def test_duplicate_code_is_refused(client: FlaskClient, world: World, make_cylinder) -> None:  # type: ignore[no-untyped-def]
    make_cylinder("CQDZ-000001")
    response = client.post(
        "/api/v1/cylinders",
        json=cylinder_json("CQDZ-000001", serial_no="OTHER"),
        headers=world.auth("a_operator"),
    )
    assert_error(response, 409, "cylinder_code_taken")


def test_duplicate_serial_is_refused(client: FlaskClient, world: World, make_cylinder) -> None:  # type: ignore[no-untyped-def]
    make_cylinder("CQDZ-000001", serial_no="S-77")
    response = client.post(
        "/api/v1/cylinders",
        json=cylinder_json("CQDZ-000002", serial_no="S-77"),
        headers=world.auth("a_operator"),
    )
    assert_error(response, 409, "cylinder_serial_taken")
    assert response.get_json()["details"]["code"] == "CQDZ-000001"


def test_same_serial_from_another_manufacturer_is_fine(
    client: FlaskClient, world: World, make_cylinder
) -> None:  # type: ignore[no-untyped-def]
    make_cylinder("CQDZ-000001", serial_no="S-77")
    response = client.post(
        "/api/v1/cylinders",
        json=cylinder_json("CQDZ-000002", serial_no="S-77", manufacturer="四川钢瓶厂"),
        headers=world.auth("a_operator"),
    )
    assert response.status_code == 201


def test_scrapped_code_is_never_registered_again(
    client: FlaskClient, world: World, make_cylinder, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    make_cylinder("CQDZ-000009")
    scrap = client.post(
        "/api/v1/cylinders/CQDZ-000009/scrap",
        json={"reason": "凹陷"},
        headers=world.auth("a_admin"),
    )
    assert scrap.status_code == 200
    assert scrap.get_json()["state"] == "scrapped"
    for who, company in (("a_operator", "a"), ("b_operator", "b")):
        response = client.post(
            "/api/v1/cylinders",
            json=cylinder_json("cqdz-000009", serial_no=f"NEW-{company}"),
            headers=world.auth(who),
        )
        assert_error(response, 409, "cylinder_code_revoked")
    assert count(db_session) == 1


def test_database_refuses_a_reused_code_even_past_the_service(
    make_cylinder, scrap, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import IntegrityError

    original = scrap(make_cylinder("CQDZ-000010"), reason="dented")
    nested = db_session.begin_nested()
    with pytest.raises(IntegrityError):
        db_session.execute(
            Cylinder.__table__.insert().values(
                {
                    c.name: getattr(original, c.key)
                    for c in Cylinder.__table__.columns
                    if c.name != "id"
                }
                | {"serial_no": "ELSE"}
            )
        )
    nested.rollback()


def test_scrap_date_boundary(world: World, db_session: Session, rules: RuleSettings) -> None:
    def register(code: str, manufactured: date, today: date) -> Cylinder:
        return register_cylinder(
            db_session,
            CylinderInput(
                code=code,
                model="YSP35.5",
                manufacturer="M",
                serial_no=code,
                manufactured_on=manufactured,
                tare_kg=16,
            ),
            owner=world.orgs["a"],
            station=world.orgs["a_station"],
            rules=rules,
            today=today,
        )

    # Made 2018-11-29: design life ends 2026-11-29, the last day it may be used.
    on_the_day = register("EDGE-000001", date(2018, 11, 29), today=date(2026, 11, 29))
    assert on_the_day.scrap_date == date(2026, 11, 29)
    with pytest.raises(DomainError) as refused:
        register("EDGE-000002", date(2018, 11, 28), today=date(2026, 11, 29))
    assert refused.value.code == "past_scrap_date"


def test_inspection_due_boundary_and_leap_day(
    world: World, db_session: Session, rules: RuleSettings
) -> None:
    cylinder = register_cylinder(
        db_session,
        CylinderInput(
            code="LEAP-000001",
            model="YSP12",
            manufacturer="M",
            serial_no="L1",
            manufactured_on=date(2020, 2, 29),
            tare_kg=6,
        ),
        owner=world.orgs["a"],
        station=world.orgs["a_station"],
        rules=rules,
        today=date(2024, 2, 29),
    )
    assert cylinder.next_inspection_due == date(2024, 2, 29)
    assert cylinder.scrap_date == date(2028, 2, 29)
    inspected = register_cylinder(
        db_session,
        CylinderInput(
            code="LEAP-000002",
            model="YSP12",
            manufacturer="M",
            serial_no="L2",
            manufactured_on=date(2019, 2, 28),
            tare_kg=6,
            last_inspected_on=date(2023, 2, 28),
        ),
        owner=world.orgs["a"],
        station=world.orgs["a_station"],
        rules=rules,
        today=date(2024, 1, 1),
    )
    assert inspected.next_inspection_due == date(2027, 2, 28)


def test_overrides_from_the_record_win(
    world: World, db_session: Session, rules: RuleSettings
) -> None:
    cylinder = register_cylinder(
        db_session,
        CylinderInput(
            code="OVR-000001",
            model="YSP35.5",
            manufacturer="M",
            serial_no="O1",
            manufactured_on=date(2024, 1, 1),
            tare_kg=16,
            inspection_due_override=date(2026, 6, 30),
            scrap_date_override=date(2030, 1, 1),
        ),
        owner=world.orgs["a"],
        station=world.orgs["a_station"],
        rules=rules,
        today=date(2025, 1, 1),
    )
    assert (cylinder.next_inspection_due, cylinder.scrap_date) == (
        date(2026, 6, 30),
        date(2030, 1, 1),
    )


def test_list_filters_and_scope(client: FlaskClient, world: World, make_cylinder) -> None:  # type: ignore[no-untyped-def]
    make_cylinder("CQDZ-000001", manufactured_on=date(2023, 1, 10))
    make_cylinder("CQDZ-000002", manufactured_on=date(2025, 6, 1), model="YSP12")
    make_cylinder("CQYB-000001", company="b")
    headers = world.auth("a_admin")

    def codes(query: str, who: str = "a_admin") -> list[str]:
        response = client.get(f"/api/v1/cylinders{query}", headers=world.auth(who))
        assert response.status_code == 200, response.get_json()
        return [item["code"] for item in response.get_json()]

    assert codes("") == ["CQDZ-000001", "CQDZ-000002"]
    assert codes("?model=YSP12") == ["CQDZ-000002"]
    assert codes("?inspection_due_before=2027-01-11") == ["CQDZ-000001"]
    assert codes("?inspection_due_before=2027-01-10") == []
    assert codes("?scrap_date_before=2031-01-11") == ["CQDZ-000001"]
    assert codes(f"?filling_station_id={world.orgs['a_station'].id}&state=registered") == [
        "CQDZ-000001",
        "CQDZ-000002",
    ]
    assert codes("", who="dazu_reviewer") == ["CQDZ-000001", "CQDZ-000002"]
    assert codes("", who="city_regulator") == ["CQDZ-000001", "CQDZ-000002", "CQYB-000001"]
    assert codes("", who="b_admin") == ["CQYB-000001"]
    assert_error(
        client.get("/api/v1/cylinders/CQYB-000001", headers=headers), 404, "cylinder_not_found"
    )


def test_authority_reads_but_cannot_scrap(client: FlaskClient, world: World, make_cylinder) -> None:  # type: ignore[no-untyped-def]
    make_cylinder("CQDZ-000001")
    assert (
        client.get("/api/v1/cylinders/CQDZ-000001", headers=world.auth("dazu_reviewer")).status_code
        == 200
    )
    response = client.post(
        "/api/v1/cylinders/CQDZ-000001/scrap",
        json={"reason": "x" * 3},
        headers=world.auth("dazu_reviewer"),
    )
    assert_error(response, 403, "forbidden")
    response = client.post(
        "/api/v1/cylinders/CQDZ-000001/scrap", json={"reason": "xyz"}, headers=world.auth("b_admin")
    )
    assert_error(response, 404, "cylinder_not_found")
    assert (
        client.get("/api/v1/cylinders/CQDZ-000001", headers=world.auth("a_admin")).get_json()[
            "state"
        ]
        == "registered"
    )
