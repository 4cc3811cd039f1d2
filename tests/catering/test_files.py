"""Photo and signature files: recognised by content, stored by hash; the file settings."""

from __future__ import annotations

import hashlib
import io
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy.orm import Session

from cylinder_trace.catering.files import CheckFileInvalid, FileStore, sniff_image
from cylinder_trace.catering.models import ImageType
from cylinder_trace.config import ConfigError, load_settings
from cylinder_trace.domain.errors import NotFound
from tests.catering.helpers import URL, catering_user, check_body, image, post_multipart
from tests.singletons import use_catering_settings, use_singletons
from tests.world import World


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
    base = {"CT_ENV": "testing", "CT_INSTANCE_PATH": str(tmp_path)}
    settings = load_settings({**base, "CT_CATERING_PHOTO_MAX_BYTES": "1000"}).catering
    assert (settings.photos_max, settings.photo_max_bytes) == (3, 1000)
    assert settings.files_dir == tmp_path / "catering-files"
    assert settings.clock_skew == timedelta(minutes=5)
    other = load_settings({**base, "CT_CATERING_FILES_DIR": str(tmp_path / "x")}).catering
    assert other.files_dir == tmp_path / "x"
    for bad in ("0", "many"):
        with pytest.raises(ConfigError):
            load_settings({**base, "CT_CATERING_PHOTOS_MAX": bad})


def _age(path: Path, hours: float) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def test_a_reused_file_is_marked_in_use_again(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "files")
    stored = store.save(image("JPEG"), ImageType.JPEG)
    _age(store.path_of(stored.sha256), 48)
    store.save(image("JPEG"), ImageType.JPEG)  # another check, the same picture
    assert time.time() - store.path_of(stored.sha256).stat().st_mtime < 60


def test_pruning_removes_only_old_files_no_check_refers_to(
    app: Flask,
    client: FlaskClient,
    world: World,
    db_session: Session,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = FileStore(tmp_path / "files")
    use_catering_settings(app, monkeypatch, files_dir=store.root)
    use_singletons(app, monkeypatch, file_store=store)
    user = catering_user(client, world)
    kept_photo = image("JPEG", color="green")
    response = post_multipart(
        client, world, user["id"], check_body(), photos=[(kept_photo, "a.jpg", "image/jpeg")]
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    in_use = store.path_of(hashlib.sha256(kept_photo).hexdigest())
    orphan = store.path_of(store.save(image("PNG", color="blue"), ImageType.PNG).sha256)
    fresh_orphan = store.path_of(store.save(image("PNG", color="white"), ImageType.PNG).sha256)
    unfinished = orphan.parent / ".upload-abc123"
    unfinished.write_bytes(b"half a picture")
    stranger = store.root / "notes.txt"  # not the store's: never touched
    stranger.write_text("kept")
    for path in (in_use, orphan, unfinished, stranger):
        _age(path, 48)

    runner = app.test_cli_runner()
    dry = runner.invoke(args=["catering", "prune-files", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would remove 1 unreferenced" in dry.output and "1 unfinished" in dry.output
    assert orphan.exists() and unfinished.exists()

    result = runner.invoke(args=["catering", "prune-files", "--older-than-hours", "24"])
    assert result.exit_code == 0, result.output
    assert "1 files in use, 1 too recent" in result.output
    assert not orphan.exists() and not unfinished.exists()
    assert in_use.exists() and fresh_orphan.exists() and stranger.exists()
    # The check still serves its photo.
    check = response.get_json()
    served = client.get(
        f"{URL}/{user['id']}/checks/{check['id']}/files/{check['files'][0]['id']}",
        headers=world.auth("a_admin"),
    )
    assert served.status_code == 200 and served.data == kept_photo
