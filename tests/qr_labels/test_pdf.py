"""PDF label sheets: every QR code on a rendered page decodes to its payload."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image

from cylinder_trace.qr_labels import (
    HINT_TEXT,
    LabelData,
    LabelLayout,
    LabelSigner,
    qr_matrix,
    render_pdf,
    write_pdf,
)

from .conftest import OWNER, Decoder, make_labels

DPI = 200


def render_page(pdf: bytes, index: int) -> Image.Image:
    document = pdfium.PdfDocument(pdf)
    return document[index].render(scale=DPI / 72, grayscale=True).to_pil()


def decode_slots(image: Image.Image, layout: LabelLayout, slots: int, decode: Decoder) -> list:
    """Decode label by label: zbar misses codes in a dense grid of many, so each slot is cut
    out (with a little margin) as a phone camera would frame one label."""
    px = DPI / 25.4
    found = []
    for slot in range(slots):
        x, y = layout.label_origin(slot)
        box = (
            max(0, round((x - 1) * px)),
            max(0, round((y - 1) * px)),
            round((x + layout.label_width_mm + 1) * px),
            round((y + layout.label_height_mm + 1) * px),
        )
        found.append(decode(image.crop(box)))
    return found


def test_every_label_on_a_page_decodes(
    signer: LabelSigner, layout: LabelLayout, decode_qr: Decoder
) -> None:
    labels = make_labels(signer, layout.per_page + 3)
    pdf = render_pdf(labels, layout)
    assert pdf.startswith(b"%PDF-")
    assert len(pdfium.PdfDocument(pdf)) == 2
    first = decode_slots(render_page(pdf, 0), layout, layout.per_page, decode_qr)
    assert first == [[label.payload] for label in labels[: layout.per_page]]
    second = decode_slots(render_page(pdf, 1), layout, layout.per_page, decode_qr)
    assert second == [[label.payload] for label in labels[layout.per_page :]] + [[]] * (
        layout.per_page - 3
    )


def test_the_drawn_symbol_is_the_matrix_not_a_mirror(
    signer: LabelSigner, layout: LabelLayout
) -> None:
    # Decoders read mirrored symbols too, so decoding alone would not catch a flipped axis:
    # sample every module centre of the first label and compare with the matrix.
    label = make_labels(signer, 1)[0]
    image = render_page(render_pdf([label], layout), 0)
    matrix = qr_matrix(label.payload, layout.error_correction)
    px = DPI / 25.4
    module = layout.qr_size_mm / (matrix.size + 2 * layout.qr_quiet_modules)
    x0, y0 = layout.label_origin(0)
    left = x0 + layout.padding_mm + layout.qr_quiet_modules * module
    top = y0 + (layout.label_height_mm - layout.qr_size_mm) / 2 + layout.qr_quiet_modules * module

    def dark(r: int, c: int) -> str:
        x, y = (left + (c + 0.5) * module) * px, (top + (r + 0.5) * module) * px
        return "1" if image.getpixel((x, y)) < 128 else "0"

    sampled = tuple("".join(dark(r, c) for c in range(matrix.size)) for r in range(matrix.size))
    assert sampled == matrix.rows


def test_text_is_real_text_in_an_embedded_cjk_font(
    signer: LabelSigner, layout: LabelLayout
) -> None:
    labels = make_labels(signer, 2)
    pdf = render_pdf(labels, layout)
    assert b"/FontFile2" in pdf  # an embedded TrueType font program
    text = pdfium.PdfDocument(pdf)[0].get_textpage().get_text_range()
    for label in labels:
        assert label.code in text
    assert OWNER in text
    assert HINT_TEXT in text
    assert "YSP35.5" in text


def test_progress_and_streaming(signer: LabelSigner, layout: LabelLayout) -> None:
    count = 2 * layout.per_page + 5
    produced = 0

    def lazily() -> Iterator[LabelData]:
        nonlocal produced
        for label in make_labels(signer, count):
            produced += 1
            yield label

    calls: list[tuple[int, int | None, int]] = []

    def progress(done: int, total: int | None) -> None:
        calls.append((done, total, produced))

    out = io.BytesIO()
    assert write_pdf(lazily(), layout, out, on_progress=progress, total=count) == count
    per_page = layout.per_page
    # One call per finished page; when a page is reported, the input has only been read one
    # label past it - the writer does not slurp the iterable.
    assert calls == [
        (per_page, count, per_page + 1),
        (2 * per_page, count, 2 * per_page + 1),
        (count, count, count),
    ]
    assert len(pdfium.PdfDocument(out.getvalue())) == 3


def test_total_defaults_to_len_and_is_none_for_generators(
    signer: LabelSigner, layout: LabelLayout
) -> None:
    labels = make_labels(signer, 3)
    seen: list[int | None] = []
    render_pdf(labels, layout, on_progress=lambda done, total: seen.append(total))
    render_pdf(iter(labels), layout, on_progress=lambda done, total: seen.append(total))
    assert seen == [3, None]


def test_empty_input_is_one_blank_page(layout: LabelLayout) -> None:
    pdf = render_pdf([], layout)
    document = pdfium.PdfDocument(pdf)
    assert len(document) == 1
    width, height = document[0].get_size()
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (210, 297)


def test_invariant_output_is_reproducible(signer: LabelSigner, layout: LabelLayout) -> None:
    labels = make_labels(signer, 4)
    assert render_pdf(labels, layout, invariant=True) == render_pdf(labels, layout, invariant=True)


def test_write_to_path(signer: LabelSigner, layout: LabelLayout, tmp_path: Path) -> None:
    target = tmp_path / "sheet.pdf"
    assert write_pdf(make_labels(signer, 1), layout, target) == 1
    assert target.read_bytes().startswith(b"%PDF-")
