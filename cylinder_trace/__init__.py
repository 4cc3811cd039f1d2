"""cylinder-trace: traceability for bottled LPG cylinders."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cylinder-trace")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

from cylinder_trace.app import create_app

__all__ = ["__version__", "create_app"]
