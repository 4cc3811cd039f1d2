"""Signed payloads: what verifies, what is refused, and why."""

from __future__ import annotations

import re

import pytest

from cylinder_trace.qr_labels import signing
from cylinder_trace.qr_labels.signing import (
    CODE_RE,
    SIGNATURE_LENGTH,
    LabelInvalid,
    LabelSigner,
    parse_keys,
    validate_code,
)

from .conftest import BASE, KEY_1, KEY_2

CODE = "CQDZ-000123"
# Characters of the QR alphanumeric mode: a payload made only of these stays a small symbol.
QR_ALNUM = re.compile(r"\A[0-9A-Z $%*+\-./:]+\Z")


def reason(signer: LabelSigner, payload: object) -> str:
    with pytest.raises(LabelInvalid) as info:
        signer.verify(payload)  # type: ignore[arg-type]
    assert info.value.code == "label_invalid"
    return info.value.reason


def swap_char(text: str, index: int) -> str:
    index %= len(text)
    replacement = "A" if text[index] != "A" else "B"
    return text[:index] + replacement + text[index + 1 :]


def test_sign_then_verify_returns_the_code(signer: LabelSigner) -> None:
    payload = signer.sign(CODE)
    assert payload.startswith(BASE + CODE + ".1")
    assert len(payload) == len(BASE) + len(CODE) + 2 + SIGNATURE_LENGTH
    assert signer.verify(payload) == CODE
    assert signer.verify_token(payload[len(BASE) :]) == CODE


def test_payload_is_deterministic_and_qr_alphanumeric(signer: LabelSigner) -> None:
    assert signer.sign(CODE) == signer.sign(CODE)
    assert QR_ALNUM.match(signer.sign(CODE))
    assert signer.sign(CODE) != signer.sign("CQDZ-000124")


@pytest.mark.parametrize("index", range(-SIGNATURE_LENGTH, 0))
def test_forged_signature_is_refused(signer: LabelSigner, index: int) -> None:
    assert reason(signer, swap_char(signer.sign(CODE), index)) == "bad_signature"


def test_tampered_code_is_refused(signer: LabelSigner) -> None:
    payload = signer.sign(CODE)
    tampered = payload.replace(CODE, "CQDZ-000124")
    assert reason(signer, tampered) == "bad_signature"


def test_signature_from_another_secret_is_refused(signer: LabelSigner) -> None:
    counterfeiter = LabelSigner(BASE, {"1": KEY_2}, "1")
    assert reason(signer, counterfeiter.sign(CODE)) == "bad_signature"


def test_unknown_key_id_is_refused(signer: LabelSigner) -> None:
    other = LabelSigner(BASE, {"9": KEY_1}, "9")
    assert reason(signer, other.sign(CODE)) == "unknown_key"


def test_key_id_is_part_of_the_signature() -> None:
    # Same secret under two ids: relabelling a signature with the other id must not verify.
    signer = LabelSigner(BASE, {"1": KEY_1, "2": KEY_1}, "1")
    payload = signer.sign(CODE)
    relabelled = payload.replace(f"{CODE}.1", f"{CODE}.2")
    assert reason(signer, relabelled) == "bad_signature"


def test_rotation_keeps_old_labels_valid() -> None:
    before = LabelSigner(BASE, {"1": KEY_1}, "1")
    old_label = before.sign(CODE)
    after = LabelSigner(BASE, {"1": KEY_1, "2": KEY_2}, "2")
    new_label = after.sign(CODE)
    assert new_label != old_label
    assert new_label.startswith(BASE + CODE + ".2")
    assert after.verify(old_label) == CODE
    assert after.verify(new_label) == CODE
    # Retiring key 1 for good is what invalidates its labels.
    retired = LabelSigner(BASE, {"2": KEY_2}, "2")
    assert reason(retired, old_label) == "unknown_key"
    assert retired.verify(new_label) == CODE


@pytest.mark.parametrize(
    "payload",
    [
        BASE,
        BASE + CODE,
        BASE + CODE + ".",
        BASE + CODE + ".1",
        BASE + CODE + ".1ABCDEFGHIJK",  # signature one character short
        BASE + "CQD.1ABCDEFGHIJKL",  # code too short
        BASE + "C" * 33 + ".1ABCDEFGHIJKL",  # code too long
        BASE + CODE + ".1ABCDEFGHIJK0",  # 0 is not base32
        BASE + CODE + ".12345ABCDEFGHIJKL",  # key id too long
        BASE + "CQDZ_000123.1ABCDEFGHIJKL",
    ],
)
def test_malformed_tokens_are_refused(signer: LabelSigner, payload: str) -> None:
    assert reason(signer, payload) == "malformed"


@pytest.mark.parametrize("suffix", [" ", "\n", "?x=1", "#top", "/", ".1"])
def test_anything_after_the_signature_is_refused(signer: LabelSigner, suffix: str) -> None:
    assert reason(signer, signer.sign(CODE) + suffix) == "malformed"


