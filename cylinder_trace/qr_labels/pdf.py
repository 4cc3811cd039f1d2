"""Print-ready A4 sheets of labels as PDF.

Library: reportlab rather than fpdf2. Both are pure Python; reportlab was chosen because

* it has a public way to put raw content-stream operators on a page (``Canvas.addLiteral``), so
  each QR code is one path of ``re`` (rectangle) operators in module units under a single ``cm``
  transform, filled once - integers only, no per-module drawing calls, and one filled path means
  no hairline seams between modules when a viewer anti-aliases;
* its TrueType embedding subsets CJK fonts and supports TrueType collections (``.ttc`` with
  ``subfontIndex``), which is how Debian ships WenQuanYi Micro Hei;
* it is mature and widely packaged (Debian ``python3-reportlab``), with C helpers for the hot
  string formatting.

Labels are consumed lazily from any iterable (a database cursor, a generator), one at a time.
reportlab keeps each finished page's content until ``save()`` and compresses it there, so memory
grows with the page count only: a 10,000-label run peaks under 100 MiB RSS for the whole process.
``on_progress(done, total)`` is called after every page (``total`` is ``None`` when the input
has no length and none was given).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable, Iterable
from typing import BinaryIO, Final

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from .compose import compose_text, register_font
from .fonts import LabelFont
from .layout import LabelData, LabelLayout
from .qr import qr_matrix

__all__ = ["ProgressCallback", "qr_path_operators", "render_pdf", "write_pdf"]

ProgressCallback = Callable[[int, int | None], None]

_DARK_RUN_RE: Final = re.compile(r"1+")
_OUTLINE_GRAY: Final = 0.6
_OUTLINE_WIDTH_PT: Final = 0.25


def qr_path_operators(rows: tuple[str, ...], x_pt: float, y_pt: float, module_pt: float) -> str:
    """PDF operators that fill the dark modules of ``rows`` with the symbol's top-left corner at
    (``x_pt``, ``y_pt``) in PDF coordinates (y up).

    Dark runs in a row become one rectangle each; coordinates are whole module numbers under a
    ``cm`` scale, which keeps the stream short and exact.
    """
    size = len(rows)
    stride = size + 1
    top = size - 1
    bottom = y_pt - size * module_pt
    head = f"q {module_pt:.5f} 0 0 {module_pt:.5f} {x_pt:.3f} {bottom:.3f} cm 0 g\n"
    # One regex pass over the whole symbol beats per-row searching in Python.
    rects = [
        f"{start % stride} {top - start // stride} {end - start} 1 re\n"
        for start, end in (m.span() for m in _DARK_RUN_RE.finditer("\n".join(rows)))
    ]
    return head + "".join(rects) + "f Q"


class _SheetWriter:
    """Draws labels slot by slot on a reportlab canvas."""

    def __init__(self, canvas: Canvas, layout: LabelLayout, font_name: str) -> None:
        self.canvas = canvas
        self.layout = layout
        self.font_name = font_name
        self.page_height_pt = layout.page_height_mm * mm

    def draw(self, label: LabelData, slot: int) -> None:
        lay = self.layout
        c = self.canvas
        left_mm, top_mm = lay.label_origin(slot)
        if lay.outline:
            c.saveState()
            c.setStrokeGray(_OUTLINE_GRAY)
            c.setLineWidth(_OUTLINE_WIDTH_PT)
            c.rect(
                left_mm * mm,
                self.page_height_pt - (top_mm + lay.label_height_mm) * mm,
                lay.label_width_mm * mm,
                lay.label_height_mm * mm,
            )
            c.restoreState()
        matrix = qr_matrix(label.payload, lay.error_correction)
        modules = matrix.size + 2 * lay.qr_quiet_modules
        module_pt = lay.qr_size_mm * mm / modules
        # The symbol is centred vertically; the quiet zone is inside qr_size_mm.
        qr_top_mm = top_mm + (lay.label_height_mm - lay.qr_size_mm) / 2
        x_pt = (left_mm + lay.padding_mm) * mm + lay.qr_quiet_modules * module_pt
        y_pt = self.page_height_pt - qr_top_mm * mm - lay.qr_quiet_modules * module_pt
        c.addLiteral(qr_path_operators(matrix.rows, x_pt, y_pt, module_pt))
        for line in compose_text(label, lay, self.font_name):
            c.setFont(self.font_name, line.size_pt)
            c.drawString(
                (left_mm + line.x_mm) * mm,
                self.page_height_pt - (top_mm + line.baseline_mm) * mm,
                line.text,
            )


def write_pdf(
    labels: Iterable[LabelData],
    layout: LabelLayout,
    out: str | os.PathLike[str] | BinaryIO,
    *,
    on_progress: ProgressCallback | None = None,
    total: int | None = None,
    font: LabelFont | None = None,
    title: str = "Cylinder labels",
    invariant: bool = False,
) -> int:
    """Write ``labels`` as A4 label sheets to ``out`` (a path or a binary file) and return the
    number of labels written.

    ``total`` is passed to ``on_progress``; it defaults to ``len(labels)`` when that exists.
    ``invariant=True`` makes the output byte-for-byte reproducible (no timestamps), for tests.
    An empty input still produces a valid one-page PDF.
    """
    if total is None and hasattr(labels, "__len__"):
        total = len(labels)  # type: ignore[arg-type]
    font_name = register_font(font)
    target: str | BinaryIO = os.fspath(out) if isinstance(out, str | os.PathLike) else out
    canvas = Canvas(
        target,
        pagesize=(layout.page_width_mm * mm, layout.page_height_mm * mm),
        pageCompression=1,
        invariant=int(invariant),
    )
    canvas.setTitle(title)
    canvas.setCreator("cylinder-trace")
    writer = _SheetWriter(canvas, layout, font_name)
    per_page = layout.per_page
    done = 0
    slot = 0
    for label in labels:
        if slot == per_page:
            canvas.showPage()
            if on_progress:
                on_progress(done, total)
            slot = 0
        writer.draw(label, slot)
        slot += 1
        done += 1
    canvas.showPage()
    canvas.save()
    if on_progress:
        on_progress(done, total)
    return done


def render_pdf(labels: Iterable[LabelData], layout: LabelLayout, **kwargs: object) -> bytes:
    """Like :func:`write_pdf` but returns the PDF as bytes."""
    buffer = io.BytesIO()
    write_pdf(labels, layout, buffer, **kwargs)  # type: ignore[arg-type]
    return buffer.getvalue()
