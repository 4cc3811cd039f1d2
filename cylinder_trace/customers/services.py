"""Registering, finding, changing customers and revealing their ID numbers.

Functions flush; the caller commits. ID numbers enter as plain text only as arguments: they
are stored encrypted, matched by keyed hash, shown masked, and written to no log line.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session, lazyload, load_only

from cylinder_trace.access import (
    customer_condition,
    in_jurisdiction,
    may_read_customer,
    readable,
)
from cylinder_trace.customers.cards import new_card_code
from cylinder_trace.customers.crypto import FORMAT_VERSION, DecryptionFailed, PiiVault
from cylinder_trace.customers.models import Customer, CustomerKind, IdNumberReveal
from cylinder_trace.customers.validation import (
    CustomerInvalid,
    check_changes,
    check_credit_code,
    check_id_number,
    check_registration,
    problem,
)
from cylinder_trace.db import utcnow
from cylinder_trace.domain.errors import Conflict, DomainError, Forbidden, NotFound
from cylinder_trace.domain.identity import mask_id_number
from cylinder_trace.domain.roles import COMPANY_ROLES, OrganisationKind, Role
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.paging import Keyset
from cylinder_trace.principal import Principal
from cylinder_trace.users.models import User

log = logging.getLogger(__name__)

ID_NUMBER_PURPOSE = "customers.id_number"


def id_number_hash(vault: PiiVault, number: str) -> str:
    """The keyed lookup hash of an already normalised ID number."""
    return vault.lookup_hash(number, purpose=ID_NUMBER_PURPOSE)


def find_registered(
    session: Session,
    vault: PiiVault,
    company_id: int,
    *,
    kind: CustomerKind,
    id_number: str | None = None,
    credit_code: str | None = None,
) -> Customer | None:
    """The company's existing customer for this person (ID number) or business (credit code)."""
    statement = select(Customer).where(Customer.company_id == company_id, Customer.kind == kind)
    if kind == CustomerKind.PERSON:
        statement = statement.where(Customer.id_number_hash == id_number_hash(vault, id_number))
    else:
        statement = statement.where(Customer.credit_code == credit_code)
    return session.scalar(statement)


def register_customer(
    session: Session,
    vault: PiiVault,
    *,
    company: Organisation,
    created_by: User | None = None,
    **data: Any,
) -> Customer:
    """Register a person or business as a customer of ``company``.

    Validates every field (422 ``CustomerInvalid`` naming each wrong field, in English and
    Chinese), refuses a person or business the company already has (409
    ``customer_already_registered``, with ``existing_id``), then stores the ID number
    encrypted, hashed and masked, and gives the customer a random card code.
    """
    if company.kind != OrganisationKind.GAS_COMPANY:
        raise DomainError("Customers belong to a gas company.", code="organisation_not_a_company")
    if not company.active:
        raise DomainError("That gas company is deactivated.", code="organisation_inactive")
    clean = check_registration(data)
    number: str = clean.pop("id_number")
    existing = find_registered(
        session,
        vault,
        company.id,
        kind=clean["kind"],
        id_number=number,
        credit_code=clean["credit_code"],
    )
    if existing is not None:
        raise Conflict(
            f"This {clean['kind'].value} is already customer {existing.id} of the company.",
            code="customer_already_registered",
            details={"existing_id": existing.id},
        )
    customer = Customer(
        company=company,
        company_id=company.id,
        id_number_encrypted=vault.encrypt(number, purpose=ID_NUMBER_PURPOSE),
        id_number_hash=id_number_hash(vault, number),
        id_number_masked=mask_id_number(number),
        card_code=new_card_code(),
        created_by_id=created_by.id if created_by is not None else None,
        **clean,
    )
    session.add(customer)
    session.flush()
    log.info("customer %s registered for company %s", customer.id, company.id)
    return customer


