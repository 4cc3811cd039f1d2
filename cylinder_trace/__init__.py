"""cylinder-trace: traceability for bottled LPG cylinders."""

from __future__ import annotations

from typing import Any

from cylinder_trace.version import __version__

__all__ = ["__version__", "create_app"]


def __getattr__(name: str) -> Any:
    # Imported lazily so that the framework-free domain core can be imported (and
    # tested) without loading Flask and SQLAlchemy.
    if name == "create_app":
        from cylinder_trace.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
