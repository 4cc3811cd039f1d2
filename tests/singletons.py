"""Swapping one of the app's settings or singletons for a test (undone by ``monkeypatch``)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from flask import Flask

from cylinder_trace.config import REGISTRY_EXTENSION, SETTINGS_CONFIG_KEY


def use_singletons(app: Flask, monkeypatch: pytest.MonkeyPatch, **changes: Any) -> None:
    """Replace registry entries (``pii_vault=…``, ``file_store=…``) for this test."""
    current = app.extensions[REGISTRY_EXTENSION]
    monkeypatch.setitem(app.extensions, REGISTRY_EXTENSION, replace(current, **changes))


def use_catering_settings(app: Flask, monkeypatch: pytest.MonkeyPatch, **changes: Any) -> None:
    """Replace catering settings (``photos_max=…``) for this test."""
    settings = app.config[SETTINGS_CONFIG_KEY]
    catering = replace(settings.catering, **changes)
    monkeypatch.setitem(app.config, SETTINGS_CONFIG_KEY, replace(settings, catering=catering))