def register_customer_as(
    session: Session, vault: PiiVault, principal: Principal, data: dict[str, Any]
) -> Customer:
    """Register on behalf of a caller: company staff for their own company, system admins
    for the company they name."""
    data = dict(data)
    company_id = data.pop("company_id", None)
    if principal.is_system_admin:
        if company_id is None:
            raise CustomerInvalid([problem("company_id", "company_id_required")])
        company = session.get(Organisation, company_id)
        if company is None or company.kind != OrganisationKind.GAS_COMPANY:
            raise NotFound(f"No gas company {company_id}.", code="organisation_not_found")
    else:
        if principal.company_id is None or principal.role not in COMPANY_ROLES:
            raise Forbidden("Only a gas company's staff register its customers.")
        if company_id is not None and company_id != principal.company_id:
            raise NotFound(f"No gas company {company_id}.", code="organisation_not_found")
        company = session.get(Organisation, principal.company_id)
        assert company is not None
    return register_customer(session, vault, company=company, created_by=principal.user, **data)


# Lists of customers go in the order they were registered.
CUSTOMER_ORDER = Keyset((Customer.id,))


def visible_customers(principal: Principal) -> Select[tuple[Customer]]:
    """A select of the customers this caller may read (``access.customer_condition``)."""
    return select(Customer).where(customer_condition(principal))


def get_visible_customer(session: Session, principal: Principal, customer_id: int) -> Customer:
    """One customer the caller may read; NotFound otherwise, so existence does not leak."""
    missing = NotFound(f"No customer {customer_id}.", code="customer_not_found")
    return readable(principal, session.get(Customer, customer_id), may_read_customer, missing)


def may_change_customer(principal: Principal, customer: Customer) -> bool:
    """Staff of the customer's own gas company may change it (and system admins any)."""
    return principal.is_system_admin or (
        principal.company_id == customer.company_id and principal.role in COMPANY_ROLES
    )


def get_managed_customer(session: Session, principal: Principal, customer_id: int) -> Customer:
    """One customer the caller may change: 404 if it cannot see it, 403 if read-only."""
    customer = get_visible_customer(session, principal, customer_id)
    if not may_change_customer(principal, customer):
        raise Forbidden("You may read this customer but not change it.")
    return customer


def filter_customers(
    vault: PiiVault,
    statement: Select[tuple[Customer]],
    filters: dict[str, Any],
) -> Select[tuple[Customer]]:
    """Apply list filters. ``id_number`` is matched through its keyed hash, never decrypted."""
    if "kind" in filters:
        statement = statement.where(Customer.kind == filters["kind"])
    if "catering" in filters:
        statement = statement.where(Customer.is_catering == filters["catering"])
    if "active" in filters:
        statement = statement.where(Customer.active == filters["active"])
    if "company_id" in filters:
        statement = statement.where(Customer.company_id == filters["company_id"])
    if "district" in filters:
        try:
            district = in_jurisdiction(Customer.division_code, filters["district"])
        except DomainError:
            raise CustomerInvalid([problem("district", "division_code_invalid")]) from None
        statement = statement.where(district)
    if "q" in filters:
        statement = statement.where(Customer.name.contains(filters["q"], autoescape=True))
    if filters.get("credit_code"):
        statement = statement.where(
            Customer.credit_code == check_credit_code(filters["credit_code"])
        )
    if filters.get("id_number"):
        number = check_id_number(filters["id_number"])
        statement = statement.where(Customer.id_number_hash == id_number_hash(vault, number))
    return CUSTOMER_ORDER.order(statement)


def update_customer(session: Session, customer: Customer, changes: dict[str, Any]) -> Customer:
    """Change contact data, district, premises, responsible person or the active flag.

    The kind, ID number and credit code never change: a different person or business is a
    different customer.
    """
    clean = check_changes(changes, kind=customer.kind)
    if "active" in clean and clean["active"] != customer.active:
        customer.deactivated_at = None if clean["active"] else utcnow()
    for field, value in clean.items():
        setattr(customer, field, value)
    session.flush()
    return customer


