"""/api/v1/scans: record scans one by one or in offline batches; ask before filling.

Two fast paths, each named where it is taken (cylinder_trace/fastpath/README.md): a batch's
items are read by ``fast_scan_reader`` (the schema's answer, quicker), and the answers of
POST /scans and /scans/batch are built as JSON directly (``fastpath.responses``) instead of
being dumped through the schema ``@blp.response`` declares.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import marshmallow as ma
from flask import request
from flask.views import MethodView

from cylinder_trace.db import get_session, keep_changes_on_error, utcnow
from cylinder_trace.domain.errors import Conflict, DomainError
from cylinder_trace.domain.messages import LANGUAGES
from cylinder_trace.domain.roles import Role
from cylinder_trace.fastpath import responses
from cylinder_trace.fastpath.scan_reader import FastReader
from cylinder_trace.scans import services, store
from cylinder_trace.scans.answers import DUPLICATE, ScanAnswer
from cylinder_trace.scans.context import ScanContext
from cylinder_trace.scans.fill_check import fill_check
from cylinder_trace.scans.models import Scan
from cylinder_trace.scans.schemas import (
    MAX_BATCH,
    BatchResultSchema,
    BuyerSchema,
    FillCheckResultSchema,
    FillCheckSchema,
    ScanBatchSchema,
    ScanCreateSchema,
    ScanSchema,
    buyer_errors,
    shape_errors,
)
from cylinder_trace.web.api import DEVICE, Blueprint, current_principal
from cylinder_trace.web.current import registry, settings
from cylinder_trace.web.errors import error_response

# ScanCreateSchema's answer for a batch item, without marshmallow for the plain ones
# (fastpath/scan_reader.py); POST /scans loads its one item through the schema itself.
fast_scan_reader = FastReader(
    ScanCreateSchema(), rules={ScanCreateSchema: shape_errors, BuyerSchema: buyer_errors}
)

blp = Blueprint("scans", __name__, url_prefix="/scans", description="Scans of cylinders.")

SCANNERS = (
    Role.STATION_OPERATOR,
    Role.DELIVERY_STAFF,
    Role.COMPANY_ADMIN,
    Role.SYSTEM_ADMIN,
    DEVICE,
)


def answer_language() -> str:
    """The language of messages in answers: Accept-Language's choice, English by default."""
    return request.accept_languages.best_match(LANGUAGES) or "en"


def scan_context() -> ScanContext:
    return ScanContext.at(
        utcnow(),
        principal=current_principal(),
        settings=settings(),
        registry=registry(),
        language=answer_language(),
    )


RACE_ATTEMPTS = 3


def record(ctx: ScanContext, items: list[dict[str, Any]], *, interactive: bool) -> list[ScanAnswer]:
    """Record the scans; when a concurrent request stored one of their keys first, again.

    Two uploads of the same scans, or the first two scans of a never-seen code, can both
    find nothing stored and both insert; the database lets one win. The loser rolls back
    (nothing of it was kept) and records afresh: then it finds the winner's rows and
    answers as documented (duplicate, event_id_conflict, the next link of the chain).
    """
    session = get_session()
    for attempt in range(1, RACE_ATTEMPTS + 1):
        try:
            return services.record_scans(session, ctx, items, interactive=interactive)
        except store.ConcurrentWrite:
            if attempt == RACE_ATTEMPTS:
                raise
            session.rollback()
    raise AssertionError("unreachable")


def _check_clock(item: dict[str, Any], now: datetime) -> None:
    # A handheld clock may run a little fast; an hour ahead is a broken clock.
    if (item["occurred_at"] - now).total_seconds() > 3600:
        raise DomainError(
            "occurred_at is more than an hour in the future: check the device clock.",
            code="occurred_at_in_future",
        )


class ScanBodyReadFast(ScanCreateSchema):
    """POST /scans's body: ``ScanCreateSchema`` is its definition (and its OpenAPI
    component), read here by the fast reader, which gives the schema's own value or its own
    errors (cylinder_trace/fastpath/README.md, tests/fastpath/test_scan_reader.py)."""

    class Meta(ScanCreateSchema.Meta):
        definition = ScanCreateSchema

    def load(self, data: Any, **kwargs: Any) -> Any:
        if kwargs:  # webargs passes none for a JSON body; anything else is the schema's
            return super().load(data, **kwargs)
        return fast_scan_reader.load(data)