@pytest.mark.parametrize("payload", [None, 42, b"bytes", "HTTPS://TRACE.EXAMPLE.CN/C/é"])
def test_non_text_or_non_ascii_is_malformed(signer: LabelSigner, payload: object) -> None:
    assert reason(signer, payload) == "malformed"


@pytest.mark.parametrize(
    "base",
    [
        "HTTPS://EVIL.EXAMPLE.CN/C/",  # another host
        "HTTP://TRACE.EXAMPLE.CN/C/",  # another scheme, not just another case
        "HTTPS://TRACE.EXAMPLE.CN/",
        "HTTPS://TRACE.EXAMPLE.CN.EVIL.CN/C/",
        "",
    ],
)
def test_wrong_base_is_refused(signer: LabelSigner, base: str) -> None:
    token = signer.token(CODE)
    assert reason(signer, base + token) == "wrong_base"


def test_scheme_and_host_case_do_not_matter(signer: LabelSigner) -> None:
    token = signer.token(CODE)
    assert signer.verify("https://trace.example.cn/C/" + token) == CODE
    assert signer.verify("Https://Trace.Example.CN/C/" + token) == CODE


def test_a_label_read_in_lower_case_is_the_same_label(signer: LabelSigner) -> None:
    # A keyboard-wedge scanner with Caps Lock sends the whole payload in lower case; QR's
    # alphanumeric mode has upper case only, so nothing in the label depended on the case.
    payload = signer.sign(CODE)
    assert signer.verify(payload.lower()) == CODE
    assert signer.verify(payload.swapcase()) == CODE
    assert signer.verify_token(signer.token(CODE).lower()) == CODE
    # A forged signature stays forged in any case.
    forged = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    assert reason(signer, forged.lower()) == "bad_signature"


def test_a_base_path_in_lower_case_keeps_its_case() -> None:
    # Lower-case letters in the base put the label in byte mode: then the path is read
    # exactly as printed, and another case is another URL.
    lower = LabelSigner("https://trace.example.cn/c/", {"1": KEY_1}, "1")
    payload = lower.sign(CODE)
    assert lower.verify(payload) == CODE
    assert reason(lower, payload.replace("/c/", "/C/")) == "wrong_base"


def test_signatures_are_compared_in_constant_time(
    signer: LabelSigner, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, str]] = []
    real = signing.hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(signing.hmac, "compare_digest", spy)
    signer.verify(signer.sign(CODE))
    reason(signer, swap_char(signer.sign(CODE), -1))
    assert len(calls) == 2


def test_label_invalid_message_carries_code_and_reason() -> None:
    exc = LabelInvalid("unknown_key", "7")
    assert exc.code == "label_invalid"
    assert exc.reason == "unknown_key"
    assert "label_invalid" in str(exc) and "unknown_key" in str(exc)


@pytest.mark.parametrize("code", ["CQDZ01", "A" * 32, "CQ-DZ-0001-2", "123456", "YSP-35-5"])
def test_valid_codes(code: str) -> None:
    assert validate_code(code) == code
    assert CODE_RE.match(code)


@pytest.mark.parametrize(
    "code", ["", "CQD01", "A" * 33, "cqdz-0001", "CQDZ_0001", "CQDZ.0001", "CQDZ 0001", "ÇQDZ-0001"]
)
def test_invalid_codes(signer: LabelSigner, code: str) -> None:
    with pytest.raises(ValueError, match="invalid cylinder code"):
        validate_code(code)
    with pytest.raises(ValueError):
        signer.sign(code)


@pytest.mark.parametrize(
    ("base", "keys", "current", "message"),
    [
        ("ftp://trace.example.cn/c/", {"1": KEY_1}, "1", "http"),
        ("https://trace.example.cn/c", {"1": KEY_1}, "1", "end with '/'"),
        ("https://trace.example.cn/c/?a=1/", {"1": KEY_1}, "1", "no query"),
        ("https://trace.example.cn/c^/", {"1": KEY_1}, "1", "unsafe"),
        ("https:///c/", {"1": KEY_1}, "1", "http"),
        (BASE, {}, "1", "at least one"),
        (BASE, {"1": b"short"}, "1", "shorter than"),
        (BASE, {"k1": KEY_1}, "k1", "must match"),
        (BASE, {"1": KEY_1}, "2", "not among"),
    ],
)
def test_signer_rejects_bad_settings(
    base: str, keys: dict[str, bytes], current: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        LabelSigner(base, keys, current)


def test_parse_keys_reads_base64_in_both_alphabets() -> None:
    keys = parse_keys(" 1:bGFiZWwta2V5LW9uZS0wMTIzNDU2Nzg5YWJjZGVmISE , 2:_-_-_-_-_-_-_-_-_-_-_w ")
    assert keys["1"] == KEY_1
    assert keys["2"] == bytes.fromhex("ffeffe" * 5 + "ff")
    assert list(keys) == ["1", "2"]
    assert parse_keys("") == {}


@pytest.mark.parametrize(
    ("spec", "message"),
    [("1", "KID:BASE64"), ("1:AAAA,1:BBBB", "twice"), ("1:not*base64", "not valid base64")],
)
def test_parse_keys_errors(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_keys(spec)
