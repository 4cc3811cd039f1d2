"""Cylinder QR labels: signed payloads, QR matrices, PNG/SVG/PDF/ZPL output.

Framework-free: nothing here imports Flask or SQLAlchemy, so the web app, a CLI and batch jobs
can all use it. Typical use::

    signer = LabelSigner("HTTPS://TRACE.EXAMPLE.CN/C/", {"1": secret}, "1")
    label = LabelData(code, signer.sign(code), "YSP35.5", "重庆大足燃气有限公司")
    write_pdf(labels_iterable, load_layout("50x30"), "labels.pdf", on_progress=bar.update)
    png = render_label_png(label, load_layout("70x40"), dpi=300)
    zpl = label_zpl(label, load_layout("50x30"), dpmm=8)
    code = signer.verify(scanned_text)  # raises LabelInvalid (code "label_invalid")

Only the signing names are imported eagerly; the rendering ones (reportlab, Pillow, qrcode) load
on first use, so a web worker that only verifies scans never pays for them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .signing import CODE_PATTERN, CODE_RE, LabelInvalid, LabelSigner, parse_keys, validate_code

if TYPE_CHECKING:
    from .compose import MissingGlyphs, TextLine, compose_text, register_font
    from .fonts import FONT_ENV_VAR, FontNotFound, LabelFont, find_label_font
    from .images import render_label_png, render_label_svg
    from .layout import (
        HINT_TEXT,
        LabelData,
        LabelLayout,
        LayoutError,
        available_layouts,
        layout_from_dict,
        load_layout,
    )
    from .pdf import ProgressCallback, render_pdf, write_pdf
    from .qr import ERROR_CORRECTION, QRMatrix, qr_matrix
    from .zpl import label_zpl, labels_zpl

_LAZY: dict[str, str] = {
    **dict.fromkeys(("MissingGlyphs", "TextLine", "compose_text", "register_font"), ".compose"),
    **dict.fromkeys(("FONT_ENV_VAR", "FontNotFound", "LabelFont", "find_label_font"), ".fonts"),
    **dict.fromkeys(("render_label_png", "render_label_svg"), ".images"),
    **dict.fromkeys(
        (
            "HINT_TEXT",
            "LabelData",
            "LabelLayout",
            "LayoutError",
            "available_layouts",
            "layout_from_dict",
            "load_layout",
        ),
        ".layout",
    ),
    **dict.fromkeys(("ProgressCallback", "render_pdf", "write_pdf"), ".pdf"),
    **dict.fromkeys(("ERROR_CORRECTION", "QRMatrix", "qr_matrix"), ".qr"),
    **dict.fromkeys(("label_zpl", "labels_zpl"), ".zpl"),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "CODE_PATTERN",
    "CODE_RE",
    "ERROR_CORRECTION",
    "FONT_ENV_VAR",
    "HINT_TEXT",
    "FontNotFound",
    "LabelData",
    "LabelFont",
    "LabelInvalid",
    "LabelLayout",
    "LabelSigner",
    "LayoutError",
    "MissingGlyphs",
    "ProgressCallback",
    "QRMatrix",
    "TextLine",
    "available_layouts",
    "compose_text",
    "find_label_font",
    "label_zpl",
    "labels_zpl",
    "layout_from_dict",
    "load_layout",
    "parse_keys",
    "qr_matrix",
    "register_font",
    "render_label_png",
    "render_label_svg",
    "render_pdf",
    "validate_code",
    "write_pdf",
]
