"""Single labels as PNG and SVG."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

from cylinder_trace.qr_labels import (
    HINT_TEXT,
    LabelData,
    LabelLayout,
    LabelSigner,
    MissingGlyphs,
    qr_matrix,
    render_label_png,
    render_label_svg,
)

from .conftest import MODEL, OWNER, Decoder

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def label(signer: LabelSigner) -> LabelData:
    return LabelData("CQDZ-000123", signer.sign("CQDZ-000123"), MODEL, OWNER)


@pytest.mark.parametrize("dpi", [203, 300])
def test_png_decodes_to_its_payload(
    label: LabelData, layout: LabelLayout, decode_qr: Decoder, dpi: int
) -> None:
    data = render_label_png(label, layout, dpi=dpi)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data))
    assert image.size == (
        round(layout.label_width_mm / 25.4 * dpi),
        round(layout.label_height_mm / 25.4 * dpi),
    )
    assert round(image.info["dpi"][0]) == dpi
    assert decode_qr(image) == [label.payload]


def text_column_ink(label: LabelData, layout: LabelLayout) -> int:
    """Dark pixels right of the QR code at 300 dpi."""
    image = Image.open(io.BytesIO(render_label_png(label, layout, dpi=300))).convert("L")
    px_per_mm = 300 / 25.4
    column = image.crop((round(layout.text_x_mm * px_per_mm), 0, image.width, image.height))
    return sum(column.histogram()[:128])


def test_png_has_text_in_the_text_column(label: LabelData, layout: LabelLayout) -> None:
    full = text_column_ink(label, layout)
    code_and_hint = text_column_ink(LabelData(label.code, label.payload, "", ""), layout)
    # Model and owner lines add ink; a renderer that dropped CJK text would add none.
    assert 0 < code_and_hint < full
    assert full > 1.5 * code_and_hint


def path_modules(d: str) -> set[tuple[int, int]]:
    """Dark modules painted by our path data ``M{c} {r}h{n}v1h-{n}z`` ..."""
    modules = set()
    for c, r, n in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", d):
        modules.update((int(r), int(c) + i) for i in range(int(n)))
    assert re.sub(r"M(\d+) (\d+)h(\d+)v1h-\3z", "", d) == ""
    return modules


def test_svg_draws_exactly_the_qr_and_all_text(label: LabelData, layout: LabelLayout) -> None:
    data = render_label_svg(label, layout)
    root = ET.fromstring(data)
    assert root.tag == f"{SVG}svg"
    assert root.get("width") == f"{layout.label_width_mm}mm"
    assert root.get("height") == f"{layout.label_height_mm}mm"
    path = root.find(f"{SVG}path")
    assert path is not None
    matrix = qr_matrix(label.payload, layout.error_correction)
    dark = {(r, c) for r, row in enumerate(matrix.rows) for c, ch in enumerate(row) if ch == "1"}
    assert path_modules(path.get("d", "")) == dark
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts == [label.code, label.model, label.owner_name, HINT_TEXT]
    assert label.payload in data.decode("utf-8")


def test_svg_escapes_markup(signer: LabelSigner, layout: LabelLayout) -> None:
    label = LabelData("CQDZ-000124", signer.sign("CQDZ-000124"), "<YSP&12>", OWNER)
    root = ET.fromstring(render_label_svg(label, layout))
    assert "<YSP&12>" in [t.text for t in root.iter(f"{SVG}text")]


def test_missing_glyphs_are_an_error_not_tofu(signer: LabelSigner, layout: LabelLayout) -> None:
    # U+E000 is a private-use code point no CJK font maps.
    label = LabelData("CQDZ-000125", signer.sign("CQDZ-000125"), MODEL, "重庆\ue000燃气")
    with pytest.raises(MissingGlyphs, match="ue000"):
        render_label_png(label, layout)
