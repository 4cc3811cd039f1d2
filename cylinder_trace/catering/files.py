"""Photos and signatures of checks: recognised by content, limited in size, stored by hash.

What a client says a file is (its name, its Content-Type) is ignored: a file is a JPEG or a
PNG only if its first bytes say so and Pillow can parse it as that format. Files are
stored under the configured directory as ``<sha256[:2]>/<sha256>``, written to a temporary
name and renamed, so a reader never sees half a file and the same picture is kept once.

A file is written before the check's transaction commits; if that transaction then rolls
back, the file stays on disk unreferenced. That is harmless (it is named by its content
and served only through a check that references it).
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from cylinder_trace.catering.models import ImageType
from cylinder_trace.domain.errors import DomainError, NotFound

log = logging.getLogger(__name__)

_MAGIC: tuple[tuple[bytes, ImageType, str], ...] = (
    (b"\xff\xd8\xff", ImageType.JPEG, "JPEG"),
    (b"\x89PNG\r\n\x1a\n", ImageType.PNG, "PNG"),
)
# Larger than any phone camera; refuses decompression bombs before they are decoded.
MAX_PIXELS = 60_000_000


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
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
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
