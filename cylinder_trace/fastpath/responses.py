"""Answers of POST /scans and POST /scans/batch, built as JSON directly, not dumped.

Both endpoints declare their answer with ``@blp.response`` (``ScanSchema``,
``BatchResultSchema``): that is the definition, and what the OpenAPI document says. The
views build the very same JSON here and return it as a ready response, which flask-smorest
passes through without dumping: one interactive scan is the commonest request, and the
dump was a tenth of its CPU; dumping 1,000 batch results cost more than recording them.
tests/fastpath/test_responses.py holds each equal to what its schema dumps (README.md).
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app


def scan_answer(scan: dict[str, Any]) -> dict[str, Any]:
    """What ``ScanSchema().dump`` gives for a new scan's fields (as written, with its id)."""
    outcome = scan["outcome"]
    return {
        "id": scan["id"],
        "event_id": str(scan["event_id"]),
        "kind": scan["kind"].value,
        "outcome": outcome.value if outcome else None,
        "scanned": scan["scanned"],
        "cylinder_code": scan["chain_key"] if scan["cylinder_id"] else None,
        "occurred_at": scan["occurred_at"].isoformat(),
        "received_at": scan["received_at"].isoformat(),
        "actor_user_id": scan["actor_user_id"],
        "device_id": scan["device_id"],
        "site_id": scan["site_id"],
        "customer_id": scan["customer_id"],
        "data": dict(scan["data"]),
        "interactive": scan["interactive"],
        "result": scan["result"].value,
        "result_code": scan["result_code"],
        "result_message": scan["result_message"],
        "review_code": scan["review_code"],
        "seq": scan["seq"],
        "record_hash": scan["record_hash"],
    }


def item_answer(index: int, answer: Any) -> dict[str, Any]:
    """What ``ScanAnswerSchema().dump`` gives for a batch item's ``ScanAnswer``."""
    return {
        "index": index,
        "event_id": answer.event_id,
        "status": answer.status,
        "code": answer.code,
        "message": answer.message,
        "original_status": answer.original_status,
        "scan_id": answer.scan_id,
    }


def invalid_item_answer(
    index: int, item: Any, code: str, message: str, details: Any
) -> dict[str, Any]:
    """What ``ScanAnswerSchema().dump`` gives for an item refused before recording."""
    event_id = item.get("event_id") if isinstance(item, dict) else None
    return {
        "index": index,
        "event_id": event_id if isinstance(event_id, str) else None,
        "status": "rejected",
        "code": code,
        "message": message,
        "details": details,
    }


def batch_answer(answers: list[dict[str, Any]]) -> dict[str, Any]:
    """What ``BatchResultSchema().dump`` gives for the items' answers, with their counts."""
    counts: dict[str, int] = {}
    for answer in answers:
        counts[answer["status"]] = counts.get(answer["status"], 0) + 1
    return {"results": answers, "counts": counts}


def undumped(body: dict[str, Any], status: int) -> Response:
    """``body`` as the JSON response, in place of ``@blp.response``'s dump of it."""
    response = current_app.json.response(body)
    response.status_code = status
    return response
