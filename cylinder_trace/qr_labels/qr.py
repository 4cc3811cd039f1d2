"""QR matrices from ``qrcode``, made fast enough for 10,000-label print runs.

Plain ``qrcode`` takes 6-8 ms per symbol here: it builds the symbol eight times to choose the
mask (ISO/IEC 18004 §7.8), scoring each in per-module Python, and computes Reed-Solomon codes
with polynomial objects and a bit-at-a-time buffer. That alone would use the whole time budget.

This module lets ``qrcode`` decide everything that defines the symbol - mode segmentation
(``add_data``), version (``best_fit``), block structure (``rs_blocks``), function patterns,
format/version information, mask functions - and re-does only the mechanical parts: codeword
assembly and Reed-Solomon with log/antilog tables, and module placement plus mask scoring with
per-version index tables, strings and big-int XORs. The output is bit-for-bit the matrix
``qrcode.QRCode(...).make(fit=True)`` produces (the tests compare them over many payloads).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from operator import itemgetter
from typing import Final

import qrcode
from qrcode import base, constants, exceptions, util

__all__ = ["ERROR_CORRECTION", "QRMatrix", "qr_matrix"]

ERROR_CORRECTION: Final = {
    "L": constants.ERROR_CORRECT_L,
    "M": constants.ERROR_CORRECT_M,
    "Q": constants.ERROR_CORRECT_Q,
    "H": constants.ERROR_CORRECT_H,
}

# Two plain patterns are ~4x faster than one alternation: each gets a literal-prefix scan.
_LIGHT_RUN_RE: Final = re.compile(r"00000+")
_DARK_RUN5_RE: Final = re.compile(r"11111+")
_DARK_RUN_RE: Final = re.compile(r"1+")
# Finder-like 1:1:3:1:1 with four light modules on one side, both orientations (penalty N3).
_FINDER_A: Final = "10111010000"
_FINDER_B: Final = "00001011101"


_PAD: Final = bytes((util.PAD0, util.PAD1))
_EXP: Final = tuple(base.EXP_TABLE[:255]) * 2  # period 255, doubled: log sums need no "% 255"
_LOG: Final = tuple(base.LOG_TABLE)
_BIT_FORMATS: Final = {n: f"0{n}b" for n in range(1, 33)}


class _BitWriter:
    """Stand-in for ``qrcode.util.BitBuffer`` that ``QRData.write`` can fill: collects bit
    strings instead of setting one bit per Python call."""

    __slots__ = ("parts",)

    def __init__(self) -> None:
        self.parts: list[str] = []

    def put(self, num: int, length: int) -> None:
        self.parts.append(format(num, _BIT_FORMATS[length]))


@cache
def _generator_logs(ec_count: int) -> tuple[int, ...]:
    """Logs of the Reed-Solomon generator polynomial's coefficients (leading 1 dropped)."""
    gen = [1]
    for i in range(ec_count):
        # Multiply by (x + alpha^i).
        nxt = [0] * (len(gen) + 1)
        for j, coef in enumerate(gen):
            nxt[j] ^= coef
            if coef:
                nxt[j + 1] ^= _EXP[_LOG[coef] + i]
        gen = nxt
    return tuple(_LOG[c] for c in gen[1:])


def _ec_codewords(data: bytes, ec_count: int) -> list[int]:
    gen = _generator_logs(ec_count)
    rem = [0] * ec_count
    exp = _EXP
    for byte in data:
        factor = byte ^ rem[0]
        if factor:
            lf = _LOG[factor]
            rem = [r ^ exp[lf + g] for r, g in zip([*rem[1:], 0], gen, strict=True)]
        else:
            rem = [*rem[1:], 0]
    return rem


def _chunk_bits(chunk: util.QRData) -> str:
    writer = _BitWriter()
    chunk.write(writer)
    return "".join(writer.parts)


@cache
def _data_capacity_bits(version: int, ecc: int) -> int:
    return sum(block.data_count for block in base.rs_blocks(version, ecc)) * 8


def _fit_version(ecc: int, chunks: list[tuple[int, int, str]]) -> int:
    """Smallest version whose data capacity holds the chunks, as ``QRCode.best_fit`` picks it
    (the length field widens at versions 10 and 27, so each version is checked with its own)."""
    for version in range(1, 41):
        needed = sum(4 + util.length_in_bits(mode, version) + len(bits) for mode, _, bits in chunks)
        if needed <= _data_capacity_bits(version, ecc):
            return version
    raise exceptions.DataOverflowError("payload does not fit in a version 40 QR code")


