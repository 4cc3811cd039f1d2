"""Benchmark: label sheets as PDF versus bare ``qrcode`` generation of the same payloads.

Run: ``.venv/bin/python bench/bench_labels.py --count 10000 [--layout 50x30] [--out FILE]``.
Prints wall-clock seconds for (1) ``qrcode.QRCode(...).make(fit=True)`` on every payload, the
baseline any QR-based label printer pays, and (2) the full PDF (QR matrices, vector drawing,
Chinese text, compression), and their ratio. Both run in this process, one after the other.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import qrcode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cylinder_trace.qr_labels import (
    ERROR_CORRECTION,
    LabelData,
    LabelSigner,
    load_layout,
    register_font,
    write_pdf,
)

MODELS = ("YSP35.5", "YSP118", "YSP12", "YSP4.7")
OWNERS = ("重庆大足燃气有限公司", "重庆市渝北区液化石油气供应有限公司")


def make_labels(signer: LabelSigner, count: int) -> Iterator[LabelData]:
    """Labels for ``count`` distinct codes, generated lazily like a database cursor would."""
    for i in range(count):
        code = f"CQDZ-{i:08d}"
        yield LabelData(code, signer.sign(code), MODELS[i % len(MODELS)], OWNERS[i % len(OWNERS)])


def bare_qrcode(payloads: list[str], error_correction: str) -> float:
    """Seconds for plain ``qrcode`` to build every symbol (no image, no drawing)."""
    ecc = ERROR_CORRECTION[error_correction]
    start = time.perf_counter()
    for payload in payloads:
        qr = qrcode.QRCode(error_correction=ecc, border=0)
        qr.add_data(payload)
        qr.make(fit=True)
    return time.perf_counter() - start


def main() -> None:
    """Parse arguments, run both measurements, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="labels to generate")
    parser.add_argument("--layout", default="50x30", help="layout name or .toml path")
    parser.add_argument("--base", default="HTTPS://TRACE.EXAMPLE.CN/C/", help="payload base URL")
    parser.add_argument("--out", help="keep the PDF here (default: a temporary file)")
    parser.add_argument("--skip-baseline", action="store_true", help="only time the PDF")
    args = parser.parse_args()

    layout = load_layout(args.layout)
    signer = LabelSigner(args.base, {"1": b"bench-secret-0123456789abcdef"}, "1")
    start = time.perf_counter()
    register_font()
    font_s = time.perf_counter() - start

    baseline_s = None
    if not args.skip_baseline:
        payloads = [label.payload for label in make_labels(signer, args.count)]
        baseline_s = bare_qrcode(payloads, layout.error_correction)
        del payloads

    out_path = Path(args.out) if args.out else Path(tempfile.mkstemp(suffix=".pdf")[1])
    pages = 0

    def progress(done: int, total: int | None) -> None:
        nonlocal pages
        pages += 1

    start = time.perf_counter()
    written = write_pdf(
        make_labels(signer, args.count), layout, out_path, on_progress=progress, total=args.count
    )
    pdf_s = time.perf_counter() - start
    size = out_path.stat().st_size
    if not args.out:
        os.unlink(out_path)

    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"labels:              {written} ({args.layout}, {layout.per_page}/page, {pages} pages)")
    print(f"font registration:   {font_s:.2f} s (once per process, not in the figures below)")
    if baseline_s is not None:
        per_code_ms = baseline_s / args.count * 1000
        print(f"bare qrcode make():  {baseline_s:.2f} s ({per_code_ms:.2f} ms/code)")
    print(f"PDF total:           {pdf_s:.2f} s ({pdf_s / max(written, 1) * 1000:.2f} ms/label)")
    if baseline_s is not None:
        print(f"ratio PDF / qrcode:  {pdf_s / baseline_s:.2f}")
    print(f"PDF size:            {size / 1e6:.1f} MB")
    print(f"peak RSS:            {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
