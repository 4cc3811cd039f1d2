"""Recording a visit to a catering user: its checklist items, files, and the hazards it
opens and closes.

Functions flush; the caller commits. Every change to a catering user's checks or hazards
goes through ``record_check``, which keeps the user's status columns (last check, last
visit, open hazards and their earliest deadline) in step in the same transaction, with
the user's row locked, so that the lists can filter and sort on them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cylinder_trace.catering.files import FileStore, StoredFile, Upload, sniff_image
from cylinder_trace.catering.models import (
    CateringCheck,
    CateringCheckFile,
    CateringCheckItem,
    CateringHazard,
    FileKind,
    ImageType,
    ItemResult,
    VisitOutcome,
)
from cylinder_trace.config import CateringSettings
from cylinder_trace.customers.models import Customer
from cylinder_trace.devices.models import Device
from cylinder_trace.domain.errors import DomainError
from cylinder_trace.domain.rules import RuleSettings
from cylinder_trace.domain.weeks import local_date
from cylinder_trace.users.models import User

log = logging.getLogger(__name__)

# Deadlines further out than this are a typing mistake, not a plan.
MAX_DEADLINE_DAYS = 366


class CheckInvalid(DomainError):
    """A check (or equipment record) that cannot be recorded as given; ``details.errors``
    lists every problem.

    The error's code is the first problem's; each problem has ``field``, ``code`` and
    ``message``.
    """

    kind = "invalid"

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        first = problems[0]
        super().__init__(
            first["message"],
            code=first["code"],
            details={"field": first["field"], "errors": problems},
        )


def problem(field_name: str, code: str, message: str) -> dict[str, Any]:
    """One entry of CheckInvalid's ``details.errors``."""
    return {"field": field_name, "code": code, "message": message}


@dataclass(frozen=True, slots=True)
class ItemInput:
    """One checklist item's result as the caller gives it; ``deadline`` only if failed."""

    code: str
    result: ItemResult
    note: str | None = None
    deadline: date | None = None


