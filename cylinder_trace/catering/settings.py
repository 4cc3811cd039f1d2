"""Operational settings of the catering checks: where files go, how large they may be.

Each comes from the app's config (``app.config``), then the environment, then a default:

| variable | default | meaning |
| --- | --- | --- |
| ``CT_CATERING_FILES_DIR`` | ``<instance>/catering-files`` | photos and signatures |
| ``CT_CATERING_PHOTO_MAX_BYTES`` | 5 MiB | largest photo |
| ``CT_CATERING_PHOTOS_MAX`` | 6 | photos per check |
| ``CT_CATERING_SIGNATURE_MAX_BYTES`` | 1 MiB | largest signature image |
| ``CT_CATERING_CLOCK_SKEW_SECONDS`` | 300 | how far in the future ``checked_at`` may be |

The rule numbers (check interval, checklist, hazard deadlines) are in the rules file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import current_app

from cylinder_trace.catering.files import FileStore
from cylinder_trace.config import positive_int

_EXTENSION = "cylinder_trace.catering_settings"


@dataclass(frozen=True, slots=True)
class CateringSettings:
    files_dir: Path
    photo_max_bytes: int = 5 * 1024 * 1024
    photos_max: int = 6
    signature_max_bytes: int = 1024 * 1024
    clock_skew: timedelta = timedelta(minutes=5)

    @property
    def store(self) -> FileStore:
        return FileStore(self.files_dir)


def load_catering_settings(config: Mapping[str, Any], instance_path: Path) -> CateringSettings:
    """Settings from ``config`` (the app's), falling back to the environment and defaults."""
    source: dict[str, Any] = {**os.environ, **{k: v for k, v in config.items() if v is not None}}
    files_dir = source.get("CT_CATERING_FILES_DIR") or instance_path / "catering-files"
    return CateringSettings(
        files_dir=Path(files_dir).resolve(),
        photo_max_bytes=positive_int(source, "CT_CATERING_PHOTO_MAX_BYTES", 5 * 1024 * 1024),
        photos_max=positive_int(source, "CT_CATERING_PHOTOS_MAX", 6),
        signature_max_bytes=positive_int(source, "CT_CATERING_SIGNATURE_MAX_BYTES", 1024 * 1024),
        clock_skew=timedelta(seconds=positive_int(source, "CT_CATERING_CLOCK_SKEW_SECONDS", 300)),
    )


def catering_settings() -> CateringSettings:
    """The current app's catering settings, read once."""
    settings = current_app.extensions.get(_EXTENSION)
    if settings is None:
        settings = load_catering_settings(
            current_app.config, current_app.config["CT_SETTINGS"].instance_path
        )
        current_app.extensions[_EXTENSION] = settings
    return settings
