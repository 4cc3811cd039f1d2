"""Photos and signatures of checks: recognised by content, limited in size, stored by hash.

What a client says a file is (its name, its Content-Type) is ignored: a file is a JPEG or a
PNG only if its first bytes say so and Pillow can parse it as that format. Files are
stored under the configured directory as ``<sha256[:2]>/<sha256>``, written to a temporary
name and renamed, so a reader never sees half a file and the same picture is kept once.

A file is written before the check's transaction commits; if that transaction then rolls
back, the file stays on disk unreferenced. It is never served (only a check that
references it serves it), and ``prune_unreferenced_files`` (``cylinder-trace catering
prune-files``) removes such files once they are older than a grace period: a file is
written, or its time refreshed when a new check reuses it, just before the check's rows,
so a transaction still in flight is never robbed of its file.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from cylinder_trace.catering.models import CateringCheckFile, ImageType
from cylinder_trace.domain.errors import DomainError, NotFound

log = logging.getLogger(__name__)

_MAGIC: tuple[tuple[bytes, ImageType, str], ...] = (
    (b"\xff\xd8\xff", ImageType.JPEG, "JPEG"),
    (b"\x89PNG\r\n\x1a\n", ImageType.PNG, "PNG"),
)
# Larger than any phone camera; refuses decompression bombs before they are decoded.
MAX_PIXELS = 60_000_000
_TEMPORARY_PREFIX = ".upload-"


class CheckFileInvalid(DomainError):
    """A photo or signature that is not an acceptable image."""

    kind = "invalid"


@dataclass(frozen=True, slots=True)
class Upload:
    """A file as received: the bytes (read up to the limit + 1) and the client's name."""

    data: bytes
    filename: str | None = None


@dataclass(frozen=True, slots=True)
class StoredFile:
    sha256: str
    size_bytes: int
    content_type: ImageType


def sniff_image(data: bytes, *, field: str, max_bytes: int) -> ImageType:
    """The image type of ``data`` (JPEG or PNG) from its content, or CheckFileInvalid.

    Codes: ``file_empty``, ``file_too_large`` (details.max_bytes), ``file_type_not_allowed``
    (not a JPEG or PNG by its first bytes), ``file_unreadable`` (the right first bytes but
    not an image Pillow can parse, or absurdly many pixels).
    """
    details: dict[str, object] = {"field": field}
    if not data:
        raise CheckFileInvalid(f"{field}: the file is empty.", code="file_empty", details=details)
    if len(data) > max_bytes:
        raise CheckFileInvalid(
            f"{field}: the file is larger than {max_bytes} bytes.",
            code="file_too_large",
            details={**details, "max_bytes": max_bytes},
        )
    known = [(kind, name) for magic, kind, name in _MAGIC if data.startswith(magic)]
    if not known:
        raise CheckFileInvalid(
            f"{field}: only JPEG and PNG images are accepted.",
            code="file_type_not_allowed",
            details={**details, "allowed": [t.value for t in ImageType]},
        )
    content_type, pillow_format = known[0]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[pillow_format]) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise ValueError("too many pixels")
                image.verify()
    except Exception as exc:  # Pillow raises many kinds for a broken file
        raise CheckFileInvalid(
            f"{field}: the file is not a readable {pillow_format} image.",
            code="file_unreadable",
            details=details,
        ) from exc
    return content_type


class FileStore:
    """Content-addressed files under one directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 hex digest")
        return self.root / sha256[:2] / sha256

    def save(self, data: bytes, content_type: ImageType) -> StoredFile:
        """Store ``data`` (already checked) once; return its hash, size and type."""
        sha256 = hashlib.sha256(data).hexdigest()
        path = self.path_of(sha256)
        try:
            # Reused: its time says "in use now", so pruning leaves it alone for a while.
            os.utime(path)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=_TEMPORARY_PREFIX)
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        return StoredFile(sha256=sha256, size_bytes=len(data), content_type=content_type)

    def read(self, sha256: str) -> bytes:
        """The stored bytes; NotFound (and an error in the log) if the file is gone."""
        path = self.path_of(sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            log.error("check file %s is missing from %s", sha256, self.root)
            raise NotFound("The file is no longer stored.", code="check_file_missing") from None
        if hashlib.sha256(data).hexdigest() != sha256:
            log.error("check file %s does not match its hash", sha256)
            raise NotFound("The stored file is damaged.", code="check_file_missing")
        return data


_HEX = frozenset("0123456789abcdef")


@dataclass
class PruneResult:
    """What pruning found: files kept because a check references them, files removed."""

    referenced: int = 0
    too_recent: int = 0
    removed: list[str] = field(default_factory=list)  # sha256 of each removed file
    removed_partial: int = 0  # temporary files of uploads that never finished
    bytes_removed: int = 0


def prune_unreferenced_files(
    session: Session,
    store: FileStore,
    *,
    older_than: timedelta,
    now: datetime,
    dry_run: bool = False,
    batch_size: int = 1000,
) -> PruneResult:
    """Remove stored files no check references, and abandoned temporary files.

    Only files untouched for ``older_than`` are considered: a newer one may belong to a
    check whose transaction has not committed yet. With ``dry_run`` nothing is removed;
    the result says what would be. Reads the database, never writes it.
    """
    result = PruneResult()
    cutoff = (now - older_than).timestamp()
    batch: list[tuple[str, Path, int]] = []

    def settle() -> None:
        hashes = [sha256 for sha256, _, _ in batch]
        referenced = set(
            session.scalars(
                select(CateringCheckFile.sha256).where(CateringCheckFile.sha256.in_(hashes))
            )
        )
        for sha256, path, size in batch:
            if sha256 in referenced:
                result.referenced += 1
                continue
            if _touched_since(path, cutoff):  # reused by a check in flight meanwhile
                result.too_recent += 1
                continue
            if not dry_run:
                path.unlink(missing_ok=True)
            result.removed.append(sha256)
            result.bytes_removed += size
        batch.clear()

    for path in _stored_paths(store.root):
        stat = path.stat()
        if stat.st_mtime > cutoff:
            result.too_recent += 1
        elif path.name.startswith(_TEMPORARY_PREFIX):
            if not dry_run:
                path.unlink(missing_ok=True)
            result.removed_partial += 1
        else:
            batch.append((path.name, path, stat.st_size))
            if len(batch) >= batch_size:
                settle()
    if batch:
        settle()
    return result


def _touched_since(path: Path, cutoff: float) -> bool:
    try:
        return path.stat().st_mtime > cutoff
    except FileNotFoundError:
        return True  # gone already: nothing to remove


def _stored_paths(root: Path) -> Iterator[Path]:
    """Every file the store wrote: ``<2 hex>/<64 hex>`` and its temporary files."""
    if not root.is_dir():
        return
    for folder in sorted(root.iterdir()):
        if not (folder.is_dir() and len(folder.name) == 2 and set(folder.name) <= _HEX):
            continue
        for path in sorted(folder.iterdir()):
            if not path.is_file():
                continue
            name = path.name
            if name.startswith(_TEMPORARY_PREFIX) or (
                len(name) == 64 and set(name) <= _HEX and name.startswith(folder.name)
            ):
                yield path
