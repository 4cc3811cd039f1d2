"""Browser fixtures: a live server on its own committed database, and Debian's Chromium.

Playwright drives the system Chromium (``/usr/bin/chromium``, or ``CT_CHROMIUM``); it never
downloads a browser. Missing Chromium fails the browser tests with the command that installs
it (``make system-deps``), rather than skipping them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from werkzeug.serving import make_server

from cylinder_trace import create_app
from tests.conftest import REPO, TEST_SECRET, alembic_config
from tests.pages.live_world import LiveWorld, seed_live_world

SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def live_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveWorld]:
    """The app on 127.0.0.1 and a free port, in a thread, with seeded, committed data."""
    folder = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{folder / 'browser.db'}"
    command.upgrade(alembic_config(url), "head")
    # The port is known only once the socket is bound, and the label URL must name it.
    holder: dict[str, Any] = {}
    server = make_server(
        "127.0.0.1", 0, lambda environ, respond: holder["app"](environ, respond), threaded=True
    )
    base_url = f"http://127.0.0.1:{server.server_port}"
    app = create_app(
        {
            "DATABASE_URL": url,
            "CT_ENV": "testing",
            "SECRET_KEY": TEST_SECRET,
            "CT_INSTANCE_PATH": str(folder / "instance"),
            "CT_LABEL_BASE_URL": f"HTTP://127.0.0.1:{server.server_port}/C/",
        }
    )
    holder["app"] = app
    world = seed_live_world(app, base_url)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield world
    finally:
        server.shutdown()
        thread.join(timeout=10)
        app.extensions["cylinder_trace.db"].dispose()


def chromium_path() -> str:
    path = os.environ.get("CT_CHROMIUM", "/usr/bin/chromium")
    if not Path(path).exists():
        pytest.fail(
            f"Chromium is not installed at {path}: the browser tests need Debian's chromium "
            "(run `make system-deps`, or apt-get install -y chromium; CT_CHROMIUM names "
            "another binary)."
        )
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        pytest.fail(f"Playwright is missing ({exc}): pip install -e '.[test]'")
    executable = chromium_path()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def screenshot() -> Any:
    """``screenshot(page, "name")`` keeps a full-page PNG in test-artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
