"""Swagger UI in a real Chromium, under its Content-Security-Policy (issue 13).

The policy forbids inline script and anything from another origin; the UI must still
render every operation, with no violation reported and no request leaving the service.
"""

from __future__ import annotations

from typing import Any

from tests.pages.live_world import LiveWorld


def test_swagger_ui_works_under_its_policy(
    browser: Any, live_world: LiveWorld, screenshot: Any
) -> None:
    context = browser.new_context(base_url=live_world.base_url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []
    elsewhere: list[str] = []
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "request",
        lambda request: (
            None
            if request.url.startswith((live_world.base_url, "data:"))
            else elsewhere.append(request.url)
        ),
    )
    try:
        response = page.goto("/api/docs")
        assert response is not None and response.ok
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_selector(".opblock")
        assert page.locator(".opblock").count() >= 50
        # Open one operation: its parameters and responses render (React, no inline script).
        page.locator(".opblock-summary", has_text="/api/v1/customers/lookup").first.click()
        page.wait_for_selector(".opblock-body .responses-table")
        screenshot(page, "api-docs")
    finally:
        context.close()
    assert not [text for text in problems if "Content Security Policy" in text], problems
    assert not problems, problems
    assert not elsewhere, elsewhere