def reveal_id_number(
    session: Session,
    vault: PiiVault,
    principal: Principal,
    customer: Customer,
    *,
    reason: str,
    request_ip: str | None = None,
) -> tuple[str, IdNumberReveal]:
    """Decrypt a customer's ID number for a person with the right, recording who, when, why.

    Company admins of the customer's company and system admins only; a reason of at least
    two characters is required. The record is flushed before the number is returned, so the
    number is never shown unless the record is committed with it.
    """
    cleaned = (reason or "").strip()
    if len(cleaned) < 2:
        raise CustomerInvalid([problem("reason", "reveal_reason_required")])
    user = principal.user
    allowed = principal.is_system_admin or (
        principal.role == Role.COMPANY_ADMIN and principal.company_id == customer.company_id
    )
    if user is None or not allowed:
        raise Forbidden("Only the company's admins may see a full ID number.")
    try:
        number = vault.decrypt(customer.id_number_encrypted, purpose=ID_NUMBER_PURPOSE)
    except DecryptionFailed as exc:
        log.error("ID number of customer %s does not decrypt: %s", customer.id, exc)
        raise RuntimeError("stored ID number does not decrypt") from None
    reveal = IdNumberReveal(
        customer_id=customer.id, user_id=user.id, user=user, reason=cleaned, request_ip=request_ip
    )
    session.add(reveal)
    session.flush()
    log.info("ID number of customer %s revealed to user %s", customer.id, user.id)
    return number, reveal


def reveals_of(customer: Customer) -> Select[tuple[IdNumberReveal]]:
    """The reveal audit of one customer, newest first."""
    return (
        select(IdNumberReveal)
        .where(IdNumberReveal.customer_id == customer.id)
        .order_by(IdNumberReveal.revealed_at.desc(), IdNumberReveal.id.desc())
    )


@dataclasses.dataclass(slots=True)
class ReencryptionBatch:
    """What one ``reencrypt_id_number_batch`` call found and did."""

    # The highest customer id looked at (pass it as ``after_id`` next); None when none was left.
    last_id: int | None = None
    reencrypted: int = 0  # in a dry run: would have been
    # (customer id, why), for numbers that were left exactly as they were.
    failures: list[tuple[int, str]] = dataclasses.field(default_factory=list)


def _under_current_key(vault: PiiVault) -> ColumnElement[bool]:
    prefix = f"{FORMAT_VERSION}:{vault.current_key_id}:"
    return Customer.id_number_encrypted.startswith(prefix, autoescape=True)


def count_id_numbers_under_current_key(session: Session, vault: PiiVault) -> int:
    """How many stored ID numbers are already encrypted under the vault's current key."""
    return (
        session.scalar(select(func.count()).select_from(Customer).where(_under_current_key(vault)))
        or 0
    )


def reencrypt_id_number_batch(
    session: Session,
    vault: PiiVault,
    *,
    after_id: int = 0,
    batch_size: int = 500,
    dry_run: bool = False,
) -> ReencryptionBatch:
    """Re-encrypt under the current key the next ``batch_size`` ID numbers, by customer id
    above ``after_id``, that are stored under any other key (or in no format the vault knows).

    Run after putting a new key first in CT_PII_KEYS, the old one still after it; once no
    batch finds anything, the old key can leave the configuration. The caller loops on
    ``last_id`` and commits between batches, so each committed batch is complete.

    A number that does not decrypt, or decrypts to a number its lookup hash does not match
    (a ciphertext copied from another row), is not touched but returned in ``failures``:
    rewriting it under the new key would lose it or launder it. The lookup hash never
    changes. ``dry_run`` decrypts and checks each number but changes nothing.
    """
    stale = session.scalars(
        select(Customer)
        .options(
            load_only(Customer.id, Customer.id_number_encrypted, Customer.id_number_hash),
            lazyload(Customer.company),
        )
        .where(Customer.id > after_id, ~_under_current_key(vault))
        .order_by(Customer.id)
        .limit(batch_size)
    ).all()
    batch = ReencryptionBatch(last_id=stale[-1].id if stale else None)
    for customer in stale:
        try:
            number = vault.decrypt(customer.id_number_encrypted, purpose=ID_NUMBER_PURPOSE)
        except DecryptionFailed as exc:
            batch.failures.append((customer.id, str(exc)))
            continue
        if id_number_hash(vault, number) != customer.id_number_hash:
            batch.failures.append(
                (customer.id, "decrypts to a number its lookup hash does not match")
            )
            continue
        if not dry_run:
            customer.id_number_encrypted = vault.encrypt(number, purpose=ID_NUMBER_PURPOSE)
        batch.reencrypted += 1
    session.flush()
    for customer_id, why in batch.failures:
        log.error("ID number of customer %s not re-encrypted: %s", customer_id, why)
    return batch
