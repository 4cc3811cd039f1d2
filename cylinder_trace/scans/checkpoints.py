"""Signed checkpoints of every scan chain's head, kept outside the database.

A hash chain alone proves nothing to someone who can write the database: they can edit a
record and re-hash the rest of its chain with the project's own function, drop a chain's
newest record and fix its head, or delete a whole chain with its head row. A checkpoint
fixes, at one moment, each chain's length and the hash of its last record, signed with a
key the database never holds (``CT_CHECKPOINT_KEY``), in an append-only file
(``CT_CHECKPOINT_PATH``) that should live on another machine or volume (``chattr +a``,
object lock). ``verify_chains`` holds the database to the newest valid checkpoint: every
chain it names must still be there, at least that long, with that very record at that
place. Records written after the newest checkpoint are only as safe as the chain itself,
so checkpoints are taken often (a scheduled ``cylinder-trace scans checkpoint``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from cylinder_trace.scans.models import ScanChain

VERSION = 1


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Each chain's (length, last record hash) at one moment, as signed."""

    taken_at: str
    heads: dict[str, tuple[int, str]]

    @property
    def records(self) -> int:
        return sum(length for length, _ in self.heads.values())


class CheckpointError(Exception):
    """The checkpoint file cannot be trusted (a bad signature, a broken line)."""


def _body(taken_at: str, heads: list[list[object]]) -> bytes:
    payload = {"version": VERSION, "taken_at": taken_at, "heads": heads}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def _signature(key: bytes, body: bytes) -> str:
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def take_checkpoint(session: Session, path: Path, key: bytes, now: datetime) -> Checkpoint:
    """Append a signed checkpoint of every chain head to ``path``; return it."""
    rows = session.execute(
        select(ScanChain.chain_key, ScanChain.length, ScanChain.head_hash).order_by(
            ScanChain.chain_key
        )
    ).all()
    heads = [[key_, length, head_hash] for key_, length, head_hash in rows]
    taken_at = now.isoformat()
    body = _body(taken_at, heads)
    line = json.dumps(
        {
            "version": VERSION,
            "taken_at": taken_at,
            "heads": heads,
            "signature": _signature(key, body),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    # Appended and synced: a checkpoint the disk lost is one that never protected anything.
    with path.open("a", encoding="utf-8") as file:
        file.write(line + "\n")
        file.flush()
        os.fsync(file.fileno())
    return Checkpoint(taken_at, {k: (length, h) for k, length, h in heads})


def latest_checkpoint(path: Path | None, key: bytes) -> Checkpoint | None:
    """The newest checkpoint in ``path`` (None: no file, or an empty one).

    Raises CheckpointError when the newest line is not signed with ``key``: someone wrote
    the file without it, or the key changed.
    """
    if path is None or not path.exists():
        return None
    last = None
    with path.open(encoding="utf-8") as file:
        for line in file:
            if line.strip():
                last = line
    if last is None:
        return None
    try:
        entry = json.loads(last)
        body = _body(entry["taken_at"], entry["heads"])
        signature = entry["signature"]
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"the newest checkpoint in {path} is not readable") from exc
    if not hmac.compare_digest(_signature(key, body), str(signature)):
        raise CheckpointError(f"the newest checkpoint in {path} is not signed with this key")
    return Checkpoint(
        entry["taken_at"], {str(k): (int(length), str(h)) for k, length, h in entry["heads"]}
    )
