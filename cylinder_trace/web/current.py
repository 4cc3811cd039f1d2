"""The current app's settings and singletons, for the request's code (API, pages, CLI).

``create_app`` builds both once and checks them before the first request; services never
read them from Flask, they are handed what they need:

* ``settings()``: ``config.Settings``, every setting (rules, zone, catering, cookies, labels);
* ``registry()``: ``registry.Registry``, the label signer, card signer, PII vault and the
  catering file store.
"""

from __future__ import annotations

from flask import current_app

from cylinder_trace.config import REGISTRY_EXTENSION, SETTINGS_CONFIG_KEY, Settings
from cylinder_trace.registry import Registry


def settings() -> Settings:
    """The current app's validated settings (``config.Settings``)."""
    value: Settings = current_app.config[SETTINGS_CONFIG_KEY]
    return value


def registry() -> Registry:
    """The current app's singletons (``registry.Registry``), built once in ``create_app``."""
    value: Registry = current_app.extensions[REGISTRY_EXTENSION]
    return value
