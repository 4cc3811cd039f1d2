"""ZPL for thermal printers."""

from __future__ import annotations

import re

import pytest
from PIL import Image

from cylinder_trace.qr_labels import LabelData, LabelLayout, LabelSigner, label_zpl, labels_zpl

from .conftest import MODEL, OWNER, make_labels

GFA = re.compile(r"\^GFA,(\d+),(\d+),(\d+),([0-9A-F]+)")


@pytest.fixture
def label(signer: LabelSigner) -> LabelData:
    return LabelData("CQDZ-000123", signer.sign("CQDZ-000123"), MODEL, OWNER)


def test_structure_and_qr_field(label: LabelData, layout: LabelLayout) -> None:
    zpl = label_zpl(label, layout, dpmm=8)
    lines = zpl.splitlines()
    assert lines[0] == "^XA" and lines[-1] == "^XZ"
    assert "^CI28" in lines  # field data is UTF-8
    assert f"^PW{round(layout.label_width_mm * 8)}" in lines
    assert f"^LL{round(layout.label_height_mm * 8)}" in lines
    qr = [line for line in lines if "^BQN" in line]
    assert len(qr) == 1
    match = re.fullmatch(r"\^FO(\d+),(\d+)\^BQN,2,(\d+)\^FD([LMQH])A,(.+)\^FS", qr[0])
    assert match is not None
    assert match[4] == layout.error_correction
    assert match[5] == label.payload
    assert 1 <= int(match[3]) <= 10
    assert f"^FD{label.code}^FS" in zpl
    assert f"^FD{MODEL}^FS" in zpl


def decode_gfa(total: str, row_bytes: str, data: str) -> Image.Image:
    raw = bytes.fromhex(data)
    assert len(raw) == int(total)
    width, height = int(row_bytes) * 8, int(total) // int(row_bytes)
    return Image.frombytes("1", (width, height), bytes(b ^ 0xFF for b in raw))


def test_graphic_mode_sends_chinese_as_bitmaps(label: LabelData, layout: LabelLayout) -> None:
    zpl = label_zpl(label, layout, dpmm=12)
    assert not re.search(r"[\u4e00-\u9fff]", zpl)  # no CJK bytes a printer could garble
    fields = GFA.findall(zpl)
    assert len(fields) == 2  # owner and hint
    for total, same, row_bytes, data in fields:
        assert total == same
        image = decode_gfa(total, row_bytes, data)
        inked = image.histogram()[0]
        assert 0.05 * image.width * image.height < inked < 0.8 * image.width * image.height
        # A CJK line is wide: several characters side by side, about one text height tall.
        assert image.width > 4 * image.height


def test_font_mode_sends_utf8_text(label: LabelData, layout: LabelLayout) -> None:
    zpl = label_zpl(label, layout, cjk="font", printer_font="E:SIMSUN.TTF")
    assert re.search(rf"\^A@N,\d+,\d+,E:SIMSUN.TTF\^FD{OWNER}\^FS", zpl)
    assert "扫码查询气瓶信息" in zpl
    assert "^GFA" not in zpl
    zpl.encode("utf-8")


def test_font_mode_needs_a_printer_font(label: LabelData, layout: LabelLayout) -> None:
    with pytest.raises(ValueError, match="printer_font"):
        label_zpl(label, layout, cjk="font")
    with pytest.raises(ValueError, match="unknown cjk mode"):
        label_zpl(label, layout, cjk="outline")  # type: ignore[arg-type]


def test_resolution_scales_the_label(label: LabelData, layout: LabelLayout) -> None:
    low, high = label_zpl(label, layout, dpmm=8), label_zpl(label, layout, dpmm=12)
    assert f"^PW{round(layout.label_width_mm * 12)}" in high
    magnification = [int(re.search(r"\^BQN,2,(\d+)", z)[1]) for z in (low, high)]  # type: ignore[index]
    assert magnification[1] > magnification[0]


def test_command_characters_in_free_text_are_neutralised(
    signer: LabelSigner, layout: LabelLayout
) -> None:
    label = LabelData("CQDZ-000126", signer.sign("CQDZ-000126"), "YSP^XZ~JA", OWNER)
    zpl = label_zpl(label, layout)
    assert zpl.count("^XZ") == 1
    assert "~JA" not in zpl


def test_many_labels_stream_one_block_each(signer: LabelSigner, layout: LabelLayout) -> None:
    labels = make_labels(signer, 3)
    blocks = list(labels_zpl(iter(labels), layout, dpmm=8))
    assert len(blocks) == 3
    for block, label in zip(blocks, labels, strict=True):
        assert block.startswith("^XA") and block.rstrip().endswith("^XZ")
        assert label.payload in block
