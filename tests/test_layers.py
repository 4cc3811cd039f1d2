"""Dependencies point one way: domain <- support <- models <- services <- web <- entry points.

Read from the source (every import, also those inside functions), not by importing it:

| layer | modules |
| --- | --- |
| 0 domain | ``cylinder_trace.domain.*``: no Flask, no SQLAlchemy (tests/domain/test_purity.py) |
| 1 support | ``config``, ``db``, ``columns``, ``bulk``, ``paging``, ``replicas``, ``version``, |
|   | ``qr_labels.*``, ``translations``: plumbing that knows no feature |
| 2 models | ``*/models.py`` and ``cylinder_trace.models`` (the metadata of them all) |
| 3 services | every other module of a feature package; ``access``, ``principal``, |
|   | ``registry``, ``fastpath.*`` |
| 4 web | ``*/api.py``, ``*/*_api.py``, ``*/schemas.py``, ``web.*``, ``pages.*``, ``health.*`` |
| 5 entry | ``app``, ``cli``, ``console``, ``*/cli.py``, ``demo.*``, the package itself |

A module may import its own layer or lower ones. No two modules import each other, directly
or round a longer loop, and within the models and services layers the feature packages form
no loop either (a package that needs another's function and is needed by it hides a third
thing in one of them).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

PACKAGE = "cylinder_trace"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE

LAYER_NAMES = ("domain", "support", "models", "services", "web", "entry")
SUPPORT = {
    "config",
    "db",
    "columns",
    "bulk",
    "paging",
    "replicas",
    "version",
    "qr_labels",
    "translations",
}
WEB_PACKAGES = {"web", "pages", "health"}
ENTRY = {"app", "cli", "console", "demo", ""}


def module_names(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its ``__init__``)."""
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def layer_of(module: str) -> int:
    """The layer (an index into LAYER_NAMES) of a dotted module name."""
    parts = module.split(".")[1:]
    first = parts[0] if parts else ""
    last = parts[-1] if parts else ""
    if first == "domain":
        return 0
    if first in SUPPORT:
        return 1
    if first in ENTRY or last == "cli":
        return 5
    if first in WEB_PACKAGES or last in {"api", "schemas"} or last.endswith("_api"):
        return 4
    if last == "models" or module == f"{PACKAGE}.models":
        return 2
    return 3


def imports_of(path: Path, module: str, known: Iterable[str]) -> set[str]:
    """The package's modules that ``module`` (at ``path``) imports, wherever the import is."""
    known = set(known)
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # `from a import b` imports the module a.b when there is one, else a's name b.
            targets = [f"{base}.{alias.name}" for alias in node.names]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != module:
                found.add(target)
    return found


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    modules = module_names(root)
    return {name: imports_of(path, name, modules) for name, path in modules.items()}


def upward_imports(graph: Mapping[str, set[str]]) -> list[str]:
    """Each import of a higher layer, as 'importer (layer) -> imported (layer)'."""
    return sorted(
        f"{source} ({LAYER_NAMES[layer_of(source)]}) -> {target} ({LAYER_NAMES[layer_of(target)]})"
        for source, targets in graph.items()
        for target in targets
        if layer_of(target) > layer_of(source)
    )


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def feature_of(module: str) -> str:
    """The feature package of a module: its first part below the package."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def feature_graph(graph: Mapping[str, set[str]], layer: int) -> dict[str, set[str]]:
    """Which feature packages import which, counting only modules of ``layer``."""
    features: dict[str, set[str]] = defaultdict(set)
    for source, targets in graph.items():
        if layer_of(source) != layer:
            continue
        for target in targets:
            if layer_of(target) == layer and feature_of(target) != feature_of(source):
                features[feature_of(source)].add(feature_of(target))
    return dict(features)


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph()


def test_no_module_imports_a_higher_layer(graph: dict[str, set[str]]) -> None:
    assert upward_imports(graph) == []


def test_no_import_cycles(graph: dict[str, set[str]]) -> None:
    assert cycles(graph) == []


@pytest.mark.parametrize("layer", [2, 3], ids=["models", "services"])
def test_feature_packages_form_no_loop(graph: dict[str, set[str]], layer: int) -> None:
    assert cycles(feature_graph(graph, layer)) == []


def test_every_layer_is_populated(graph: dict[str, set[str]]) -> None:
    # A rule that matches nothing would pass every test above.
    assert {layer_of(name) for name in graph} == set(range(len(LAYER_NAMES)))


# The checker itself, on a small package written for the purpose.


def _write(root: Path, files: Mapping[str, str]) -> Path:
    package = root / PACKAGE
    for name, text in files.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return package


def test_the_checker_finds_an_upward_import_inside_a_function(tmp_path: Path) -> None:
    package = _write(
        tmp_path,
        {
            "__init__.py": "",
            "domain/__init__.py": "",
            "domain/rules.py": "def f():\n    from cylinder_trace.shop import services\n",
            "shop/__init__.py": "",
            "shop/services.py": "from ..domain import rules\n",
        },
    )
    found = upward_imports(import_graph(package))
    assert found == [
        "cylinder_trace.domain.rules (domain) -> cylinder_trace.shop.services (services)"
    ]


def test_the_checker_finds_a_cycle_and_a_feature_loop(tmp_path: Path) -> None:
    package = _write(
        tmp_path,
        {
            "__init__.py": "",
            "shop/__init__.py": "",
            "shop/orders.py": "from cylinder_trace.shop.stock import reserve\n",
            "shop/stock.py": "import cylinder_trace.shop.orders\n",
            "till/__init__.py": "",
            "till/receipts.py": "from cylinder_trace.shop import orders\n",
            "shop/refunds.py": "from cylinder_trace.till.receipts import x\n",
        },
    )
    graph = import_graph(package)
    assert cycles(graph) == [["cylinder_trace.shop.orders", "cylinder_trace.shop.stock"]]
    assert cycles(feature_graph(graph, 3)) == [["shop", "till"]]
