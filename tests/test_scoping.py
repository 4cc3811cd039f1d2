"""A caller sees and changes only its own company's data, or its jurisdiction's."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from cylinder_trace.organisations.models import Organisation
from cylinder_trace.users.models import User
from tests.assertions import assert_error
from tests.world import World


def ids(response) -> set[int]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.get_data(as_text=True)
    return {item["id"] for item in response.get_json()}


def test_company_user_lists_only_its_company(client: FlaskClient, world: World) -> None:
    seen = ids(client.get("/api/v1/organisations", headers=world.auth("a_operator")))
    assert seen == {world.orgs[k].id for k in ("a", "a_station", "a_supply")}


@pytest.mark.parametrize("who", ["a_admin", "a_operator", "a_courier"])
@pytest.mark.parametrize("target", ["b", "b_station", "b_supply", "dazu_bureau"])
def test_other_companys_organisations_are_404(
    client: FlaskClient, world: World, who: str, target: str
) -> None:
    url = f"/api/v1/organisations/{world.orgs[target].id}"
    assert_error(client.get(url, headers=world.auth(who)), 404, "organisation_not_found")


def test_company_admin_cannot_change_another_company(
    client: FlaskClient, world: World, db_session: Session
) -> None:
    target = world.orgs["b_station"]
    response = client.patch(
        f"/api/v1/organisations/{target.id}",
        json={"name": "hijacked"},
        headers=world.auth("a_admin"),
    )
    assert_error(response, 404, "organisation_not_found")
    response = client.post(
        "/api/v1/organisations",
        json={
            "kind": "supply_point",
            "name": "rogue",
            "parent_id": world.orgs["b"].id,
            "division_code": "500112",
        },
        headers=world.auth("a_admin"),
    )
    assert_error(response, 404, "organisation_not_found")
    db_session.expire_all()
    assert db_session.get(Organisation, target.id).name == "渝北燃气充装站"


def test_company_admin_cannot_read_or_change_another_companys_users(
    client: FlaskClient, world: World, db_session: Session
) -> None:
    other = world.users["b_operator"]
    headers = world.auth("a_admin")
    assert_error(client.get(f"/api/v1/users/{other.id}", headers=headers), 404, "user_not_found")
    response = client.patch(f"/api/v1/users/{other.id}", json={"active": False}, headers=headers)
    assert_error(response, 404, "user_not_found")
    assert other.id not in ids(client.get("/api/v1/users", headers=headers))
    response = client.post(
        "/api/v1/tokens", json={"name": "steal", "user_id": other.id}, headers=headers
    )
    assert_error(response, 404, "user_not_found")
    db_session.expire_all()
    assert db_session.get(User, other.id).active is True


def test_company_admin_cannot_touch_another_companys_devices(
    client: FlaskClient, world: World
) -> None:
    device = world.devices["b_handheld"]
    headers = world.auth("a_admin")
    assert_error(
        client.get(f"/api/v1/devices/{device.id}", headers=headers), 404, "device_not_found"
    )
    response = client.patch(f"/api/v1/devices/{device.id}", json={"active": False}, headers=headers)
    assert_error(response, 404, "device_not_found")
    assert device.id not in ids(client.get("/api/v1/devices", headers=headers))


def test_company_admin_cannot_revoke_another_companys_token(
    client: FlaskClient, world: World
) -> None:
    b_tokens = ids(client.get("/api/v1/tokens", headers=world.auth("b_admin")))
    for token_id in b_tokens:
        response = client.delete(f"/api/v1/tokens/{token_id}", headers=world.auth("a_admin"))
        assert_error(response, 404, "token_not_found")
    assert client.get("/api/v1/me", headers=world.auth("b_admin")).status_code == 200


def test_bureau_sees_its_district_only(client: FlaskClient, world: World) -> None:
    seen = ids(client.get("/api/v1/organisations", headers=world.auth("dazu_reviewer")))
    assert seen == {world.orgs[k].id for k in ("a", "a_station", "a_supply", "dazu_bureau")}
    url = f"/api/v1/organisations/{world.orgs['b'].id}"
    assert_error(
        client.get(url, headers=world.auth("dazu_reviewer")), 404, "organisation_not_found"
    )


def test_bureau_reads_but_cannot_change(client: FlaskClient, world: World) -> None:
    url = f"/api/v1/organisations/{world.orgs['a'].id}"
    assert client.get(url, headers=world.auth("dazu_reviewer")).status_code == 200
    assert_error(
        client.patch(url, json={"name": "x"}, headers=world.auth("dazu_reviewer")), 403, "forbidden"
    )


def test_city_regulator_sees_every_district(client: FlaskClient, world: World) -> None:
    seen = ids(
        client.get("/api/v1/organisations?page_size=100", headers=world.auth("city_regulator"))
    )
    companies = {
        world.orgs[k].id for k in ("a", "a_station", "a_supply", "b", "b_station", "b_supply")
    }
    assert companies <= seen
    assert world.orgs["dazu_bureau"].id not in seen


def test_company_admin_cannot_create_companies_or_grant_authority_roles(
    client: FlaskClient, world: World
) -> None:
    headers = world.auth("a_admin")
    response = client.post(
        "/api/v1/organisations",
        json={"kind": "gas_company", "name": "new co", "division_code": "500111"},
        headers=headers,
    )
    assert_error(response, 403, "forbidden")
    response = client.post(
        "/api/v1/users",
        json={
            "organisation_id": world.orgs["a"].id,
            "username": "boss",
            "full_name": "Boss",
            "role": "system_admin",
        },
        headers=headers,
    )
    assert_error(response, 403, "role_not_grantable")


def test_system_admin_reaches_everything(client: FlaskClient, world: World) -> None:
    seen = ids(client.get("/api/v1/organisations?page_size=100", headers=world.auth("sysadmin")))
    assert {org.id for org in world.orgs.values()} <= seen
    url = f"/api/v1/users/{world.users['b_operator'].id}"
    assert client.get(url, headers=world.auth("sysadmin")).status_code == 200