def _codewords(version: int, ecc: int, chunks: list[tuple[int, int, str]]) -> bytes:
    """What ``qrcode.util.create_data`` returns: data and EC codewords, interleaved."""
    bits = "".join(
        format(mode, "04b") + format(length, _BIT_FORMATS[util.length_in_bits(mode, version)]) + b
        for mode, length, b in chunks
    )
    blocks = base.rs_blocks(version, ecc)
    bit_limit = _data_capacity_bits(version, ecc)
    bits += "0" * min(bit_limit - len(bits), 4)  # terminator
    bits += "0" * (-len(bits) % 8)
    stream = int(bits, 2).to_bytes(len(bits) // 8, "big") if bits else b""
    fill = bit_limit // 8 - len(stream)
    stream += (_PAD * (fill // 2 + 1))[:fill]
    data_blocks: list[bytes] = []
    ec_blocks: list[list[int]] = []
    offset = 0
    for block in blocks:
        chunk_bytes = stream[offset : offset + block.data_count]
        offset += block.data_count
        data_blocks.append(chunk_bytes)
        ec_blocks.append(_ec_codewords(chunk_bytes, block.total_count - block.data_count))
    out = bytearray()
    for i in range(max(len(b) for b in data_blocks)):
        out.extend(b[i] for b in data_blocks if i < len(b))
    for i in range(max(len(b) for b in ec_blocks)):
        out.extend(b[i] for b in ec_blocks if i < len(b))
    return bytes(out)


@dataclass(frozen=True, slots=True)
class QRMatrix:
    """A QR symbol without quiet zone: ``rows[r][c] == "1"`` means a dark module."""

    version: int
    rows: tuple[str, ...]

    @property
    def size(self) -> int:
        """Modules per side."""
        return len(self.rows)

    def runs(self) -> list[tuple[int, int, int]]:
        """Dark modules merged into horizontal runs: ``(row, first_column, length)``."""
        return [
            (r, m.start(), m.end() - m.start())
            for r, row in enumerate(self.rows)
            for m in _DARK_RUN_RE.finditer(row)
        ]

    def to_bools(self) -> list[list[bool]]:
        """The matrix as ``qrcode``'s ``get_matrix()`` shape (without border)."""
        return [[ch == "1" for ch in row] for row in self.rows]


@dataclass(frozen=True, slots=True)
class _Plan:
    """Everything about one version that does not depend on the data."""

    size: int
    n_data: int
    mask_ints: tuple[int, ...]
    test_function: str
    rows_getter: itemgetter[str]
    both_getter: itemgetter[str]


def _function_modules(version: int, ecc: int, mask: int | None) -> list[list[bool | None]]:
    """Function patterns as ``qrcode`` draws them; ``mask=None`` is its scoring ("test") mode,
    where format and version information are all light."""
    size = version * 4 + 17
    qr = qrcode.QRCode(version=version, error_correction=ecc, border=0)
    qr.modules_count = size
    qr.modules = [[None] * size for _ in range(size)]
    qr.setup_position_probe_pattern(0, 0)
    qr.setup_position_probe_pattern(size - 7, 0)
    qr.setup_position_probe_pattern(0, size - 7)
    qr.setup_position_adjust_pattern()
    qr.setup_timing_pattern()
    test = mask is None
    qr.setup_type_info(test, 0 if mask is None else mask)
    if version >= 7:
        qr.setup_type_number(test)
    return qr.modules


def _placement_order(modules: list[list[bool | None]]) -> list[tuple[int, int]]:
    """Data module positions in placement order: two-column zigzag from the bottom right,
    skipping the vertical timing column (ISO/IEC 18004 §7.7.3)."""
    size = len(modules)
    order: list[tuple[int, int]] = []
    upward = True
    col = size - 1
    while col > 0:
        if col == 6:
            col -= 1
        rows = range(size - 1, -1, -1) if upward else range(size)
        for r in rows:
            for c in (col, col - 1):
                if modules[r][c] is None:
                    order.append((r, c))
        upward = not upward
        col -= 2
    return order


def _getter(indices: list[int]) -> itemgetter[str]:
    return itemgetter(*indices)


@cache
def _plan(version: int) -> _Plan:
    size = version * 4 + 17
    blank = _function_modules(version, constants.ERROR_CORRECT_M, None)
    order = _placement_order(blank)
    n_data = len(order)
    data_index = {pos: i for i, pos in enumerate(order)}
    # Source string layout: size*size function-module chars, then the n_data data chars, then
    # one "\n" that separates rows (so regexes and counts never run across a row boundary).
    newline = size * size + n_data
    rows_idx: list[int] = []
    for r in range(size):
        for c in range(size):
            i = data_index.get((r, c))
            rows_idx.append(r * size + c if i is None else size * size + i)
        rows_idx.append(newline)
    cols_idx: list[int] = []
    for c in range(size):
        cols_idx.extend(rows_idx[r * (size + 1) + c] for r in range(size))
        cols_idx.append(newline)
    mask_ints = []
    for mask in range(8):
        func = util.mask_func(mask)
        bits = "".join("1" if func(r, c) else "0" for r, c in order)
        mask_ints.append(int(bits, 2))
    return _Plan(
        size=size,
        n_data=n_data,
        mask_ints=tuple(mask_ints),
        test_function=_function_string(blank),
        rows_getter=_getter(rows_idx),
        both_getter=_getter(rows_idx + cols_idx),
    )


def _function_string(modules: list[list[bool | None]]) -> str:
    return "".join("1" if m else "0" for row in modules for m in row)


@cache
def _final_function(version: int, ecc: int, mask: int) -> str:
    return _function_string(_function_modules(version, ecc, mask))


def _penalty(text: str, size: int) -> int:
    """``qrcode.util.lost_point`` of one symbol, from its rows then its columns as one string
    (each line ended by "\n"), computed with regexes, ``str.count`` and int bit tricks."""
    runs = _LIGHT_RUN_RE.findall(text) + _DARK_RUN5_RE.findall(text)
    n1 = sum(map(len, runs)) - 2 * len(runs)
    n3 = 40 * (text.count(_FINDER_A) + text.count(_FINDER_B))
    ints = [int(line, 2) for line in text[: size * (size + 1) - 1].split("\n")]
    full = (1 << size) - 1
    pair_mask = full >> 1
    blocks = 0
    above = ints[0]
    for below in ints[1:]:
        same_v = ~(above ^ below) & full
        blocks += (same_v & (same_v >> 1) & ~(above ^ (above >> 1)) & pair_mask).bit_count()
        above = below
    # Rows and columns hold each module once per direction: halve the count for N4.
    dark = text.count("1") // 2
    # Same float expression as qrcode, so ties and rounding pick the same mask.
    n4 = int(abs(float(dark) / (size**2) * 100 - 50) / 5) * 10
    return n1 + 3 * blocks + n3 + n4


def qr_matrix(payload: str, error_correction: str = "M") -> QRMatrix:
    """Encode ``payload`` exactly as ``qrcode.QRCode(...).make(fit=True)`` would, but faster."""
    ecc = ERROR_CORRECTION[error_correction]
    qr = qrcode.QRCode(error_correction=ecc, border=0)
    qr.add_data(payload)  # qrcode's own segmentation into numeric/alphanumeric/byte chunks
    chunks = [(chunk.mode, len(chunk), _chunk_bits(chunk)) for chunk in qr.data_list]
    version = _fit_version(ecc, chunks)
    data = _codewords(version, ecc, chunks)
    plan = _plan(version)
    n_data = plan.n_data
    # Bits past the codewords are the remainder bits: zero before masking, as in qrcode.
    data_int = int.from_bytes(data, "big") << (n_data - 8 * len(data))
    fmt = f"0{n_data}b"
    best_mask = 0
    best_score = -1
    for mask, mask_int in enumerate(plan.mask_ints):
        source = plan.test_function + format(data_int ^ mask_int, fmt) + "\n"
        score = _penalty("".join(plan.both_getter(source)), plan.size)
        if best_score < 0 or score < best_score:
            best_mask, best_score = mask, score
    source = (
        _final_function(version, ecc, best_mask)
        + format(data_int ^ plan.mask_ints[best_mask], fmt)
        + "\n"
    )
    rows_text = "".join(plan.rows_getter(source))
    return QRMatrix(version=version, rows=tuple(rows_text.split("\n")[:-1]))
