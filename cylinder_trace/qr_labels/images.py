"""Single labels as PNG and SVG, e.g. for a preview in the web UI or a one-off reprint.

Both use the same geometry and text layout as the PDF sheets (:mod:`.compose`), so what a user
previews is what prints. The PNG is drawn with Pillow in the label font; the SVG keeps the QR
code as one path in module units and the text as ``<text>`` naming the font family, so it stays
small and sharp but relies on the viewer having a CJK font (the PNG does not).
"""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Final
from xml.sax.saxutils import escape, quoteattr

from PIL import Image, ImageDraw, ImageFont

from .compose import compose_text, register_font
from .fonts import LabelFont, find_label_font
from .layout import PT_TO_MM, LabelData, LabelLayout
from .qr import QRMatrix, qr_matrix

__all__ = ["SVG_FONT_FAMILY", "pil_font", "qr_svg_path", "render_label_png", "render_label_svg"]

SVG_FONT_FAMILY: Final = (
    "'WenQuanYi Micro Hei', 'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', sans-serif"
)
_MM_PER_INCH: Final = 25.4


@lru_cache(maxsize=64)
def pil_font(font: LabelFont, size_px: int) -> ImageFont.FreeTypeFont:
    """The label font loaded by Pillow at ``size_px`` pixels, cached per size."""
    return ImageFont.truetype(str(font.path), size_px, index=font.index)


def _qr_geometry(matrix: QRMatrix, layout: LabelLayout) -> tuple[float, float, float]:
    """Left and top of the symbol (inside its quiet zone) and module size, all in mm."""
    module_mm = layout.qr_size_mm / (matrix.size + 2 * layout.qr_quiet_modules)
    left = layout.padding_mm + layout.qr_quiet_modules * module_mm
    top = (layout.label_height_mm - layout.qr_size_mm) / 2 + layout.qr_quiet_modules * module_mm
    return left, top, module_mm


def render_label_png(
    label: LabelData, layout: LabelLayout, *, dpi: int = 300, font: LabelFont | None = None
) -> bytes:
    """Render one label as an 8-bit greyscale PNG at ``dpi``.

    QR modules are snapped to whole pixels (nearest-neighbour scaling) so the code stays crisp
    and decodable; the symbol may therefore be slightly smaller than ``qr_size_mm``.
    """
    font = font or find_label_font()
    font_name = register_font(font)
    px_per_mm = dpi / _MM_PER_INCH
    width = round(layout.label_width_mm * px_per_mm)
    height = round(layout.label_height_mm * px_per_mm)
    image = Image.new("L", (width, height), 255)
    matrix = qr_matrix(label.payload, layout.error_correction)
    left_mm, top_mm, module_mm = _qr_geometry(matrix, layout)
    module_px = max(1, int(module_mm * px_per_mm))
    symbol = Image.new("L", (matrix.size, matrix.size), 255)
    symbol.putdata([0 if ch == "1" else 255 for row in matrix.rows for ch in row])
    side = matrix.size * module_px
    symbol = symbol.resize((side, side), Image.Resampling.NEAREST)
    # Centre the pixel-snapped symbol where the exact one would be.
    exact_side = matrix.size * module_mm * px_per_mm
    image.paste(
        symbol,
        (
            round(left_mm * px_per_mm + (exact_side - side) / 2),
            round(top_mm * px_per_mm + (exact_side - side) / 2),
        ),
    )
    draw = ImageDraw.Draw(image)
    if layout.outline:
        draw.rectangle((0, 0, width - 1, height - 1), outline=150)
    for line in compose_text(label, layout, font_name):
        size_px = max(1, round(line.size_pt * PT_TO_MM * px_per_mm))
        draw.text(
            (line.x_mm * px_per_mm, line.baseline_mm * px_per_mm),
            line.text,
            font=pil_font(font, size_px),
            fill=0,
            anchor="ls",
        )
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(dpi, dpi), optimize=False)
    return out.getvalue()


def qr_svg_path(matrix: QRMatrix) -> str:
    """SVG path data drawing the dark modules in module units (one ``h`` run per dark run)."""
    parts = []
    for r, c, length in matrix.runs():
        parts.append(f"M{c} {r}h{length}v1h-{length}z")
    return "".join(parts)


def render_label_svg(
    label: LabelData, layout: LabelLayout, *, font: LabelFont | None = None
) -> bytes:
    """Render one label as SVG (UTF-8 bytes) sized in millimetres."""
    font_name = register_font(font)
    matrix = qr_matrix(label.payload, layout.error_correction)
    left, top, module = _qr_geometry(matrix, layout)
    w, h = layout.label_width_mm, layout.label_height_mm
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}mm" height="{h}mm" '
        f'viewBox="0 0 {w} {h}">',
        f'<rect width="{w}" height="{h}" fill="#fff"'
        + (' stroke="#999" stroke-width="0.1"' if layout.outline else "")
        + "/>",
        f'<path transform="translate({left:.4f} {top:.4f}) scale({module:.5f})" '
        f'fill="#000" shape-rendering="crispEdges" d="{qr_svg_path(matrix)}"/>',
        f'<g font-family={quoteattr(SVG_FONT_FAMILY)} fill="#000">',
    ]
    for line in compose_text(label, layout, font_name):
        out.append(
            f'<text x="{line.x_mm:.3f}" y="{line.baseline_mm:.3f}" '
            f'font-size="{line.size_pt * PT_TO_MM:.3f}">{escape(line.text)}</text>'
        )
    out.append("</g>")
    out.append(f"<desc>{escape(label.payload)}</desc>")
    out.append("</svg>")
    return ("\n".join(out) + "\n").encode("utf-8")