def _check_items(
    items: Sequence[ItemInput], rules: RuleSettings, check_day: date
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Problems with the items of a completed check, and each code's checklist position."""
    positions = {item.code: index for index, item in enumerate(rules.catering_checklist)}
    problems: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        where = f"items[{index}]"
        if item.code not in positions:
            problems.append(
                problem(where, "checklist_item_unknown", f"{item.code!r} is not on the checklist.")
            )
        if item.code in seen:
            problems.append(
                problem(where, "checklist_item_repeated", f"{item.code!r} is given twice.")
            )
        seen.add(item.code)
        if item.deadline is not None:
            if item.result != ItemResult.FAIL:
                problems.append(
                    problem(
                        where, "deadline_without_hazard", "Only a failed item takes a deadline."
                    )
                )
            elif item.deadline < check_day:
                problems.append(
                    problem(where, "deadline_before_check", "The deadline is before the check.")
                )
            elif item.deadline > check_day + timedelta(days=MAX_DEADLINE_DAYS):
                problems.append(
                    problem(
                        where,
                        "deadline_too_far",
                        f"The deadline is more than {MAX_DEADLINE_DAYS} days after the check.",
                    )
                )
    missing = [code for code in positions if code not in seen]
    if missing:
        problems.append(
            {
                **problem(
                    "items",
                    "checklist_incomplete",
                    "A completed check gives a result for every checklist item.",
                ),
                "missing": missing,
            }
        )
    return problems, positions


def _check_files(
    photos: Sequence[Upload], signature: Upload | None, settings: CateringSettings
) -> tuple[list[ImageType], ImageType | None]:
    if len(photos) > settings.photos_max:
        raise CheckInvalid(
            [problem("photos", "too_many_photos", f"At most {settings.photos_max} photos a check.")]
        )
    photo_types = [
        sniff_image(photo.data, field=f"photos[{index}]", max_bytes=settings.photo_max_bytes)
        for index, photo in enumerate(photos)
    ]
    signature_type = None
    if signature is not None:
        signature_type = sniff_image(
            signature.data, field="signature", max_bytes=settings.signature_max_bytes
        )
        if signature_type != ImageType.PNG:
            raise CheckInvalid(
                [problem("signature", "signature_not_png", "A signature is a PNG image.")]
            )
    return photo_types, signature_type


def record_check(
    session: Session,
    customer: Customer,
    *,
    checked_by: User,
    device: Device | None = None,
    outcome: VisitOutcome = VisitOutcome.COMPLETED,
    checked_at: datetime | None = None,
    items: Sequence[ItemInput] = (),
    signer_name: str | None = None,
    notes: str | None = None,
    photos: Sequence[Upload] = (),
    signature: Upload | None = None,
    rules: RuleSettings,
    settings: CateringSettings,
    store: FileStore,
    now: datetime,
    tz: tzinfo,
) -> CateringCheck:
    """Record a visit to a catering user, open and close hazards, update its status.

    ``checked_at`` defaults to ``now`` and may not be later than ``now`` plus the clock
    skew allowed. A completed visit gives every checklist item once; each failed item opens
    a hazard (deadline: the one given, else the item's configured number of days after the
    check's date in ``tz``, the configured business zone) unless one is open for that item
    already; each passed item closes the open hazard of that item found by an earlier
    check. A ``nobody_home`` visit has no items and no signature: it is kept, and counts as
    a visit but not as a check. Photos and the signature are checked by content and stored
    before the rows, in ``store`` (the registry's file store), within the limits of
    ``settings`` (``Settings.catering``).
    """
    checked_at = (checked_at or now).astimezone(UTC)
    signer_name = (signer_name or "").strip() or None
    problems: list[dict[str, Any]] = []
    if checked_at > now + settings.clock_skew:
        problems.append(
            problem("checked_at", "check_time_in_future", "The check time is in the future.")
        )
    check_day = local_date(checked_at, tz)
    positions: dict[str, int] = {}
    if outcome == VisitOutcome.COMPLETED:
        item_problems, positions = _check_items(items, rules, check_day)
        problems.extend(item_problems)
    else:
        if items:
            problems.append(
                problem("items", "nobody_home_has_items", "Nobody was there: nothing checked.")
            )
        if signer_name or signature is not None:
            problems.append(
                problem("signer_name", "nobody_home_has_signature", "Nobody was there to sign.")
            )
    if signature is not None and not signer_name:
        problems.append(
            problem("signer_name", "signer_name_required", "Name the person who signed.")
        )
    if problems:
        raise CheckInvalid(problems)
    photo_types, signature_type = _check_files(photos, signature, settings)

    # Serialise visits to the same user (PostgreSQL; SQLite has one writer anyway): the
    # hazards and status columns below are read, then written.
    session.execute(select(Customer.id).where(Customer.id == customer.id).with_for_update())
    session.refresh(customer, list(STATUS_COLUMNS))
    stored_photos = [
        store.save(photo.data, kind) for photo, kind in zip(photos, photo_types, strict=True)
    ]
    stored_signature = (
        store.save(signature.data, signature_type)
        if signature is not None and signature_type is not None
        else None
    )
    check = CateringCheck(
        customer_id=customer.id,
        outcome=outcome,
        checked_at=checked_at,
        checked_by_id=checked_by.id,
        checked_by=checked_by,
        device_id=device.id if device is not None else None,
        signer_name=signer_name,
        notes=(notes or "").strip() or None,
    )
    check.items = [
        CateringCheckItem(
            code=item.code,
            position=positions[item.code],
            result=item.result,
            note=(item.note or "").strip() or None,
        )
        for item in items
    ]
    check.files = [
        *(_file_row(FileKind.PHOTO, index, stored) for index, stored in enumerate(stored_photos)),
        *([_file_row(FileKind.SIGNATURE, 0, stored_signature)] if stored_signature else []),
    ]
    session.add(check)
    session.flush()
    if outcome == VisitOutcome.COMPLETED:
        _apply_hazards(session, customer, check, items, rules, check_day)
    _refresh_status(session, customer, check)
    log.info(
        "catering check %s (%s) of customer %s by user %s",
        check.id,
        outcome.value,
        customer.id,
        checked_by.id,
    )
    return check


STATUS_COLUMNS = ("last_check_at", "last_visit_at", "open_hazard_count", "next_hazard_deadline")


def _file_row(kind: FileKind, position: int, stored: StoredFile) -> CateringCheckFile:
    return CateringCheckFile(
        kind=kind,
        position=position,
        content_type=stored.content_type,
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
    )


def _apply_hazards(
    session: Session,
    customer: Customer,
    check: CateringCheck,
    items: Sequence[ItemInput],
    rules: RuleSettings,
    check_day: date,
) -> None:
    open_by_code = {
        hazard.item_code: hazard
        for hazard in session.scalars(
            select(CateringHazard).where(
                CateringHazard.customer_id == customer.id, CateringHazard.closed_at.is_(None)
            )
        )
    }
    for item in items:
        hazard = open_by_code.get(item.code)
        if item.result == ItemResult.PASS:
            # The fix is verified only by a visit after the one that found the hazard.
            if hazard is not None and hazard.opened_at < check.checked_at:
                hazard.closed_by_check_id = check.id
                hazard.closed_at = check.checked_at
        elif item.result == ItemResult.FAIL and hazard is None:
            deadline = item.deadline or check_day + timedelta(
                days=rules.hazard_deadline_for(item.code)
            )
            hazard = CateringHazard(
                customer_id=customer.id,
                item_code=item.code,
                note=(item.note or "").strip() or None,
                deadline=deadline,
                opened_by_check_id=check.id,
                opened_at=check.checked_at,
            )
            # A visit recorded late (an offline handheld) may find a hazard that a later
            # visit, already recorded, saw fixed: then it is born closed by that visit.
            later = _later_pass(session, customer.id, item.code, check.checked_at)
            if later is not None:
                hazard.closed_by_check_id, hazard.closed_at = later
            session.add(hazard)
    session.flush()


def _later_pass(
    session: Session, customer_id: int, code: str, after: datetime
) -> tuple[int, datetime] | None:
    row = session.execute(
        select(CateringCheck.id, CateringCheck.checked_at)
        .join(CateringCheckItem, CateringCheckItem.check_id == CateringCheck.id)
        .where(
            CateringCheck.customer_id == customer_id,
            CateringCheck.outcome == VisitOutcome.COMPLETED,
            CateringCheck.checked_at > after,
            CateringCheckItem.code == code,
            CateringCheckItem.result == ItemResult.PASS,
        )
        .order_by(CateringCheck.checked_at, CateringCheck.id)
        .limit(1)
    ).first()
    return (row[0], row[1]) if row is not None else None


def _refresh_status(session: Session, customer: Customer, check: CateringCheck) -> None:
    """Bring the user's status columns up to date with its checks and open hazards."""
    if customer.last_visit_at is None or check.checked_at > customer.last_visit_at:
        customer.last_visit_at = check.checked_at
    if check.counted and (
        customer.last_check_at is None or check.checked_at > customer.last_check_at
    ):
        customer.last_check_at = check.checked_at
    count, earliest = session.execute(
        select(func.count(), func.min(CateringHazard.deadline)).where(
            CateringHazard.customer_id == customer.id, CateringHazard.closed_at.is_(None)
        )
    ).one()
    customer.open_hazard_count = count
    customer.next_hazard_deadline = earliest
    session.flush()
