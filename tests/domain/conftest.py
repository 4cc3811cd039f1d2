"""Fixtures for the domain core tests: no database, no app, only the packaged rules."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

# The package is not necessarily installed in the virtualenv (no `pip install -e .`
# yet); make the source tree importable so these tests run from a bare checkout.
if importlib.util.find_spec("cylinder_trace") is None:
    sys.path.insert(0, str(REPO_ROOT))

from cylinder_trace.domain.rules import RuleSettings, load_rules  # noqa: E402


@pytest.fixture(scope="session")
def rules() -> RuleSettings:
    """The packaged default rules (default_rules.toml)."""
    return load_rules()
