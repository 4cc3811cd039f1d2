"""``Scan.company_id``: every scan belongs to the company its cylinder or its scanner is of,
and a company's scans are exactly those of its cylinders and by its sites; and every scan
that names a cylinder is in that cylinder's chain (``Scan.of_cylinder`` finds them so).

Generated uploads mix the cases that make the two differ if anything is wrong: own
cylinders, another company's (refused, kept in a chain of the scanner's), codes never
registered, QR payloads that are not labels, scans by devices and by the platform's admin.
"""

from __future__ import annotations

import random
import uuid

import pytest
from flask.testing import FlaskClient
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cylinder_trace.access import company_tree
from cylinder_trace.cylinders.models import Cylinder
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.scans.attribution import misattributed_scans
from cylinder_trace.scans.models import Scan
from tests.scans.conftest import at, fill, scan
from tests.world import World

SCANNERS = ("a_operator", "a_courier", "a_handheld", "b_operator", "b_admin", "sysadmin")


def _item(rng: random.Random, codes: list[str], minute: int) -> dict:
    code = rng.choice([*codes, "CQDZ-999999", "CQYB-999998"])
    choice = rng.random()
    if choice < 0.1:
        return {
            "event_id": str(uuid.uuid4()),
            "kind": "store",
            "qr": "https://example.com/not-a-label",
            "occurred_at": at(minute),
        }
    if choice < 0.5:
        return fill(code, minute)
    return scan(rng.choice(["dispatch", "store", "collect"]), code, minute)


def _old_scope(company_id: int):  # type: ignore[no-untyped-def]
    """The definition before ``Scan.company_id``: its cylinders' scans, and its sites'."""
    own = select(Cylinder.id).where(Cylinder.owner_company_id == company_id)
    tree = select(Organisation.id).where(company_tree(company_id))
    return or_(Scan.cylinder_id.in_(own), Scan.organisation_id.in_(tree))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_company_id_names_the_owner_or_the_scanner_and_scopes_as_before(
    seed: int, client: FlaskClient, world: World, db_session: Session, make_cylinder
) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    codes = [make_cylinder(f"CQDZ-5{n:05d}", company="a").code for n in range(4)]
    codes += [make_cylinder(f"CQYB-6{n:05d}", company="b").code for n in range(3)]
    minute = 0
    for _ in range(6):
        who = rng.choice(SCANNERS)
        items = [_item(rng, codes, minute + i) for i in range(rng.randint(1, 12))]
        minute += len(items)
        response = client.post(
            "/api/v1/scans/batch", json={"scans": items}, headers=world.auth(who)
        )
        assert response.status_code in (200, 207), response.get_json()

    db_session.expire_all()
    scans = db_session.scalars(select(Scan)).all()
    assert len(scans) > 7 + 6  # the registrations and at least one scan per upload
    for stored in scans:
        if stored.cylinder_id is not None:
            cylinder = db_session.get(Cylinder, stored.cylinder_id)
            expected = cylinder.owner_company_id
            # A cylinder's scans are found by its chain (Scan.of_cylinder): each is in it.
            assert stored.chain_key == cylinder.code
        else:
            expected = db_session.get(Organisation, stored.organisation_id).company_id
        assert stored.company_id == expected, (stored.kind, stored.scanned, stored.result_code)
    assert misattributed_scans(db_session) == []  # verify-chains derives the same
    for company in ("a", "b"):
        company_id = world.orgs[company].id
        new = set(db_session.scalars(select(Scan.id).where(Scan.company_id == company_id)))
        old = set(db_session.scalars(select(Scan.id).where(_old_scope(company_id))))
        assert new == old
        assert new  # the comparison compared something


def test_a_companys_scan_list_holds_its_own_attempts_on_foreign_cylinders(
    client: FlaskClient, world: World, make_cylinder
) -> None:  # type: ignore[no-untyped-def]
    make_cylinder("CQYB-600001", company="b")
    response = client.post(
        "/api/v1/scans", json=fill("CQYB-600001", 1), headers=world.auth("a_operator")
    )
    assert response.get_json()["code"] == "not_own_cylinder"

    def listed(who: str) -> list[str | None]:
        answer = client.get("/api/v1/scans?kind=fill", headers=world.auth(who))
        return [item["result_code"] for item in answer.get_json()]

    assert listed("a_admin") == ["not_own_cylinder"]  # A sees its operator's refused try
    assert listed("b_admin") == []  # B learns nothing of it
