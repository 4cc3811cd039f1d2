"""The answers POST /scans and /scans/batch build directly equal their schemas' dumps.

``fastpath.responses`` stands in for ``@blp.response``'s dump (``ScanSchema``,
``BatchResultSchema``): here on generated values, through the API in
tests/scans/test_scans.py (every kind, against the stored row's dump) and
tests/scans/test_batch.py (a mixed batch).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cylinder_trace.domain.lifecycle import Outcome, ScanKind
from cylinder_trace.fastpath import responses
from cylinder_trace.scans.answers import DUPLICATE, ScanAnswer
from cylinder_trace.scans.models import ScanResult
from cylinder_trace.scans.schemas import BatchResultSchema, ScanSchema

IDS = st.none() | st.integers(min_value=1, max_value=2**40)
TEXT = st.text(max_size=12)
INSTANTS = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)).flatmap(
    lambda moment: st.sampled_from([UTC, timezone(timedelta(hours=8))]).map(
        lambda zone: moment.replace(tzinfo=zone)
    )
)
DATA = st.dictionaries(
    st.sampled_from(["gross_kg", "tare_kg", "net_kg", "customer_id", "operator", "reason"]),
    TEXT | st.integers() | st.booleans(),
    max_size=4,
)


@st.composite
def new_scans(draw: st.DrawFn) -> dict[str, Any]:
    """A new scan's fields, as ``record_scans`` leaves them in ``ScanAnswer.record``."""
    result = draw(st.sampled_from(list(ScanResult)))
    code = draw(st.none() | st.sampled_from(["cylinder_unknown", "inspection_overdue"]))
    return {
        "id": draw(st.integers(min_value=1, max_value=2**40)),
        "event_id": draw(st.uuids()),
        "content_hash": "0" * 64,
        "kind": draw(st.sampled_from(list(ScanKind))),
        "outcome": draw(st.none() | st.sampled_from(list(Outcome))),
        "scanned": draw(TEXT),
        "chain_key": draw(st.sampled_from(["CQAB-00000001", "?" + "f" * 60])),
        "cylinder_id": draw(IDS),
        "occurred_at": draw(INSTANTS),
        "received_at": draw(INSTANTS),
        "actor_user_id": draw(IDS),
        "device_id": draw(IDS),
        "organisation_id": 1,
        "site_id": draw(IDS),
        "latitude": None,
        "longitude": None,
        "customer_id": draw(IDS),
        "data": draw(DATA),
        "interactive": draw(st.booleans()),
        "result": result,
        "result_code": code,
        "result_message": draw(st.none() | TEXT),
        "review_code": code if result is ScanResult.ACCEPTED_WITH_VIOLATION else None,
        "seq": draw(st.integers(min_value=1, max_value=10**6)),
        "prev_hash": "0" * 64,
        "record_hash": "1" * 64,
    }


def as_json(value: Any) -> Any:
    return json.loads(json.dumps(value))


@settings(max_examples=300, deadline=None)
@given(new_scans())
def test_a_single_answer_is_the_scan_schema_dump(fields: dict[str, Any]) -> None:
    built = responses.scan_answer(fields)
    dumped = ScanSchema().dump(SimpleNamespace(**fields))
    assert as_json(built) == as_json(dumped)
    assert built == as_json(built)  # JSON values only: nothing left for a dump to convert


ANSWERS = st.builds(
    ScanAnswer,
    index=st.integers(min_value=0, max_value=999),
    event_id=st.uuids().map(str),
    status=st.sampled_from([*(r.value for r in ScanResult), DUPLICATE]),
    code=st.none() | TEXT,
    message=st.none() | TEXT,
    original_status=st.none() | st.sampled_from([r.value for r in ScanResult]),
    scan_id=IDS,
)
INVALID = st.tuples(
    st.none() | st.dictionaries(st.just("event_id"), st.none() | st.integers() | TEXT),
    st.sampled_from(["validation_error", "occurred_at_in_future"]),
    TEXT,
    st.none() | st.just({"fields": {"code": ["Missing data for required field."]}}),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(ANSWERS | INVALID, min_size=1, max_size=20))
def test_a_batch_answer_is_the_batch_schema_dump(drawn: list[Any]) -> None:
    answers = [
        responses.item_answer(index, answer)
        if isinstance(answer, ScanAnswer)
        else responses.invalid_item_answer(index, *answer)
        for index, answer in enumerate(drawn)
    ]
    built = responses.batch_answer(answers)
    assert built == as_json(built)
    assert BatchResultSchema().dump(built) == built
    assert sum(built["counts"].values()) == len(drawn)


def test_undumped_is_the_json_response(app: Any) -> None:
    body = {"event_id": str(uuid.uuid4()), "n": 1}
    with app.test_request_context():
        response = responses.undumped(body, 201)
    assert response.status_code == 201
    assert response.get_json() == body