@blp.route("")
class Scans(MethodView):
    @blp.access(*SCANNERS)
    @blp.arguments(ScanBodyReadFast)
    @blp.response(201, ScanSchema)
    @blp.alt_response(200, schema=ScanSchema, description="A repeat of a stored scan")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, item: dict[str, Any]) -> Any:
        """Record one scan, checked before the act

        A scan that breaks a rule is refused with a stable code (422) and changes nothing,
        except that the refusal itself is recorded. Sending the same event_id again answers
        the same result; the same event_id with other content is a conflict (409).
        """
        ctx = scan_context()
        _check_clock(item, ctx.now)
        result = record(ctx, [item], interactive=True)[0]
        if result.code == "event_id_conflict":
            raise Conflict(
                result.message or "", code="event_id_conflict", details={"scan_id": result.scan_id}
            )
        status = result.original_status or result.status
        if status == "rejected":
            keep_changes_on_error()
            return error_response(
                422,
                result.code or "scan_refused",
                result.message or "Refused.",
                {
                    "scan_id": result.scan_id,
                    "event_id": result.event_id,
                    "duplicate": result.status == DUPLICATE,
                },
            )
        if result.status == DUPLICATE:
            return get_session().get(Scan, result.scan_id), 200
        # Fast path: ScanSchema's dump of what was just written, built directly and returned
        # undumped (reading the row back would cost a round trip, the dump a tenth of the CPU).
        return responses.undumped(responses.scan_answer(result.record), 201)


@blp.route("/batch")
class ScanBatch(MethodView):
    @blp.access(*SCANNERS)
    @blp.arguments(ScanBatchSchema)
    @blp.response(200, BatchResultSchema)
    def post(self, batch: dict[str, Any]) -> Any:
        """Upload up to 1,000 scans from an offline handheld

        Each item gets its own result: accepted, accepted_with_violation (stored and
        flagged for review), rejected (with a code), or duplicate (already stored; the
        original result is repeated). One bad item never loses the others.
        """
        raw = batch["scans"]
        if len(raw) > MAX_BATCH:
            raise DomainError(
                f"A batch holds at most {MAX_BATCH} scans; this one has {len(raw)}.",
                code="batch_too_large",
                details={"max": MAX_BATCH, "given": len(raw)},
            )
        ctx = scan_context()
        valid: list[dict[str, Any]] = []
        positions: list[int] = []
        answers: list[dict[str, Any] | None] = [None] * len(raw)
        for index, item in enumerate(raw):
            try:
                loaded = fast_scan_reader.load(item)  # ScanCreateSchema().load, faster
                _check_clock(loaded, ctx.now)
            except ma.ValidationError as error:
                answers[index] = responses.invalid_item_answer(
                    index,
                    item,
                    "validation_error",
                    "The scan has invalid fields.",
                    {"fields": error.messages},
                )
                continue
            except DomainError as error:
                answers[index] = responses.invalid_item_answer(
                    index, item, error.code, error.message, None
                )
                continue
            valid.append(loaded)
            positions.append(index)
        for position, result in zip(
            positions,
            record(ctx, valid, interactive=False),
            strict=True,
        ):
            answers[position] = responses.item_answer(position, result)
        # Fast path: BatchResultSchema's dump of the answers, built directly and returned
        # undumped (dumping 1,000 results through the schema cost more than recording them).
        return responses.undumped(responses.batch_answer(answers), 200)  # type: ignore[arg-type]


@blp.route("/fill-check")
class FillCheck(MethodView):
    @blp.access(Role.STATION_OPERATOR, Role.COMPANY_ADMIN, DEVICE)
    @blp.arguments(FillCheckSchema)
    @blp.response(200, FillCheckResultSchema)
    def post(self, query: dict[str, Any]) -> Any:
        """May this cylinder be filled here, now? (GB/T 38059: the scale asks before opening)

        Records nothing. The answer lists every reason that forbids the fill, most
        fundamental first.
        """
        return fill_check(get_session(), scan_context(), query)
