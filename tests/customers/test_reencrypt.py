"""``cylinder-trace customers reencrypt``: rotating the ID-number key, the way README says."""

from __future__ import annotations

import base64
import itertools
import os
from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cylinder_trace.config import load_settings
from cylinder_trace.customers.crypto import PiiVault
from cylinder_trace.customers.models import Customer
from cylinder_trace.customers.services import ID_NUMBER_PURPOSE, register_customer
from tests.customers.helpers import business, credit_code, id_number, person
from tests.singletons import use_singletons
from tests.world import World


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


@dataclass
class Rotation:
    """Customers registered under key k1, then CT_PII_KEYS rotated to ``k2,k1``."""

    old_key: bytes
    new_key: bytes
    hash_key: bytes
    rotated: PiiVault
    numbers: dict[int, str]  # customer id -> ID number
    old_ids: list[int]  # the customers registered before the rotation


@pytest.fixture
def rotation(
    app: Flask, db_session: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> Rotation:
    old_key, new_key, hash_key = os.urandom(32), os.urandom(32), os.urandom(32)
    before = PiiVault({"k1": old_key}, "k1", hash_key)
    numbers: dict[int, str] = {}

    def add(vault: PiiVault, data: dict) -> int:
        customer = register_customer(db_session, vault, company=world.orgs["a"], **data)
        numbers[customer.id] = data["id_number"]
        return customer.id

    people = [person(name=f"客户{seq}", id_number=id_number(seq=f"{seq:03}")) for seq in range(4)]
    old_ids = [add(before, data) for data in people]
    old_ids.append(add(before, business(credit_code=credit_code("MA5U00001"))))

    # What an operator does: the new key first in CT_PII_KEYS, the old one still after it.
    settings = load_settings(
        {
            "CT_ENV": "testing",
            "CT_PII_KEYS": f"k2:{_b64(new_key)},k1:{_b64(old_key)}",
            "CT_PII_HASH_KEY": _b64(hash_key),
        }
    )
    rotated = PiiVault.from_settings(settings)
    assert rotated.current_key_id == "k2"
    use_singletons(app, monkeypatch, pii_vault=rotated)
    add(rotated, person(name="新客户", id_number=id_number(seq="900")))
    return Rotation(old_key, new_key, hash_key, rotated, numbers, old_ids)


def stored(session: Session) -> dict[int, tuple[str, str]]:
    """Each customer's (ciphertext, lookup hash), read from the table, not the identity map."""
    rows = session.execute(
        select(Customer.id, Customer.id_number_encrypted, Customer.id_number_hash)
    )
    return {row.id: (row.id_number_encrypted, row.id_number_hash) for row in rows}


def reencrypt(app: Flask, *options: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=["customers", "reencrypt", *options])


def test_every_number_moves_to_the_new_key_and_the_old_key_can_go(
    app: Flask, db_session: Session, rotation: Rotation
) -> None:
    before = stored(db_session)
    result = reencrypt(app, "--batch-size", "2")
    assert result.exit_code == 0, result.output
    assert "5 re-encrypted, 1 already under key k2, 0 failed" in result.output
    assert result.output.count("up to customer") == 3  # batches of 2, 2 and 1

    after = stored(db_session)
    retired = PiiVault({"k2": rotation.new_key}, "k2", rotation.hash_key)
    for customer_id, (ciphertext, lookup_hash) in after.items():
        assert ciphertext.startswith("v1:k2:")
        assert (
            retired.decrypt(ciphertext, purpose=ID_NUMBER_PURPOSE)
            == (rotation.numbers[customer_id])
        )
        assert lookup_hash == before[customer_id][1]


def test_a_second_run_changes_nothing(app: Flask, db_session: Session, rotation: Rotation) -> None:
    assert reencrypt(app).exit_code == 0
    first = stored(db_session)
    again = reencrypt(app)
    assert again.exit_code == 0, again.output
    assert "0 re-encrypted, 6 already under key k2, 0 failed" in again.output
    assert "up to customer" not in again.output
    assert stored(db_session) == first


def test_a_dry_run_counts_and_changes_nothing(
    app: Flask, db_session: Session, rotation: Rotation
) -> None:
    before = stored(db_session)
    result = reencrypt(app, "--dry-run", "--batch-size", "2")
    assert result.exit_code == 0, result.output
    assert "5 would be re-encrypted, 1 already under key k2, 0 failed (dry run" in result.output
    assert stored(db_session) == before


def test_numbers_no_key_decrypts_are_named_left_alone_and_fail_the_run(
    app: Flask, db_session: Session, rotation: Rotation
) -> None:
    unknown_key, copied = rotation.old_ids[1], rotation.old_ids[3]
    forgotten = PiiVault({"k0": os.urandom(32)}, "k0", rotation.hash_key)
    db_session.execute(
        update(Customer)
        .where(Customer.id == unknown_key)
        .values(id_number_encrypted=forgotten.encrypt("110105194912310021", purpose="x"))
    )
    # Another customer's ciphertext decrypts, but to a number its lookup hash is not.
    other = stored(db_session)[rotation.old_ids[0]][0]
    db_session.execute(
        update(Customer).where(Customer.id == copied).values(id_number_encrypted=other)
    )
    before = stored(db_session)

    dry = reencrypt(app, "--dry-run")
    assert dry.exit_code == 1
    assert stored(db_session) == before

    result = reencrypt(app, "--batch-size", "2")
    assert result.exit_code == 1
    assert f"customer {unknown_key}: ID number not re-encrypted: key 'k0'" in result.output
    assert f"customer {copied}: ID number not re-encrypted: decrypts to" in result.output
    assert "3 re-encrypted, 1 already under key k2, 2 failed" in result.output
    assert f"Not re-encrypted: customers {unknown_key}, {copied} (" in result.output

    after = stored(db_session)
    assert after[unknown_key] == before[unknown_key] and after[copied] == before[copied]
    retired = PiiVault({"k2": rotation.new_key}, "k2", rotation.hash_key)
    for customer_id in set(after) - {unknown_key, copied}:
        ciphertext = after[customer_id][0]
        assert (
            retired.decrypt(ciphertext, purpose=ID_NUMBER_PURPOSE)
            == (rotation.numbers[customer_id])
        )


def test_an_interrupted_run_keeps_its_committed_batches_and_resumes(
    app: Flask, db_session: Session, rotation: Rotation, monkeypatch: pytest.MonkeyPatch
) -> None:
    encryptions = itertools.count()

    class CrashingVault(PiiVault):
        def encrypt(self, plaintext: str, *, purpose: str) -> str:
            if next(encryptions) == 3:  # the second number of the second batch
                raise RuntimeError("power cut")
            return super().encrypt(plaintext, purpose=purpose)

    crashing = CrashingVault(rotation.rotated.keys, "k2", rotation.hash_key)
    use_singletons(app, monkeypatch, pii_vault=crashing)
    crashed = reencrypt(app, "--batch-size", "2")
    assert isinstance(crashed.exception, RuntimeError)

    # The first batch was committed whole; the second not at all.
    key_ids = {i: rotation.rotated.key_id_of(c) for i, (c, _) in stored(db_session).items()}
    assert [key_ids[i] for i in rotation.old_ids] == ["k2", "k2", "k1", "k1", "k1"]

    use_singletons(app, monkeypatch, pii_vault=rotation.rotated)
    resumed = reencrypt(app, "--batch-size", "2")
    assert resumed.exit_code == 0, resumed.output
    assert "3 re-encrypted, 3 already under key k2, 0 failed" in resumed.output
