"""Assertions many tests share."""

from __future__ import annotations

ERROR_KEYS = ["code", "status", "message", "details"]


def assert_error(response, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    """The one error shape (code, status, message, details) with this status and code."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert list(body) == ERROR_KEYS
    assert (body["status"], body["code"]) == (status, code)
    assert body["message"]
