"""Where the text goes on a label, shared by the PDF, PNG and SVG renderers.

All three measure text with the same font metrics (reportlab's reading of the label font), so a
company name wraps the same way on a printed sheet and in a preview image.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from .fonts import LabelFont, find_label_font
from .layout import CODE_MAX_LINES, HINT_TEXT, PT_TO_MM, LabelData, LabelLayout

__all__ = ["MissingGlyphs", "TextLine", "compose_text", "register_font"]

# Fraction of the font size above the baseline, close to the ascent of common CJK fonts; used to
# put the first baseline so that tall glyphs stay inside the label.
_ASCENT: Final = 0.88
_STEP_PT: Final = 0.25
_ELLIPSIS: Final = "…"


class MissingGlyphs(ValueError):
    """The label font has no glyph for some characters; printing would show empty boxes."""

    def __init__(self, text: str, missing: str) -> None:
        self.text = text
        self.missing = missing
        super().__init__(f"label font has no glyph for {missing!r} in {text!r}")


@dataclass(frozen=True, slots=True)
class TextLine:
    """One line of text: position of its baseline start relative to the label's top-left."""

    text: str
    size_pt: float
    x_mm: float
    baseline_mm: float


@lru_cache(maxsize=8)
def register_font(font: LabelFont | None = None) -> str:
    """Register the label font with reportlab once per process and return its name."""
    font = font or find_label_font()
    name = font.key
    try:
        pdfmetrics.getFont(name)
    except KeyError:
        pdfmetrics.registerFont(TTFont(name, str(font.path), subfontIndex=font.index))
    return name


@lru_cache(maxsize=4096)
def _check_glyphs(font_name: str, text: str) -> None:
    face = pdfmetrics.getFont(font_name).face  # type: ignore[attr-defined]
    missing = "".join(sorted({ch for ch in text if ord(ch) not in face.charToGlyph}))
    if missing:
        raise MissingGlyphs(text, missing)


def _wrap(text: str, size_pt: float, width_pt: float, font_name: str) -> list[str]:
    """Greedy wrap by character: CJK has no spaces, and codes may be cut anywhere."""
    lines: list[str] = []
    current = ""
    for ch in text:
        trial = current + ch
        if current and pdfmetrics.stringWidth(trial, font_name, size_pt) > width_pt:
            lines.append(current)
            current = ch
        else:
            current = trial
    if current:
        lines.append(current)
    return lines


def _sizes(start: float, stop: float) -> list[float]:
    sizes = []
    size = start
    while size >= stop - 1e-9:
        sizes.append(round(size, 2))
        size -= _STEP_PT
    return sizes or [stop]


@lru_cache(maxsize=8192)
def fit_text(
    text: str, width_mm: float, size_pt: float, min_pt: float, max_lines: int, font_name: str
) -> tuple[float, tuple[str, ...]]:
    """Choose a font size and line breaks so ``text`` fits ``width_mm`` in ``max_lines``.

    Prefers one line, shrinking to 80% of ``size_pt``; then wraps at ``size_pt`` and shrinks to
    ``min_pt``; as a last resort cuts the last line with an ellipsis.
    """
    width_pt = width_mm / PT_TO_MM
    if pdfmetrics.stringWidth(text, font_name, size_pt) <= width_pt:
        return size_pt, (text,)
    for size in _sizes(size_pt, max(min_pt, 0.8 * size_pt)):
        if pdfmetrics.stringWidth(text, font_name, size) <= width_pt:
            return size, (text,)
    for size in _sizes(size_pt, min_pt):
        lines = _wrap(text, size, width_pt, font_name)
        if len(lines) <= max_lines:
            return size, tuple(lines)
    lines = _wrap(text, min_pt, width_pt, font_name)[:max_lines]
    last = lines[-1]
    while last and pdfmetrics.stringWidth(last + _ELLIPSIS, font_name, min_pt) > width_pt:
        last = last[:-1]
    return min_pt, (*lines[:-1], last + _ELLIPSIS)


def compose_text(label: LabelData, layout: LabelLayout, font_name: str) -> list[TextLine]:
    """Lay out code, model, owner and hint lines in the text column, centred vertically.

    Raises :class:`MissingGlyphs` if the font cannot show a character of the label.
    """
    blocks = (
        (label.code, layout.code_pt, CODE_MAX_LINES),
        (label.model, layout.model_pt, 1),
        (label.owner_name, layout.owner_pt, layout.owner_max_lines),
        (HINT_TEXT, layout.hint_pt, 1),
    )
    width = layout.text_width_mm
    fitted: list[tuple[float, str]] = []
    for text, size, max_lines in blocks:
        if not text:
            continue
        _check_glyphs(font_name, text)
        chosen, lines = fit_text(text, width, size, layout.min_pt, max_lines, font_name)
        fitted.extend((chosen, line) for line in lines)
    spacing = layout.line_spacing
    height_mm = sum(size * spacing for size, _ in fitted) * PT_TO_MM
    top = (layout.label_height_mm - height_mm) / 2
    result: list[TextLine] = []
    for size, line in fitted:
        line_mm = size * spacing * PT_TO_MM
        # Half the extra leading above the glyphs, the ascent from there to the baseline.
        baseline = top + (line_mm - size * PT_TO_MM) / 2 + _ASCENT * size * PT_TO_MM
        result.append(TextLine(line, size, layout.text_x_mm, baseline))
        top += line_mm
    return result
