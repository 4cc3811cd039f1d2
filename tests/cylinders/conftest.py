from __future__ import annotations

from typing import Any


def cylinder_json(code: str = "CQDZ-000001", **overrides: Any) -> dict[str, Any]:
    body = {
        "code": code,
        "model": "YSP35.5",
        "manufacturer": "重庆钢瓶厂",
        "serial_no": f"SN-{code}",
        "manufactured_on": "2024-03-15",
        "tare_kg": "16.40",
    }
    body.update(overrides)
    return body
