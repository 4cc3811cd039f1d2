"""ZPL II for thermal label printers (Zebra and compatibles).

One ``^XA ... ^XZ`` block per label, same geometry as the PDF layouts. The QR code is the
printer's own ``^BQN`` (model 2) with the payload in ``^FD``; ``^CI28`` switches field data to
UTF-8.

Chinese text needs care: a stock printer has no CJK font, and a missing font prints nothing or
garbage. Two modes:

* ``cjk="graphic"`` (default): every line that is not plain ASCII is rendered here, in the label
  font, to a 1-bit bitmap and sent as ``^GFA`` hex graphic. Works on any ZPL printer; costs a few
  hundred bytes per line.
* ``cjk="font"``: text is sent as UTF-8 with ``^A@`` naming a CJK TrueType font that was
  downloaded to the printer beforehand (``printer_font``, e.g. ``"E:SIMSUN.TTF"``). Smaller
  jobs, but only correct if that font really is on the printer.

ASCII lines (code, model) always use the printer's built-in scalable font ``^A0``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Final, Literal

from PIL import Image, ImageDraw

from .compose import compose_text, register_font
from .fonts import LabelFont, find_label_font
from .images import pil_font
from .layout import PT_TO_MM, LabelData, LabelLayout
from .qr import qr_matrix

__all__ = ["label_zpl", "labels_zpl"]

CjkMode = Literal["graphic", "font"]
# Field data may not contain the ZPL command prefixes; payloads never do (LabelSigner refuses
# such a base URL), free text has them replaced.
_ZPL_SPECIAL: Final = str.maketrans({"^": " ", "~": " "})


def _dots(mm_value: float, dpmm: int) -> int:
    return round(mm_value * dpmm)


def _graphic_field(text: str, size_px: int, font: LabelFont) -> tuple[str, int]:
    """``^GFA`` command drawing ``text`` as a 1-bit bitmap, and the bitmap's ascent in dots."""
    face = pil_font(font, size_px)
    left, top, right, bottom = face.getbbox(text, anchor="ls")
    # ZPL graphics rows are whole bytes; draw on a canvas that is already a multiple of 8 wide so
    # no padding bits can turn into a black stripe.
    row_bytes = (max(1, right - left) + 7) // 8
    height = max(1, bottom - top)
    image = Image.new("1", (row_bytes * 8, height), 1)
    ImageDraw.Draw(image).text((-left, -top), text, font=face, fill=0, anchor="ls")
    # Pillow's "1" mode stores 1 = white; ZPL wants 1 = black.
    data = bytes(b ^ 0xFF for b in image.tobytes())
    total = row_bytes * height
    return f"^GFA,{total},{total},{row_bytes},{data.hex().upper()}", -top


def label_zpl(
    label: LabelData,
    layout: LabelLayout,
    *,
    dpmm: int = 8,
    cjk: CjkMode = "graphic",
    printer_font: str | None = None,
    font: LabelFont | None = None,
) -> str:
    """ZPL for one label. ``dpmm`` is the printer resolution in dots per mm (8 = 203 dpi,
    12 = 300 dpi, 24 = 600 dpi)."""
    if cjk == "font" and not printer_font:
        raise ValueError("cjk='font' needs printer_font, the CJK font stored on the printer")
    if cjk not in ("graphic", "font"):
        raise ValueError(f"unknown cjk mode {cjk!r}")
    font = font or find_label_font()
    font_name = register_font(font)
    matrix = qr_matrix(label.payload, layout.error_correction)
    qr_dots = _dots(layout.qr_size_mm, dpmm)
    # ^BQ magnification is whole dots per module, 1..10; the printer adds no quiet zone of its own
    # that we could rely on, so the layout's quiet zone is left free around it.
    magnification = max(1, min(10, qr_dots // (matrix.size + 2 * layout.qr_quiet_modules)))
    symbol_dots = magnification * matrix.size
    centring = (qr_dots - symbol_dots) // 2
    qr_x = _dots(layout.padding_mm, dpmm) + centring
    qr_y = _dots((layout.label_height_mm - layout.qr_size_mm) / 2, dpmm) + centring
    ecc = layout.error_correction
    lines = [
        "^XA",
        "^CI28",
        f"^PW{_dots(layout.label_width_mm, dpmm)}",
        f"^LL{_dots(layout.label_height_mm, dpmm)}",
        "^LH0,0",
        # ^FD for ^BQ: error correction level, "A" = automatic data mode, then the data.
        f"^FO{qr_x},{qr_y}^BQN,2,{magnification}^FD{ecc}A,{label.payload}^FS",
    ]
    for line in compose_text(label, layout, font_name):
        size = max(10, _dots(line.size_pt * PT_TO_MM, dpmm))
        x = _dots(line.x_mm, dpmm)
        text = line.text.translate(_ZPL_SPECIAL)
        if text.isascii():
            # ^FT positions at the baseline, matching our baseline-based layout.
            y = _dots(line.baseline_mm, dpmm)
            lines.append(f"^FT{x},{y}^A0N,{size},{size}^FD{text}^FS")
        elif cjk == "font":
            y = _dots(line.baseline_mm, dpmm)
            lines.append(f"^FT{x},{y}^A@N,{size},{size},{printer_font}^FD{text}^FS")
        else:
            graphic, ascent = _graphic_field(text, size, font)
            y = _dots(line.baseline_mm, dpmm) - ascent
            lines.append(f"^FO{x},{y}{graphic}^FS")
    lines.append("^XZ")
    return "\n".join(lines) + "\n"


def labels_zpl(labels: Iterable[LabelData], layout: LabelLayout, **kwargs: object) -> Iterator[str]:
    """ZPL for many labels, one ``^XA...^XZ`` block per label, lazily (stream it to the printer)."""
    for label in labels:
        yield label_zpl(label, layout, **kwargs)  # type: ignore[arg-type]
