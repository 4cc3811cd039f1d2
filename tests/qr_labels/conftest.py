"""Fixtures for the label tests: a signer, the shipped layouts, labels, and a QR decoder.

These tests need no database. They do need the label font (Debian fonts-wqy-microhei) and the
zbar library (Debian libzbar0); both missing is a failed run, not a skip, so CI cannot pass
while a machine lacks what production printing needs.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PIL import Image

from cylinder_trace.qr_labels import LabelData, LabelLayout, LabelSigner, load_layout

BASE = "HTTPS://TRACE.EXAMPLE.CN/C/"
KEY_1 = b"label-key-one-0123456789abcdef!!"
KEY_2 = b"label-key-two-0123456789abcdef!!"
OWNER = "重庆大足燃气有限公司"
MODEL = "YSP35.5"

Decoder = Callable[[Image.Image], list[str]]


@pytest.fixture
def signer() -> LabelSigner:
    return LabelSigner(BASE, {"1": KEY_1}, "1")


@pytest.fixture(params=["50x30", "70x40"])
def layout(request: pytest.FixtureRequest) -> LabelLayout:
    return load_layout(request.param)


def make_labels(signer: LabelSigner, count: int, prefix: str = "CQDZ") -> list[LabelData]:
    codes = [f"{prefix}-{i:06d}" for i in range(count)]
    return [LabelData(code, signer.sign(code), MODEL, OWNER) for code in codes]


@pytest.fixture(scope="session")
def decode_qr() -> Decoder:
    """Decode every QR code in an image with zbar; returns the payloads as text."""
    try:
        from pyzbar.pyzbar import ZBarSymbol, decode
    except ImportError as exc:  # pyzbar raises ImportError when libzbar.so is missing
        pytest.fail(f"QR decoder unavailable ({exc}): apt-get install -y libzbar0 (and pyzbar)")

    def run(image: Image.Image) -> list[str]:
        return [r.data.decode("ascii") for r in decode(image, symbols=[ZBarSymbol.QRCODE])]

    return run
