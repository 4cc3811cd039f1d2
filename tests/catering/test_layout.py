"""The catering package's shape: modules by job, one jurisdiction rule, one zone source.

Read from the source, so that a shortcut put back (a second copy of who-sees-what, a
hard-coded zone, the pages reaching into the API) fails here rather than in a review.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "cylinder_trace"
CATERING = ROOT / "catering"
MODULES = sorted(CATERING.glob("*.py"))


def imported_modules(path: Path) -> set[str]:
    """The modules ``path`` imports (``from package import module`` names the module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            package = (ROOT.parent / node.module.replace(".", "/")).is_dir()
            if package:
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
            else:
                found.add(node.module)
    return found


@pytest.mark.parametrize("path", MODULES, ids=[path.name for path in MODULES])
def test_no_catering_module_is_over_400_lines(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 400


@pytest.mark.parametrize("path", MODULES, ids=[path.name for path in MODULES])
def test_catering_has_no_jurisdiction_rule_or_zone_of_its_own(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    # Who sees what is cylinder_trace.access; the zone comes from the settings.
    for forbidden in (r"\.between\(", r"\bdivision_prefix\b", r"\bdivision_range\b", r"\bcovers\("):
        assert not re.search(forbidden, source), forbidden
    assert "CHINA_TZ" not in source


def test_the_old_services_module_is_gone() -> None:
    assert not (CATERING / "services.py").exists()


def test_schemas_import_no_service_module() -> None:
    imported = imported_modules(CATERING / "schemas.py")
    catering = {name for name in imported if name.startswith("cylinder_trace.catering")}
    assert catering <= {"cylinder_trace.catering.models", "cylinder_trace.catering.constants"}


def test_the_bureau_pages_do_not_import_the_catering_api() -> None:
    imported = imported_modules(ROOT / "pages" / "bureau.py")
    assert not {name for name in imported if name.endswith("_api") or name.endswith(".api")}
