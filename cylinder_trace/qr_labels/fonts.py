"""Locating the CJK font that labels are set in.

Labels carry Chinese text (owner company, 扫码查询气瓶信息), so the PDF must embed a font that has
those glyphs. The PDF writer (reportlab) embeds TrueType outlines only, so the font must be a
``glyf``-flavoured TrueType font or collection; CFF-flavoured OpenType fonts such as
Noto Sans CJK are rejected with a clear message rather than failing deep inside reportlab.

Lookup order, first hit wins:

1. the configured font - a path, optionally ``path#index`` for a face in a collection: the app
   passes ``Settings.label_font`` (``CYLINDER_TRACE_LABEL_FONT``, checked in ``create_app``) to
   :func:`locate_label_font`; standalone scripts call :func:`find_label_font`, which reads
   ``$CYLINDER_TRACE_LABEL_FONT`` itself;
2. any ``*.ttf`` / ``*.ttc`` dropped into ``cylinder_trace/qr_labels/fonts/`` (package data);
3. well-known system paths: WenQuanYi Micro Hei (Debian ``fonts-wqy-microhei``, the default the
   project installs), WenQuanYi Zen Hei, Droid Sans Fallback.
"""

from __future__ import annotations

import hashlib
import os
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Final

__all__ = [
    "FONT_ENV_VAR",
    "FontNotFound",
    "LabelFont",
    "find_label_font",
    "locate_label_font",
]

FONT_ENV_VAR: Final = "CYLINDER_TRACE_LABEL_FONT"
_PACKAGE_FONT_DIR: Final = Path(__file__).with_name("fonts")
SYSTEM_FONTS: Final[tuple[tuple[str, int], ...]] = (
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
)
_INSTALL_HINT: Final = (
    "install the Debian package fonts-wqy-microhei (apt-get install -y fonts-wqy-microhei), "
    f"or set {FONT_ENV_VAR}=/path/to/font.ttf (or font.ttc#index) to a TrueType-outline CJK font"
)


class FontNotFound(RuntimeError):
    """No usable CJK TrueType font was found; the message says how to install one."""


@dataclass(frozen=True, slots=True)
class LabelFont:
    """A font file and, for a collection (``.ttc``), the index of the face to use."""

    path: Path
    index: int = 0

    @property
    def key(self) -> str:
        """A short stable name for registering this face with a PDF library."""
        digest = hashlib.sha1(f"{self.path}#{self.index}".encode()).hexdigest()[:8]
        return f"LabelCJK-{digest}"


def _sfnt_tables(path: Path, index: int) -> set[bytes]:
    """Table tags of the face; raises ``ValueError`` if the file is no TrueType/OpenType font."""
    with path.open("rb") as fh:
        head = fh.read(12)
        offset = 0
        if head[:4] == b"ttcf":
            count = struct.unpack(">I", head[8:12])[0]
            if not 0 <= index < count:
                raise ValueError(f"collection has {count} faces, index {index} asked")
            fh.seek(12 + 4 * index)
            offset = struct.unpack(">I", fh.read(4))[0]
            fh.seek(offset)
            head = fh.read(12)
        elif index:
            raise ValueError("index given for a file that is not a collection")
        if head[:4] not in (b"\x00\x01\x00\x00", b"true", b"OTTO"):
            raise ValueError("not a TrueType/OpenType font")
        num_tables = struct.unpack(">H", head[4:6])[0]
        records = fh.read(16 * num_tables)
    return {records[i : i + 4] for i in range(0, len(records), 16)}


def _check(font: LabelFont) -> str | None:
    """Return why ``font`` is unusable, or ``None`` if it is fine."""
    if not font.path.is_file():
        return "no such file"
    try:
        tables = _sfnt_tables(font.path, font.index)
    except (OSError, ValueError, struct.error) as exc:
        return str(exc) or type(exc).__name__
    if b"glyf" not in tables:
        return "has CFF (PostScript) outlines; the PDF writer needs TrueType (glyf) outlines"
    return None


def _parse_env(value: str) -> LabelFont:
    path, sep, index = value.rpartition("#")
    if sep and index.isdigit():
        return LabelFont(Path(path).expanduser(), int(index))
    return LabelFont(Path(value).expanduser())


@lru_cache(maxsize=8)
def _find(env_value: str | None) -> LabelFont:
    if env_value:
        font = _parse_env(env_value)
        problem = _check(font)
        if problem:
            # An explicit setting that does not work is a configuration error, not a reason to
            # silently print labels in some other font.
            raise FontNotFound(f"{FONT_ENV_VAR}={env_value!r} is unusable: {problem}")
        return font
    tried: list[str] = []
    bundled = sorted(_PACKAGE_FONT_DIR.glob("*.tt[fc]")) if _PACKAGE_FONT_DIR.is_dir() else []
    candidates = [LabelFont(p) for p in bundled]
    candidates += [LabelFont(Path(p), i) for p, i in SYSTEM_FONTS]
    for font in candidates:
        problem = _check(font)
        if problem is None:
            return font
        tried.append(f"{font.path}: {problem}")
    raise FontNotFound("no CJK label font found; " + _INSTALL_HINT + ". Tried: " + "; ".join(tried))


def locate_label_font(spec: str | None = None) -> LabelFont:
    """The font ``spec`` names (``path`` or ``path#index``), or when it is empty the first
    usable one found (package directory, then system paths).

    Raises :class:`FontNotFound` with install advice. Reads no environment: the app passes
    ``Settings.label_font``.
    """
    return _find(spec or None)


def find_label_font() -> LabelFont:
    """For standalone use (scripts, benchmarks): ``$CYLINDER_TRACE_LABEL_FONT``, else the
    search of :func:`locate_label_font`. The app never calls this; it passes its settings."""
    return _find(os.environ.get(FONT_ENV_VAR) or None)
