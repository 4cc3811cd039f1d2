"""The fast QR path must produce exactly the symbols plain ``qrcode`` produces."""

from __future__ import annotations

import random
import string

import pytest
import qrcode

from cylinder_trace.qr_labels.qr import ERROR_CORRECTION, qr_matrix

ALPHABET = string.ascii_uppercase + string.digits + "-./: $" + "abcxyz?&=" + "气瓶"


def reference(payload: str, ecc: str) -> list[list[bool]]:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECTION[ecc], border=0)
    qr.add_data(payload)
    qr.make(fit=True)
    return qr.get_matrix()


def random_payloads(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    # Up to 220 characters: versions 1 to 16 over the four levels, so the version-information
    # block (version 7 on) and the wider length fields (version 10 on) are both exercised.
    return ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 220))) for _ in range(count)]


@pytest.mark.parametrize("ecc", sorted(ERROR_CORRECTION))
def test_matches_qrcode_bit_for_bit(ecc: str) -> None:
    versions = set()
    for payload in random_payloads(40, seed=ord(ecc)):
        matrix = qr_matrix(payload, ecc)
        versions.add(matrix.version)
        assert matrix.to_bools() == reference(payload, ecc), payload
    # The sample must reach the regions where the format differs (version info from 7 on).
    assert min(versions) < 7 <= max(versions)
    if ecc in "QH":
        assert max(versions) >= 10


@pytest.mark.parametrize(
    "payload",
    [
        "HTTPS://TRACE.EXAMPLE.CN/C/CQDZ-000123.1ABCDEFGHIJKL",
        "https://trace.example.cn/c/CQDZ-000123.1ABCDEFGHIJKL",
        "0123456789" * 3,
        "A",
        "1" * 700,  # long numeric run: version 10+ length field for numeric mode
    ],
)
def test_label_like_payloads_match(payload: str) -> None:
    assert qr_matrix(payload).to_bools() == reference(payload, "M")


def test_uppercase_base_gives_a_smaller_symbol() -> None:
    upper = qr_matrix("HTTPS://TRACE.EXAMPLE.CN/C/CQDZ-000123.1ABCDEFGHIJKL")
    lower = qr_matrix("https://trace.example.cn/c/CQDZ-000123.1ABCDEFGHIJKL")
    assert upper.version < lower.version


def test_runs_cover_exactly_the_dark_modules() -> None:
    matrix = qr_matrix("HTTPS://TRACE.EXAMPLE.CN/C/CQDZ-000123.1ABCDEFGHIJKL")
    painted = {(r, c + i) for r, c, length in matrix.runs() for i in range(length)}
    dark = {(r, c) for r, row in enumerate(matrix.rows) for c, ch in enumerate(row) if ch == "1"}
    assert painted == dark
    assert matrix.size == 4 * matrix.version + 17
    assert all(len(row) == matrix.size for row in matrix.rows)


def test_oversized_payload_raises() -> None:
    with pytest.raises(qrcode.exceptions.DataOverflowError):
        qr_matrix("X" * 5000, "H")
