"""The domain core imports only the standard library and itself.

Checked on the source rather than on sys.modules, because importing the top-level
package may bring the web app in; what matters is what the domain modules ask for.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from .conftest import REPO_ROOT

DOMAIN = REPO_ROOT / "cylinder_trace" / "domain"
PURE_MODULES = [
    "identity.py",
    "weeks.py",
    "lifecycle.py",
    "inspection.py",
    "fill.py",
    "jurisdiction.py",
    "rules.py",
    "errors.py",
]


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("name", PURE_MODULES)
def test_domain_module_is_pure(name: str) -> None:
    for module in _imports(DOMAIN / name):
        top = module.split(".")[0]
        if top == "cylinder_trace":
            assert module.startswith("cylinder_trace.domain"), f"{name} imports {module}"
        else:
            assert top in sys.stdlib_module_names, f"{name} imports {module}"


def _zone_blind_calls(path: Path) -> list[str]:
    # date.today(), datetime.now() and x.astimezone() without a zone follow the process
    # zone, not China's; fromtimestamp without tz likewise.
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        name, bare = node.func.attr, not node.args and not node.keywords
        if name == "today" or (name in {"now", "astimezone", "fromtimestamp"} and bare):
            found.append(f"line {node.lineno}: {name}()")
    return found


@pytest.mark.parametrize("name", PURE_MODULES)
def test_no_process_clock_or_zone(name: str) -> None:
    assert _zone_blind_calls(DOMAIN / name) == []


def test_zone_blind_call_detector_works(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("a = date.today()\nb = t.astimezone()\nc = datetime.now(TZ)\n")
    assert _zone_blind_calls(sample) == ["line 1: today()", "line 2: astimezone()"]
