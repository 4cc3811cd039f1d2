"""Finding the CJK label font, and failing clearly when there is none."""

from __future__ import annotations

from pathlib import Path

import pytest

from cylinder_trace.qr_labels import fonts
from cylinder_trace.qr_labels.fonts import FONT_ENV_VAR, FontNotFound, LabelFont, find_label_font


def test_a_truetype_cjk_font_is_installed() -> None:
    font = find_label_font()
    assert font.path.is_file()
    assert fonts._check(font) is None


def test_env_var_selects_a_face_of_a_collection(monkeypatch: pytest.MonkeyPatch) -> None:
    default = find_label_font()
    monkeypatch.setenv(FONT_ENV_VAR, f"{default.path}#{default.index}")
    assert find_label_font() == LabelFont(default.path, default.index)


def test_env_var_pointing_nowhere_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FONT_ENV_VAR, "/nonexistent/font.ttf")
    with pytest.raises(FontNotFound, match=f"{FONT_ENV_VAR}=.*no such file"):
        find_label_font()


def fake_font(path: Path, tag: bytes, tables: list[bytes]) -> Path:
    header = tag + len(tables).to_bytes(2, "big") + b"\x00" * 6
    path.write_bytes(header + b"".join(t + b"\x00" * 12 for t in tables))
    return path


def test_cff_fonts_are_refused_with_a_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    otf = fake_font(tmp_path / "NotoSansCJK.otf", b"OTTO", [b"CFF ", b"cmap"])
    monkeypatch.setenv(FONT_ENV_VAR, str(otf))
    with pytest.raises(FontNotFound, match="CFF"):
        find_label_font()


def test_not_a_font_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    junk = tmp_path / "junk.ttf"
    junk.write_bytes(b"<html>not a font</html>")
    monkeypatch.setenv(FONT_ENV_VAR, str(junk))
    with pytest.raises(FontNotFound, match="not a TrueType"):
        find_label_font()


def test_no_font_anywhere_says_how_to_install_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(FONT_ENV_VAR, raising=False)
    monkeypatch.setattr(fonts, "_PACKAGE_FONT_DIR", tmp_path / "none")
    monkeypatch.setattr(fonts, "SYSTEM_FONTS", ((str(tmp_path / "missing.ttc"), 0),))
    fonts._find.cache_clear()
    try:
        with pytest.raises(FontNotFound, match="apt-get install -y fonts-wqy-microhei"):
            find_label_font()
    finally:
        fonts._find.cache_clear()


def test_fonts_dropped_into_the_package_directory_win(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = fake_font(tmp_path / "a.ttf", b"\x00\x01\x00\x00", [b"glyf", b"cmap"])
    monkeypatch.delenv(FONT_ENV_VAR, raising=False)
    monkeypatch.setattr(fonts, "_PACKAGE_FONT_DIR", tmp_path)
    fonts._find.cache_clear()
    try:
        assert find_label_font() == LabelFont(shipped)
    finally:
        fonts._find.cache_clear()
