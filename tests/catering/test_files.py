"""Photo and signature files: recognised by content, stored by hash; the file settings."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image

from cylinder_trace.catering.files import CheckFileInvalid, FileStore, sniff_image
from cylinder_trace.catering.models import ImageType
from cylinder_trace.catering.settings import load_catering_settings
from cylinder_trace.config import ConfigError
from cylinder_trace.domain.errors import NotFound
from tests.catering.helpers import image


def test_images_are_known_by_their_first_bytes() -> None:
    assert sniff_image(image("JPEG"), field="p", max_bytes=10**6) == ImageType.JPEG
    assert sniff_image(image("PNG"), field="p", max_bytes=10**6) == ImageType.PNG
    for other in ("GIF", "BMP", "WEBP", "TIFF"):
        with pytest.raises(CheckFileInvalid) as caught:
            sniff_image(image(other), field="p", max_bytes=10**6)
        assert caught.value.code == "file_type_not_allowed"


def test_an_image_with_too_many_pixels_is_refused() -> None:
    buffer = io.BytesIO()
    Image.new("1", (9000, 9000)).save(buffer, format="PNG")  # 81 megapixels, a few KB
    huge = buffer.getvalue()
    with pytest.raises(CheckFileInvalid) as caught:
        sniff_image(huge, field="photos[0]", max_bytes=10**7)
    assert caught.value.code == "file_unreadable"
    assert caught.value.details == {"field": "photos[0]"}


def test_the_store_keeps_one_copy_by_hash_and_notices_damage(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "files")
    data = image("JPEG")
    stored = store.save(data, ImageType.JPEG)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert store.save(data, ImageType.JPEG) == stored
    assert store.read(stored.sha256) == data
    assert [p.name for p in store.path_of(stored.sha256).parent.iterdir()] == [stored.sha256]
    store.path_of(stored.sha256).write_bytes(b"tampered")
    with pytest.raises(NotFound):
        store.read(stored.sha256)
    with pytest.raises(NotFound):
        store.read("0" * 64)
    with pytest.raises(ValueError):
        store.path_of("../../etc/passwd")


def test_file_settings_come_from_config_then_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CT_CATERING_PHOTOS_MAX", "3")
    settings = load_catering_settings({"CT_CATERING_PHOTO_MAX_BYTES": "1000"}, tmp_path)
    assert (settings.photos_max, settings.photo_max_bytes) == (3, 1000)
    assert settings.files_dir == tmp_path / "catering-files"
    assert settings.clock_skew == timedelta(minutes=5)
    other = load_catering_settings({"CT_CATERING_FILES_DIR": str(tmp_path / "x")}, tmp_path)
    assert other.files_dir == tmp_path / "x"
    for bad in ("0", "many"):
        with pytest.raises(ConfigError):
            load_catering_settings({"CT_CATERING_PHOTOS_MAX": bad}, tmp_path)
