"""The label package stays framework-free, and verifying scans stays cheap to import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import cylinder_trace.qr_labels

PACKAGE = Path(cylinder_trace.qr_labels.__file__).parent
FORBIDDEN = ("flask", "sqlalchemy", "alembic", "marshmallow", "flask_smorest")


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_no_framework_imports() -> None:
    modules = sorted(PACKAGE.glob("*.py"))
    assert len(modules) >= 8
    for module in modules:
        bad = imported_roots(module) & set(FORBIDDEN)
        assert not bad, f"{module.name} imports {bad}"


def test_importing_the_signer_loads_no_renderer() -> None:
    code = (
        "import sys, cylinder_trace.qr_labels.signing as s; "
        "heavy = {'reportlab', 'PIL', 'qrcode', 'flask', 'sqlalchemy'} & set(sys.modules); "
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_lazy_names_resolve() -> None:
    for name in cylinder_trace.qr_labels.__all__:
        assert getattr(cylinder_trace.qr_labels, name) is not None
