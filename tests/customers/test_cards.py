"""Customer cards: a signed, random card code that no cylinder label can pass for."""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy.orm import Session

from cylinder_trace.customers.cards import (
    CustomerCardInvalid,
    card_base_url,
    card_payload,
    card_png,
    new_card_code,
    resolve_customer_card,
)
from cylinder_trace.customers.models import Customer
from cylinder_trace.qr_labels.signing import LabelSigner
from cylinder_trace.web.current import registry
from tests.assertions import assert_error
from tests.customers.helpers import id_number, person, registered
from tests.world import World


@pytest.fixture
def customers(client: FlaskClient, world: World, db_session: Session) -> list[Customer]:
    a = registered(client, world, **person())
    b = registered(client, world, "b_admin", **person(division_code="500112"))
    return [db_session.get(Customer, a["id"]), db_session.get(Customer, b["id"])]


def test_card_codes_are_random_and_not_the_database_id(customers: list[Customer]) -> None:
    codes = {customer.card_code for customer in customers} | {new_card_code() for _ in range(50)}
    assert len(codes) == 52
    for code in codes:
        assert re.fullmatch(r"K[0-9A-HJKMNP-TV-Z]{16}", code)
    assert all(str(customer.id) != customer.card_code for customer in customers)


def test_payload_names_the_card_not_the_person(app: Flask, customers: list[Customer]) -> None:
    customer = customers[0]
    with app.app_context():
        payload = card_payload(customer, registry().card_signer)
    assert payload.startswith("HTTP://127.0.0.1:5000/K/" + customer.card_code + ".")
    assert customer.id_number_masked[-4:] not in payload.split("/")[-1].split(".")[0]


def test_a_card_resolves_to_its_customer(
    app: Flask, db_session: Session, customers: list[Customer]
) -> None:
    a, b = customers
    with app.test_request_context():
        signer = registry().card_signer
        payload = card_payload(a, signer)
        assert resolve_customer_card(db_session, payload, signer=signer) is a
        assert (
            resolve_customer_card(
                db_session, f"  {payload.lower()[:21]}{payload[21:]} ", signer=signer
            )
            is a
        )
        assert (
            resolve_customer_card(db_session, payload, signer=signer, company_id=a.company_id) is a
        )
        with pytest.raises(CustomerCardInvalid) as refused:
            resolve_customer_card(db_session, payload, signer=signer, company_id=b.company_id)
        assert refused.value.code == "customer_card_invalid"
        assert refused.value.details == {"reason": "unknown_card"}


def test_forged_altered_and_unknown_cards_are_refused(
    app: Flask, db_session: Session, customers: list[Customer]
) -> None:
    with app.test_request_context():
        signer = registry().card_signer
        payload = card_payload(customers[0], signer)
        unknown = signer.sign(new_card_code())
    tampered = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    swapped = payload.replace(customers[0].card_code, customers[1].card_code)
    cases = {
        tampered: "bad_signature",
        swapped: "bad_signature",
        unknown: "unknown_card",
        "HTTP://127.0.0.1:5000/K/" + customers[0].card_code: "malformed",
        "11010519491231002X": "wrong_base",
    }
    for scanned, reason in cases.items():
        with pytest.raises(CustomerCardInvalid) as refused:
            resolve_customer_card(db_session, scanned, signer=signer)
        assert refused.value.details["reason"] == reason, scanned


def test_a_cylinder_label_never_passes_as_a_card(
    app: Flask, db_session: Session, customers: list[Customer]
) -> None:
    settings = app.config["CT_SETTINGS"]
    labels = LabelSigner(settings.label_base_url, settings.label_keys, settings.label_key_id)
    code = customers[0].card_code
    label = labels.sign(code)  # a cylinder label for the very same code
    with app.test_request_context():
        cards = registry().card_signer
        for forged, reason in (
            (label, "wrong_base"),
            (label.replace("/C/", "/K/"), "bad_signature"),  # its signature is not a card's
        ):
            with pytest.raises(CustomerCardInvalid) as refused:
                resolve_customer_card(db_session, forged, signer=cards)
            assert refused.value.details["reason"] == reason
        # And the other way round: a card is no label.
        with pytest.raises(ValueError, match="bad_signature"):
            labels.verify(cards.sign(code).replace("/K/", "/C/"))


@pytest.mark.parametrize(
    ("label_base", "card_base"),
    [
        ("HTTPS://TRACE.EXAMPLE.CN/C/", "HTTPS://TRACE.EXAMPLE.CN/K/"),
        ("HTTPS://TRACE.EXAMPLE.CN/", "HTTPS://TRACE.EXAMPLE.CN/K/"),
        ("HTTPS://X.CN/T/C/", "HTTPS://X.CN/T/K/"),
    ],
)
def test_card_base_url(label_base: str, card_base: str) -> None:
    assert card_base_url(label_base) == card_base


def test_card_png(app: Flask, client: FlaskClient, world: World, customers: list[Customer]) -> None:
    customer = customers[0]
    response = client.get(
        f"/api/v1/customers/{customer.id}/card.png", headers=world.auth("a_courier")
    )
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.headers["Cache-Control"] == "no-store"
    image = Image.open(io.BytesIO(response.data))
    assert image.width == image.height > 100
    with app.app_context():
        assert response.data == card_png(card_payload(customer, registry().card_signer))
    other = client.get(
        f"/api/v1/customers/{customers[1].id}/card.png", headers=world.auth("a_admin")
    )
    assert_error(other, 404, "customer_not_found")


def test_the_card_is_not_in_json_responses(
    client: FlaskClient, world: World, customers: list[Customer]
) -> None:
    body = client.get(f"/api/v1/customers/{customers[0].id}", headers=world.auth("dazu_reviewer"))
    assert customers[0].card_code not in body.get_data(as_text=True)
    assert "card_code" not in body.get_json()


def test_new_customers_get_distinct_cards(
    client: FlaskClient, world: World, db_session: Session
) -> None:
    first = registered(client, world, **person(id_number=id_number(seq="101")))
    second = registered(client, world, **person(id_number=id_number(seq="102")))
    codes = {db_session.get(Customer, c["id"]).card_code for c in (first, second)}
    assert len(codes) == 2
