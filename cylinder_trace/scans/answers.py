"""What recording a scan answers: ``ScanAnswer``, and the answers to repeated event ids.

A new scan's answer is its verdict (``scans.services``); a scan whose event_id is stored
already is answered as the stored one was (``duplicate``), or refused as
``event_id_conflict`` when its content differs; so is a batch's second use of an event_id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cylinder_trace.scans import store
from cylinder_trace.scans.context import ScanContext
from cylinder_trace.scans.models import ScanResult
from cylinder_trace.translations import message

DUPLICATE = "duplicate"


@dataclass(slots=True)
class ScanAnswer:
    """One item's answer from ``record_scans``: its status, code, message and stored scan.

    ``record`` holds a new scan's fields as written, refused or kept (POST /scans answers
    from it: ``fastpath.responses.scan_answer``); None for a repeat.
    """

    index: int
    event_id: str | None
    status: str
    code: str | None = None
    message: str | None = None
    original_status: str | None = None
    scan_id: int | None = None
    record: dict[str, Any] | None = field(default=None, repr=False)


def repeat_answer(
    index: int, item: dict[str, Any], content_hash: str, scan: store.StoredScan, ctx: ScanContext
) -> ScanAnswer:
    event_id = str(item["event_id"])
    if scan.content_hash != content_hash:
        return ScanAnswer(
            index,
            event_id,
            ScanResult.REJECTED.value,
            "event_id_conflict",
            message("event_id_conflict", ctx.language),
            scan_id=scan.id,
        )
    return ScanAnswer(
        index,
        event_id,
        DUPLICATE,
        scan.result_code,
        message(scan.result_code, ctx.language) if scan.result_code else None,
        original_status=scan.result.value,
        scan_id=scan.id,
    )


def answer_repeats_in_batch(
    items: list[dict[str, Any]], hashes: list[str], first_seen: dict, results: list
) -> None:
    for index, item in enumerate(items):
        if results[index] is not None:
            continue
        first = results[first_seen[item["event_id"]]]
        if hashes[index] != hashes[first_seen[item["event_id"]]]:
            results[index] = ScanAnswer(
                index,
                str(item["event_id"]),
                ScanResult.REJECTED.value,
                "event_id_conflict",
                "The batch uses this event_id twice for different scans.",
            )
        else:
            status = first.original_status or first.status
            results[index] = ScanAnswer(
                index,
                first.event_id,
                DUPLICATE,
                first.code,
                first.message,
                original_status=status,
                scan_id=first.scan_id,
            )
